"""Retry timing: exponential backoff with full jitter, and the server's ``retry-after`` hints.

The clock and the random source are injectable (``sleep=`` / ``random=`` on
:class:`~agentflow.ManagedAgentsClient`), so tests can check every delay without waiting.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass

__all__ = ["RETRYABLE_STATUSES", "Backoff", "Random", "Sleep", "retry_after_seconds"]

Sleep = Callable[[float], Awaitable[None]]
"""An async sleep, such as :func:`anyio.sleep`."""

Random = Callable[[], float]
"""A source of floats in ``[0, 1)``, such as :func:`random.random`."""

RETRYABLE_STATUSES = frozenset({408, 409, 429})
"""Statuses worth retrying besides every 5xx (the official SDK's choice)."""


@dataclass(frozen=True)
class Backoff:
    """How long to wait before retry number ``attempt`` (0-based): full-jitter exponential.

    ``delay(attempt, random) = random() * min(cap, base * 2 ** attempt)``: spreading clients
    uniformly over the whole window avoids synchronised retries after an outage (the "full
    jitter" of the AWS architecture blog). A server hint (``retry-after-ms`` or
    ``retry-after``) replaces the jittered delay, bounded by ``max_retry_after``.
    """

    base: float = 0.5
    """Window of the first retry, in seconds."""
    cap: float = 8.0
    """Largest window, in seconds."""
    max_retry_after: float = 60.0
    """Largest server-requested wait honoured, in seconds."""

    def __post_init__(self) -> None:
        if self.base < 0 or self.cap < 0 or self.max_retry_after < 0:
            raise ValueError(f"Backoff values must be >= 0, got {self!r}")

    def window(self, attempt: int) -> float:
        """The upper bound of the delay before retry ``attempt`` (0-based)."""
        if attempt >= 64:  # far past any cap; keeps ldexp in range
            return self.cap
        return min(self.cap, math.ldexp(self.base, attempt))

    def delay(self, attempt: int, random: Random, retry_after: float | None = None) -> float:
        """The delay before retry ``attempt``; ``retry_after`` (seconds) wins when given."""
        if retry_after is not None:
            return min(max(retry_after, 0.0), self.max_retry_after)
        return random() * self.window(attempt)


def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """The server's retry hint in seconds: ``retry-after-ms`` first, then ``retry-after``.

    ``retry-after`` may be a number of seconds or an HTTP date. Unparseable or negative values
    are ignored (``None``).
    """
    raw_ms = headers.get("retry-after-ms")
    if raw_ms is not None:
        try:
            value = float(raw_ms) / 1000.0
        except ValueError:
            value = math.nan
        if math.isfinite(value) and value >= 0:
            return value
    raw = headers.get("retry-after")
    if raw is None:
        return None
    try:
        value = float(raw)
    except ValueError:
        parsed = email.utils.parsedate_tz(raw)
        if parsed is None:
            return None
        value = email.utils.mktime_tz(parsed) - time.time()
        return max(value, 0.0)
    return value if math.isfinite(value) and value >= 0 else None
