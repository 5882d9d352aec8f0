"""Parsing the JSON form of a scenario's steps into :mod:`~agentflow.testing.steps` objects."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .steps import (
    PERMISSIONS,
    RETRY_STATUSES,
    Burst,
    CustomTool,
    Emit,
    Error,
    McpTool,
    Permission,
    Question,
    Say,
    ScenarioError,
    Step,
    Stop,
    Think,
    Tool,
    Usage,
    Wait,
)

__all__ = ["parse_step"]


def _obj(value: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise ScenarioError(f"{where} must be an object, got {value!r}")
    return value


def _permission(value: Any, where: str) -> Permission:
    if value not in PERMISSIONS:
        raise ScenarioError(
            f"{where}.permission must be one of {sorted(PERMISSIONS)!r}, got {value!r}"
        )
    return value  # type: ignore[no-any-return]


def parse_step(raw: Any, *, where: str = "step") -> Step:
    """Parse one JSON step object (``{"say": ...}``, ``{"tool": {...}}``, ...)."""
    step = _obj(raw, where)
    if "say" in step:
        return Say(
            str(step["say"]), bool(step.get("stream", False)), bool(step.get("thinking", False))
        )
    if "thinking" in step:
        return Think()
    if "custom_tool" in step:
        spec = _obj(step["custom_tool"], f"{where}.custom_tool")
        return CustomTool(str(spec["name"]), dict(spec.get("input", {})), _thread(spec, where))
    if "tool" in step:
        spec = _obj(step["tool"], f"{where}.tool")
        return Tool(
            str(spec["name"]),
            dict(spec.get("input", {})),
            _permission(spec.get("permission", "always_allow"), f"{where}.tool"),
            str(spec.get("result", "ok")),
            _thread(spec, where),
        )
    if "mcp_tool" in step:
        spec = _obj(step["mcp_tool"], f"{where}.mcp_tool")
        server = spec.get("server", spec.get("mcp_server_name"))
        if not server:
            raise ScenarioError(f"{where}.mcp_tool needs a 'server'")
        return McpTool(
            str(server),
            str(spec["name"]),
            dict(spec.get("input", {})),
            _permission(spec.get("permission", "always_allow"), f"{where}.mcp_tool"),
            str(spec.get("result", "ok")),
            _thread(spec, where),
        )
    if "error" in step:
        spec = _obj(step["error"], f"{where}.error")
        status = spec.get("retry_status", "retrying")
        if status not in RETRY_STATUSES:
            raise ScenarioError(
                f"{where}.error.retry_status must be one of {sorted(RETRY_STATUSES)!r}"
            )
        rest = {k: v for k, v in spec.items() if k not in ("type", "retry_status", "message")}
        return Error(str(spec.get("type", "unknown_error")), status, spec.get("message"), rest)
    if "stop" in step:
        spec = step["stop"]
        if isinstance(spec, str):
            return Stop(spec)
        spec = _obj(spec, f"{where}.stop")
        return Stop(
            str(spec.get("type", "end_turn")), spec.get("category"), spec.get("explanation")
        )
    if "burst" in step:
        return Burst(int(step["burst"]), str(step.get("text", "chunk")))
    if "usage" in step:
        return Usage()
    if "emit" in step:
        event = _obj(step["emit"], f"{where}.emit")
        if not isinstance(event.get("type"), str):
            raise ScenarioError(f"{where}.emit needs a string 'type'")
        return Emit(dict(event))
    if "wait" in step:
        return Wait(float(step["wait"]))
    if "question" in step:
        spec = step["question"]
        if isinstance(spec, str):
            return Question(spec)
        spec = _obj(spec, f"{where}.question")
        header = spec.get("header")
        return Question(
            str(spec.get("text", "")),
            tuple(str(o) for o in spec.get("options", ())),
            None if header is None else str(header),
        )
    raise ScenarioError(
        f"{where} has no known step key: expected one of say, thinking, custom_tool, tool, "
        f"mcp_tool, error, stop, burst, usage, emit, wait, question; got {sorted(step)!r}"
    )


def _thread(spec: Mapping[str, Any], where: str) -> str | None:
    thread = spec.get("thread")
    if thread is not None and (not isinstance(thread, str) or not thread):
        raise ScenarioError(f"{where}: 'thread' must be a non-empty string, got {thread!r}")
    return thread
