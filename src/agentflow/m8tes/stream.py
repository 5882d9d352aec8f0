"""A run's events, each once and in order, across any number of re-attaches: :class:`RunStream`.

m8tes frames carry no ids, and re-attaching (``GET /runs/{id}/stream``) replays the whole
run before going on live. So a frame is known by its position in the run's history, and a
re-attach skips the frames already taken: the first ``count`` of the replay. Each event gets
the id ``"<run_id>:<position>"``; the checkpoint keeps the count (:mod:`.track`).

When a connection ends, what comes next depends on where the run stands (the SDK's rules for
when a stream may end, plus what the SDK leaves to its caller):

- after a terminal frame (``done``, ``cancelled``, ``error``, a terminal failure) or
  ``[DONE]``: a stream on its own ends there; a run's channel re-attaches once, and a 409
  (the run finished) makes it read the run's final state, deliver it as ``run.<status>``
  and end;
- while a human gate is open: a stream on its own ends quietly (iterate it again once the
  gate is answered: it re-attaches and goes on after what it delivered); a channel
  re-attaches once the gate is answered (at once when it answered it itself, else when
  ``GET /runs/{id}`` no longer says ``awaiting_approval``, polled every ``gate_poll`` s);
- otherwise the connection was cut: it re-attaches after a jittered backoff. ``max_attempts``
  re-attaches in a row that deliver no new frame (a replay of frames already taken is no
  progress) raise :class:`~agentflow.TransportError`.

401, 403 and 404 raise their typed errors at once. A connection silent for ``stale_after``
seconds counts as cut (the platform sends keep-alives every 15 s).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from ..core.exceptions import (
    APIError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    StreamError,
    TransportError,
)
from ..wire.backoff import Backoff
from ..wire.sse import DEFAULT_MAX_FRAME_BYTES
from .connection import Connection
from .events import M8tesEvent, RunStatus
from .models import Run
from .reader import FrameReader
from .track import Progress

if TYPE_CHECKING:
    from ..core.checkpoint import CheckpointStore
    from .http import M8tesHTTP

__all__ = ["RunStream", "StreamOptions"]

logger = logging.getLogger("agentflow.transport")

_FATAL = (AuthenticationError, PermissionDeniedError, NotFoundError, BadRequestError)


@dataclass(frozen=True)
class StreamOptions:
    """How a run's stream re-attaches (see the module docstring)."""

    stale_after: float = 60.0
    max_attempts: int = 8
    backoff: Backoff | None = None
    gate_poll: float = 2.0
    max_frame_bytes: int = DEFAULT_MAX_FRAME_BYTES

    def __post_init__(self) -> None:
        if self.stale_after <= 0 or self.gate_poll <= 0:
            raise ValueError("stale_after and gate_poll must be > 0")
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be >= 1, got {self.max_attempts!r}")


class RunStream:
    """The events of run ``run_id``, each once, in order (see the module docstring).

    ::

        stream = await client.runs.create(message="Check the build host")
        async for event in stream:
            print(event.kind, event.text)
        print(stream.id, stream.text)

    ``text`` is every text delta of the run so far, joined. With a ``checkpoint``, each
    event is recorded as dispatched when the next one is asked for (or the block exits
    cleanly), and a new stream of the run resumes after the last one recorded.
    """

    def __init__(
        self,
        http: M8tesHTTP,
        run_id: int,
        *,
        response: httpx.Response | None = None,
        after_reply: bool = False,
        checkpoint: CheckpointStore | None = None,
        follow: bool = False,
        from_start: bool = False,
        options: StreamOptions | None = None,
    ) -> None:
        self.id = run_id
        self.key = str(run_id)
        self.options = options or StreamOptions()
        self.follow = follow
        self.checkpoint = checkpoint
        self.reconnects = 0
        """How many times the stream re-attached."""
        self._http = http
        self._backoff = self.options.backoff or http.core.backoff
        self._reader = FrameReader(run_id, Progress())
        if checkpoint is not None and not from_start:
            self._resume(checkpoint)
        self._acc = self._reader.acc
        self._conn: Connection | None = None
        self._first = response
        self._after_reply = after_reply
        self._place()
        self._status: RunStatus | None = None
        self._finished = False
        self._closed = False
        self._parked = False  # ended quietly at a gate: iterating again resumes
        self._attempt = 0
        self._fresh = False  # the current connection delivered a new frame
        self._gate_tried: Any = None
        self._unacked: tuple[str, str] | None = None
        self.answered: set[Any] = set()
        """Gates (request ids) answered through this stream's channel."""

    def _resume(self, checkpoint: CheckpointStore) -> None:
        position = checkpoint.position(self.key)
        if position is not None:
            try:
                self._reader.progress = Progress.from_cursor(position.cursor)
            except ValueError as exc:
                raise ValueError(
                    f"the checkpoint's position for run {self.id} is not an m8tes position "
                    f"({position.cursor!r}): use a checkpoint store of this run's dialect"
                ) from exc

    def _place(self) -> None:
        if self._after_reply and self._first is not None:
            self._reader.after_reply()

    @property
    def progress(self) -> Progress:
        """Where the stream stands in the run's history."""
        return self._reader.progress

    def adopt(self, checkpoint: CheckpointStore | None, *, from_start: bool = False) -> None:
        """Follow the run for a channel: wait at gates, go on after a turn, and record what
        is delivered in ``checkpoint`` (only before anything was read)."""
        if not self.pristine:
            raise RuntimeError("a stream can only be adopted before anything was read from it")
        self.follow = True
        self.checkpoint = checkpoint
        if checkpoint is not None and not from_start:
            self._resume(checkpoint)
        self._place()

    # -- what users read ------------------------------------------------------------------

    @property
    def run_id(self) -> int:
        """The run's id (known from the response headers, before any frame)."""
        return self.id

    @property
    def text(self) -> str:
        """Every text delta of the run read so far, joined (after iteration: the run's text)."""
        return "".join(self._acc.text)

    @property
    def errors(self) -> list[str]:
        """Errors the run reported and did not retract (and a failed run's own error)."""
        return list(self._acc.errors)

    @property
    def pristine(self) -> bool:
        """Whether nothing was read from it yet (its first response is still unread)."""
        return self._first is not None and not self._closed

    @property
    def open_gate(self) -> str | None:
        """The request id of the human gate the run waits on, if any."""
        gate = self._acc.gate
        return None if gate is None else str(gate.request_id)

    async def iter_text(self) -> AsyncIterator[str]:
        """Only the text deltas, as they arrive (``stream.text`` has them all afterwards)."""
        async for event in self:
            if event.kind == "message.delta":
                yield event.text

    # -- iteration ------------------------------------------------------------------------

    def __aiter__(self) -> RunStream:
        self._parked = False
        return self

    async def __anext__(self) -> M8tesEvent:
        if self._unacked is not None:
            self.ack()
        while True:
            conn = self._conn
            if conn is not None:
                got = conn.take()  # frames already read: no await per frame
                if got is not None:
                    taken = self._reader.take(*got)
                    if taken is None:
                        continue
                    self._attempt = 0
                    self._fresh = True
                    if self.checkpoint is not None:
                        self._unacked = (str(taken.id), self.progress.cursor())
                    return taken
            if self._closed or self._parked:
                raise StopAsyncIteration
            if self._status is not None:
                status, self._status = self._status, None
                return status
            if self._finished:
                await self.aclose()
                raise StopAsyncIteration
            if conn is None:
                await self._connect()
                continue
            try:
                more = await conn.fill()
            except httpx.HTTPError as exc:
                logger.debug("run %s: connection lost: %s", self.id, type(exc).__name__)
                more = False
            except BaseException:
                await self._drop()
                raise
            if not more:
                await self._ended(conn)

    # -- connections ----------------------------------------------------------------------

    async def _connect(self) -> None:
        if self._first is not None:
            response, self._first = self._first, None
            self._open(response, self.progress.count if self._after_reply else 0)
            return
        self.reconnects += 1
        try:
            response = await self._http.open(
                "GET", f"/runs/{self.id}/stream", read_timeout=self.options.stale_after
            )
        except ConflictError:
            await self._final_state()
            return
        except _FATAL:
            await self.aclose()
            raise
        except (APIError, TransportError) as exc:
            await self._retry(exc)
            return
        self._open(response, 0)
        try:
            self._reader.replay()
        except StreamError:
            await self.aclose()
            raise

    def _open(self, response: httpx.Response, offset: int) -> None:
        self._conn = Connection(response, self.id, offset, self.options.max_frame_bytes)
        self._fresh = False

    async def _ended(self, conn: Connection) -> None:
        """The connection ended: decide what follows (see the module docstring)."""
        fresh = self._fresh
        await self._drop()
        try:
            self._reader.check_end()
        except StreamError:
            await self.aclose()
            raise
        acc = self._acc
        if acc.ended or conn.done:
            if not self.follow:
                self._finished = True
            elif not fresh:  # a re-attach that brought nothing new: do not spin
                await self._retry(TransportError(f"run {self.id} is at the end of a turn"))
            return  # a channel re-attaches: the run may go on, or it finished (409)
        gate = acc.gate
        if gate is not None:
            if not self.follow:
                self._parked = True
                return
            if gate.request_id in self.answered and self._gate_tried != gate.request_id:
                self._gate_tried = gate.request_id  # answered here: go on at once
                return
            await self._wait_gate(gate.request_id)
            return
        await self._retry(TransportError(f"the stream of run {self.id} ended mid-run"))

    async def _retry(self, cause: BaseException) -> None:
        """A failed attempt: back off, or give up after ``max_attempts`` without progress."""
        self._attempt += 1
        if self._attempt > self.options.max_attempts:
            await self.aclose()
            raise TransportError(
                f"the stream of run {self.id} could not be resumed after "
                f"{self._attempt - 1} attempts with no new frame; last error: {cause}"
            ) from cause
        delay = self._backoff.delay(self._attempt - 1, self._http.core.random,
                                    getattr(cause, "retry_after", None))  # fmt: skip
        logger.debug("run %s: re-attaching in %.3fs (%s)", self.id, delay, cause)
        await self._http.core.sleep(delay)

    async def _wait_gate(self, request_id: Any) -> None:
        """Poll the run until it no longer waits on a gate (or finished)."""
        while True:
            run = await self.get_run()
            if run.finished:
                self._deliver_final(run)
                return
            if run.status != "awaiting_approval":
                return
            logger.debug("run %s: waiting for gate %s to be answered", self.id, request_id)
            await self._http.core.sleep(self.options.gate_poll)

    async def get_run(self) -> Run:
        """``GET /runs/{id}``."""
        response = await self._http.request("GET", f"/runs/{self.id}")
        return Run.model_validate_json(response.content)

    async def _final_state(self) -> None:
        """409 on re-attach: the run finished; read its final state."""
        run = await self.get_run()
        if not run.finished:  # it was finishing a moment ago and goes on: try again
            await self._retry(ConflictError(f"run {self.id} is {run.status}", status=409))
            return
        self._deliver_final(run)

    def _deliver_final(self, run: Run) -> None:
        if run.status == "failed":
            self._acc.errors.append(run.error or f"run {self.id} failed")
        self._status = RunStatus.of(run)
        self._finished = True

    async def _drop(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            await conn.aclose()

    # -- acknowledgement and lifetime -----------------------------------------------------

    def ack(self) -> None:
        """Record the last delivered event as dispatched in the checkpoint (if any)."""
        pending, self._unacked = self._unacked, None
        if pending is not None and self.checkpoint is not None:
            self.checkpoint.mark_dispatched(self.key, pending[0], pending[1])

    async def aclose(self) -> None:
        """Close the connection; iteration ends. Safe to call more than once."""
        self._closed = True
        first, self._first = self._first, None
        if first is not None:
            await first.aclose()
        await self._drop()

    async def __aenter__(self) -> RunStream:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.ack()
        await self.aclose()

    def __repr__(self) -> str:
        state = "closed" if self._closed else "open" if self._conn is not None else "idle"
        return f"RunStream(run_id={self.id}, position={self.progress.count}, {state})"
