"""The worked example of docs/dialects.md: a third-party dialect runs through ``app.run``."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import anyio
import pytest

from agentflow import SqliteCheckpointStore

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "memo_dialect.py"


def _load() -> ModuleType:
    spec = importlib.util.spec_from_file_location("memo_dialect_example", EXAMPLE)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_doc_shows_the_example_file_whole() -> None:
    doc = (ROOT / "docs" / "dialects.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", doc, re.S)
    assert EXAMPLE.read_text() in blocks


async def test_the_memo_dialect_runs_with_tools_policies_middleware_and_checkpoint(
    tmp_path: Path,
) -> None:
    memo = _load()
    ran: list[str] = []
    lookup = memo.app.tools.get("lookup")
    original = lookup.fn

    def counting(order: str) -> str:
        ran.append(order)
        return str(original(order))

    lookup.fn = counting
    agent = memo.MemoAgent(memo.SCRIPT)
    with SqliteCheckpointStore(tmp_path / "memo.db") as store:
        with anyio.fail_after(10):
            result = await memo.app.run(agent, "memo-1", send=["Where?"], checkpoint=store)
        position = store.position("memo-1")
        assert store.call_state("memo-1", result.tool_calls[0].id) == "sent"
    assert result.stop_reason == "end_turn" and result.dialect == "memo"
    assert result.text == "Your order shipped; a person will look at the refund."
    assert ran == ["A-1"]
    assert [(c.name, c.kind, c.outcome) for c in result.tool_calls] == [
        ("lookup", "custom", "ok"),
        ("refund", "confirmation", "denied"),
    ]
    call, ask = result.tool_calls
    assert agent.answers == [
        {"call": call.id, "output": "order A-1 shipped", "error": False},
        {"call": ask.id, "allowed": False, "output": "Refunds need a person."},
    ]
    # the middleware saw every event, by kind; the checkpoint holds the last one dispatched
    assert memo.seen[:4] == [
        "message.completed",
        "tool.started",
        "approval.requested",
        "tool.requested",
    ]
    assert memo.seen[-1] == "turn.completed"
    assert position is not None and position.event_id == result.last_event_id


async def test_app_run_refuses_what_is_not_a_source_and_names_it() -> None:
    memo = _load()

    class NoChannel:
        dialect = memo.MemoAgent(memo.SCRIPT).dialect
        channel = None  # a source's channel must be callable

    class NoDialect:
        def channel(self, session: object, **options: object) -> None:
            raise AssertionError("never opened")

    for thing, name in [(object(), "object"), ("memo-1", "str"), (NoChannel(), "NoChannel")]:
        with pytest.raises(TypeError, match=f"app.run takes a source .*got {name}$"):
            await memo.app.run(thing, "memo-1")
    with pytest.raises(TypeError, match="got NoDialect"):
        await memo.app.run(NoDialect(), "memo-1")
