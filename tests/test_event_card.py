"""The quick reference card: generated from the models, printed by `agentflow events`."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar, Literal

import pytest
from pydantic import BaseModel

from agentflow.card import CARDS, card, cards, kind_of, register_card, render_markdown
from agentflow.cli import main
from agentflow.managed_agents.events import EVENT_CLASSES

DOC = Path(__file__).resolve().parents[1] / "docs" / "events.md"


def test_docs_events_md_is_what_the_generator_writes() -> None:
    assert DOC.read_text(encoding="utf-8") == render_markdown(cards()), (
        "docs/events.md is out of date: run `agentflow events --markdown > docs/events.md`"
    )


def test_every_managed_agents_type_has_a_row_with_direction_kind_and_when() -> None:
    rows = {row.type: row for row in card("managed_agents")}
    assert set(rows) == set(EVENT_CLASSES)
    assert rows["user.message"].direction == "sent"
    assert rows["user.tool_confirmation"].kind == "approval.resolved"
    assert rows["agent.message"].direction == "received"
    assert rows["agent.message"].fields == ("content",)
    assert rows["event_delta"].direction == "received, stream only"
    assert "tool.requested" in rows["session.status_idle"].kind  # computed from the data
    assert all(row.when for row in rows.values())


def test_another_dialect_is_added_by_registering_its_rows(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(CARDS, "toy", "")  # restored afterwards
    register_card("toy", f"{__name__}:toy_rows")
    assert [r.type for r in card("toy")] == ["toy.ping"]
    assert "## toy (`toy`)" in render_markdown(cards())
    with pytest.raises(ValueError, match="known: "):
        card("nope")


class ToyPing(BaseModel):
    """Fires when the toy agent pings. More text."""

    type: Literal["toy.ping"]
    event_kind: ClassVar[str | None] = "status.changed"
    seq: int
    note: str | None = None


def toy_rows() -> list[object]:
    from agentflow.card import rows_from_models

    rows = rows_from_models([ToyPing], direction=lambda cls: "received")
    assert rows[0].fields == ("seq", "note?") and rows[0].when == "Fires when the toy agent pings."
    assert kind_of(ToyPing) == "status.changed"
    return list(rows)


def test_agentflow_events_prints_the_table_and_one_type(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["events"]) == 0
    table = capsys.readouterr().out
    assert "user.tool_confirmation" in table and "approval.resolved" in table
    assert main(["events", "agent.custom_tool_use"]) == 0
    one = capsys.readouterr().out
    assert "direction   received" in one and "kind        tool.started" in one
    assert "fields      name, input" in one and "user.custom_tool_result" in one
    assert main(["events", "--markdown"]) == 0
    assert capsys.readouterr().out == DOC.read_text(encoding="utf-8")
