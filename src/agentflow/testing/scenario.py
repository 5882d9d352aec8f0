"""Scripted agents for the emulator: :class:`Scenario`, :class:`Turn`, steps and :class:`Faults`.

A scenario is a list of turns. Each ``user.message`` (or ``user.define_outcome``) a session
receives runs the next turn; when the turns run out, a message gets a short generic reply
(``Scenario.fallback_reply``, default ``"OK"``) so sessions never hang. Every new session
starts again from the first turn.

Steps (Python class = JSON form):

==========================  ================================================================
``Say("hi")``               ``{"say": "hi"}``; ``stream=True`` adds ``event_start`` /
                            ``event_delta`` previews, ``thinking=True`` an ``agent.thinking``
                            first. One model request span around it.
``Think()``                 ``{"thinking": true}``: an ``agent.thinking`` in its own span.
``CustomTool(name, input)`` ``{"custom_tool": {"name", "input"}}``: waits for
                            ``user.custom_tool_result``.
``Tool(name, input, ...)``  ``{"tool": {"name", "input", "permission", "result"}}``: a built-in
                            toolset call. ``permission``: ``always_allow`` (runs, result
                            follows), ``always_ask`` (waits for ``user.tool_confirmation``),
                            ``auto`` (allowed by the server), ``auto_ask``, ``auto_deny``
                            (not run, synthetic error result), ``deny`` (refused before any
                            policy, synthetic error result).
``McpTool(server, name)``   ``{"mcp_tool": {"server", "name", "input", "permission"}}``: like
                            ``Tool`` but answered with ``agent.mcp_tool_result``.
``Error(type, retry)``      ``{"error": {"type", "retry_status", "message"}}``: ``retrying``
                            (error, ``session.status_rescheduled``, then the turn goes on),
                            ``exhausted`` (idle ``retries_exhausted``, rest of the turn and
                            queued input dropped), ``terminal`` (``session.status_terminated``).
``Stop(reason)``            ``{"stop": "refusal"}`` or ``{"stop": {"type", "category",
                            "explanation"}}``: end the turn with that stop reason.
``Burst(n)``                ``{"burst": 1000}``: ``n`` ``agent.message`` events in one span.
``Usage()``                 ``{"usage": true}``: a cumulative ``session.usage`` event.
``Emit(event)``             ``{"emit": {...}}``: any event dict, stored and streamed as given
                            (``id`` / ``processed_at`` added when missing).
``Wait(seconds)``           ``{"wait": 0.5}``: pause (lets an interrupt arrive mid-turn).
``Question(text, options)`` ``{"question": {"text", "options", "header"}}`` or
                            ``{"question": "text"}``: the agent asks the user and waits for
                            the answer, on wires with a question gate (Everruns, m8tes);
                            Managed Agents has none and says the question as a message.
==========================  ================================================================

Tool steps take ``thread="name"`` (JSON ``"thread": "name"``) on Managed Agents: the call is
made by a subagent thread of that name (created on first use), which idles with
``requires_action`` on its own (``session.thread_status_idle``) while the session runs on.

Consecutive tool steps (``CustomTool``, ``Tool``, ``McpTool``) are issued together: the session
idles once with ``requires_action`` naming every blocking call, re-idles with the rest after a
partial answer, and continues the turn when all are answered.

``Scenario.bulk(n)`` builds a one-turn scenario with ``n`` ``agent.message`` events, and
``Scenario.load(path)`` / ``Scenario.from_dict(obj)`` read the JSON form::

    {"turns": [{"steps": [{"say": "Looking."}, {"custom_tool": {"name": "f", "input": {}}}]}],
     "faults": {"drop_every": 7, "keepalive_seconds": 15}, "step_delay": 0.0}
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from ._parse import parse_step
from .faults import Faults, parse_faults
from .steps import (
    PERMISSIONS,
    RETRY_STATUSES,
    TOOL_STEPS,
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
    Turn,
    Usage,
    Wait,
)

__all__ = [
    "PERMISSIONS",
    "RETRY_STATUSES",
    "TOOL_STEPS",
    "Burst",
    "CustomTool",
    "Emit",
    "Error",
    "Faults",
    "McpTool",
    "Permission",
    "Question",
    "Say",
    "Scenario",
    "ScenarioError",
    "Step",
    "Stop",
    "Think",
    "Tool",
    "Turn",
    "Usage",
    "Wait",
]


@dataclass(frozen=True)
class Scenario:
    """A scripted agent: its turns, faults and pacing.

    ``step_delay`` pauses between emitted events (0 = as fast as possible).
    ``self_hosted=True`` makes built-in tool calls wait for ``user.tool_result`` (as on a
    self-hosted environment) instead of being run by the server. ``usage=True`` emits a
    ``session.usage`` before each turn-ending idle.
    """

    turns: tuple[Turn, ...] = ()
    faults: Faults = field(default_factory=Faults)
    step_delay: float = 0.0
    self_hosted: bool = False
    usage: bool = True
    fallback_reply: str = "OK"

    def __init__(
        self,
        turns: Iterable[Turn | Sequence[Step]] = (),
        *,
        faults: Faults | None = None,
        step_delay: float = 0.0,
        self_hosted: bool = False,
        usage: bool = True,
        fallback_reply: str = "OK",
    ) -> None:
        object.__setattr__(
            self, "turns", tuple(t if isinstance(t, Turn) else Turn(t) for t in turns)
        )
        object.__setattr__(self, "faults", faults or Faults())
        object.__setattr__(self, "step_delay", step_delay)
        object.__setattr__(self, "self_hosted", self_hosted)
        object.__setattr__(self, "usage", usage)
        object.__setattr__(self, "fallback_reply", fallback_reply)

    def turn(self, index: int) -> Turn:
        """The turn run for the ``index``-th input (0-based), or the fallback reply turn."""
        if index < len(self.turns):
            return self.turns[index]
        return Turn([Say(self.fallback_reply)])

    def with_faults(self, **changes: Any) -> Scenario:
        """A copy with some :class:`Faults` fields changed."""
        base = {f.name: getattr(self.faults, f.name) for f in fields(Faults)}
        base.update(changes)
        return Scenario(
            self.turns,
            faults=Faults(**base),
            step_delay=self.step_delay,
            self_hosted=self.self_hosted,
            usage=self.usage,
            fallback_reply=self.fallback_reply,
        )

    @classmethod
    def simple(cls, *texts: str) -> Scenario:
        """One turn per text, each a single ``Say``."""
        return cls([Turn([Say(t)]) for t in texts])

    @classmethod
    def bulk(cls, n_events: int, *, text: str = "chunk", faults: Faults | None = None) -> Scenario:
        """One turn emitting ``n_events`` ``agent.message`` events.

        The turn's history then holds ``n_events + 7`` events: the ``user.message`` echo,
        ``session.status_running``, ``span.model_request_start``, the messages
        (``"<text> 0"`` …), ``span.model_request_end``, ``session.usage`` and
        ``session.status_idle``.
        """
        return cls([Turn([Burst(n_events, text)])], faults=faults)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Scenario:
        """Build from the JSON form (see the module docstring)."""
        return parse_scenario(data)

    @classmethod
    def from_json(cls, text: str | bytes) -> Scenario:
        """Parse a JSON document."""
        try:
            data = json.loads(text)
        except ValueError as exc:
            raise ScenarioError(f"scenario is not valid JSON: {exc}") from exc
        return cls.from_dict(data)

    @classmethod
    def load(cls, path: str | Path) -> Scenario:
        """Read a JSON scenario file."""
        return cls.from_json(Path(path).read_bytes())


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
