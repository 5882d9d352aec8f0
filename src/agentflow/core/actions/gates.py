"""Deciding gates and answering questions: the replies that run no tool.

- an ``approval`` (a gate the platform waits on) is decided by the app's policies (default:
  deny, saying no policy matched); so is a ``confirm=True`` tool before it runs;
- a ``question`` is answered by the ``@app.on_question`` handlers (default: decline).

Whatever a policy or a handler does wrong (raises anything but the run's own cancellation,
hangs past the policy timeout, returns nonsense) becomes a deny or a decline, reported in
``RunResult.errors`` and in the call's record: every call of a pause gets its answer.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

from ..cancellation import describe_failure, must_propagate
from ..exceptions import PolicyError
from ..observe import PolicyObservation
from ..verdicts import Allow, Decision, Deny, no_policy_deny
from .records import record_for

if TYPE_CHECKING:
    from ..context import Context
    from ..dialect import Call
    from ..questions import QuestionHandlers
    from ..verdicts import Verdict
    from .protocols import Policies
    from .state import RouterState

__all__ = ["Gates"]

POLICY_FAILED = "The client's confirmation policy failed; denied."


class Gates:
    """The policies and question handlers of one actions router."""

    def __init__(
        self,
        router: RouterState,
        *,
        policies: Policies | None,
        questions: QuestionHandlers,
        default_confirmation: Verdict | None,
        claim: Any,
    ) -> None:
        self.router = router
        self.policies = policies
        self.questions = questions
        self.default_confirmation = default_confirmation
        self._claim = claim

    async def decide(self, call: Call, ctx: Context) -> Decision:
        """The policies' decision on ``call`` (the default verdict without policies)."""
        seen = PolicyObservation(self.router.session_id, call)
        return await self.router.observers.policy(seen, self._decide(call, ctx))

    async def _decide(self, call: Call, ctx: Context) -> Decision:
        if self.policies is None:
            verdict = self.default_confirmation or no_policy_deny(call.name)
            return Decision(verdict, "default")
        try:
            decision = await self.policies.decide(call.event, ctx, self.default_confirmation)
        except BaseException as exc:  # a third-party Policies that lets a failure out
            if must_propagate(exc):
                raise
            error = PolicyError(f"deciding {call.name!r} failed: {describe_failure(exc)}")
            decision = Decision(Deny(POLICY_FAILED), "policies", error)
        if decision.error is not None:
            self.router.errors.append(str(decision.error))
        return decision

    async def approve(self, call: Call, ctx: Context) -> dict[str, Any]:
        """Decide an approval and store its reply."""
        store, sid = self.router.checkpoint, self.router.session_id
        self._claim(call.id)
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

    async def ask(self, call: Call, ctx: Context) -> dict[str, Any]:
        """Answer a question (or decline it) and store the reply."""
        store, sid = self.router.checkpoint, self.router.session_id
        self._claim(call.id)
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
