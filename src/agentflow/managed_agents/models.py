"""Typed API objects other than events: sessions, deletion receipts, and page decoding."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Container, Iterable, Iterator
from typing import Any, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError
from pydantic_core import SchemaValidator
from pydantic_core import core_schema as cs

from ..core.exceptions import DecodeError
from .events import KnownEvent, parse_event
from .events import ManagedAgentsEvent as Event

__all__ = [
    "DeletedSession",
    "Session",
    "SessionPage",
    "body_error",
    "decode_event_page",
    "decode_items",
    "decode_model",
    "read_event_page",
    "skipped_page",
]

M = TypeVar("M", bound=BaseModel)
Redact = Callable[[str], str]

SHOWN_BYTES = 200
"""How much of an unexpected body a :class:`DecodeError` message quotes."""

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


class SessionPage(BaseModel):
    """A page of ``GET /v1/sessions``: ``{"data": [...], "next_page": ...}``."""

    model_config = ConfigDict(frozen=True, extra="allow")

    data: list[Session] = Field(default_factory=list)
    next_page: str | None = None


def _no_redaction(text: str) -> str:
    return text


def body_error(
    expected: str,
    response: httpx.Response | None,
    content: bytes,
    problem: str | None = None,
    redact: Redact = _no_redaction,
) -> DecodeError:
    """The :class:`DecodeError` for a successful response whose body is not what was expected.

    The message names what was expected and from which request, quotes the start of the body
    (``repr`` of at most ``SHOWN_BYTES`` bytes), says what was wrong and gives the
    ``request-id`` when the server sent one; ``redact`` keeps the API key out of it.
    """
    text = content.decode("utf-8", "replace")
    clean = redact(text)
    # redact before cutting: a key cut in two by the limit would not be recognised
    quoted = content if clean == text else clean.encode()
    shown = repr(quoted[:SHOWN_BYTES])
    if len(content) > SHOWN_BYTES:
        shown += f"... ({len(content)} bytes)"
    where = ""
    request_id = None
    if response is not None:
        request_id = response.headers.get("request-id")
        try:
            request = response.request
        except RuntimeError:  # a response built by hand has no request
            pass
        else:
            where = f" from {request.method} {request.url.path}"
    message = f"Expected {expected}{where}, got {shown}"
    if problem:
        message += f" ({problem})"
    if request_id:
        message += f" [request-id: {request_id}]"
    return DecodeError(redact(message), data=content if clean == text else clean)


def _problem(exc: ValidationError) -> tuple[str, str | None]:
    """A short description of a validation failure (never the input) and the first field."""
    parts = []
    field = None
    for error in exc.errors(include_input=False, include_url=False)[:3]:
        loc = ".".join(str(x) for x in error["loc"])
        if field is None and loc:
            field = loc
        parts.append(f"{loc}: {error['msg']}" if loc else str(error["msg"]))
    more = len(exc.errors()) - len(parts)
    if more > 0:
        parts.append(f"and {more} more")
    return "; ".join(parts), field


def decode_model(
    model: type[M], response: httpx.Response, expected: str, redact: Redact = _no_redaction
) -> M:
    """Validate a response body as ``model``; :class:`DecodeError` if it is not one.

    The pydantic error is not chained: its text quotes the input, which could hold secrets.
    """
    content = response.content
    try:
        return model.model_validate_json(content)
    except ValidationError as exc:
        problem, field = _problem(exc)
        error = body_error(expected, response, content, problem, redact)
        error.field = field
        raise error from None


class _KnownPage(BaseModel):
    data: list[KnownEvent]
    next_page: str | None = None


_known_page: TypeAdapter[_KnownPage] = TypeAdapter(_KnownPage)


def decode_event_page(
    content: bytes,
    response: httpx.Response | None = None,
    redact: Redact = _no_redaction,
    skip: Container[str] | None = None,
) -> tuple[list[Event], str | None]:
    """Decode an ``{"data": [...], "next_page": ...}`` page of events.

    The fast path validates the whole page in one pydantic call. When that fails (an event
    of a type this version does not know, or a malformed one), the page is decoded event by
    event: unknown types become ``UnknownEvent`` and invalid events are logged and skipped,
    so one bad event never hides the others. Events whose ``id`` is in ``skip`` are left out
    without being validated (a reader that holds them already pays only for the JSON). A
    body that is not such a page at all raises :class:`DecodeError` (naming the request of
    ``response``, if given).
    """
    if skip is None:
        try:
            page = _known_page.validate_json(content)
        except ValidationError:
            pass
        else:
            return list(page.data), page.next_page or None
    else:
        seen, cursor = skipped_page(content, skip)
        if seen:
            return [], cursor
    items, cursor = read_event_page(content, response, redact)
    return list(decode_items(items, redact, skip)), cursor


def read_event_page(
    content: bytes, response: httpx.Response | None = None, redact: Redact = _no_redaction
) -> tuple[list[Any], str | None]:
    """The items of a page of events as parsed JSON (not validated yet) and its cursor;
    :class:`DecodeError` for a body that is no such page."""
    expected = "a JSON page of events"
    try:
        obj = json.loads(content)
    except ValueError as exc:
        raise body_error(expected, response, content, f"invalid JSON: {exc}", redact) from None
    if not isinstance(obj, dict) or not isinstance(obj.get("data"), list):
        problem = f"a {type(obj).__name__} without a 'data' list"
        raise body_error(expected, response, content, problem, redact)
    cursor = obj.get("next_page")
    return obj["data"], cursor if isinstance(cursor, str) and cursor else None


# The ids of a page's events and its cursor, nothing else: pydantic-core passes over every
# other field without making Python objects of it (about half the cost of ``json.loads``).
_page_ids = SchemaValidator(
    cs.typed_dict_schema(
        {
            "data": cs.typed_dict_field(
                cs.list_schema(
                    cs.typed_dict_schema(
                        {"id": cs.typed_dict_field(cs.str_schema(strict=True), required=False)}
                    )
                )
            ),
            "next_page": cs.typed_dict_field(
                cs.nullable_schema(cs.str_schema(strict=True)), required=False
            ),
        }
    )
)


def skipped_page(content: bytes, skip: Container[str]) -> tuple[bool, str | None]:
    """``(True, cursor)`` for a page whose events all have their id in ``skip`` (nothing in
    it to decode); ``(False, None)`` for any other body: one with an event not in ``skip`` or
    without an id, or one that is no well-formed page (:func:`read_event_page` then says
    what is wrong with it).

    A stream confirming a burst it delivered live reads back pages of events it holds
    already; this reads only their ids. With nothing to skip (a first read of a session's
    history) no page can be all held, and the body is left to the full decoder unread.
    """
    if not skip:
        return False, None
    try:
        page = _page_ids.validate_json(content)
    except ValidationError:
        return False, None
    for item in page["data"]:
        event_id = item.get("id")
        if event_id is None or event_id not in skip:
            return False, None
    return True, page.get("next_page") or None


def decode_items(
    items: Iterable[Any], redact: Redact = _no_redaction, skip: Container[str] | None = None
) -> Iterator[Event]:
    """Validate parsed events one at a time as they are asked for: those whose ``id`` is in
    ``skip`` are passed over, invalid ones logged and skipped."""
    for item in items:
        if skip is not None and isinstance(item, dict):
            event_id = item.get("id")
            if isinstance(event_id, str) and event_id in skip:
                continue
        try:
            yield parse_event(item)
        except DecodeError as exc:
            logger.warning("skipping an undecodable history event: %s", redact(str(exc)))
