"""The README's code runs as written: what a new user copies first must not trap them."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import anyio

from agentflow import App
from agentflow.events import parse_event

README = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_every_python_block_parses() -> None:
    assert len(BLOCKS) >= 4
    for block in BLOCKS:
        ast.parse(block)


def test_context_coroutines_are_shown_awaited() -> None:
    assert "await ctx.send(" in README and "await ctx.interrupt()" in README
    for block in BLOCKS:  # never a bare ctx.send(...) call in an example
        for line in block.splitlines():
            if "ctx.send(" in line or "ctx.interrupt(" in line:
                assert "await " in line, line


def test_the_middleware_example_registers_and_runs_timing() -> None:
    (block,) = [b for b in BLOCKS if "async def timing" in b]
    assert "app.use(timing)" in block
    app = App()
    scope: dict[str, object] = {"app": app}
    exec(compile(block, "README.md", "exec"), scope)  # the example, exactly as printed
    seen: list[str] = []
    app.on("agent.message")(lambda event: seen.append(event.type))
    event = parse_event(
        {
            "type": "agent.message",
            "id": "sevt_1",
            "processed_at": "2026-05-14T09:12:05Z",
            "content": [{"type": "text", "text": "hi"}],
        }  # fmt: skip
    )
    anyio.run(app.dispatch, event)
    assert seen == ["agent.message"]


def test_the_test_example_says_what_to_install() -> None:
    section = README.split("### Testing your own app", 1)[1].split("```python", 1)[0]
    assert 'pip install "agentflow-events[emulator]" pytest' in section
