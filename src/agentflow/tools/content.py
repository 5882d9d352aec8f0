"""Turning what a tool returns into content blocks (see the table in :mod:`agentflow.tools`),
and checking blocks against the shapes a tool result may hold.

A server rejects a whole batch of replies when one of them holds a malformed block, so a
tool's blocks are checked before they are posted (:func:`content_problem`); a bad one makes
the tool's reply an error result naming the problem instead. The shapes (Managed Agents
protocol, content blocks of a tool result):

=================  ==================================================================
block              shape
=================  ==================================================================
``text``           ``{"type": "text", "text": str}``
``image``          ``{"type": "image", "source": S}``; S is ``{"type": "base64",
                   "media_type": str, "data": str}``, ``{"type": "url", "url": str}`` or
                   ``{"type": "file", "file_id": str}``
``document``       ``{"type": "document", "source": S, "title"?: str, "context"?: str}``;
                   S as for an image, or ``{"type": "text", "media_type": "text/plain",
                   "data": str}``
``search_result``  ``{"type": "search_result", "source": str, "title": str, "content":
                   [text blocks], "citations"?: {"enabled": bool}}``
=================  ==================================================================
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any

import pydantic_core

__all__ = ["BLOCK_TYPES", "PLACEHOLDER", "block_problem", "content_problem", "to_content"]

#: Text sent instead of an empty result.
PLACEHOLDER = "(no output)"
BLOCK_TYPES = frozenset({"text", "image", "document", "search_result"})
_BLOCK_TYPES = BLOCK_TYPES

_SOURCE_FIELDS: dict[str, tuple[str, ...]] = {
    "base64": ("media_type", "data"),
    "url": ("url",),
    "file": ("file_id",),
}
_DOCUMENT_SOURCES = {**_SOURCE_FIELDS, "text": ("media_type", "data")}


def _is_model(value: Any) -> bool:
    """Whether ``value`` is a pydantic model, without loading pydantic's models for it: a
    model exists only once ``pydantic.main`` has been imported."""
    main = sys.modules.get("pydantic.main")
    return main is not None and isinstance(value, main.BaseModel)


def _block(item: Any) -> dict[str, Any] | None:
    if _is_model(item):
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
    if _is_model(value):
        text = value.model_dump_json(by_alias=True)
    else:
        try:
            text = pydantic_core.to_json(value).decode()
        except pydantic_core.PydanticSerializationError:
            text = str(value)
    return [{"type": "text", "text": text}]


def _is_str(block: Mapping[str, Any], key: str) -> bool:
    return isinstance(block.get(key), str)


def _optional_str(block: Mapping[str, Any], *keys: str) -> str | None:
    for key in keys:
        if block.get(key) is not None and not isinstance(block[key], str):
            return f"{key} must be a string"
    return None


def _source_problem(source: Any, kinds: Mapping[str, tuple[str, ...]]) -> str | None:
    if not isinstance(source, dict):
        return "source must be an object"
    kind = source.get("type")
    if not isinstance(kind, str) or kind not in kinds:
        return f"source.type must be one of {', '.join(kinds)}, got {kind!r}"
    for key in kinds[kind]:
        if not _is_str(source, key):
            return f"source.{key} must be a string (source type {kind!r})"
    if kind == "text" and source.get("media_type") != "text/plain":
        return "source.media_type must be 'text/plain' for a text source"
    return None


def _search_result_problem(block: Mapping[str, Any]) -> str | None:
    for key in ("source", "title"):
        if not _is_str(block, key):
            return f"{key} must be a string"
    content = block.get("content")
    if not isinstance(content, list) or not content:
        return "content must be a non-empty list of text blocks"
    for j, item in enumerate(content):
        if not isinstance(item, dict) or item.get("type") != "text" or not _is_str(item, "text"):
            return f"content[{j}] must be a text block with a string 'text'"
    citations = block.get("citations")
    if citations is not None and not (
        isinstance(citations, dict) and isinstance(citations.get("enabled", False), bool)
    ):
        return "citations must be an object like {'enabled': true}"
    return None


def block_problem(block: Any) -> str | None:
    """What is wrong with one content block of a tool result, or ``None`` when it is valid."""
    if not isinstance(block, dict):
        return f"a content block must be an object, got {type(block).__name__}"
    kind = block.get("type")
    if kind not in _BLOCK_TYPES:
        return f"type must be one of {', '.join(sorted(_BLOCK_TYPES))}, got {kind!r}"
    if kind == "text":
        return None if _is_str(block, "text") else "text must be a string"
    if kind == "image":
        return _source_problem(block.get("source"), _SOURCE_FIELDS)
    if kind == "document":
        problem = _source_problem(block.get("source"), _DOCUMENT_SOURCES)
        return problem or _optional_str(block, "title", "context")
    return _search_result_problem(block)


def content_problem(content: Any) -> str | None:
    """What is wrong with the content of a tool result (``"content[i] (type): ..."``), or
    ``None`` when every block is valid."""
    if not isinstance(content, list) or not content:
        return "content must be a non-empty list of content blocks"
    for i, block in enumerate(content):
        problem = block_problem(block)
        if problem is not None:
            kind = block.get("type") if isinstance(block, dict) else None
            label = f" ({kind})" if isinstance(kind, str) else ""
            return f"content[{i}]{label}: {problem}"
    return None
