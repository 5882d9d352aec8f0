"""Parsing the JSON form of a scenario into :mod:`~agentflow.testing.scenario` objects."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any

from .scenario import (
    PERMISSIONS,
    RETRY_STATUSES,
    Burst,
    CustomTool,
    Emit,
    Error,
    Faults,
    McpTool,
    Permission,
    Question,
    Say,
    Scenario,
    ScenarioError,
    Step,
    Stop,
    Think,
    Tool,
    Turn,
    Usage,
    Wait,
)

__all__ = ["parse_faults", "parse_scenario", "parse_step"]


def parse_faults(data: Mapping[str, Any]) -> Faults:
    """Build :class:`Faults` from the JSON ``faults`` object; unknown keys are an error."""
    known = {f.name for f in fields(Faults)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ScenarioError(
            f"unknown faults key(s) {unknown!r}; expected some of {sorted(known)!r}"
        )
    values = dict(data)
    if "http_error_statuses" in values:
        values["http_error_statuses"] = tuple(values["http_error_statuses"])
    try:
        return Faults(**values)
    except TypeError as exc:  # e.g. a string where a number belongs
        raise ScenarioError(f"bad faults object: {exc}") from exc


def parse_scenario(data: Mapping[str, Any]) -> Scenario:
    """Build a :class:`Scenario` from its JSON form."""
    if not isinstance(data, Mapping):
        raise ScenarioError(f"a scenario must be a JSON object, got {type(data).__name__}")
    known = {"turns", "faults", "step_delay", "self_hosted", "usage", "fallback_reply"}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ScenarioError(
            f"unknown scenario key(s) {unknown!r}; expected some of {sorted(known)!r}"
        )
    turns = []
    for t_index, raw_turn in enumerate(data.get("turns", [])):
        if not isinstance(raw_turn, Mapping) or not isinstance(raw_turn.get("steps"), list):
            raise ScenarioError(f"turns[{t_index}] must be an object with a 'steps' list")
        steps = [
            parse_step(raw, where=f"turns[{t_index}].steps[{s_index}]")
            for s_index, raw in enumerate(raw_turn["steps"])
        ]
        turns.append(Turn(steps))
    faults = parse_faults(data.get("faults") or {})
    return Scenario(
        turns,
        faults=faults,
        step_delay=float(data.get("step_delay", 0.0)),
        self_hosted=bool(data.get("self_hosted", False)),
        usage=bool(data.get("usage", True)),
        fallback_reply=str(data.get("fallback_reply", "OK")),
    )


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
