"""The orxhestra :class:`~agentflow.Channel`: one session of an in-process agent.

There is no connection. The run's ``send`` inputs and whatever handlers send with
``ctx.send`` are user messages, queued and played one ``runner.astream`` after another by
:class:`~agentflow.orxhestra.turns.Turns` (which also marks the turn's last event); the
channel hands each event to the run loop and records it in the checkpoint once the loop
asks for the next.

Answers. A wrapped tool asks :meth:`OrxhestraChannel.ask` while the run loop waits for the
next event; the channel has the run's actions router answer the call
(``router.answer([id])``: the policies, the App's tool or ``@app.on_question``, the
checkpoint, the record), and the router posts the reply with
:meth:`OrxhestraChannel.answer`, which hands it back to the tool. A call no event announced
(a tool run outside orxhestra's tool executor: a ReAct agent's, a tool called by another
tool) is announced to the router first by a stand-in event that handlers never see.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncGenerator, Collection, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol
from uuid import uuid4

from orxhestra.events.event import Event, EventType
from orxhestra.models.part import Content, ToolCallPart

from ..core.dialect import CallKind, register_event_fields
from ..core.known import attribute_names
from .dialect import ORXHESTRA, message_texts
from .events import OrxhestraEvent
from .turns import Turns

if TYPE_CHECKING:
    from ..core.checkpoint import CheckpointStore
    from ..core.types import JSONObject
    from ._calls import ToolCall

__all__ = ["OrxhestraChannel", "SourceLike", "stand_in"]

# OrxhestraEvent passes orxhestra's own fields through: field filters may name them.
register_event_fields(attribute_names(Event))

logger = logging.getLogger("agentflow.orxhestra")


class SourceLike(Protocol):
    """What a channel needs of its source (:class:`~agentflow.orxhestra.OrxhestraSource`)."""

    runner: Any
    user_id: str

    @property
    def roles(self) -> Mapping[str, CallKind]:
        """Tool name -> the kind of call answered for it."""
        ...

    def queue(self, session_id: str) -> deque[str]:
        """The session's user messages not played yet."""
        ...

    def attach(self, channel: OrxhestraChannel) -> None:
        """Register the run following a session (or raise when one already does)."""
        ...

    def detach(self, channel: OrxhestraChannel) -> None:
        """Unregister it."""
        ...

    def prepare(self, app: Any) -> None:
        """Set the agent up for a run of ``app``."""
        ...


def stand_in(call: ToolCall, call_id: str, kind: CallKind) -> OrxhestraEvent:
    """An agent message announcing ``call`` alone (as ``call_id``), answered as ``kind``."""
    part = ToolCallPart(tool_call_id=call_id, tool_name=call.name, args=dict(call.input))
    native = Event(
        type=EventType.AGENT_MESSAGE,
        session_id=call.session_id,
        invocation_id=call.invocation_id or "",
        agent_name=call.agent_name,
        author=call.agent_name or "",
        content=Content(parts=[part]),
    )
    return OrxhestraEvent(native, {call.name: kind})


class OrxhestraChannel:
    """One orxhestra session for the run loop (see the module docstring)."""

    dialect = ORXHESTRA

    def __init__(self, source: SourceLike, session_id: str, checkpoint: CheckpointStore):
        self.session_id = session_id
        self.source = source
        self._checkpoint = checkpoint
        self._queue = source.queue(session_id)
        self._turns = Turns(
            source.runner,
            user_id=source.user_id,
            asker=self,
            queue=self._queue,
            roles=source.roles,
        )
        self._events: AsyncGenerator[OrxhestraEvent, None] | None = None
        self._current: OrxhestraEvent | None = None  # handed out, not yet acknowledged
        self._router: Any = None
        self._ctx: Any = None
        self._open = False
        self._asked: set[str] = set()
        self._replies: dict[str, JSONObject] = {}

    def bind(self, *, app: Any, router: Any, ctx: Any) -> None:
        """Keep the run's actions router and context; give the agent the App's tools."""
        self._router, self._ctx = router, ctx
        self.source.prepare(app)

    async def __aenter__(self) -> OrxhestraChannel:
        self.source.attach(self)
        self._open = True
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._open = False
        try:
            if self._events is not None:
                await self._events.aclose()
            await self._turns.close()
        finally:
            self.source.detach(self)
        if exc_type is None:
            self._ack()

    # -- events ----------------------------------------------------------------------------

    def __aiter__(self) -> OrxhestraChannel:
        self._events = self._turns.events()
        return self

    async def __anext__(self) -> OrxhestraEvent:
        self._ack()  # the run loop asks for the next event: the last one was handled
        if self._events is None:
            raise StopAsyncIteration
        event = await self._events.__anext__()
        self._current = event
        return event

    def _ack(self) -> None:
        current, self._current = self._current, None
        if current is not None and current.id is not None:
            self._checkpoint.mark_dispatched(self.session_id, current.id)

    async def start_turn(self, inputs: Sequence[JSONObject]) -> Collection[str]:
        """Queue the inputs (each user message is one ``astream``); the turn has started."""
        self._queue.extend(message_texts(inputs))
        return ()

    async def send(self, requests: list[JSONObject]) -> None:
        """``ctx.send``: queue user messages, played after the current one, in this run."""
        self._queue.extend(message_texts(requests))

    async def interrupt(self, thread_id: str | None = None) -> None:
        """Stop the agent: its generator is closed; queued messages wait for the next run.

        Called by a handler, the event being handled ends the turn as ``cancelled``.
        """
        current = self._current
        if current is not None and current.ends_turn is None:
            current.ends_turn = "cancelled"
        self._turns.interrupt()

    def history(self) -> None:
        """None: an answer is given while the agent waits for it, never after a restart."""
        return None

    async def latest(self) -> None:
        """None: an in-process session has no status to attach to."""
        return None

    # -- answers ---------------------------------------------------------------------------

    async def ask(self, call: ToolCall, kind: CallKind) -> JSONObject | None:
        """Have the run's actions router answer ``call``: the reply it posted, or ``None``.

        ``None`` when the run is over or was interrupted (even while the router answered:
        a gate decided as the run stopped stays shut), or when the router gave no answer
        (an id it saw answered before). A call no event announced is announced to the
        router first, as ``kind``.
        """
        router, ctx = self._router, self._ctx
        if router is None or not self._open or self._turns.interrupted:
            return None
        call_id = call.id or f"{call.name}-{uuid4().hex[:12]}"
        if router.call(call_id, ctx) is None:
            router.observe(stand_in(call, call_id, kind), ctx)
        self._asked.add(call_id)
        try:
            await router.answer([call_id], ctx)
            reply = self._replies.pop(call_id, None)
            return None if self._turns.interrupted else reply
        finally:
            self._asked.discard(call_id)
            self._replies.pop(call_id, None)

    async def answer(self, replies: list[JSONObject]) -> None:
        """Hand each reply the router posts to the tool waiting for it."""
        for reply in replies:
            target = ORXHESTRA.reply_target(reply)
            if target in self._asked:
                self._replies[target] = reply
            else:  # nothing waits: only a caller of router.answer of its own gets here
                logger.warning("%s: no tool waits for the reply to %s", self.session_id, target)

    def __repr__(self) -> str:
        return f"OrxhestraChannel(session_id={self.session_id!r})"
