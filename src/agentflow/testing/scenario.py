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
from typing import Any, Literal, TypeAlias

__all__ = [
    "Burst",
    "CustomTool",
    "Emit",
    "Error",
    "Faults",
    "McpTool",
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

Permission = Literal["always_allow", "always_ask", "auto", "auto_ask", "auto_deny", "deny"]
PERMISSIONS: frozenset[str] = frozenset(
    ("always_allow", "always_ask", "auto", "auto_ask", "auto_deny", "deny")
)
RETRY_STATUSES: frozenset[str] = frozenset(("retrying", "exhausted", "terminal"))


class ScenarioError(ValueError):
    """A scenario (Python or JSON) is malformed; the message names the turn, step and key."""


@dataclass(frozen=True)
class Say:
    """The agent says ``text`` (``agent.message``), optionally streamed as previews."""

    text: str
    stream: bool = False
    thinking: bool = False


@dataclass(frozen=True)
class Think:
    """An ``agent.thinking`` progress event in its own model request span."""


@dataclass(frozen=True)
class CustomTool:
    """The agent calls a custom tool and waits for ``user.custom_tool_result``."""

    name: str
    input: Mapping[str, Any] = field(default_factory=dict)
    thread: str | None = None


@dataclass(frozen=True)
class Tool:
    """The agent calls a built-in toolset tool (``agent.tool_use``) under ``permission``."""

    name: str
    input: Mapping[str, Any] = field(default_factory=dict)
    permission: Permission = "always_allow"
    result: str = "ok"
    thread: str | None = None


@dataclass(frozen=True)
class McpTool:
    """The agent calls an MCP tool (``agent.mcp_tool_use``); the server runs it."""

    server: str
    name: str
    input: Mapping[str, Any] = field(default_factory=dict)
    permission: Permission = "always_allow"
    result: str = "ok"
    thread: str | None = None


@dataclass(frozen=True)
class Error:
    """A ``session.error`` with ``retry_status`` ``retrying``, ``exhausted`` or ``terminal``."""

    type: str = "unknown_error"
    retry_status: Literal["retrying", "exhausted", "terminal"] = "retrying"
    message: str | None = None
    extra: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Stop:
    """End the turn with ``stop_reason`` ``reason`` (``refusal`` gets ``stop_details``)."""

    reason: str = "end_turn"
    category: str | None = None
    explanation: str | None = None


@dataclass(frozen=True)
class Burst:
    """``count`` ``agent.message`` events (``"<text> <i>"``) inside one model request span."""

    count: int
    text: str = "chunk"


@dataclass(frozen=True)
class Usage:
    """A cumulative ``session.usage`` event."""


@dataclass(frozen=True)
class Emit:
    """Emit ``event`` as given (any type); ``id`` and ``processed_at`` are added if missing."""

    event: Mapping[str, Any]


@dataclass(frozen=True)
class Wait:
    """Pause the turn for ``seconds`` without emitting anything."""

    seconds: float


@dataclass(frozen=True)
class Question:
    """The agent asks the user ``text`` (with optional choices) and waits for the answer."""

    text: str
    options: tuple[str, ...] = ()
    header: str | None = None


Step: TypeAlias = (
    Say
    | Think
    | CustomTool
    | Tool
    | McpTool
    | Error
    | Stop
    | Burst
    | Usage
    | Emit
    | Wait
    | Question
)
TOOL_STEPS = (CustomTool, Tool, McpTool)


@dataclass(frozen=True)
class Turn:
    """One agent turn: the steps run for one ``user.message``."""

    steps: tuple[Step, ...] = ()

    def __init__(self, steps: Iterable[Step] = ()) -> None:
        object.__setattr__(self, "steps", tuple(steps))


@dataclass(frozen=True)
class Faults:
    """Fault injection for the live stream and the HTTP layer; everything is off by default.

    Stream faults count the event frames sent **on one connection** (previews included; a
    reconnect starts counting from zero), so a client that reconnects always makes progress:

    - ``drop_every=N``: close the connection abruptly (no final chunk) right after the N-th,
      2N-th, ... event.
    - ``duplicate_every=N``: send every N-th event twice.
    - ``malformed_every=N``: before every N-th event send an extra frame whose data is not JSON;
      the real event still follows.
    - ``stall_after=N`` + ``stall_seconds``: after the N-th event go silent (no events, no
      keep-alives) for ``stall_seconds``, once per connection.
    - ``keepalive_seconds``: interval of keep-alives (``: keepalive`` comments on Managed
      Agents) while nothing else is sent.
    - ``cycle_seconds``: Everruns closes every stream connection after this long with a
      ``disconnecting`` frame (default 300, as the platform does); other wires ignore it.

    HTTP faults apply to every API request (stream connects included), **per emulator**:

    - ``http_error_rate=p``: answer a fraction ``p`` of requests with one of
      ``http_error_statuses`` (429 carries ``retry-after`` / ``retry-after-ms`` from
      ``retry_after_seconds``). Draws come from ``random.Random(seed)``, so a given request
      order always fails the same requests.

    History is never affected: a client can always reconcile through ``events.list``.
    """

    drop_every: int = 0
    duplicate_every: int = 0
    malformed_every: int = 0
    stall_after: int = 0
    stall_seconds: float = 0.0
    http_error_rate: float = 0.0
    http_error_statuses: tuple[int, ...] = (429, 500, 503)
    retry_after_seconds: float = 0.0
    keepalive_seconds: float = 15.0
    cycle_seconds: float = 300.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("drop_every", "duplicate_every", "malformed_every", "stall_after"):
            if getattr(self, name) < 0:
                raise ScenarioError(f"faults.{name} must be >= 0, got {getattr(self, name)!r}")
        if not 0.0 <= self.http_error_rate <= 1.0:
            raise ScenarioError(
                f"faults.http_error_rate must be in [0, 1], got {self.http_error_rate!r}"
            )
        if self.cycle_seconds <= 0:
            raise ScenarioError(f"faults.cycle_seconds must be > 0, got {self.cycle_seconds!r}")
        if self.keepalive_seconds <= 0:
            raise ScenarioError(
                f"faults.keepalive_seconds must be > 0, got {self.keepalive_seconds!r}"
            )
        if not self.http_error_statuses:
            raise ScenarioError("faults.http_error_statuses must not be empty")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Faults:
        """Build from the JSON ``faults`` object; unknown keys are an error."""
        from ._parse import parse_faults

        return parse_faults(data)


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
        from ._parse import parse_scenario

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
