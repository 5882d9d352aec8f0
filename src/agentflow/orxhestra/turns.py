"""Playing a session's user messages, and telling where the turn ends: :class:`Turns`.

Each user message is one ``runner.astream(...)``. Its events are pulled one at a time in
the run's own task (rather than read from a queue a task of ours fills), which keeps
orxhestra one step behind the App: when the agent runs the tools of a tool-call event, that
event has been through the actions router and the handlers already.

The turn end. orxhestra says it by ending the generator, with no event, and a ``"*"``
handler must see exactly what orxhestra yields, so nothing is added. Instead an event that
may be the turn's last (a complete agent message announcing no tool calls: an answer, an
error report, a notice) is held back until the next event shows it is not, or the
generator ends with no message queued, in which case the event carries the stop reason
(``event.ends_turn``) the dialect's ``turn_end`` reads: ``end_turn``, ``error`` when the
agent's last message reports an error, ``cancelled`` after an interrupt. Streamed chunks,
tool calls and tool responses, which something always follows, are passed on at once.
"""

from __future__ import annotations

from collections import deque
from collections.abc import AsyncGenerator, Mapping
from contextvars import ContextVar
from typing import TYPE_CHECKING, Any, Protocol

import anyio

from ..core.dialect import CallKind
from ..core.exceptions import AgentflowError
from .events import OrxhestraEvent, kind_of

if TYPE_CHECKING:
    from ..core.types import JSONObject
    from ._calls import ToolCall

__all__ = ["AgentFailed", "Asker", "Turns", "active_asker"]


class Asker(Protocol):
    """What answers the calls of a session's agent (the run's channel)."""

    session_id: str

    async def ask(self, call: ToolCall, kind: CallKind) -> JSONObject | None:
        """The reply the run gives ``call``, or ``None``."""
        ...


# Who answers for the agent pulled in this task, and in the tasks orxhestra starts meanwhile
# (an asyncio task copies the context it is created in): how a tool finds its run.
_ACTIVE: ContextVar[Asker | None] = ContextVar("agentflow_orxhestra_asker", default=None)


def active_asker() -> Asker | None:
    """Who answers for the agent running the code that asks (``None`` outside a run)."""
    return _ACTIVE.get()


class AgentFailed(AgentflowError):
    """The agent raised out of ``runner.astream``; the original is ``__cause__``."""


def _may_end(native: Any) -> bool:
    """Whether the turn may end with this event (something always follows the others)."""
    if getattr(native, "partial", None):
        return False
    return kind_of(native) not in ("tool.started", "tool.completed", "tool.failed")


def _outcome(native: Any) -> str | None:
    """The stop reason a turn ending on this agent message would have, if it tells one."""
    metadata = getattr(native, "metadata", None) or {}
    if metadata.get("compacting") or metadata.get("compaction"):
        return None  # the Runner's notice after the answer says nothing of the turn
    return "error" if metadata.get("error") else "end_turn"


class Turns:
    """A session's user messages (``queue``), each played as one ``runner.astream``."""

    def __init__(
        self,
        runner: Any,
        *,
        user_id: str,
        asker: Asker,
        queue: deque[str],
        roles: Mapping[str, CallKind],
    ) -> None:
        self.runner = runner
        self.user_id = user_id
        self.asker = asker
        self.queue = queue
        self.roles = roles
        self.interrupted = False
        self._stream: Any = None  # the running astream generator
        self._pull_scope: anyio.CancelScope | None = None
        self._outcome = "end_turn"

    async def events(self) -> AsyncGenerator[OrxhestraEvent, None]:
        """Every event of every queued message, the turn's last one marked."""
        held: OrxhestraEvent | None = None
        while not self.interrupted:
            if self._stream is None:
                if not self.queue:
                    break
                self._start(self.queue.popleft())
            try:
                native = await self._pull()
            except AgentFailed:
                if held is not None:
                    yield held
                raise
            if native is None:  # this message is done
                self._stream = None
                if held is not None:
                    if self.interrupted:
                        held.ends_turn = "cancelled"
                    elif not self.queue:
                        held.ends_turn = self._outcome
                    event, held = held, None
                    yield event
                continue
            event = OrxhestraEvent(native, self.roles)
            if held is not None:
                yield held
                held = None
            if _may_end(native):
                held = event
                self._outcome = _outcome(native) or self._outcome
            else:
                yield event
        await self.close()
        if held is not None:
            held.ends_turn = "cancelled"
            yield held

    def interrupt(self) -> None:
        """Play nothing more; an ``astream`` being pulled is cancelled."""
        self.interrupted = True
        if self._pull_scope is not None:
            self._pull_scope.cancel()

    async def close(self) -> None:
        """Close the running ``astream`` (orxhestra's own clean-up runs)."""
        stream, self._stream = self._stream, None
        if stream is not None:
            await stream.aclose()

    def _start(self, message: str) -> None:
        self._outcome = "end_turn"
        self._stream = self.runner.astream(
            user_id=self.user_id, session_id=self.asker.session_id, new_message=message
        )

    async def _pull(self) -> Any:
        """The generator's next event, or ``None`` when it ended (or was interrupted)."""
        token = _ACTIVE.set(self.asker)
        try:
            with anyio.CancelScope() as scope:
                self._pull_scope = scope
                try:
                    return await self._stream.__anext__()
                except StopAsyncIteration:
                    return None
                except Exception as exc:
                    self._stream = None
                    raise AgentFailed(
                        f"the orxhestra agent raised {type(exc).__name__}: {exc}"
                    ) from exc
            self._stream = None  # interrupted while the agent worked
            return None
        finally:
            self._pull_scope = None
            _ACTIVE.reset(token)
