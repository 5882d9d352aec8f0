"""Tools: registration, input validation, execution and turning results into content.

A tool is an ordinary function, sync or async. Its parameters, type hints and docstring give
the JSON schema the agent sees; the model's input is validated against it before the function
is called. Whatever happens when it runs becomes a :class:`ToolReply`: the content blocks of a
tool result (``user.custom_tool_result`` on Managed Agents) and whether it is an error.

=====================  ===========================================================
the function ...       the reply content
=====================  ===========================================================
returns ``str``        one text block
returns content blocks the blocks as given (dicts or models with a ``type`` of text,
                       image, document or search_result)
returns a model, dict  one text block holding its JSON
or other value
returns None / ""      the placeholder ``(no output)`` (the API rejects empty results)
raises                 ``is_error``; text ``"ExcType: message"``
runs past ``timeout``  ``is_error``; text ``"tool NAME timed out after Ns"``
gets invalid input     ``is_error`` naming each bad field; the function never runs
=====================  ===========================================================
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..core.answers import ToolReply
from .content import PLACEHOLDER, to_content
from .registry import ToolRegistry

if TYPE_CHECKING:
    from .tool import Tool

__all__ = ["PLACEHOLDER", "Tool", "ToolRegistry", "ToolReply", "to_content"]


def __getattr__(name: str) -> Any:
    # Tool builds its input model with pydantic's model machinery: loaded with the first tool
    if name == "Tool":
        from .tool import Tool

        return Tool
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
