"""Turning what a tool returns into content blocks (see the table in :mod:`agentflow.tools`)."""

from __future__ import annotations

from typing import Any

import pydantic_core
from pydantic import BaseModel

__all__ = ["BLOCK_TYPES", "PLACEHOLDER", "to_content"]

#: Text sent instead of an empty result.
PLACEHOLDER = "(no output)"
BLOCK_TYPES = frozenset({"text", "image", "document", "search_result"})
_BLOCK_TYPES = BLOCK_TYPES


def _block(item: Any) -> dict[str, Any] | None:
    if isinstance(item, BaseModel):
        item = item.model_dump(mode="json", by_alias=True, exclude_none=True)
    if isinstance(item, dict) and item.get("type") in _BLOCK_TYPES:
        return item
    return None


def to_content(value: Any) -> list[dict[str, Any]]:
    """Turn a tool's return value into content blocks (see the module table)."""
    if value is None or value == "" or value == []:
        return [{"type": "text", "text": PLACEHOLDER}]
    if isinstance(value, str):
        return [{"type": "text", "text": value}]
    if isinstance(value, list):
        blocks = [_block(item) for item in value]
        if all(b is not None for b in blocks):
            found = [b for b in blocks if b is not None]
            if all(b["type"] == "text" and not str(b.get("text", "")).strip() for b in found):
                return [{"type": "text", "text": PLACEHOLDER}]
            return found
    if isinstance(value, BaseModel):
        text = value.model_dump_json(by_alias=True)
    else:
        try:
            text = pydantic_core.to_json(value).decode()
        except pydantic_core.PydanticSerializationError:
            text = str(value)
    return [{"type": "text", "text": text}]
