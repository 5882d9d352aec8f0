"""Typed API objects other than events: sessions, deletion receipts, and page decoding."""

from __future__ import annotations

import json
import logging
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .._exceptions import DecodeError
from ..events import Event, KnownEvent, parse_event

__all__ = ["DeletedSession", "Session", "decode_event_page"]

logger = logging.getLogger("agentflow.transport")


class Session(BaseModel):
    """A Managed Agents session as the API returns it.

    The common fields are typed; every other field the server sends is kept
    (``session.model_extra``) and ``session.model_dump()`` gives the whole object back.
    ``status`` is one of ``idle``, ``running``, ``rescheduling``, ``terminated``.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    type: str = "session"
    status: str | None = None
    agent: Any = None
    environment_id: str | None = None
    title: str | None = None
    metadata: dict[str, Any] = Field(default_factory=dict)
    resources: list[Any] = Field(default_factory=list)
    vault_ids: list[str] = Field(default_factory=list)
    budget: Any = None
    stats: Any = None
    usage: Any = None
    created_at: str | None = None
    updated_at: str | None = None
    archived_at: str | None = None


class DeletedSession(BaseModel):
    """The receipt of ``sessions.delete``: ``{"id": ..., "type": "session_deleted"}``."""

    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    type: str = "session_deleted"


class _KnownPage(BaseModel):
    data: list[KnownEvent]
    next_page: str | None = None


_known_page: TypeAdapter[_KnownPage] = TypeAdapter(_KnownPage)


def decode_event_page(content: bytes) -> tuple[list[Event], str | None]:
    """Decode an ``{"data": [...], "next_page": ...}`` page of events.

    The fast path validates the whole page in one pydantic call. When that fails (an event
    of a type this version does not know, or a malformed one), the page is decoded event by
    event: unknown types become ``UnknownEvent`` and invalid events are logged and skipped,
    so one bad event never hides the others.
    """
    try:
        page = _known_page.validate_json(content)
    except ValidationError:
        pass
    else:
        return list(page.data), page.next_page or None
    try:
        obj = json.loads(content)
    except ValueError as exc:
        raise DecodeError(f"Expected a JSON page of events, got invalid JSON: {exc}") from None
    if not isinstance(obj, dict) or not isinstance(obj.get("data"), list):
        raise DecodeError(f"Expected a page object with a 'data' list, got {type(obj).__name__}")
    events: list[Event] = []
    for item in obj["data"]:
        try:
            events.append(parse_event(item))
        except DecodeError as exc:
            logger.warning("skipping an undecodable history event: %s", exc)
    cursor = obj.get("next_page")
    return events, cursor if isinstance(cursor, str) and cursor else None
