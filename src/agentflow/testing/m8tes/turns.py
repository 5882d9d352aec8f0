"""Scenario steps rendered as the frames of one m8tes turn.

A turn opens with ``metadata`` and ends with ``run_metrics``, ``done`` and ``[DONE]``. The
platform runs every tool itself, so each tool step becomes a call (``tool-call-*``) and its
result (``tool-result-*``); a gated call (``Tool(permission="always_ask")``) or a
``Question`` parks the run on a human gate until ``approve`` / ``answer`` settles it.
"""

from __future__ import annotations

from typing import Any

import anyio

from ..scenario import (
    TOOL_STEPS,
    Burst,
    CustomTool,
    Emit,
    Error,
    McpTool,
    Question,
    Say,
    Step,
    Stop,
    Think,
    Tool,
    Usage,
    Wait,
)
from .frames import (
    chunks,
    done,
    encode,
    error,
    message,
    reasoning_block,
    run_metrics,
    text_block,
    tool_call,
    tool_result,
)
from .gates import open_gate
from .run import EmulatedRun, Gate, Host

__all__ = ["run_turn"]

REASONING = "Working out what the request needs before answering."
POLICY_DENIED = "This tool call was denied by the permission policy."
USER_DENIED = "The user denied this tool call."


class _Turn:
    def __init__(self, engine: Host, run: EmulatedRun) -> None:
        self.engine = engine
        self.run = run
        self.retried = False  # a retried error is retracted (error_cleared) once the turn ends

    async def emit(self, *frames: dict[str, Any]) -> None:
        for frame in frames:
            self.engine.emit(self.run, frame)
            await self.pace()

    async def pace(self) -> None:
        delay = self.engine.scenario.step_delay
        if delay > 0:
            await anyio.sleep(delay)
        else:
            await anyio.lowlevel.checkpoint()

    def model_request(self, output_chars: int) -> str:
        self.run.model_requests += 1
        self.run.input_tokens += 100
        self.run.output_tokens += 1 + output_chars // 4
        return self.engine.ids.new("msg")

    async def say(self, text: str, thinking: bool = False) -> None:
        message_id = self.model_request(len(text))
        await self.emit(message(message_id))
        if thinking:
            await self.emit(*reasoning_block(self.engine.ids.new("rsn"), chunks(REASONING)))
        await self.emit(*text_block(self.engine.ids.new("txt"), chunks(text)))
        self.run.text.append(text)
        await self.emit(message(message_id, end=True))

    async def step(self, step: Step) -> bool:
        """Run one non-tool step; True when it ended the turn."""
        if isinstance(step, Say):
            await self.say(step.text, step.thinking)
        elif isinstance(step, Think):
            message_id = self.model_request(len(REASONING))
            block = reasoning_block(self.engine.ids.new("rsn"), chunks(REASONING))
            await self.emit(message(message_id), *block, message(message_id, end=True))
        elif isinstance(step, Burst):
            await self.burst(step)
        elif isinstance(step, Usage):
            await self.emit(self.metrics())
        elif isinstance(step, Emit):
            await self.emit(dict(step.event))
        elif isinstance(step, Wait):
            await anyio.sleep(step.seconds)
        elif isinstance(step, Question):
            await self.question(step)
        elif isinstance(step, Stop):
            await self.finish(step.reason)
            return True
        elif isinstance(step, Error):
            text = step.message or f"Emulated {step.type.replace('_', ' ')}."
            await self.emit(error(text, step.type))
            if step.retry_status != "retrying":
                await self.fail(text, step.type)
                return True
            # The platform re-drives a failed attempt on the same response; the new
            # attempt's work frame tells the SDK the run is going again.
            self.retried = True
            await self.emit({"type": "sandbox-connecting", "message": "Retrying the run."})
        return False

    async def burst(self, step: Burst) -> None:
        message_id = self.model_request(len(step.text) * step.count)
        block_id = self.engine.ids.new("txt")
        await self.emit(message(message_id), {"type": "text-start", "id": block_id})
        for i in range(step.count):
            delta = f"{step.text} {i}" if i == 0 else f" {step.text} {i}"
            self.engine.emit(self.run, {"type": "text-delta", "id": block_id, "delta": delta})
            self.run.text.append(delta)
            if self.engine.scenario.step_delay > 0 or i % 64 == 63:
                await self.pace()  # unpaced bursts yield every 64 frames: larger writes
        await self.emit({"type": "text-end", "id": block_id}, message(message_id, end=True))

    async def tools(self, group: tuple[Step, ...]) -> None:
        """One model response naming every call of the group, then each call's outcome."""
        calls = [(step, self.engine.ids.new("toolu"), *_name_input(step)) for step in group]
        message_id = self.model_request(sum(len(encode(c[3])) for c in calls))
        await self.emit(message(message_id))
        for _step, call_id, name, tool_input in calls:
            await self.emit(*tool_call(call_id, name, tool_input))
        await self.emit(message(message_id, end=True))
        for step, call_id, name, tool_input in calls:
            await self.outcome(step, call_id, name, tool_input)

    async def outcome(self, step: Step, call_id: str, name: str, tool_input: Any) -> None:
        if not isinstance(step, (Tool, McpTool)):
            await self.emit(*tool_result(call_id, "ok"))
            return
        if step.permission in ("deny", "auto_deny"):
            await self.emit(*tool_result(call_id, POLICY_DENIED, is_error=True))
            return
        asks = step.permission in ("always_ask", "auto_ask")
        if asks and self.run.permission_mode != "autonomous":
            if name in self.engine.remembered:
                auto = {"type": "permission_auto_allowed", "tool_name": name}
                await self.emit({**auto, "tool_use_id": call_id})
            else:
                gate = open_gate(self.engine, self.run, "approval", name, tool_input, call_id)
                await gate.answered.wait()
                await self.emit(_resolved(gate))
                if gate.status != "allowed":
                    text = USER_DENIED + (f" {gate.reason}" if gate.reason else "")
                    await self.emit(*tool_result(call_id, text, is_error=True))
                    return
        await self.emit(*tool_result(call_id, step.result))

    async def question(self, step: Question) -> None:
        if self.run.human_in_the_loop is False:
            await self.say(step.text)  # a run without human input asks in plain text
            return
        call_id = self.engine.ids.new("toolu")
        question = {
            "question": step.text,
            "header": step.header or "Question",
            "options": [{"label": o, "description": ""} for o in step.options],
            "multiSelect": False,
        }
        tool_input = {"questions": [question]}
        message_id = self.model_request(len(step.text))
        await self.emit(message(message_id), *tool_call(call_id, "AskUserQuestion", tool_input))
        await self.emit(message(message_id, end=True))
        gate = open_gate(self.engine, self.run, "question", "AskUserQuestion", tool_input, call_id)
        await gate.answered.wait()
        await self.emit(_resolved(gate))
        answers = gate.answers or {}
        text = "The user answered: " + "; ".join(f"{q} -> {a}" for q, a in answers.items())
        await self.emit(*tool_result(call_id, text))

    def metrics(self, stop_reason: str | None = None, state: str | None = None) -> dict[str, Any]:
        run = self.run
        return run_metrics(
            model_requests=run.model_requests,
            input_tokens=run.input_tokens,
            output_tokens=run.output_tokens,
            stop_reason=stop_reason,
            completion_state=state,
        )

    async def finish(self, stop_reason: str) -> None:
        await self.engine.hold_point(self.run)
        await self.emit(self.metrics(stop_reason, "complete"), done(stop_reason))
        if self.retried:
            await self.emit({"type": "error_cleared", "reason": "provider_fallback"})
        self.engine.end_turn(self.run, "completed", stop_reason)

    async def fail(self, text: str, code: str) -> None:
        await self.engine.hold_point(self.run)
        await self.emit(done("error", "error"))
        self.run.error, self.run.error_code = text, code
        self.engine.end_turn(self.run, "failed", "error")


def _name_input(step: Step) -> tuple[str, dict[str, Any]]:
    if isinstance(step, McpTool):
        return f"mcp__{step.server}__{step.name}", dict(step.input)
    assert isinstance(step, (Tool, CustomTool))
    return step.name, dict(step.input)


def _resolved(gate: Gate) -> dict[str, Any]:
    return {
        "type": "permission_resolved",
        "request_id": gate.request_id,
        "tool_use_id": gate.tool_use_id,
        "resolved_status": gate.status,
    }


async def run_turn(engine: Host, run: EmulatedRun, steps: tuple[Step, ...]) -> None:
    """Emit one turn of ``steps`` on ``run``, waiting at gates, until it ends."""
    turn = _Turn(engine, run)
    await turn.emit({"type": "metadata", "payload": {"run_id": run.id}})
    i = 0
    while i < len(steps):
        step = steps[i]
        if isinstance(step, TOOL_STEPS):
            end = i
            while end < len(steps) and isinstance(steps[end], TOOL_STEPS):
                end += 1
            await turn.tools(steps[i:end])
            i = end
            continue
        i += 1
        if await turn.step(step):
            return
    await turn.finish("end_turn")
