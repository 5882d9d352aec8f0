"""Resolving one call of a pause into a reply: run the tool, ask the policies, answer.

For each id the router answers, :class:`Resolver` decides from the checkpoint and what is
known of the call: a reply already on the server (nothing to do), a reply stored by an
earlier run (posted as stored), a call claimed by a live other run (left to it: never
"interrupted"), a call an earlier run claimed but never finished (an "interrupted" error
result, or a second run for an ``idempotent`` tool), or a fresh call:

- ``tool``: the app's tool runs (after the policies allow it, for ``confirm=True`` tools;
  a deny becomes an error result carrying the deny message); whatever the tool raises
  becomes an error result; a tool the app lacks gets an error result saying so (default), or
  is left to its owner (``unknown_tools="leave"``);
- ``approval``: the policies decide (default: deny);
- ``question``: the ``@app.on_question`` handlers answer (default: decline).
"""

from __future__ import annotations

import functools
import inspect
from typing import TYPE_CHECKING, Any

import anyio

from ..answers import ToolReply
from ..cancellation import describe_failure, must_propagate
from ..lease import holds
from ..observe import ToolObservation
from ..verdicts import Deny
from .gates import Gates
from .records import record_for, recovered_record

if TYPE_CHECKING:
    from ..checkpoint import Lease
    from ..config import UnknownTools
    from ..context import Context
    from ..dialect import Call
    from ..questions import QuestionHandlers
    from ..verdicts import Decision, Verdict
    from .protocols import Policies, ToolLike, ToolProvider
    from .state import RouterState

__all__ = ["Resolver", "Running"]


@functools.cache
def _takes_owner(store_type: type) -> bool:
    """Whether a store's ``claim`` takes ``owner`` (stores written before it did not)."""
    try:
        return "owner" in inspect.signature(store_type.claim).parameters  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return False


class Running:
    """A tool call started by this router: its reply once done."""

    __slots__ = ("done", "reply")

    def __init__(self) -> None:
        self.reply: dict[str, Any] | None = None
        self.done = anyio.Event()


class Resolver:
    """Turns call ids into replies for one actions router.

    ``owner`` and ``lease`` are recorded with each claim (see
    :mod:`agentflow.core.checkpoint.base`); without an owner, claims record none.
    """

    def __init__(
        self,
        router: RouterState,
        *,
        tools: ToolProvider | None,
        policies: Policies | None,
        questions: QuestionHandlers,
        default_confirmation: Verdict | None,
        unknown_tools: UnknownTools,
        max_concurrency: int,
        owner: str | None = None,
        lease: float | None = None,
    ) -> None:
        self.router = router
        self.tools = tools
        self.unknown_tools = unknown_tools
        self.owner = owner
        self.lease = lease
        self.gates = Gates(
            router,
            policies=policies,
            questions=questions,
            default_confirmation=default_confirmation,
            claim=self.claim,
        )
        if isinstance(max_concurrency, bool) or not isinstance(max_concurrency, int):
            raise TypeError(f"max_concurrency must be an int, got {max_concurrency!r}")
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency!r}")
        self._max_concurrency = max_concurrency
        self._limiter: anyio.CapacityLimiter | None = None  # made by the first tool run
        self._running: dict[str, Running] = {}

    def claim(self, call_id: str) -> bool:
        """Claim ``call_id`` in the checkpoint under this run's owner and lease."""
        store, sid = self.router.checkpoint, self.router.session_id
        if self.owner is None or not _takes_owner(type(store)):
            return store.claim(sid, call_id)
        return store.claim(sid, call_id, owner=self.owner, lease=self.lease)

    def held_elsewhere(self, call_id: str) -> Lease | None:
        """The live claim of another run on ``call_id``, if there is one."""
        store = self.router.checkpoint
        holder = store.claim_holder(self.router.session_id, call_id)
        if holder is None or holder.owner == self.owner or not holds(holder, store.now()):
            return None
        return holder

    # -- tools -----------------------------------------------------------------------------

    def tool(self, call: Call) -> ToolLike | None:
        """The app's tool for ``call``, if it has one."""
        return None if self.tools is None else self.tools.get(call.name)

    def owns_tool(self, call: Call) -> bool:
        """Whether this app runs ``call`` (it has the tool)."""
        return self.tool(call) is not None

    def is_running(self, call_id: str) -> bool:
        """Whether this router started ``call_id``."""
        return call_id in self._running

    def start(self, call: Call, ctx: Context) -> Running:
        """Start a tool call in the router's task group (it claims the call before running)."""
        running = self._running.get(call.id)
        if running is None:
            running = self._running[call.id] = Running()
            self.router.spawn(lambda: self._run_tool(running, call, ctx))
        return running

    async def _run_tool(self, running: Running, call: Call, ctx: Context) -> None:
        router, store, sid = self.router, self.router.checkpoint, self.router.session_id
        try:
            try:
                await router.read_history()
            except Exception as exc:  # not fatal here: the pause reads history again
                router.errors.append(f"reading history before {call.id} failed: {exc}")
                return
            if router.answered(call.id) or store.call_state(sid, call.id) is not None:
                return  # answered, or claimed elsewhere: the pause decides what to do
            if not self.claim(call.id):
                return
            reply = await self._execute(call, ctx)
            message = router.dialect.tool_reply(call, reply)
            store.record_result(sid, call.id, message)
            self._keep_reply(call.id, message)
            running.reply = message
        finally:
            running.done.set()

    async def _execute(self, call: Call, ctx: Context) -> ToolReply:
        """Run the tool (policies first when it asks for them) and record the outcome."""
        tool = self.tool(call)
        assert tool is not None
        decision: Decision | None = None
        if tool.confirm:
            decision = await self.gates.decide(call, ctx)
            if isinstance(decision.verdict, Deny):
                reply = ToolReply.failure("denied", decision.verdict.message)
                error = reply.error if decision.error is None else str(decision.error)
                self.router.add_record(record_for(call, outcome="denied", is_error=True,
                                                  error=error, policy=decision.policy))  # fmt: skip
                return reply
        limiter = self._limiter
        if limiter is None:  # an idle session never runs a tool: it needs none (memory)
            limiter = self._limiter = anyio.CapacityLimiter(self._max_concurrency)
        async with limiter:
            seen = ToolObservation(self.router.session_id, call, tool)
            try:
                work = tool.call(call.input, ctx.for_call(call.id, ctx.fencing_token))
                reply = await self.router.observers.tool(seen, work)
            except BaseException as exc:  # a tool that lets a failure out (ToolLike says not)
                if must_propagate(exc):
                    raise
                reply = ToolReply.failure("error", describe_failure(exc), exception=exc)
        self.router.add_record(
            record_for(
                call,
                outcome=reply.outcome,
                is_error=reply.is_error,
                duration_s=reply.duration_s,
                error=reply.error,
                policy=None if decision is None else decision.policy,
            )  # fmt: skip
        )
        return reply

    # -- one id of a pause -----------------------------------------------------------------

    async def resolve(self, call_id: str, ctx: Context, replies: dict[str, dict[str, Any]]) -> None:
        """Put the reply to ``call_id`` in ``replies``, or leave the call (see module doc)."""
        router, store, sid = self.router, self.router.checkpoint, self.router.session_id
        running = self._running.get(call_id)
        if running is not None:
            await running.done.wait()
            if running.reply is not None:
                replies[call_id] = running.reply
                return
            del self._running[call_id]  # the early start stood back: decide from the store
        if router.answered(call_id):
            return
        state = store.call_state(sid, call_id)
        if state == "sent":
            router.mark_answered(call_id)
            return
        call = router.call(call_id, ctx)
        stored = store.get_result(sid, call_id)
        if state == "result_ready" and stored is not None:
            router.add_record(recovered_record(call_id, call, stored))
            replies[call_id] = stored  # recorded by an earlier run: post it as it is
            return
        if state == "claimed":
            holder = self.held_elsewhere(call_id)
            if holder is not None:  # a live run is on it: it answers, never "interrupted"
                router.leave(call_id, call, f"the call is being handled by run {holder.owner}")
                return
        if call is None:
            event = ctx.event_by_id(call_id)
            if event is None:
                router.leave(call_id, None, "the event was not found in the stream or history")
            else:
                kind, why = router.dialect.unanswered(event)
                router.leave(call_id, None, why, kind)
                record = router.record(call_id)
                if record is not None:
                    record.name, record.input = event.tool_name, event.tool_input or {}
            return
        if call.kind == "approval":
            replies[call_id] = await self.gates.approve(call, ctx)
        elif call.kind == "question":
            replies[call_id] = await self.gates.ask(call, ctx)
        else:
            await self._resolve_tool(call, state, ctx, replies)

    async def _resolve_tool(
        self, call: Call, state: str | None, ctx: Context, replies: dict[str, dict[str, Any]]
    ) -> None:
        router = self.router
        tool = self.tool(call)
        if tool is None:
            if self.unknown_tools == "leave":
                router.leave(call.id, call, f"no executor for custom tool {call.name!r}")
                return
            text = f"no tool named {call.name!r} is available to this client"
            replies[call.id] = self._store(call, ToolReply.failure("unknown", text))
            return
        if state == "claimed" and not tool.idempotent:
            text = (
                f"tool {call.name!r} was started by an earlier run that stopped before it "
                "finished; it was not run again"
            )
            replies[call.id] = self._store(call, ToolReply.failure("interrupted", text))
            return
        running = self.start(call, ctx) if state is None else None
        if running is None:  # claimed, idempotent: run again under our own claim
            reply = await self._execute(call, ctx)
            message = router.dialect.tool_reply(call, reply)
            router.checkpoint.record_result(router.session_id, call.id, message)
            self._keep_reply(call.id, message)
            replies[call.id] = message
            return
        await running.done.wait()
        if running.reply is not None:
            replies[call.id] = running.reply
        elif not router.answered(call.id):
            router.leave(call.id, call, "the call was claimed by another run")

    def _keep_reply(self, call_id: str, message: dict[str, Any]) -> None:
        record = self.router.record(call_id)
        if record is not None:
            record.reply = message

    def _store(self, call: Call, reply: ToolReply) -> dict[str, Any]:
        """Record and keep an error reply made without running anything."""
        router = self.router
        message = router.dialect.tool_reply(call, reply)
        router.checkpoint.record_result(router.session_id, call.id, message)
        router.add_record(
            record_for(
                call,
                outcome=reply.outcome,
                is_error=True,
                error=reply.error,
                reply=message,
            )  # fmt: skip
        )
        return message
