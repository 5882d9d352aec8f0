"""Resolving one call of a pause into a reply: run the tool, ask the policies, answer.

For each id the router answers, :class:`Resolver` decides from the checkpoint and what is
known of the call: a reply already on the server (nothing to do), a reply stored by an
earlier run (posted as stored), a call an earlier run claimed but never finished (an
"interrupted" error result, or a second run for an ``idempotent`` tool), or a fresh call:

- ``tool``: the app's tool runs (after the policies allow it, for ``confirm=True`` tools;
  a deny becomes an error result carrying the deny message); a tool the app lacks gets an
  error result saying so, or is left to its owner (``unknown_tools="leave"``);
- ``approval``: the policies decide (default: deny);
- ``question``: the ``@app.on_question`` handlers answer (default: decline).
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import anyio

from ..answers import ToolReply
from ..exceptions import PolicyError
from ..observe import PolicyObservation, ToolObservation
from ..verdicts import Allow, Decision, Deny, no_policy_deny
from .records import record_for, recovered_record

if TYPE_CHECKING:
    from ..config import UnknownTools
    from ..context import Context
    from ..dialect import Call
    from ..questions import QuestionHandlers
    from ..verdicts import Verdict
    from .protocols import Policies, ToolLike, ToolProvider
    from .state import RouterState

__all__ = ["Resolver", "Running"]


class Running:
    """A tool call started by this router: its reply once done."""

    __slots__ = ("done", "reply")

    def __init__(self) -> None:
        self.reply: dict[str, Any] | None = None
        self.done = anyio.Event()


class Resolver:
    """Turns call ids into replies for one actions router."""

    def __init__(
        self,
        router: RouterState,
        *,
        tools: ToolProvider | None,
        policies: Policies | None,
        questions: QuestionHandlers,
        default_confirmation: Verdict | None,
        unknown_tools: UnknownTools,
        limiter: anyio.CapacityLimiter,
    ) -> None:
        self.router = router
        self.tools = tools
        self.policies = policies
        self.questions = questions
        self.default_confirmation = default_confirmation
        self.unknown_tools = unknown_tools
        self._limiter = limiter
        self._running: dict[str, Running] = {}

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
            if not store.claim(sid, call.id):
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
        policy: str | None = None
        if tool.confirm:
            decision = await self.decide(call, ctx)
            policy = decision.policy
            if isinstance(decision.verdict, Deny):
                reply = ToolReply.failure("denied", decision.verdict.message)
                self.router.add_record(record_for(call, outcome="denied", is_error=True,
                                                  error=reply.error, policy=policy))  # fmt: skip
                return reply
        async with self._limiter:
            seen = ToolObservation(self.router.session_id, call, tool)
            work = tool.call(call.input, ctx.for_call(call.id, ctx.fencing_token))
            reply = await self.router.observers.tool(seen, work)
        self.router.add_record(
            record_for(
                call,
                outcome=reply.outcome,
                is_error=reply.is_error,
                duration_s=reply.duration_s,
                error=reply.error,
                policy=policy,
            )  # fmt: skip
        )
        return reply

    # -- gates -----------------------------------------------------------------------------

    async def decide(self, call: Call, ctx: Context) -> Decision:
        """The policies' decision on ``call`` (the default verdict without policies)."""
        seen = PolicyObservation(self.router.session_id, call)
        return await self.router.observers.policy(seen, self._decide(call, ctx))

    async def _decide(self, call: Call, ctx: Context) -> Decision:
        if self.policies is None:
            verdict = self.default_confirmation or no_policy_deny(call.name)
            return Decision(verdict, "default")
        decision = await self.policies.decide(call.event, ctx, self.default_confirmation)
        if decision.error is not None:
            self.router.errors.append(str(decision.error))
        return decision

    async def _approve(self, call: Call, ctx: Context) -> dict[str, Any]:
        store, sid = self.router.checkpoint, self.router.session_id
        store.claim(sid, call.id)
        start = time.perf_counter()
        decision = await self.decide(call, ctx)
        allowed = isinstance(decision.verdict, Allow)
        message = self.router.dialect.approval_reply(call, decision.verdict)
        store.record_result(sid, call.id, message)
        error = None if decision.error is None else str(decision.error)
        self.router.add_record(
            record_for(
                call,
                outcome="allowed" if allowed else "denied",
                policy=decision.policy,
                duration_s=time.perf_counter() - start,
                reply=message,
                error=error,
            )  # fmt: skip
        )
        return message

    async def _ask(self, call: Call, ctx: Context) -> dict[str, Any]:
        store, sid = self.router.checkpoint, self.router.session_id
        store.claim(sid, call.id)
        start = time.perf_counter()
        error: str | None = None
        try:
            answer, who = await self.questions.answer(call, ctx)
        except PolicyError as exc:
            answer, who, error = None, "default", str(exc)
            self.router.errors.append(error)
        message = self.router.dialect.question_reply(call, answer)
        store.record_result(sid, call.id, message)
        self.router.add_record(
            record_for(
                call,
                outcome="declined" if answer is None else "answered",
                policy=who,
                duration_s=time.perf_counter() - start,
                reply=message,
                error=error,
            )  # fmt: skip
        )
        return message

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
            replies[call_id] = await self._approve(call, ctx)
        elif call.kind == "question":
            replies[call_id] = await self._ask(call, ctx)
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
            reply = ToolReply.failure(
                "unknown", f"no tool named {call.name!r} is available to this client"
            )
            replies[call.id] = self._store(call, reply)
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
