"""From scenario steps to the planned response for one position, with a small memory.

A turn's steps split into **segments**, one per response: a segment ends after a group of
consecutive tool steps (``stop_reason: "tool_use"``), after a ``Stop`` step (its reason), or
at the end of the turn (``end_turn``). A position past the last segment gets an empty
``end_turn`` response.

The memory makes what must happen once per position happen once, so a re-sent request
succeeds: an ``Error`` with ``retry_status="retrying"`` (the default) fires for the first
request that reaches it only (``exhausted`` and ``terminal`` fire every time), and the stream
faults apply to the first stream of each position only (the Messages API has no resumption:
a client can only start the response over).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .._wire import ApiError, Ids
from ..scenario import (
    TOOL_STEPS,
    Burst,
    CustomTool,
    Emit,
    Error,
    McpTool,
    Question,
    Say,
    Scenario,
    Step,
    Stop,
    Think,
    Tool,
    Usage,
    Wait,
)
from .conversation import Position
from .render import (
    Failure,
    Part,
    Pause,
    Plan,
    Raw,
    UsageMark,
    text_block,
    thinking_block,
    tool_block,
)

__all__ = ["ERROR_STATUS", "THINKING", "Script", "Segment", "segments"]

THINKING = "Let me think about how to answer this."
"""The text of every emulated thinking block."""

ERROR_STATUS: dict[str, int] = {
    "invalid_request_error": 400,
    "authentication_error": 401,
    "billing_error": 402,
    "permission_error": 403,
    "not_found_error": 404,
    "request_too_large": 413,
    "rate_limit_error": 429,
    "timeout_error": 504,
    "api_error": 500,
    "overloaded_error": 529,
}
"""The HTTP status the API answers an error type with (non-streamed responses)."""


@dataclass(frozen=True)
class Segment:
    """The steps of one response (with their index in the turn) and how it ends."""

    steps: tuple[tuple[int, Step], ...] = ()
    tools: tuple[Step, ...] = ()
    stop: Stop | None = None


def segments(steps: tuple[Step, ...]) -> list[Segment]:
    """Split a turn's steps into responses (see the module docstring)."""
    out: list[Segment] = []
    current: list[tuple[int, Step]] = []
    i = 0
    while i < len(steps):
        step = steps[i]
        if isinstance(step, TOOL_STEPS):
            end = i
            while end < len(steps) and isinstance(steps[end], TOOL_STEPS):
                end += 1
            out.append(Segment(tuple(current), steps[i:end]))
            current, i = [], end
            continue
        if isinstance(step, Stop):
            out.append(Segment(tuple(current), stop=step))
            current = []
        else:
            current.append((i, step))
        i += 1
    out.append(Segment(tuple(current)))
    return out


def http_error(step: Error, extra: Mapping[str, Any]) -> ApiError:
    """The HTTP error of an ``Error`` step whose ``extra`` names a ``status``."""
    headers: dict[str, str] = {}
    retry_after = extra.get("retry_after")
    if retry_after is not None:
        headers["retry-after"] = str(math.ceil(float(retry_after)))
        headers["retry-after-ms"] = str(int(float(retry_after) * 1000))
    if "should_retry" in extra:
        headers["x-should-retry"] = "true" if extra["should_retry"] else "false"
    message = step.message or f"Emulated {step.type}."
    return ApiError(int(extra["status"]), step.type, message, headers=headers)


class Script:
    """Plans the response for a position of a scenario, remembering what already fired."""

    def __init__(self, scenario: Scenario, ids: Ids) -> None:
        self.scenario = scenario
        self.ids = ids
        self.fired: set[tuple[int, int]] = set()
        """``(turn, step index)`` of the once-only errors that fired."""
        self.streamed: set[Position] = set()
        """Positions whose first stream (the one the faults apply to) was sent."""

    def reset(self) -> None:
        """Forget what fired: every error and stream fault happens again."""
        self.fired.clear()
        self.streamed.clear()

    def first_stream(self, position: Position) -> bool:
        """True the first time a stream is opened for ``position``."""
        if position in self.streamed:
            return False
        self.streamed.add(position)
        return True

    def plan(self, position: Position) -> Plan:
        """The response for ``position``; an ``Error`` with a ``status`` raises ``ApiError``."""
        parts = segments(self.scenario.turn(position.turn).steps)
        segment = parts[position.segment] if position.segment < len(parts) else Segment()
        plan = Plan()
        for index, step in segment.steps:
            if isinstance(step, Error):
                key = (position.turn, index)
                if step.retry_status == "retrying" and key in self.fired:
                    continue
                self.fired.add(key)
                extra = dict(step.extra)
                if "status" in extra:
                    raise http_error(step, extra)
                plan.parts.append(Failure(step.type, step.message or f"Emulated {step.type}."))
                return plan
            plan.parts.extend(self._parts(step))
        for tool in segment.tools:
            assert isinstance(tool, (CustomTool, Tool, McpTool))
            plan.parts.append(tool_block(self.ids.new("toolu"), tool.name, tool.input))
        if segment.tools:
            plan.stop_reason = "tool_use"
        elif segment.stop is not None:
            plan.stop_reason = segment.stop.reason
            if segment.stop.reason == "refusal":
                details: dict[str, Any] = {"type": "refusal"}
                if segment.stop.category:
                    details["category"] = segment.stop.category
                if segment.stop.explanation:
                    details["explanation"] = segment.stop.explanation
                plan.stop_details = details
        return plan

    def _parts(self, step: Step) -> list[Part]:
        if isinstance(step, Say):
            text = [text_block(step.text)]
            return [thinking_block(THINKING), *text] if step.thinking else list(text)
        if isinstance(step, Think):
            return [thinking_block(THINKING)]
        if isinstance(step, Question):
            # The Messages API has no question gate: the model asks in plain text.
            return [text_block(step.text)]
        if isinstance(step, Burst):
            chunks = [
                f"{step.text} {i}" if i == 0 else f" {step.text} {i}" for i in range(step.count)
            ]
            return [text_block("".join(chunks), chunks)]
        if isinstance(step, Usage):
            return [UsageMark()]
        if isinstance(step, Emit):
            return [Raw(dict(step.event))]
        if isinstance(step, Wait):
            return [Pause(step.seconds)]
        raise TypeError(f"unexpected step {step!r}")  # pragma: no cover - all steps handled
