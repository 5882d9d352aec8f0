"""A complete third-party dialect in one file: "memo", a scripted agent held in memory.

It shows every piece a dialect provides (docs/dialects.md walks through it): typed events
with ``.kind``, a pure :class:`~agentflow.Dialect`, and a source whose channel yields the
events, starts turns, takes the App's answers and records what was dispatched in the
checkpoint. Then one App, with a tool, a policy, a middleware and a SQLite checkpoint, runs
over it with ``app.run`` exactly as it would over Managed Agents::

    python examples/memo_dialect.py
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import anyio

from agentflow import (
    Allow,
    App,
    Call,
    CheckpointStore,
    Deny,
    Dialect,
    Event,
    Pause,
    SqliteCheckpointStore,
    ToolReply,
    Verdict,
)

# -- 1. events: the wire's own types, plus the common kind ---------------------------------

KINDS = {
    "say": "message.completed",
    "call": "tool.started",
    "ask": "approval.requested",
    "wait": "tool.requested",
    "result": "tool.completed",
    "done": "turn.completed",
}


@dataclass(frozen=True)
class MemoEvent(Event):
    """One memo event: a ``type``, an ``id`` and its ``data``."""

    type: str
    id: str
    data: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        return KINDS.get(self.type)

    @property
    def text(self) -> str:
        return str(self.data.get("text", ""))

    @property
    def tool_name(self) -> str | None:
        return self.data.get("name")

    @property
    def tool_input(self) -> dict[str, Any] | None:
        return self.data.get("input")

    @property
    def call_id(self) -> str | None:
        return self.data.get("call", self.id if self.type in ("call", "ask") else None)

    @property
    def raw(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id, **self.data}


# -- 2. the dialect: what the events mean (pure: no I/O) -----------------------------------


class MemoDialect(Dialect):
    """``call`` asks the client to run a tool, ``ask`` to allow or deny one, ``wait`` pauses
    until every open call is answered, ``result`` shows an answer, ``done`` ends the turn."""

    name = "memo"
    known_types = frozenset(KINDS)

    def calls(self, event: Event) -> Sequence[Call]:
        assert isinstance(event, MemoEvent)
        if event.type == "call":
            return [Call(event.id, "tool", event, event.tool_name, event.tool_input)]
        if event.type == "ask":
            return [Call(event.id, "approval", event, event.tool_name, event.tool_input)]
        return ()

    def settled(self, event: Event) -> str | None:
        return event.call_id if event.type == "result" else None

    def pause(self, event: Event) -> Pause | None:
        return Pause(None) if event.type == "wait" else None  # None: every open call

    def turn_end(self, event: Event) -> str | None:
        return "end_turn" if event.type == "done" else None

    def user_input(self, item: str | Mapping[str, Any]) -> dict[str, Any]:
        return {"text": item} if isinstance(item, str) else dict(item)

    def tool_reply(self, call: Call, reply: ToolReply) -> dict[str, Any]:
        return {"call": call.id, "output": reply.text, "error": reply.is_error}

    def approval_reply(self, call: Call, verdict: Verdict) -> dict[str, Any]:
        denied = isinstance(verdict, Deny)
        return {"call": call.id, "allowed": not denied, "output": getattr(verdict, "message", "")}

    def reply_target(self, reply: Mapping[str, Any]) -> str:
        return str(reply["call"])


MEMO = MemoDialect()
MemoEvent.dialect = MEMO  # every memo event knows its dialect

# -- 3. the source and its channel: where events come from and answers go ------------------

Script = list[tuple[str, dict[str, Any]]]


class MemoAgent:
    """The source: a scripted agent; ``channel(session_id)`` follows one of its sessions."""

    dialect = MEMO

    def __init__(self, script: Script) -> None:
        self.script = script
        self.answers: list[dict[str, Any]] = []
        self._ids = itertools.count(1)

    def channel(self, session: str, *, checkpoint: CheckpointStore, replay: bool | None,
                **options: Any) -> MemoChannel:  # fmt: skip
        return MemoChannel(self, session, checkpoint)


class MemoChannel:
    """One session: events flow through an in-memory stream; answers release the script."""

    dialect = MEMO

    def __init__(self, agent: MemoAgent, session_id: str, checkpoint: CheckpointStore) -> None:
        self.agent, self.session_id, self.checkpoint = agent, session_id, checkpoint
        self._send, self._receive = anyio.create_memory_object_stream[MemoEvent](100)
        self._answered = anyio.Event()
        self._last: MemoEvent | None = None

    async def __aenter__(self) -> MemoChannel:
        self._agent_task = anyio.create_task_group()  # where the scripted agent works
        await self._agent_task.__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._ack()
        self._send.close()
        self._receive.close()
        self._agent_task.cancel_scope.cancel()
        await self._agent_task.__aexit__(None, None, None)

    def __aiter__(self) -> AsyncIterator[MemoEvent]:
        return self._events()

    async def _events(self) -> AsyncIterator[MemoEvent]:
        async for event in self._receive:
            self._ack()  # asking for the next event acknowledges the last one
            self._last = event
            yield event

    def _ack(self) -> None:
        if self._last is not None:
            self.checkpoint.mark_dispatched(self.session_id, self._last.id)
            self._last = None

    async def _emit(self, kind: str, **data: Any) -> None:
        await self._send.send(MemoEvent(kind, f"m{next(self.agent._ids)}", data))

    async def _play(self) -> None:
        for kind, data in self.agent.script:
            await self._emit(kind, **data)
            if kind == "wait":
                await self._answered.wait()
                self._answered = anyio.Event()

    async def start_turn(self, inputs: Sequence[dict[str, Any]]) -> Collection[str]:
        self._agent_task.start_soon(self._play)
        return ()  # the turn has started

    async def answer(self, replies: list[dict[str, Any]]) -> None:
        self.agent.answers.extend(replies)
        for reply in replies:
            await self._emit("result", call=reply["call"], output=reply["output"])
        self._answered.set()

    async def send(self, requests: list[dict[str, Any]]) -> None:
        self.agent.answers.extend(requests)

    async def interrupt(self, thread_id: str | None = None) -> None:
        self._send.close()

    def history(self) -> None:
        return None  # the memo agent keeps none

    async def latest(self) -> None:
        return None


# -- 4. one App over it: a tool, a policy, a middleware, a checkpoint -----------------------

app = App(load_entrypoints=False)
seen: list[str] = []


@app.tool
def lookup(order: str) -> str:
    """Look an order up."""
    return f"order {order} shipped"


@app.confirm("refund")
def no_refunds() -> Verdict:
    return Deny("Refunds need a person.")


@app.confirm("read*")
def reads_are_fine() -> Verdict:
    return Allow()


async def count_kinds(event: Event, ctx: Any, call_next: Any) -> None:
    seen.append(event.kind or event.type)
    await call_next(event, ctx)


app.use(count_kinds)


@app.on(kind="message.completed")
def show(event: Event) -> None:
    print("agent:", event.text)


SCRIPT: Script = [
    ("say", {"text": "Let me check."}),
    ("call", {"name": "lookup", "input": {"order": "A-1"}}),
    ("ask", {"name": "refund", "input": {"order": "A-1"}}),
    ("wait", {}),
    ("say", {"text": "Your order shipped; a person will look at the refund."}),
    ("done", {}),
]


async def main(db: Path) -> None:
    agent = MemoAgent(SCRIPT)
    with SqliteCheckpointStore(db) as store:
        result = await app.run(agent, "memo-1", send=["Where is A-1?"], checkpoint=store)
        print(result.stop_reason, [(c.name, c.outcome) for c in result.tool_calls])
        print("answers:", agent.answers)


if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        anyio.run(main, Path(tmp) / "memo.db")
