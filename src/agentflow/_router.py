"""The requires_action router: answers the calls a paused session waits for.

The run loop feeds it every event (tool calls before the handlers see them, idles after) and
it acts on two kinds:

- ``agent.custom_tool_use`` for a registered tool: the tool starts at once (it does not
  wait for the idle) in the router's task group;
- ``session.status_idle`` with ``stop_reason.type == "requires_action"``: for each id in
  ``stop_reason.event_ids`` it owns, it produces a reply (a custom tool's result, or a
  confirmation decided by the policies), runs independent calls concurrently, and posts
  **all** replies in one ``events.send``. Ids it does not own are left for their owner and
  reported (``RunResult.unanswered``).

At most once, across restarts, through the :class:`~agentflow.CheckpointStore`: a call is
``claim``-ed before its tool runs, its reply is ``record_result``-ed before it is posted and
``mark_sent`` after. Before anything runs the session history is read once, so a call that
already has a reply is never run or answered again. A reply recorded but not posted (the
post failed, or the process died) is posted as stored, without running the tool again; a
call claimed by a run that died before the tool finished gets an error result instead of a
second run. A failed post is retried with the stored replies; if the server rejects the
batch (400), history is re-read and replies it already holds are dropped.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup

from ._calls import (
    REPLY_KEY,
    TOOL_USES,
    interrupted_record,
    needs_confirmation,
    recovered_record,
    reply_target,
    unanswered_record,
)
from ._checkpoint import CheckpointStore, MemoryCheckpointStore
from ._exceptions import BadRequestError, ConflictError, RateLimitError, ServerError, TransportError
from ._results import ToolCallRecord
from .events import custom_tool_result, tool_confirmation
from .plugins import Allow, decide

if TYPE_CHECKING:
    import pluggy

    from ._context import Context
    from ._tools import ToolRegistry
    from .events import Event
    from .plugins import Verdict

__all__ = ["RequiresActionRouter", "needs_confirmation"]

logger = logging.getLogger("agentflow.router")

Send = Callable[[list[dict[str, Any]]], Awaitable[Any]]
History = Callable[[], AsyncIterator[Any]]

_RETRYABLE = (TransportError, RateLimitError, ServerError, ConflictError)


class _Call:
    __slots__ = ("done", "record", "reply")

    def __init__(self, record: ToolCallRecord) -> None:
        self.record = record
        self.reply: dict[str, Any] | None = None
        self.done = anyio.Event()


class RequiresActionRouter:
    """Answers ``requires_action`` for one session (see the module docstring).

    ``send`` posts a batch of client events (``client.events.send`` bound to the session);
    ``history`` returns an async iterator over the session's stored events (typed events).
    ``checkpoint`` defaults to a fresh in-memory store. At most ``max_concurrency`` tool calls
    run at once (each tool's own ``max_concurrency`` applies too). A post that fails with a
    transport error, 409, 429 or 5xx is retried up to ``send_attempts`` times with jittered
    exponential delays from ``retry_delay`` seconds (capped at 8 s), then the error is raised.
    ``early_start`` starts custom tools when their call arrives rather than at the idle.

    Use it as an async context manager around the events it is fed: calls still running when
    it exits are cancelled (their checkpoint stays ``claimed``, so a later run reports them
    as interrupted instead of running them again).
    """

    def __init__(
        self,
        *,
        session_id: str,
        tools: ToolRegistry,
        plugins: pluggy.PluginManager,
        send: Send,
        history: History | None = None,
        checkpoint: CheckpointStore | None = None,
        default_confirmation: Verdict | None = None,
        max_concurrency: int = 16,
        send_attempts: int = 5,
        retry_delay: float = 0.5,
        early_start: bool = True,
    ) -> None:
        self.session_id = session_id
        self.tools = tools
        self.plugins = plugins
        self.checkpoint = checkpoint if checkpoint is not None else MemoryCheckpointStore()
        self.default_confirmation = default_confirmation
        self.send_attempts = send_attempts
        self.retry_delay = retry_delay
        self.early_start = early_start
        self._records: dict[str, ToolCallRecord] = {}
        self._seq: dict[str, int] = {}  # call ids in the order the calls were first seen
        self.unanswered: list[str] = []
        self.errors: list[str] = []
        self._send = send
        self._history = history
        self._history_read = False
        self._history_lock = anyio.Lock()
        self._limiter = anyio.CapacityLimiter(max_concurrency)
        self._events: dict[str, Any] = {}  # tool-use events by id
        self._answered: set[str] = set()  # ids with a reply on the server (seen or sent)
        self._calls: dict[str, _Call] = {}  # calls started by this router
        self._reported: set[str] = set()
        self._tg: TaskGroup | None = None

    async def __aenter__(self) -> RequiresActionRouter:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        return self

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool | None:
        assert self._tg is not None
        self._tg.cancel_scope.cancel()
        if exc is not None and not isinstance(exc, anyio.get_cancelled_exc_class()):
            # Let the original error through as it is, not wrapped in an ExceptionGroup.
            await self._tg.__aexit__(None, None, None)
            return None
        return await self._tg.__aexit__(exc_type, exc, tb)

    # -- feeding ---------------------------------------------------------------------------

    async def feed(self, event: Event, ctx: Context) -> None:
        """Look at one event of the run; answers the session's ``requires_action`` idles."""
        kind = event.type
        if kind in TOOL_USES:
            self._observe(event)
            if self.early_start and kind == "agent.custom_tool_use" and self._tg is not None:
                if event.tool_name in self.tools and event.id not in self._answered:
                    self._start(event, ctx)
        elif kind in REPLY_KEY:
            self._answered.add(str(getattr(event, REPLY_KEY[kind])))
        elif kind == "session.status_idle":
            stop = getattr(event, "stop_reason", None)
            if stop is not None and stop.type == "requires_action":
                await self.answer(list(stop.event_ids), ctx)

    def _observe(self, event: Any) -> None:
        if event.id is not None:
            self._events[event.id] = event
            self._seq.setdefault(event.id, len(self._seq))

    def _add(self, record: ToolCallRecord) -> None:
        self._seq.setdefault(record.id, len(self._seq))
        self._records[record.id] = record

    @property
    def records(self) -> list[ToolCallRecord]:
        """One record per call handled or left unanswered, in the order the calls were made."""
        return sorted(self._records.values(), key=lambda r: self._seq[r.id])

    # -- history ---------------------------------------------------------------------------

    async def _read_history(self, *, again: bool = False) -> None:
        if self._history is None:
            return
        async with self._history_lock:
            if self._history_read and not again:
                return
            async for event in self._history():
                if event.type in TOOL_USES:
                    self._observe(event)
                elif event.type in REPLY_KEY:
                    call_id = str(getattr(event, REPLY_KEY[event.type]))
                    self._answered.add(call_id)
                    if self.checkpoint.call_state(self.session_id, call_id) != "sent":
                        self.checkpoint.mark_sent(self.session_id, call_id)
            self._history_read = True

    # -- running one call ------------------------------------------------------------------

    def _start(self, event: Any, ctx: Context) -> _Call:
        """Start a custom tool call in the task group (it claims the call before running)."""
        call_id = str(event.id)
        if call_id in self._calls:
            return self._calls[call_id]
        record = ToolCallRecord(
            id=call_id, name=event.tool_name, input=dict(event.input), kind="custom"
        )
        call = _Call(record)
        self._calls[call_id] = call
        assert self._tg is not None
        self._tg.start_soon(self._run_tool, call, event, ctx)
        return call

    def _find(self, call_id: str, ctx: Context) -> Any:
        return self._events.get(call_id) or ctx.event_by_id(call_id)

    async def _run_tool(self, call: _Call, event: Any, ctx: Context) -> None:
        record = call.record
        try:
            try:
                await self._read_history()
            except Exception as exc:  # not fatal here: the idle reads history again
                logger.debug("not starting %s early: reading history failed: %s", record.id, exc)
                return
            state = self.checkpoint.call_state(self.session_id, record.id)
            if record.id in self._answered or state is not None:
                return  # answered, or claimed elsewhere: the idle decides what to do
            if not self.checkpoint.claim(self.session_id, record.id):
                return
            async with self._limiter:
                reply = await self.tools[event.tool_name].call(event.input, ctx)
            message = custom_tool_result(record.id, reply.content, is_error=reply.is_error)
            self.checkpoint.record_result(self.session_id, record.id, message)
            record.outcome, record.is_error = reply.outcome, reply.is_error
            record.duration_s, record.error, record.reply = reply.duration_s, reply.error, message
            call.reply = message
            self._add(record)
        finally:
            call.done.set()

    async def _confirm(self, event: Any, ctx: Context) -> dict[str, Any]:
        call_id = str(event.id)
        record = ToolCallRecord(
            id=call_id, name=event.tool_name, input=dict(event.input), kind="confirmation"
        )
        self.checkpoint.claim(self.session_id, call_id)
        start = time.perf_counter()
        decision = await decide(self.plugins, event, ctx, self.default_confirmation)
        verdict = decision.verdict
        if isinstance(verdict, Allow):
            message = tool_confirmation(call_id, "allow")
            record.outcome = "allowed"
        else:
            message = tool_confirmation(call_id, "deny", deny_message=verdict.message)
            record.outcome = "denied"
        if decision.error is not None:
            record.error = str(decision.error)
            self.errors.append(str(decision.error))
        self.checkpoint.record_result(self.session_id, call_id, message)
        record.duration_s, record.policy, record.reply = (
            time.perf_counter() - start,
            decision.policy,
            message,
        )
        self._add(record)
        return message

    def _leave(self, call_id: str, event: Any, why: str) -> None:
        if call_id in self._reported:
            return
        self._reported.add(call_id)
        self.unanswered.append(call_id)
        self._add(unanswered_record(call_id, event, why))
        logger.warning("requires_action: %s left unanswered: %s", call_id, why)

    async def _resolve(
        self, call_id: str, ctx: Context, replies: dict[str, dict[str, Any]]
    ) -> None:
        call = self._calls.get(call_id)
        if call is not None:
            await call.done.wait()
            if call.reply is not None:
                replies[call_id] = call.reply
                return
            del self._calls[call_id]  # the early start stood back: decide from the store
        if call_id in self._answered:
            return
        state = self.checkpoint.call_state(self.session_id, call_id)
        if state == "sent":
            self._answered.add(call_id)
            return
        stored = self.checkpoint.get_result(self.session_id, call_id)
        if state == "result_ready" and stored is not None:
            self._add(recovered_record(call_id, self._events.get(call_id), stored))
            replies[call_id] = stored  # recorded by an earlier run: post it as it is
            return
        event = self._find(call_id, ctx)
        if event is None:
            self._leave(call_id, None, "the event was not found in the stream or history")
        elif event.type == "agent.custom_tool_use":
            if event.tool_name not in self.tools:
                self._leave(call_id, event, f"no executor for custom tool {event.tool_name!r}")
            elif state == "claimed":
                replies[call_id] = self._interrupted(call_id, event)
            else:
                call = self._start(event, ctx)
                await call.done.wait()
                if call.reply is not None:
                    replies[call_id] = call.reply
                elif call_id not in self._answered:
                    self._leave(call_id, event, "the call was claimed by another run")
        elif needs_confirmation(event):
            replies[call_id] = await self._confirm(event, ctx)
        else:
            self._leave(call_id, event, f"{event.type} is not waiting for a confirmation")

    def _interrupted(self, call_id: str, event: Any) -> dict[str, Any]:
        record = interrupted_record(call_id, event)
        assert record.reply is not None
        self.checkpoint.record_result(self.session_id, call_id, record.reply)
        self._add(record)
        return record.reply

    # -- answering an idle -----------------------------------------------------------------

    async def answer(self, event_ids: list[str], ctx: Context) -> list[dict[str, Any]]:
        """Answer every owned id of a ``requires_action`` idle in one batch; returns it."""
        todo = [i for i in dict.fromkeys(event_ids) if i not in self._answered]
        if todo:
            read_before = self._history_read
            await self._read_history()
            unseen = [i for i in todo if self._find(i, ctx) is None and i not in self._calls]
            if unseen and read_before:  # events newer than the last read: read it again
                await self._read_history(again=True)
            todo = [i for i in todo if i not in self._answered]
        if not todo:
            return []
        replies: dict[str, dict[str, Any]] = {}
        async with anyio.create_task_group() as tg:
            for call_id in todo:
                tg.start_soon(self._resolve, call_id, ctx, replies)
        batch = [replies[i] for i in todo if i in replies]
        if batch:
            await self._post(batch)
        return batch

    async def _post(self, batch: list[dict[str, Any]]) -> None:
        failures = 0
        rejected = False
        while True:
            try:
                await self._send(batch)
                break
            except BadRequestError as exc:
                if rejected:
                    raise
                rejected = True  # perhaps an earlier attempt got through: ask the history
                self.errors.append(f"posting {len(batch)} replies was rejected: {exc}")
                await self._read_history(again=True)
                batch = [r for r in batch if reply_target(r) not in self._answered]
                if not batch:
                    return
            except _RETRYABLE as exc:
                failures += 1
                self.errors.append(
                    f"posting {len(batch)} replies failed (attempt {failures}): {exc}"
                )
                if failures >= self.send_attempts:
                    raise
                delay = min(8.0, self.retry_delay * 2**failures)
                await anyio.sleep(random.uniform(0, delay))
        for call_id in map(reply_target, batch):
            self.checkpoint.mark_sent(self.session_id, call_id)
            self._answered.add(call_id)
            record = self._records.get(call_id)
            if record is not None and record.reply is not None:
                record.sent = True
