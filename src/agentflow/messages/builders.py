"""What a Messages client sends: user messages and content blocks, as plain dicts.

``app.run(client, conversation, send=[...])`` takes these (a plain ``str`` is a user message
too); ``ctx.send(...)`` adds them to the next request.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["text_block", "tool_result", "user_message"]


def text_block(text: str) -> dict[str, Any]:
    """A ``text`` content block."""
    return {"type": "text", "text": text}


def user_message(content: str | Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """A user message: text, or a list of content blocks (text, images, documents)."""
    if isinstance(content, str):
        return {"role": "user", "content": [text_block(content)]}
    return {"role": "user", "content": [dict(block) for block in content]}


def tool_result(
    tool_use_id: str,
    content: str | Sequence[Mapping[str, Any]],
    *,
    is_error: bool = False,
) -> dict[str, Any]:
    """A ``tool_result`` block answering the ``tool_use`` block ``tool_use_id``."""
    blocks = [text_block(content)] if isinstance(content, str) else [dict(b) for b in content]
    return {
        "type": "tool_result",
        "tool_use_id": tool_use_id,
        "content": blocks,
        "is_error": is_error,
    }
