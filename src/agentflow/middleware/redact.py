"""Redaction: credentials replaced by ``[REDACTED]`` before anything is logged."""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "redact", "redact_text"]

REDACTED = "[REDACTED]"
_SECRET_KEYS = frozenset(
    {"authorization", "proxy_authorization", "x_api_key", "api_key", "apikey", "token"}
    | {"access_token", "refresh_token", "secret", "client_secret", "password", "cookie"}
    | {"set_cookie", "private_key"}
)
_SECRET_SUFFIXES = ("_api_key", "_apikey", "_secret", "_password", "_token")
# Anthropic keys, and bearer credentials written out in free text.
_SECRET_TEXT = re.compile(r"sk-ant-[\w-]+|\b[Bb]earer\s+[\w.~+/=-]{8,}")
# "x-api-key: VALUE", "api_key=VALUE", "Authorization: Basic VALUE" written out in text.
_SECRET_ASSIGNMENT = re.compile(
    r"(?i)\b((?:x-)?api[-_]?key|authorization|password|secret)(['\"]?\s*[:=]\s*['\"]?)"
    r"(?:(?:basic|bearer)\s+)?[^\s'\",;&]+"
)


def _secret_key(key: str) -> bool:
    norm = key.lower().replace("-", "_")
    return norm in _SECRET_KEYS or norm.endswith(_SECRET_SUFFIXES)


def redact_text(text: str) -> str:
    """``text`` with credentials replaced by ``[REDACTED]``.

    Covers Anthropic keys (``sk-ant-…``), ``Bearer …`` tokens and values written after a
    secret-sounding name (``x-api-key: …``, ``api_key=…``, ``Authorization: Basic …``).
    """
    text = _SECRET_TEXT.sub(REDACTED, text)
    return _SECRET_ASSIGNMENT.sub(rf"\1\2{REDACTED}", text)


def redact(value: Any) -> Any:
    """A copy of ``value`` safe to log: secret-looking keys and key-like strings replaced.

    Mappings have the values of keys such as ``x-api-key``, ``Authorization``, ``api_key``,
    ``password`` or ``*_token`` replaced by ``"[REDACTED]"``, recursively; strings go
    through :func:`redact_text`; pydantic models are dumped to JSON data first.
    """
    if isinstance(value, Mapping):
        return {
            k: REDACTED if isinstance(k, str) and _secret_key(k) else redact(v)
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    if isinstance(value, str):
        return redact_text(value)
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return redact(dump(mode="json"))
    return value
