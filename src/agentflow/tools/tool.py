"""One registered tool: its function, schema, limits, and running it into a reply."""

from __future__ import annotations

import inspect
import re
import time
from collections.abc import Callable
from functools import partial
from typing import TYPE_CHECKING, Any, final

import anyio
import pydantic_core
from pydantic import ValidationError

from ..core.answers import ToolReply
from ..core.cancellation import capture, describe_failure, must_propagate
from ..core.exceptions import ToolError
from .content import content_problem, to_content
from .schema import build_input_model, clean_schema, parse_docstring

if TYPE_CHECKING:
    from ..core.context import Context

__all__ = ["Tool"]

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,128}$")


def _describe(exc: ValidationError, tool: str) -> str:
    parts = []
    for err in exc.errors(include_url=False):
        where = ".".join(str(p) for p in err["loc"]) or "input"
        parts.append(f"{where}: {err['msg']}")
    return f"invalid input for tool {tool!r}: " + "; ".join(parts)


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, (list, tuple)):
        return "an array"
    return type(value).__name__


@final
class Tool:
    """One registered tool: the function, its schema and its limits.

    ``confirm=True`` makes the app's confirmation policies decide before each call runs (a
    deny answers the call with an error result carrying the deny message; the function never
    runs). ``idempotent=True`` declares the tool safe to run again for a call that a crash
    interrupted mid-run (otherwise such a call is answered "interrupted").

    Input is validated as the advertised JSON schema says (``strict=True``, the default): a
    boolean is not an integer, ``"yes"`` is not a boolean and ``"5"`` is not an integer (JSON
    forms such as ISO dates, enum values and arrays for tuples are accepted). ``strict=False``
    opts into pydantic's lax coercion.
    """

    def __init__(
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
        self.confirm = confirm
        self.idempotent = idempotent
        self.strict = strict
        self.is_async = inspect.iscoroutinefunction(fn)
        self.input_model, self.wants_ctx = build_input_model(fn, self.name, param_docs, localns)
        self.input_schema = clean_schema(self.input_model.model_json_schema())
        self._limiter: anyio.CapacityLimiter | None = None

    def __repr__(self) -> str:
        return f"Tool(name={self.name!r}, fn={getattr(self.fn, '__qualname__', self.fn)!r})"

    def definition(self) -> dict[str, Any]:
        """The Managed Agents custom-tool definition (``type``, ``name``, ``description``,
        ``input_schema``); other dialects build theirs from the same attributes."""
        return {
            "type": "custom",
            "name": self.name,
            "description": self.description,
            "input_schema": self.input_schema,
        }

    def validate(self, tool_input: Any) -> dict[str, Any]:
        """Validate the model's input; returns the keyword arguments (raises ValidationError).

        Strict tools validate the input in its JSON form (see the class docstring).
        """
        if self.strict:
            try:
                data = pydantic_core.to_json(tool_input)
            except pydantic_core.PydanticSerializationError:
                model = self.input_model.model_validate(tool_input, strict=True)
            else:
                model = self.input_model.model_validate_json(data, strict=True)
        else:
            model = self.input_model.model_validate(tool_input)
        return {name: getattr(model, name) for name in type(model).model_fields}

    async def _invoke(self, kwargs: dict[str, Any]) -> Any:
        if self.is_async:
            return await self.fn(**kwargs)
        # NOTE: a sync tool that times out keeps running in its worker thread; only the
        # reply is given up on (threads cannot be cancelled).
        ok, value = await anyio.to_thread.run_sync(
            partial(capture, self.fn, **kwargs), abandon_on_cancel=True
        )
        if not ok:
            raise value  # here, in this frame: see capture()
        return value

    async def call(self, tool_input: Any, ctx: Context | None = None) -> ToolReply:
        """Validate, run and convert: never raises for a failing tool, returns is_error.

        Whatever the tool raises becomes an error result, ``BaseException`` subclasses
        included (``SystemExit``, ``GeneratorExit``, a ``CancelledError`` it raised itself);
        only the cancellation of the run and ``KeyboardInterrupt`` go through
        (:mod:`agentflow.core.cancellation`). Content blocks no server would accept make an
        ``invalid_output`` error result naming the problem.
        """
        if not isinstance(tool_input, dict):
            text = (
                f"invalid input for tool {self.name!r}: expected a JSON object of arguments, "
                f"got {_json_kind(tool_input)}"
            )
            return ToolReply.failure("invalid_input", text)
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
        except TimeoutError as exc:
            took = time.perf_counter() - start
            return ToolReply.failure(
                "timeout", f"tool {self.name!r} timed out after {self.timeout:g}s", took, exc
            )
        except BaseException as exc:
            if must_propagate(exc):
                raise
            took = time.perf_counter() - start
            return ToolReply.failure("error", describe_failure(exc), took, exc)
        took = time.perf_counter() - start
        problem = content_problem(content)
        if problem is not None:
            text = f"tool {self.name!r} returned content a tool result cannot hold: {problem}"
            return ToolReply.failure("invalid_output", text, took)
        return ToolReply(content, duration_s=took)
