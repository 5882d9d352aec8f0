"""The end of a conversation, as the channel reads and completes it (no I/O).

- :func:`user_blocks`: the content blocks of one input (``send``, ``ctx.send``);
- :func:`restored_stop`: a conversation that ends with a response, rebuilt as its
  ``message_stop`` (a pause when its ``tool_use`` blocks still wait for results), so a run
  restarted from a saved conversation answers them;
- :func:`tool_results`: one ``tool_result`` for every open ``tool_use`` block, in order: the
  reply given, else the one the checkpoint store kept, else an error result (the API refuses
  a ``tool_use`` without its result).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from .events.blocks import ContentBlockStop
from .events.message import MessageStop

if TYPE_CHECKING:
    from .conversation import Conversation

__all__ = ["error_result", "restored_stop", "tool_results", "user_blocks"]


def error_result(tool_use_id: str, text: str) -> dict[str, Any]:
    """An ``is_error`` ``tool_result`` block saying ``text``."""
    return {
        "type": "tool_result",
        "tool_use_id": tool_use_id,
        "content": [{"type": "text", "text": text}],
        "is_error": True,
    }


def user_blocks(item: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The content blocks of one input: a user message, or one content block."""
    if "role" in item:
        if item["role"] != "user":
            raise ValueError(f"only user content can be sent, got a {item['role']!r} message")
        content = item.get("content")
        if isinstance(content, str):
            return [{"type": "text", "text": content}]
        if not isinstance(content, list):
            raise ValueError("a user message needs 'content': a string or content blocks")
        return [dict(b) for b in content]
    if isinstance(item.get("type"), str):
        return [dict(item)]
    raise ValueError(f"expected a user message or a content block, got {dict(item)!r}")


def restored_stop(conversation: Conversation) -> MessageStop:
    """The conversation's last (assistant) message as a ``message_stop``, ``restored``."""
    last = conversation.messages[-1]
    content = list(last["content"]) if isinstance(last["content"], list) else []
    tools = []
    for index, block in enumerate(content):
        if isinstance(block, dict) and block.get("type") == "tool_use":
            stop = ContentBlockStop(type="content_block_stop", index=index)
            stop.enrich(block, block.get("input"))
            tools.append(stop)
    reason = "tool_use" if tools else conversation.stop_reason
    event = MessageStop(type="message_stop")
    message = {"type": "message", "role": "assistant", "content": content}
    event.enrich({**message, "stop_reason": reason}, tuple(tools), restored=True)
    return event


def tool_results(
    uses: Sequence[Mapping[str, Any]],
    given: Mapping[str, dict[str, Any]],
    stored: Callable[[str], dict[str, Any] | None],
    tool_names: set[str],
    errors: list[str],
) -> list[dict[str, Any]]:
    """A result for each of ``uses`` (see the module docstring); fallbacks noted in ``errors``."""
    results = []
    for use in uses:
        call_id, name = str(use.get("id")), use.get("name")
        result = given.get(call_id) or stored(call_id)
        if result is None:
            if name in tool_names:
                why = f"tool {name!r} gave no result for this call"
            else:
                why = f"no tool named {name!r} is available to this client"
            errors.append(f"{call_id}: answered with an error: {why}")
            result = error_result(call_id, why)
        results.append(result)
    return results
