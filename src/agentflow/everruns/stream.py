"""The resilient Everruns stream: resume by id, cycle, detect stalls, back off, reconcile.

::

    async with client.events.stream(session_id) as stream:   # connected here
        await client.messages.create(session_id, "hi")
        async for event in stream:
            ...

**Resume.** Every connection asks for the events after the last one accepted
(``since_id``, the JSON ``id`` of that event; the platform replays exactly what follows it,
in order). The first connection starts after ``since_id=`` when given; with
``replay=False`` after the newest stored event; otherwise after the checkpoint's position
(the last dispatched event), or at the start without one. Duplicates are dropped by
``sequence``.

**Control frames.** ``connected`` and ``disconnecting`` are not session events: they are
handled here (and yielded as :class:`~agentflow.everruns.events.StreamConnected` /
``StreamDisconnecting``, ``kind`` ``stream.*``, only with ``control_events=True``). After
``disconnecting`` (a connection cycle) the stream reconnects after its ``retry_ms``.

**Failures.** No bytes for ``stale_after`` seconds (``: heartbeat`` comments count) means
a dead connection. A dropped or stale connection, an end without ``disconnecting``, a
connection error, and 408/409/429/5xx reconnect after exponential backoff with full jitter
(honouring ``retry-after``). ``max_attempts`` bounds the connections in a row that bring no
new event, whatever frames they send: a server that only ever sends ``connected`` and
closes ends the stream with :class:`~agentflow.TransportError` after ``max_attempts``
connections. Only delivered events prove a connection healthy; a ``disconnecting`` cycle
also does when the connection lasted ``cycle_grace`` seconds (an idle session cycles every
few minutes without events, and that is no failure). 400/401/403/404 raise their typed error
at once (:class:`~agentflow.AuthenticationError`, ...), after one request.

**Bad frames.** A frame that is not JSON, is over ``max_frame_bytes``, or is a known type
with invalid fields is logged (type, id and field; never the data) and skipped; the events
after the last accepted one are then read from the ``events`` listing, which supplies the
event the frame carried (kept as ``InvalidEvent`` if it is invalid there too). When the
listing has nothing new, the stream reconnects after the cursor instead. Nothing is raised
out of the iterator for it.

**Dispatched.** With a ``checkpoint``, an event is recorded as dispatched when the next
one is asked for, or when the ``async with`` block exits without an exception.
"""

from __future__ import annotations

import json
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable
from types import TracebackType
from typing import Any, Protocol

from ..core.checkpoint import CheckpointStore
from ..core.events import Event
from ..core.exceptions import AgentflowError, DecodeError, TransportError
from ..wire.backoff import Backoff
from ..wire.errors import is_transient
from ..wire.sse import DEFAULT_MAX_FRAME_BYTES, SSEFrame
from .connection import Connection
from .delivery import Acks, Tracker
from .events import EverrunsEvent, StreamConnected, StreamDisconnecting, parse_event
from .stats import StreamStats
from .surface import Surface

__all__ = ["EventsSource", "EverrunsStream"]

logger = logging.getLogger("agentflow.transport")


class EventsSource(Protocol):
    """The listing calls the stream makes (``client.events`` has them)."""

    async def page(
        self, session_id: str, *, limit: int | None = ...
    ) -> tuple[list[EverrunsEvent], bool]:
        """One page of the listing (the newest ``limit`` events)."""
        ...

    def list(
        self,
        session_id: str,
        *,
        since_id: str | None = ...,
        types: Iterable[str] = ...,
        exclude: Iterable[str] = ...,
    ) -> AsyncIterator[EverrunsEvent]:
        """Every stored event after ``since_id``."""
        ...


def _control_data(frame: SSEFrame) -> dict[str, Any]:
    try:
        value = json.loads(frame.data) if frame.data else {}
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


class EverrunsStream:
    """A live stream of one session's events, each delivered once and in order (see the
    module docstring for every rule)."""

    def __init__(
        self,
        surface: Surface,
        events: EventsSource,
        session_id: str,
        *,
        since_id: str | None = None,
        types: Iterable[str] = (),
        exclude: Iterable[str] = (),
        stale_after: float = 45.0,
        max_attempts: int = 10,
        backoff: Backoff | None = None,
        checkpoint: CheckpointStore | None = None,
        replay: bool = True,
        control_events: bool = False,
        until: Callable[[Event], bool] | None = None,
        cycle_grace: float = 1.0,
        dedupe_window: int = 4096,
        max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES,
    ) -> None:
        if stale_after <= 0:
            raise ValueError(f"stale_after must be > 0, got {stale_after!r}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts!r}")
        self.session_id = session_id
        self._events = events
        self._since_id = since_id
        self._types, self._exclude = list(types), list(exclude)
        self._replay = replay
        self._control = control_events
        self._until = until
        self._window = dedupe_window
        self._tracker = Tracker(window=dedupe_window)
        self._acks = Acks(session_id, checkpoint)
        self._queue: deque[Event] = deque()
        self._frames: deque[SSEFrame] = deque()  # read, not yet handled (one per step)
        self._reconcile = False
        self._frame_id: str | None = None  # the SSE id of the last frame handled
        self._started = self._closed = self._done = False
        self.last_event_id: str | None = None
        """The id of the last stored event yielded (``None`` before the first)."""
        self.stats = StreamStats()
        """What happened on the wire: connections, cycles, stalls, skipped frames, ..."""
        self._link = Connection(
            surface.core,
            surface.session_path(session_id, "/sse"),
            session_id=session_id,
            stale_after=stale_after,
            max_attempts=max_attempts,
            backoff=backoff or surface.core.backoff,
            cycle_grace=cycle_grace,
            max_frame_bytes=max_frame_bytes,
            stats=self.stats,
        )

    # -- public surface -------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether a connection is open now."""
        return self._link.open

    @property
    def cursor(self) -> str | None:
        """The id the next connection resumes after (``since_id``)."""
        return self._tracker.cursor

    async def __aenter__(self) -> EverrunsStream:
        await self._start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:  # a clean exit: the last event was handled
            self._acks.ack()
        await self.aclose()

    async def aclose(self) -> None:
        """Close the connection; iteration ends. Safe to call more than once."""
        self._closed = True
        self._frames.clear()
        await self._link.close()

    def __aiter__(self) -> EverrunsStream:
        return self

    async def __anext__(self) -> Event:
        self._acks.ack()
        if self._done or self._closed:
            await self.aclose()
            raise StopAsyncIteration
        if not self._started:
            await self._start()
        queue = self._queue
        try:
            while not queue:
                if self._reconcile:
                    await self._catch_up()
                elif self._frames:
                    cycled = self._on_frame(self._frames.popleft())
                    if cycled is not None:  # the server closes this connection: reconnect
                        await self._end(TransportError("connection cycled"),
                                        cycle_ms=cycled.retry_ms)  # fmt: skip
                else:
                    await self._fill()
        except AgentflowError:
            await self.aclose()  # fatal: the stream is over
            raise
        except BaseException:
            self._frames.clear()
            await self._link.close()  # e.g. cancelled mid-read: reconnect on the next call
            raise
        event = queue.popleft()
        if isinstance(event, EverrunsEvent):
            self.last_event_id = event.id
            self._acks.delivered(event)
            if self._until is not None and self._until(event):
                self._done = True
        return event

    # -- where to start -------------------------------------------------------------------

    async def _start(self) -> None:
        if self._started:
            return
        self._started = True
        try:
            await self._position()
            await self._fill()
        except BaseException:
            await self.aclose()
            raise

    async def _position(self) -> None:
        checkpoint = self._acks.checkpoint
        position = None if checkpoint is None else checkpoint.position(self.session_id)
        if self._since_id is not None:
            self._tracker = Tracker(self._since_id, window=self._window)
        elif not self._replay:
            newest, _ = await self._events.page(self.session_id, limit=1)
            if newest:
                self._tracker = Tracker(newest[-1].id, newest[-1].sequence, self._window)
        elif position is not None:
            cursor = position.cursor
            seq = int(cursor) if cursor is not None and cursor.isdigit() else None
            self._tracker = Tracker(position.event_id, seq, self._window)

    # -- connection -----------------------------------------------------------------------

    async def _fill(self) -> None:
        """Make progress: (re)connect, or read the next chunk's frames."""
        link = self._link
        if not link.open:
            params: list[tuple[str, str]] = []
            if self._tracker.cursor is not None:
                params.append(("since_id", self._tracker.cursor))
            params += [("types", t) for t in self._types]
            params += [("exclude", t) for t in self._exclude]
            await link.connect(params)
            return
        frames = await link.read()
        if frames is None:
            self._frames.clear()  # what they held is replayed after since_id
        else:
            self._frames.extend(frames)

    async def _end(self, cause: BaseException, *, cycle_ms: int | None = None) -> None:
        self._frames.clear()
        await self._link.end(cause, cycle_ms=cycle_ms)

    # -- frames ---------------------------------------------------------------------------

    def _on_frame(self, frame: SSEFrame) -> StreamDisconnecting | None:
        """Queue what ``frame`` brings; a ``disconnecting`` frame is returned, for the caller
        to end the connection with (a plain call per frame, not a coroutine)."""
        name = frame.event
        # ``frame.id`` persists across frames (the SSE rule): it is this frame's own id only
        # when it differs from the previous frame's.
        own_id = frame.id if frame.id != self._frame_id else None
        self._frame_id = frame.id
        if frame.error is not None:
            self._skip(frame.error, own_id)
            return None
        if name == "connected":
            if self._control:
                self._queue.append(StreamConnected(data=_control_data(frame)))
            return None
        if name == "disconnecting":
            control = StreamDisconnecting(data=_control_data(frame))
            if self._control:
                self._queue.append(control)
            return control
        if not frame.data:
            return None
        try:
            event = parse_event(frame.data)
        except DecodeError as exc:
            self._skip(str(exc), own_id)
            return None
        if self._tracker.accept(event):  # (_accept, inline: once per event)
            self._queue.append(event)
            self._link.brought_event()
        return None

    def _accept(self, event: EverrunsEvent) -> None:
        if self._tracker.accept(event):
            self._queue.append(event)
            self._link.brought_event()

    def _skip(self, why: str, frame_id: str | None) -> None:
        """A frame could not be used: log it, then read its event from the listing (unless
        its ``id:`` names an event already delivered: a bad copy of it)."""
        self.stats.skipped_frames += 1
        if frame_id is not None and self._tracker.has(frame_id):
            logger.debug("session %s: skipped a bad copy of %s (%s)", self.session_id,
                         frame_id, why)  # fmt: skip
            return
        logger.warning(
            "session %s: skipped a frame after event %s (%s); reading the events after it "
            "from the listing", self.session_id, self._tracker.cursor, why,
        )  # fmt: skip
        self._reconcile = True

    async def _catch_up(self) -> None:
        self._reconcile = False
        self.stats.reconciles += 1
        before = len(self._queue)
        try:
            lister = self._events.list(
                self.session_id, since_id=self._tracker.cursor, types=self._types,
                exclude=self._exclude,
            )  # fmt: skip
            async for event in lister:
                self._accept(event)
        except AgentflowError as exc:
            if not is_transient(exc):
                raise
            await self._end(exc)  # the reconnect replays after the cursor instead
            return
        if len(self._queue) == before and self._link.open:
            # The listing does not have it (yet): reconnect, and the replay after the cursor
            # brings it once stored. A connection that only ever sends frames like this one
            # brings nothing new, so it counts toward max_attempts.
            await self._end(TransportError("a skipped frame's event is not in the listing"))

    def __repr__(self) -> str:
        state = "connected" if self.connected else "closed" if self._closed else "idle"
        return f"EverrunsStream(session_id={self.session_id!r}, {state})"
