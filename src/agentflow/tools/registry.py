"""The tools of an app, by name: :class:`ToolRegistry` (``app.tools``)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, final

from ..core.answers import ToolReply
from ..core.exceptions import ToolError, UnknownToolError

if TYPE_CHECKING:
    from ..core.context import Context
    from .tool import Tool

__all__ = ["ToolRegistry"]


@final
class ToolRegistry:
    """The custom tools of an app, by name. ``app.tools`` is one."""

    def __init__(self) -> None:
        self._tools: dict[str, Tool] = {}

    def register(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
        max_concurrency: int | None = None,
        confirm: bool = False,
        idempotent: bool = False,
        strict: bool = True,
        localns: dict[str, Any] | None = None,
    ) -> Tool:
        """Register ``fn`` as a tool; a name already taken raises :class:`ToolError`.

        ``localns`` resolves string annotations of functions defined inside another function;
        by default the caller's local names are used.
        """
        if localns is None:
            localns = dict(sys._getframe(1).f_locals)
        # (imported here: building input models needs pydantic's model machinery, which an
        # app without tools never loads)
        from .tool import Tool

        tool = Tool(
            fn,
            name=name,
            description=description,
            timeout=timeout,
            max_concurrency=max_concurrency,
            confirm=confirm,
            idempotent=idempotent,
            strict=strict,
            localns=localns,
        )
        if tool.name in self._tools:
            raise ToolError(
                f"a tool named {tool.name!r} is already registered "
                f"({self._tools[tool.name]!r}); tool names must be unique"
            )
        self._tools[tool.name] = tool
        return tool

    def __getitem__(self, name: str) -> Tool:
        try:
            return self._tools[name]
        except KeyError:
            raise UnknownToolError(f"no tool named {name!r} is registered") from None

    def get(self, name: str | None) -> Tool | None:
        """The tool called ``name``, or None."""
        return self._tools.get(name) if name is not None else None

    def __contains__(self, name: object) -> bool:
        return name in self._tools

    def __iter__(self) -> Iterator[Tool]:
        return iter(list(self._tools.values()))

    def __len__(self) -> int:
        return len(self._tools)

    def names(self) -> list[str]:
        """Registered tool names, in registration order."""
        return list(self._tools)

    def definitions(self) -> list[dict[str, Any]]:
        """Custom-tool definitions (``type``, ``name``, ``description``, ``input_schema``)."""
        return [tool.definition() for tool in self._tools.values()]

    async def call(self, name: str, tool_input: Any, ctx: Context | None = None) -> ToolReply:
        """Run the tool called ``name`` (raises :class:`UnknownToolError` if there is none)."""
        return await self[name].call(tool_input, ctx)
