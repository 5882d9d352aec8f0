"""Conversation: alternating roles, tool results first, JSON save / load / autosave."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from agentflow.messages import Conversation


def test_user_content_is_merged_and_roles_alternate() -> None:
    conv = Conversation()
    conv.add_user("one")
    conv.add_user([{"type": "text", "text": "two"}])
    assert conv.messages == [
        {"role": "user", "content": [{"type": "text", "text": "one"}, {"type": "text",
                                                                       "text": "two"}]}
    ]  # fmt: skip
    conv.add_assistant([{"type": "tool_use", "id": "t1", "name": "f", "input": {}}], "tool_use")
    assert conv.stop_reason == "tool_use"
    assert [b["id"] for b in conv.open_tool_uses()] == ["t1"]
    result = {"type": "tool_result", "tool_use_id": "t1", "content": "ok"}
    conv.add_tool_results([result], [{"type": "text", "text": "and hurry"}])
    assert conv.open_tool_uses() == []
    assert [b["type"] for b in conv.messages[-1]["content"]] == ["tool_result", "text"]
    conv.add_assistant([{"type": "text", "text": "Done."}], "end_turn")
    assert conv.text == "Done." and len(conv) == 4 and list(conv) == conv.messages


def test_an_empty_response_is_not_appended() -> None:
    conv = Conversation([{"role": "user", "content": "hi"}])
    conv.add_assistant([], "end_turn")
    assert len(conv) == 1 and conv.stop_reason == "end_turn"


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    conv = Conversation([{"role": "user", "content": "Olá ☕"}])
    conv.add_assistant([{"type": "text", "text": "Oi"}], "end_turn")
    path = conv.save(tmp_path / "c.json")
    loaded = Conversation.load(path)
    assert (loaded.id, loaded.messages, loaded.stop_reason) == (
        conv.id,
        conv.messages,
        "end_turn",
    )
    assert json.loads(path.read_text("utf-8"))["format"] == "agentflow.messages.conversation"
    assert loaded.path is None  # load alone does not save on change


def test_open_saves_after_every_change(tmp_path: Path) -> None:
    path = tmp_path / "chat.json"
    conv = Conversation.open(path)
    assert not path.exists()
    conv.add_user("hello")
    assert Conversation.load(path).messages == conv.messages
    again = Conversation.open(path)
    assert again.id == conv.id
    again.add_assistant([{"type": "text", "text": "hi"}], "end_turn")
    assert Conversation.load(path).text == "hi"
    assert [p.name for p in tmp_path.iterdir()] == ["chat.json"]  # no temporary file left


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{oops", "not valid JSON"),
        ('{"messages": []}', "not a saved agentflow conversation"),
        ('{"format": "agentflow.messages.conversation", "version": 9, "id": "c"}',
         "unsupported version"),
        ('{"format": "agentflow.messages.conversation", "version": 1, "id": "c", '
         '"messages": [{"role": "system", "content": "x"}]}', "role user/assistant"),
        ('{"format": "agentflow.messages.conversation", "version": 1, "id": "", '
         '"messages": []}', "'id' must be"),
    ],
)  # fmt: skip
def test_a_bad_file_is_a_clear_error(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(text, "utf-8")
    with pytest.raises(ValueError, match=message):
        Conversation.load(path)


def test_bad_content_is_refused_and_repr_hides_the_messages() -> None:
    conv = Conversation()
    with pytest.raises(ValueError, match="string 'type'"):
        conv.add_user([{"text": "no type"}])
    with pytest.raises(TypeError):
        conv.add_user(42)  # type: ignore[arg-type]
    conv.add_user("my password is hunter2")
    assert "hunter2" not in repr(conv) and conv.id in repr(conv)
    with pytest.raises(ValueError, match="no path"):
        conv.save()
