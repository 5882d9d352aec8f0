"""``client.sessions`` and ``client.events``: the REST endpoints of protocol §1.2."""

from __future__ import annotations

from collections.abc import (
    AsyncIterator,
    Callable,
    Container,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from datetime import datetime
from typing import Any, Literal

import httpx

from ..core.checkpoint import CheckpointStore
from ..wire.backoff import Backoff
from ..wire.http import HTTPCore, RetryPolicy
from ..wire.http import quote_id as _sid
from ..wire.sse import DEFAULT_MAX_FRAME_BYTES
from .events import ManagedAgentsEvent as Event
from .models import (
    DeletedSession,
    Session,
    SessionPage,
    decode_event_page,
    decode_items,
    decode_model,
    read_event_page,
    skipped_page,
)
from .poll import EventPoller
from .stream import EventStream

__all__ = ["EventList", "Events", "SessionList", "Sessions"]

Order = Literal["asc", "desc"]
EventPage = tuple[list[Event], str | None]
Echoes = list[Event]
Timestamp = str | datetime


def _params(**values: Any) -> dict[str, Any]:
    """Query parameters: drop ``None``, bracket the arrays, ISO-format datetimes."""
    out: dict[str, Any] = {}
    for key, value in values.items():
        if value is None:
            continue
        name = key
        for op in ("gte", "gt", "lte", "lt"):
            if key.endswith("_" + op) and key.startswith("created_at"):
                name = f"created_at[{op}]"
                break
        if isinstance(value, datetime):
            value = value.isoformat()
        elif isinstance(value, bool):
            value = "true" if value else "false"
        elif isinstance(value, (list, tuple, set, frozenset)):
            name += "[]"
            value = list(value)
        out[name] = value
    return out


class _Pager(AsyncIterator[Any]):
    """Async iterator over every item of every page (``page=<next_page>`` until null/empty).

    ``fetch`` returns a page's items as any iterable: a generator is consumed lazily, so
    items after the point where the caller stops are never produced.
    """

    def __init__(self, fetch: Callable[[str | None], Any]) -> None:
        self._fetch = fetch
        self._items: Iterator[Any] = iter(())
        self._cursor: str | None = None
        self._started = False

    def __aiter__(self) -> _Pager:
        return self

    async def __anext__(self) -> Any:
        while True:
            item = next(self._items, _END)
            if item is not _END:
                return item
            if self._started and not self._cursor:
                raise StopAsyncIteration
            self._started = True
            items, self._cursor = await self._fetch(self._cursor)
            self._items = iter(items)


_END = object()


class EventList(_Pager):
    """``async for event in client.events.list(session_id)``: every stored event, paged."""

    async def __anext__(self) -> Event:
        event: Event = await super().__anext__()
        return event


class SessionList(_Pager):
    """``async for session in client.sessions.list()``: every session, paged."""

    async def __anext__(self) -> Session:
        session: Session = await super().__anext__()
        return session


class Sessions:
    """Session endpoints: create, retrieve, list, update, archive, delete."""

    def __init__(self, core: HTTPCore) -> None:
        self._core = core

    async def create(
        self, *, agent: str | Mapping[str, Any], environment_id: str, **params: Any
    ) -> Session:
        """Create a session (``POST /v1/sessions``); other body fields go in ``params``.

        Not retried once the request may have reached the server (no idempotency key).
        """
        body = {"agent": agent, "environment_id": environment_id, **params}
        r = await self._core.request("POST", "/v1/sessions", json=body, retry="safe")
        return self._session(r)

    async def retrieve(self, session_id: str) -> Session:
        """Fetch one session."""
        r = await self._core.request("GET", f"/v1/sessions/{_sid(session_id)}")
        return self._session(r)

    def list(
        self,
        *,
        limit: int | None = None,
        order: Order | None = None,
        statuses: Sequence[str] | None = None,
        include_archived: bool | None = None,
        agent_id: str | None = None,
        created_at_gte: Timestamp | None = None,
        created_at_lt: Timestamp | None = None,
        **params: Any,
    ) -> SessionList:
        """Iterate over sessions, fetching pages as needed (default order: newest first)."""
        query = _params(
            limit=limit,
            order=order,
            statuses=statuses,
            include_archived=include_archived,
            agent_id=agent_id,
            created_at_gte=created_at_gte,
            created_at_lt=created_at_lt,
            **params,
        )

        async def fetch(cursor: str | None) -> tuple[list[Session], str | None]:
            q = query if cursor is None else {**query, "page": cursor}
            r = await self._core.request("GET", "/v1/sessions", params=q)
            page = decode_model(SessionPage, r, "a page of Session objects", self._core.redact)
            return list(page.data), page.next_page or None

        return SessionList(fetch)

    async def update(self, session_id: str, **fields: Any) -> Session:
        """Change ``title``, ``metadata``, ``budget`` or ``agent`` (``POST /v1/sessions/{id}``)."""
        r = await self._core.request("POST", f"/v1/sessions/{_sid(session_id)}", json=fields)
        return self._session(r)

    async def archive(self, session_id: str) -> Session:
        """Archive a session."""
        r = await self._core.request("POST", f"/v1/sessions/{_sid(session_id)}/archive")
        return self._session(r)

    async def delete(self, session_id: str) -> DeletedSession:
        """Delete a session: its streams get ``session.deleted`` and end."""
        r = await self._core.request("DELETE", f"/v1/sessions/{_sid(session_id)}")
        return decode_model(DeletedSession, r, "a session_deleted object", self._core.redact)

    def _session(self, response: httpx.Response) -> Session:
        return decode_model(Session, response, "a Session object", self._core.redact)


class Events:
    """Session event endpoints: list (paged), send, stream (resilient SSE) and poll."""

    def __init__(self, core: HTTPCore) -> None:
        self._core = core

    async def status(self, session_id: str) -> str | None:
        """The session's current ``status`` (``idle``, ``running``, ``terminated``, ...)."""
        r = await self._core.request("GET", f"/v1/sessions/{_sid(session_id)}")
        return decode_model(Session, r, "a Session object", self._core.redact).status

    async def page(
        self,
        session_id: str,
        *,
        page: str | None = None,
        skip: Container[str] | None = None,
        **filters: Any,
    ) -> EventPage:
        """One page of history: ``(events, next_page)``; ``filters`` and ``skip`` as for
        :meth:`list`."""
        r = await self._get_page(session_id, page, filters)
        return decode_event_page(r.content, r, self._core.redact, skip)

    async def _get_page(
        self, session_id: str, page: str | None, filters: Mapping[str, Any]
    ) -> httpx.Response:
        query = _params(**filters)
        if page:
            query["page"] = page
        return await self._core.request(
            "GET", f"/v1/sessions/{_sid(session_id)}/events", params=query
        )

    def list(
        self,
        session_id: str,
        *,
        limit: int | None = None,
        order: Order | None = None,
        types: Iterable[str] | None = None,
        created_at_gt: Timestamp | None = None,
        created_at_gte: Timestamp | None = None,
        created_at_lt: Timestamp | None = None,
        created_at_lte: Timestamp | None = None,
        skip: Container[str] | None = None,
    ) -> EventList:
        """Iterate over a session's stored events, fetching every page (default: oldest first).

        ``created_at_*`` bounds compare with ``processed_at``; ``types`` filters by type.
        Events that cannot be decoded are logged and skipped; unknown types are kept.
        ``skip`` holds ids the caller has already (a set, or anything supporting ``in``):
        those events are not decoded and not yielded, which makes re-reading a stretch of
        history that was mostly seen nearly as cheap as the JSON itself.
        """
        _sid(session_id)
        filters: dict[str, Any] = {
            "limit": limit,
            "order": order,
            "types": tuple(types) if types is not None else None,
            "created_at_gt": created_at_gt,
            "created_at_gte": created_at_gte,
            "created_at_lt": created_at_lt,
            "created_at_lte": created_at_lte,
        }

        if skip is None:

            async def fetch(cursor: str | None) -> tuple[Iterable[Event], str | None]:
                return await self.page(session_id, page=cursor, **filters)

        else:  # validated as they are asked for: a reader that stops early pays for no more

            async def fetch(cursor: str | None) -> tuple[Iterable[Event], str | None]:
                r = await self._get_page(session_id, cursor, filters)
                seen, next_page = skipped_page(r.content, skip)
                if seen:  # every event is one the caller holds: only the ids were read
                    return (), next_page
                items, next_page = read_event_page(r.content, r, self._core.redact)
                return decode_items(items, self._core.redact, skip), next_page

        return EventList(fetch)

    async def send(
        self,
        session_id: str,
        events: Sequence[Mapping[str, Any]],
        *,
        retry: RetryPolicy = "safe",
    ) -> Echoes:
        """Post events (dicts from the builders) and return their echoes (with ids).

        The API has no idempotency key, so a send retried after the server may have processed
        it can post twice. The default ``retry="safe"`` only retries when the request surely
        was not processed (the connection could not be opened, a 429, or the server said
        ``x-should-retry: true``) and raises otherwise; reconcile through history before
        re-sending. ``retry="all"`` retries like a read; ``"none"`` never retries.
        """
        if isinstance(events, Mapping):
            raise TypeError("events.send takes a list of events: wrap a single event in [...]")
        if not events:
            raise ValueError("events.send needs at least one event")
        body = {"events": [dict(e) for e in events]}
        path = f"/v1/sessions/{_sid(session_id)}/events"
        r = await self._core.request("POST", path, json=body, retry=retry)
        echoes, _ = decode_event_page(r.content, r, self._core.redact)
        return echoes

    def stream(
        self,
        session_id: str,
        *,
        event_deltas: Iterable[str] | None = None,
        stale_after: float = 45.0,
        until: Callable[[Event], bool] | None = None,
        checkpoint: CheckpointStore | None = None,
        replay: bool = True,
        auto_ack: bool = True,
        max_attempts: int = 10,
        backoff: Backoff | None = None,
        dedupe_window: int = 4096,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    ) -> EventStream:
        """A resilient live stream of the session's events; see :class:`EventStream`.

        Use as ``async with client.events.stream(sid) as stream: async for event in stream``.

        - ``event_deltas``: preview types to receive (``"agent.message"``, ``"agent.thinking"``).
        - ``stale_after``: seconds without a byte (keep-alives count) before reconnecting.
        - ``until``: stop after yielding an event for which it returns true.
        - ``checkpoint``: skip what it records as dispatched; record acknowledged events.
        - ``replay``: first deliver the stored history (from the checkpoint's position, if
          any); ``False`` delivers only events stored after the stream starts.
        - ``auto_ack``: acknowledge an event when the next one is requested (else ``ack()``).
        - ``max_attempts``: consecutive failed (re)connections before ``TransportError``.
        - ``backoff``: reconnect timing (default: the client's).
        - ``dedupe_window``: how many recent event ids (at least) are remembered to drop
          duplicates (at most twice as many are kept).
        - ``max_frame_bytes``: larger SSE messages are logged and dropped (then read from history).
        """
        return EventStream(
            self._core,
            self,
            session_id,
            event_deltas=tuple(event_deltas) if event_deltas is not None else None,
            stale_after=stale_after,
            until=until,
            checkpoint=checkpoint,
            replay=replay,
            auto_ack=auto_ack,
            max_attempts=max_attempts,
            backoff=backoff,
            dedupe_window=dedupe_window,
            max_frame_bytes=max_frame_bytes,
        )

    def poll(
        self,
        session_id: str,
        *,
        interval: float = 1.0,
        until: Callable[[Event], bool] | None = None,
        checkpoint: CheckpointStore | None = None,
        replay: bool = True,
        auto_ack: bool = True,
        max_attempts: int = 10,
        backoff: Backoff | None = None,
        dedupe_window: int = 4096,
    ) -> EventPoller:
        """The same events as :meth:`stream`, read by polling history; see :class:`EventPoller`.

        ``interval`` is the pause between polls that found nothing new; ``until``,
        ``checkpoint``, ``replay``, ``auto_ack``, ``max_attempts`` (failed polls in a row),
        ``backoff`` and ``dedupe_window`` mean what they mean for :meth:`stream`.
        """
        return EventPoller(
            self._core,
            self,
            session_id,
            interval=interval,
            until=until,
            checkpoint=checkpoint,
            replay=replay,
            auto_ack=auto_ack,
            max_attempts=max_attempts,
            backoff=backoff,
            dedupe_window=dedupe_window,
        )
