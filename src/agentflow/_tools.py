"""Custom tools: registration, input validation, execution and turning results into content.

A tool is an ordinary function, sync or async. Its parameters, type hints and docstring give
the JSON schema the agent sees; the model's input is validated against it before the function
is called. Whatever happens when it runs becomes a :class:`ToolReply`: the content blocks of a
``user.custom_tool_result`` and whether it is an error.

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

import inspect
import re
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import TYPE_CHECKING, Any, Literal, final

import anyio
import pydantic_core
from pydantic import BaseModel, ValidationError

from ._exceptions import ToolError, UnknownToolError
from ._schema import build_input_model, clean_schema, parse_docstring

if TYPE_CHECKING:
    from ._context import Context

__all__ = ["PLACEHOLDER", "Tool", "ToolRegistry", "ToolReply", "to_content"]

#: Text sent instead of an empty result.
PLACEHOLDER = "(no output)"
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")
_BLOCK_TYPES = frozenset({"text", "image", "document", "search_result"})

Outcome = Literal["ok", "error", "timeout", "invalid_input"]


@dataclass(frozen=True)
class ToolReply:
    """What running one custom tool call produced."""

    content: list[dict[str, Any]]
    is_error: bool = False
    outcome: Outcome = "ok"
    duration_s: float = 0.0
    error: str | None = None

    @classmethod
    def failure(cls, outcome: Outcome, message: str, duration_s: float = 0.0) -> ToolReply:
        """An ``is_error`` reply whose text is ``message``."""
        content = [{"type": "text", "text": message}]
        return cls(content, True, outcome, duration_s, message)


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


def _describe(exc: ValidationError, tool: str) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "input"
        parts.append(f"{where}: {err['msg']}")
    return f"invalid input for tool {tool!r}: " + "; ".join(parts)


@final
class Tool:
    """One registered custom tool: the function, its schema and its limits."""

    def __init__(
        self,
        fn: Callable[..., Any],
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
        max_concurrency: int | None = None,
        localns: dict[str, Any] | None = None,
    ) -> None:
        self.fn = fn
        self.name: str = name or str(getattr(fn, "__name__", ""))
        if not _NAME.match(self.name):
            raise ToolError(
                f"invalid tool name {self.name!r}: use 1-128 letters, digits, '_' or '-'"
            )
        summary, param_docs = parse_docstring(inspect.getdoc(fn))
        self.description = description or summary
        if not self.description:
            raise ToolError(
                f"tool {self.name!r} has no description: give the function a docstring "
                "or pass description="
            )
        if timeout is not None and timeout <= 0:
            raise ToolError(f"tool {self.name!r}: timeout must be positive, got {timeout!r}")
        if max_concurrency is not None and max_concurrency < 1:
            raise ToolError(
                f"tool {self.name!r}: max_concurrency must be >= 1, got {max_concurrency!r}"
            )
        self.timeout = timeout
        self.max_concurrency = max_concurrency
        self.is_async = inspect.iscoroutinefunction(fn)
        self.input_model, self.wants_ctx = build_input_model(fn, self.name, param_docs, localns)
        self.input_schema = clean_schema(self.input_model.model_json_schema())
        self._limiter: anyio.CapacityLimiter | None = None

    def __repr__(self) -> str:
        return f"Tool(name={self.name!r}, fn={getattr(self.fn, '__qualname__', self.fn)!r})"

    def definition(self) -> dict[str, Any]:
        """The custom-tool definition to create an agent with."""
        return {
            "type": "custom",
            "name": self.name,
            "description": self.description,
            "input_schema": self.input_schema,
        }

    def validate(self, tool_input: Any) -> dict[str, Any]:
        """Validate the model's input; returns the keyword arguments (raises ValidationError)."""
        model = self.input_model.model_validate(tool_input)
        return {name: getattr(model, name) for name in type(model).model_fields}

    async def _invoke(self, kwargs: dict[str, Any]) -> Any:
        if self.is_async:
            return await self.fn(**kwargs)
        # NOTE: a sync tool that times out keeps running in its worker thread; only the
        # reply is given up on (threads cannot be cancelled).
        return await anyio.to_thread.run_sync(partial(self.fn, **kwargs), abandon_on_cancel=True)

    async def call(self, tool_input: Any, ctx: Context | None = None) -> ToolReply:
        """Validate, run and convert: never raises for a failing tool, returns is_error."""
        try:
            kwargs = self.validate(tool_input)
        except ValidationError as exc:
            return ToolReply.failure("invalid_input", _describe(exc, self.name))
        if self.wants_ctx:
            kwargs["ctx"] = ctx
        if self.max_concurrency is not None and self._limiter is None:
            self._limiter = anyio.CapacityLimiter(self.max_concurrency)
        start = time.perf_counter()
        try:
            with anyio.fail_after(self.timeout):
                if self._limiter is not None:
                    async with self._limiter:
                        value = await self._invoke(kwargs)
                else:
                    value = await self._invoke(kwargs)
            content = to_content(value)
        except TimeoutError:
            took = time.perf_counter() - start
            return ToolReply.failure(
                "timeout", f"tool {self.name!r} timed out after {self.timeout:g}s", took
            )
        except Exception as exc:
            took = time.perf_counter() - start
            text = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            return ToolReply.failure("error", text, took)
        return ToolReply(content, duration_s=time.perf_counter() - start)


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
        localns: dict[str, Any] | None = None,
    ) -> Tool:
        """Register ``fn`` as a tool; a name already taken raises :class:`ToolError`.

        ``localns`` resolves string annotations of functions defined inside another function;
        by default the caller's local names are used.
        """
        if localns is None:
            localns = dict(sys._getframe(1).f_locals)
        tool = Tool(
            fn,
            name=name,
            description=description,
            timeout=timeout,
            max_concurrency=max_concurrency,
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
