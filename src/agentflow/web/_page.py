"""The built-in page (``page.html``, package data) and the headers it is served with.

The page's script and style are inline; the Content-Security-Policy allows exactly those
two (by their SHA-256 hashes) and connections to its own origin, so even text that slipped
into the page as markup could neither run a script nor load anything from elsewhere.
"""

from __future__ import annotations

import base64
import hashlib
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

__all__ = ["Page"]

_INLINE = re.compile(r"<(script|style)>(.*?)</\1>", re.S)


def _digest(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode()).digest()).decode() + "'"


@dataclass(frozen=True)
class Page:
    """The page's HTML and its response headers."""

    html: str
    headers: dict[str, str]

    @staticmethod
    @lru_cache(maxsize=1)
    def load() -> Page:
        """Read ``page.html`` from the package (once)."""
        html = resources.files(__package__).joinpath("page.html").read_text("utf-8")
        scripts = [_digest(body) for tag, body in _INLINE.findall(html) if tag == "script"]
        styles = [_digest(body) for tag, body in _INLINE.findall(html) if tag == "style"]
        policy = "; ".join(
            [
                "default-src 'none'",
                "script-src " + " ".join(scripts or ["'none'"]),
                "style-src " + " ".join(styles or ["'none'"]),
                "connect-src 'self'",
                "img-src 'self' data:",
                "base-uri 'none'",
                "form-action 'none'",
                "frame-ancestors 'none'",
            ]
        )
        headers = {
            "content-security-policy": policy,
            "cache-control": "no-store",
            "referrer-policy": "no-referrer",
            "x-content-type-options": "nosniff",
        }
        return Page(html, headers)
