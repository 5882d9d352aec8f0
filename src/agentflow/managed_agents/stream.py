"""The resilient live stream: connect, reconcile, deduplicate, detect stalls, reconnect."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable

import anyio
import httpx

from ..core.checkpoint import CheckpointStore
from ..core.exceptions import AgentflowError, APIError, DecodeError, TransportError
from ..wire.backoff import Backoff
from ..wire.errors import is_transient, stream_error
from ..wire.http import HTTPCore, quote_id
from ..wire.sse import SSEDecoder, SSEFrame
from .confirm import LiveHold
from .delivery import Delivering, Delivery, EventsAPI, Tracker
from .events import ManagedAgentsEvent as Event
from .events import parse_event
from .start import StartWatch

__all__ = ["EventStream"]

logger = logging.getLogger("agentflow.transport")

PREVIEW_FRAMES = frozenset({"event_start", "event_delta"})
"""SSE event names of previews (never stored, so never confirmed by history)."""


class EventStream(Delivering):
    """A live stream of one session's events, delivered exactly once and in history order.

    ::

        async with client.events.stream(session_id) as stream:   # connected here
            await client.events.send(session_id, [user_message("hi")])
            async for event in stream:
                ...

    **Connection.** Entering the block opens the SSE connection (response headers received), so
    events caused by anything sent afterwards are observed. Without ``replay`` one read of the
    newest history right after connecting sets the start (an event stored while the block is
    being entered may be delivered or taken for history; any stored after it is delivered).
    After every other connect and reconnect, stored history is read from the cursor
    (``events.list``) and its new events are yielded before live ones; the overlap is removed by
    event id (a bounded window of recent ids plus the ``checkpoint``).

    **Order and gaps.** History is the truth; the live stream is trusted until it shows
    otherwise (:mod:`~agentflow.managed_agents.confirm`). Live events are delivered as they
    come but never move the history cursor, so every history read looks behind them for
    anything the stream skipped. An idle or a termination is held until history confirms
    it, and that read first delivers whatever the stream skipped: a pause is never seen
    before the calls it waits on. Once the stream has skipped or reordered an event, every
    live event waits for history (one read per batch of frames) and is delivered in
    history order. Previews are never held.

    **Stalls and reconnects.** No bytes for ``stale_after`` seconds (keep-alive comments
    count) means the connection is dead: it is closed and reopened. Connection errors, a
    clean end of the response, 408/409/429/5xx on connect and transient ``event: error``
    frames (``overloaded_error`` and any type not in ``FATAL_STREAM_ERRORS``) reconnect after
    ``backoff`` with full jitter, honouring ``retry-after``. After ``max_attempts``
    consecutive failures :class:`~agentflow.TransportError` is raised. Only a delivered
    event resets that count: a server that sends keep-alives (or any bytes) and then closes,
    again and again, runs out of attempts like one that refuses to connect. 401/403/404
    (and 400) raise their typed error at once; a fatal ``event: error`` raises
    :class:`~agentflow.StreamError` whose ``type`` names the error. The SSE ``id:`` and
    ``retry:`` fields are not used (the API offers no resume by id): history is the source of
    truth after a reconnect.

    **End.** Iteration stops after yielding ``session.status_terminated`` or
    ``session.deleted``, or an event for which ``until(event)`` is true. A session that is
    merely idle keeps the stream open: pass ``until`` (e.g. ``lambda e:
    e.is_final_response()``) to stop at the end of a turn. When the server closes the stream
    and the session turns out to be terminated already (its last event dispatched by an
    earlier run sharing the ``checkpoint``), the remaining history is drained and iteration
    ends.

    **Previews** (``event_start``/``event_delta``, no id) are yielded live, only when asked for
    with ``event_deltas``; they are never deduplicated, reconciled or acknowledged.
    **Malformed frames** (data that cannot be decoded, or a message over
    ``max_frame_bytes``) are logged (type, id, field; never the data) and dropped; the
    connection is then reopened at once and history reconciled, so the stored event the frame
    carried is delivered from ``events.list`` (which has no size bound) and nothing is lost.

    **Acknowledgement** (what ``checkpoint`` records as dispatched): with ``auto_ack`` an event
    is acknowledged when the next one is requested, or when the block exits without an
    exception; otherwise call :meth:`ack`. A process that dies re-delivers at most the
    unacknowledged events, and never one that was acknowledged.
    """

    __slots__ = (
        "_attempt", "_backoff", "_chunks", "_closed", "_core", "_decoder", "_deltas",
        "_delivery", "_events", "_failure", "_frames", "_hold", "_max_attempts",
        "_max_frame_bytes", "_newest_at_connect", "_params", "_path", "_quick", "_reconcile",
        "_replay", "_request_id", "_response", "_stale_after", "_started", "on_reconnect",
        "reconnects", "session_id", "watch",
    )  # fmt: skip

    def __init__(
        self,
        core: HTTPCore,
        events: EventsAPI,
        session_id: str,
        *,
        event_deltas: tuple[str, ...] | None,
        stale_after: float,
        until: Callable[[Event], bool] | None,
        checkpoint: CheckpointStore | None,
        replay: bool,
        auto_ack: bool,
        max_attempts: int,
        backoff: Backoff | None,
        dedupe_window: int,
        max_frame_bytes: int,
    ) -> None:
        if stale_after <= 0:
            raise ValueError(f"stale_after must be > 0, got {stale_after!r}")
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {max_attempts!r}")
        self.session_id = session_id
        self._path = f"/v1/sessions/{quote_id(session_id)}/events/stream"
        self._core = core
        self._events = events
        self._params = {"event_deltas[]": list(event_deltas)} if event_deltas else None
        self._deltas = bool(event_deltas)
        self._stale_after = stale_after
        self._replay = replay
        self._max_attempts = max_attempts
        self._backoff = backoff or core.backoff
        self._max_frame_bytes = max_frame_bytes
        self._delivery = Delivery(  # history confirms every live event: no lookback needed
            Tracker(session_id, checkpoint, dedupe_window, lookback=1),
            until=until,
            auto_ack=auto_ack,
        )
        self._response: httpx.Response | None = None
        self._chunks: AsyncIterator[bytes] | None = None
        self._decoder = SSEDecoder(max_frame_bytes)
        self._frames: list[SSEFrame] = []  # read, not decoded yet (a list: lighter when idle)
        self._request_id: str | None = None
        self._reconcile = False
        self._started = False
        self._closed = False
        self._attempt = 0
        self._failure: BaseException | None = None
        self._newest_at_connect: str | None = None  # progress check for a dropped frame
        self._hold = LiveHold(self._delivery.tracker, events, self._delivery.queue)
        self._quick = False  # the next reconnect needs no backoff (a frame was dropped)
        self.reconnects = 0  # how many times the connection was reopened
        self.on_reconnect: Callable[[int, float, str], None] | None = None
        """Called with (attempt, delay, redacted error) before each reconnect (telemetry)."""
        self.watch: StartWatch | None = None  # set before entering: see .start

    # -- public surface -------------------------------------------------------------------

    @property
    def connected(self) -> bool:
        """Whether an SSE connection is currently open."""
        return self._response is not None

    async def __aenter__(self) -> EventStream:
        await self._start()
        return self

    async def aclose(self) -> None:
        """Close the connection; iteration ends. Safe to call more than once."""
        self._closed = True
        await self._disconnect()

    def __aiter__(self) -> EventStream:
        return self

    async def __anext__(self) -> Event:
        delivery = self._delivery
        delivery.auto_ack_pending()
        if delivery.done or self._closed:
            await self.aclose()
            raise StopAsyncIteration
        if not self._started:
            await self._start()
        queue = delivery.queue
        if not queue:
            frames = self._frames
            try:
                # Frames are decoded only when an event is asked for and the queue is empty.
                # Every frame already read is decoded before history is asked to confirm
                # the live events among them: one history read per batch, not per event.
                while not queue:
                    if frames and not (self._hold and frames[0].event in PREVIEW_FRAMES):
                        why = self._on_frame(frames.pop(0))
                        if why is not None:
                            await self._drop(self._failure, why)
                    elif self._hold:
                        await self._confirm()  # before a preview, so it follows its turn
                    elif delivery.ending:
                        break
                    else:
                        await self._fill()
            except AgentflowError:
                await self.aclose()  # fatal: the stream is over
                raise
            except BaseException:
                await self._disconnect()  # e.g. cancelled mid-read: reconnect on the next call
                raise
            if not queue:
                await self.aclose()
                raise StopAsyncIteration
        return delivery.deliver(queue.popleft())

    # -- connection -----------------------------------------------------------------------

    async def _start(self) -> None:
        if self._started:
            return
        self._started = True
        tracker, watch = self._delivery.tracker, self.watch
        tracker.note = watch.note if watch is not None else None
        whole = tracker.cursor is None  # the reconcile reads all of history
        try:
            await self._connect_with_retries(initial=True)
            if not self._replay:  # connected: the start is the end of history now
                whole = await tracker.start_at_now(self._events)
                self._reconcile = False
            while self._chunks is None or self._reconcile:  # connected and caught up
                await self._fill()
            if watch is not None:
                watch.finish(whole)
        except BaseException:
            await self.aclose()
            raise
        finally:
            tracker.note = None

    async def _fill(self) -> None:
        """Make progress: (re)connect, reconcile, or read the next chunk's frames."""
        if self._chunks is None:
            await self._connect_with_retries(initial=False)
            return
        if self._reconcile:
            self._reconcile = False
            await self._confirm()
            return
        try:
            chunk = await self._chunks.__anext__()
        except StopAsyncIteration:
            await self._drop(TransportError("the server ended the stream"), "stream ended")
            await self._check_terminated()
            return
        except httpx.ReadTimeout as exc:
            await self._drop(exc, f"no bytes for {self._stale_after}s (stale connection)")
            return
        except httpx.HTTPError as exc:
            await self._drop(exc, "connection lost")
            return
        # bytes alone (keep-alives) prove nothing: only delivered events reset the attempts
        self._frames.extend(self._decoder.feed(chunk))

    async def _confirm(self) -> None:
        """Let history confirm the held live events (see :class:`LiveHold`)."""
        try:
            found = await self._hold.confirm()
        except AgentflowError as exc:
            if not is_transient(exc):
                raise
            await self._drop(exc, "history read failed")
            return
        if found:
            self._attempt = 0  # events arrived: the connection is healthy

    async def _check_terminated(self) -> None:
        """After a clean end of stream: if the session is terminated, drain history and end."""
        tracker = self._delivery.tracker
        try:
            if not await tracker.terminated(self._events):
                return
            await tracker.catch_up(self._events, self._delivery.queue.append)
        except AgentflowError as exc:
            if not is_transient(exc):
                raise
            return  # unknown: reconnect as usual
        logger.debug("session %s: terminated; the stream ends", self.session_id)
        self._delivery.ending = True

    def _on_frame(self, frame: SSEFrame) -> str | None:
        """Queue a frame's event; returns why the connection must be dropped, if it must."""
        name = frame.event
        if frame.error is not None:
            logger.warning(
                "session %s: %s; reconnecting to read its event from history",
                self.session_id, frame.error,
            )  # fmt: skip
            return self._lost_frame(DecodeError(frame.error))
        if name == "ping" or not frame.data:
            return None
        if name == "error":
            err = stream_error(frame.data, self._request_id, self._core.redact)
            if not is_transient(err):
                raise err
            self._failure = err
            return "transient stream error"
        try:
            event = parse_event(frame.data)
        except DecodeError as exc:
            self._core.redact.scrub(exc)  # a frame may echo anything, the key included
            logger.warning(
                "session %s: dropped an undecodable frame; reconnecting to read its event "
                "from history: %s",
                self.session_id, exc,
            )  # fmt: skip
            return self._lost_frame(exc)
        event_id = event.id
        if event_id is None:
            if self._deltas and event.type != "ping":
                self._delivery.queue.append(event)
                self._attempt = 0
        elif event.type == "session.deleted":
            self._hold.flush(event)  # history is gone with the session: nothing can confirm
        else:
            self._hold.add(event)  # history confirms it and its place
        return None

    def _lost_frame(self, cause: DecodeError) -> str:
        """A frame was dropped: reconnect and reconcile, so history supplies its event.

        The connection's later frames are dropped too (history has them). The reconnect is
        immediate when this connection brought a new event; otherwise (a server that sends a
        bad frame first thing on every connection) it is a failed attempt like any other:
        backoff, and ``TransportError`` after ``max_attempts`` of them in a row.
        """
        self._failure = cause
        self._quick = self._delivery.tracker.seen.newest != self._newest_at_connect
        return "a frame was dropped"

    async def _connect_with_retries(self, *, initial: bool) -> None:
        path = self._path
        core = self._core
        first = initial
        while True:
            if not first:
                if self._attempt >= self._max_attempts:
                    raise TransportError(
                        f"stream of session {self.session_id} could not be resumed after "
                        f"{self._attempt} attempts; last error: {self._describe(self._failure)}"
                    ) from self._failure
                hint = getattr(self._failure, "retry_after", None)
                quick, self._quick = self._quick, False
                delay = 0.0 if quick else self._backoff.delay(self._attempt, core.random, hint)
                self._attempt += 1
                self.reconnects += 1
                if self.on_reconnect is not None:
                    self.on_reconnect(self._attempt, delay, self._describe(self._failure))
                logger.debug(
                    "session %s: reconnecting in %.3fs (attempt %d/%d)",
                    self.session_id, delay, self._attempt, self._max_attempts,
                )  # fmt: skip
                if not quick:
                    await core.sleep(delay)
            first = False
            try:
                response = await core.open_stream(
                    path, params=self._params, read_timeout=self._stale_after
                )
            except (APIError, httpx.HTTPError) as exc:
                if not is_transient(exc):
                    raise
                self._failure = exc
                logger.debug("session %s: connect failed: %s", self.session_id, self._describe(exc))
                continue
            self._response = response
            self._request_id = response.headers.get("request-id")
            self._chunks = self._core.chunks(response)
            self._decoder = SSEDecoder(self._max_frame_bytes)
            self._newest_at_connect = self._delivery.tracker.seen.newest
            self._reconcile = True
            return

    async def _drop(self, cause: BaseException | None, why: str) -> None:
        self._failure = cause
        logger.debug("session %s: %s; dropping the connection", self.session_id, why)
        await self._disconnect()

    async def _disconnect(self) -> None:
        chunks, response = self._chunks, self._response
        self._chunks = self._response = None
        self._frames.clear()  # history has their events: the reconcile after reconnecting
        with anyio.CancelScope(shield=True):
            if chunks is not None:
                aclose = getattr(chunks, "aclose", None)
                if aclose is not None:
                    await aclose()
            if response is not None:
                await response.aclose()

    def _describe(self, exc: BaseException | None) -> str:
        return self._core.describe(exc, f"connect to {self._core.url(self._path)}")

    def __repr__(self) -> str:
        state = "connected" if self.connected else "closed" if self._closed else "idle"
        return f"EventStream(session_id={self.session_id!r}, {state})"
