"""Wire helpers shared by the emulator's state machine and HTTP layer (no I/O, no Starlette)."""

from __future__ import annotations

import base64
import functools
import itertools
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime, timezone
from typing import Any, TypeVar

__all__ = ["ApiError", "Clock", "Ids", "decode_cursor", "encode_cursor", "paginate"]

T = TypeVar("T")


class ApiError(Exception):
    """An error the emulator answers with the JSON envelope ``{"type":"error","error":{...}}``."""

    def __init__(
        self,
        status: int,
        type: str,
        message: str,
        *,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.type = type
        self.message = message
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        """The JSON error envelope."""
        return {"type": "error", "error": {"type": self.type, "message": self.message}}


def invalid(message: str) -> ApiError:
    """A 400 ``invalid_request_error``."""
    return ApiError(400, "invalid_request_error", message)


def not_found(what: str, ident: str) -> ApiError:
    """A 404 ``not_found_error``."""
    return ApiError(404, "not_found_error", f"{what} {ident!r} not found")


class Clock:
    """Wall-clock timestamps driven by a monotonic clock, so their order is insertion order."""

    def __init__(self) -> None:
        self._wall0 = time.time()
        self._mono0 = time.monotonic()
        self._last_ms = 0

    def now_ms(self) -> int:
        """Milliseconds since the epoch, never decreasing."""
        ms = int((self._wall0 + (time.monotonic() - self._mono0)) * 1000)
        self._last_ms = max(ms, self._last_ms)
        return self._last_ms

    def stamp(self) -> str:
        """An RFC 3339 timestamp with milliseconds and ``Z``."""
        return format_ms(self.now_ms())


def format_ms(ms: int) -> str:
    """Format epoch milliseconds as RFC 3339 (``2026-05-14T09:12:03.633Z``)."""
    dt = datetime.fromtimestamp(ms // 1000, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S") + f".{ms % 1000:03d}Z"


@functools.lru_cache(maxsize=1 << 16)
def stored_time(raw: str) -> datetime:
    """A stored ``processed_at``, parsed once: every history page of a long session filters
    or searches the whole session by time, and parsing each stamp again made those reads
    grow with it."""
    return parse_time(raw)


def parse_time(value: str) -> datetime:
    """Parse an ISO/RFC 3339 query value (``Z`` allowed); naive values are taken as UTC."""
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    try:
        dt = datetime.fromisoformat(text)
    except ValueError as exc:
        raise invalid(f"invalid datetime {value!r}") from exc
    return dt if dt.tzinfo else dt.replace(tzinfo=timezone.utc)


class Ids:
    """Opaque, unique, counter-based identifiers (``sevt_…``, ``sesn_…``, ``sthr_…``)."""

    def __init__(self) -> None:
        self._counter = itertools.count(1)

    def new(self, prefix: str) -> str:
        """A new id with ``prefix``."""
        return f"{prefix}_emu{next(self._counter):012d}"


def encode_cursor(position: int, snapshot: int = -1) -> str:
    """An opaque page cursor: a position in a listing and, for ``desc`` listings, its length."""
    return base64.urlsafe_b64encode(f"p{position}.{snapshot}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, int]:
    """Read a cursor made by :func:`encode_cursor`; 400 when it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith("p"):
            raise ValueError(raw)
        position, snapshot = raw[1:].split(".")
        return int(position), int(snapshot)
    except (ValueError, UnicodeDecodeError) as exc:
        raise invalid(f"invalid page cursor {cursor!r}") from exc


def parse_limit(raw: str | None, default: int, maximum: int = 1000) -> int:
    """Validate a ``limit`` query value (1..maximum)."""
    if raw is None:
        return default
    try:
        limit = int(raw)
    except ValueError as exc:
        raise invalid(f"limit must be an integer, got {raw!r}") from exc
    if not 1 <= limit <= maximum:
        raise invalid(f"limit must be between 1 and {maximum}, got {limit}")
    return limit


def parse_order(raw: str | None, default: str) -> str:
    """Validate an ``order`` query value."""
    order = raw or default
    if order not in ("asc", "desc"):
        raise invalid(f"order must be 'asc' or 'desc', got {order!r}")
    return order


def paginate(
    items: Sequence[T],
    *,
    limit: int,
    start: int,
    snapshot: int,
    render: Callable[[T], Any],
) -> dict[str, Any]:
    """One ``{data, next_page}`` page of ``items`` (already filtered and ordered).

    ``next_page`` is null on the last page. ``snapshot`` is carried in the cursor so a
    ``desc`` listing keeps its positions while new events are appended.
    """
    chunk = items[start : start + limit]
    end = start + len(chunk)
    return {
        "data": [render(item) for item in chunk],
        "next_page": encode_cursor(end, snapshot) if end < len(items) else None,
    }
