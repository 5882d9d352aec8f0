"""The ``/sse`` stream and the ``/events`` listing: cursors, filters, replay and cycling.

Every connection starts with ``event: connected`` (no ``id:``), then replays the stored
events after the cursor (``since_id`` = an event id, or ``after_sequence``; neither replays
the whole session), then goes live. Replay and registration happen in one step with no
await between them, so nothing is missed or sent twice. While idle a connection gets
``: heartbeat`` comments every ``faults.keepalive_seconds``; after ``faults.cycle_seconds`` it
gets ``event: disconnecting`` (``{"reason":"connection_cycle","retry_ms":100}``, no ``id:``)
and is closed, as the platform cycles its streams.
"""

from __future__ import annotations

from typing import Any

import anyio
from starlette.datastructures import QueryParams

from .._frames import CLOSE, Frame
from .._sse import SSEResponse
from .hub import Hub
from .state import EverrunsSession, StreamSubscriber
from .wire import CONNECTED, DISCONNECTING, HEARTBEAT, KNOWN_TYPES, invalid

__all__ = ["CyclingSSEResponse", "list_events", "open_stream"]

MAX_FILTERS = 25


class CyclingSSEResponse(SSEResponse):
    """:class:`SSEResponse` that ends the connection with ``disconnecting`` after a while."""

    def __init__(self, sub: StreamSubscriber, hub: Hub, on_close: Any) -> None:
        faults = hub.connection_faults()
        super().__init__(
            sub, faults, on_close, keepalive=HEARTBEAT, headers={"x-accel-buffering": "no"}
        )
        self.cycle_seconds = faults.cycle_seconds

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        async with anyio.create_task_group() as tg:
            tg.start_soon(self._cycle)
            try:
                await super().__call__(scope, receive, send)
            finally:
                tg.cancel_scope.cancel()

    async def _cycle(self) -> None:
        with anyio.move_on_after(self.cycle_seconds):
            await self.subscriber.closed.wait()
        if not self.subscriber.closed.is_set():
            self.subscriber.push(Frame("raw", text=DISCONNECTING))
            self.subscriber.push(CLOSE)


def _filters(session: EverrunsSession, query: QueryParams, name: str) -> frozenset[str]:
    values = query.getlist(name)
    if len(values) > MAX_FILTERS:
        raise invalid(f"at most {MAX_FILTERS} {name}= values are allowed, got {len(values)}")
    unknown = sorted(v for v in values if v not in KNOWN_TYPES and v not in session.seen_types)
    if unknown:
        raise invalid(f"unknown event type(s) in {name}=: {unknown}")
    return frozenset(values)


def _start(session: EverrunsSession, query: QueryParams) -> int:
    """The history position after the cursor (``since_id`` wins over ``after_sequence``)."""
    since_id = query.get("since_id")
    if since_id:
        position = session.positions.get(since_id)
        if position is None:
            raise invalid(f"since_id {since_id!r} is not an event of session {session.id}")
        return position + 1
    raw = query.get("after_sequence")
    if raw is None:
        return 0
    try:
        sequence = int(raw)
    except ValueError:
        raise invalid(f"after_sequence must be an integer, got {raw!r}") from None
    return max(sequence, 0)  # sequences are 1-based positions: sequence n is history[n - 1]


def open_stream(hub: Hub, session: EverrunsSession, query: QueryParams) -> CyclingSSEResponse:
    """Open one ``/sse`` connection: ``connected``, the replay, then live events."""
    types = _filters(session, query, "types")
    exclude = _filters(session, query, "exclude")
    start = _start(session, query)
    sub = StreamSubscriber(types, exclude)
    sub.push(Frame("raw", text=CONNECTED))
    for event, frame in zip(session.history[start:], session.frames[start:], strict=True):
        if sub.wants(event["type"]):
            sub.push(frame)
    session.subscribers.add(sub)  # before the headers go out: nothing is missed
    hub.notify()

    def closed() -> None:
        session.subscribers.discard(sub)
        hub.notify()

    return CyclingSSEResponse(sub, hub, closed)


def list_events(session: EverrunsSession, query: QueryParams) -> dict[str, Any]:
    """``GET .../events``: ``{"data": [...], "has_more": bool}``, oldest first.

    With a forward cursor (``since_id`` / ``after_sequence``) ``limit`` caps the events after
    it; without one it keeps the newest ``limit`` (``before_sequence`` bounds the end).
    ``turn_id`` keeps one turn's events; ``order_desc=true`` reverses the page.
    """
    types = _filters(session, query, "types")
    exclude = _filters(session, query, "exclude")
    start = _start(session, query)
    forward = bool(query.get("since_id") or query.get("after_sequence") is not None)
    items = session.history[start:]
    before = query.get("before_sequence")
    if before is not None:
        try:
            items = [e for e in items if e["sequence"] < int(before)]
        except ValueError:
            raise invalid(f"before_sequence must be an integer, got {before!r}") from None
    turn_id = query.get("turn_id")
    items = [
        e
        for e in items
        if (not types or e["type"] in types)
        and e["type"] not in exclude
        and (turn_id is None or e["context"].get("turn_id") == turn_id)
    ]
    limit_raw = query.get("limit")
    has_more = False
    if limit_raw is not None:
        try:
            limit = int(limit_raw)
        except ValueError:
            raise invalid(f"limit must be an integer, got {limit_raw!r}") from None
        if not 1 <= limit <= 1000:
            raise invalid(f"limit must be between 1 and 1000, got {limit}")
        has_more = len(items) > limit
        items = items[:limit] if forward else items[-limit:]
    if query.get("order_desc", "false").lower() == "true":
        items = items[::-1]
    return {"data": items, "has_more": has_more}
