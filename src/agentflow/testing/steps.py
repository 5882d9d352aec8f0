"""The steps of a scripted agent turn, and :class:`Turn` (see :mod:`agentflow.testing.scenario`)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, TypeAlias

__all__ = [
    "PERMISSIONS",
    "RETRY_STATUSES",
    "TOOL_STEPS",
    "Burst",
    "CustomTool",
    "Emit",
    "Error",
    "McpTool",
    "Permission",
    "Question",
    "Say",
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
    """The agent calls a custom tool and waits for ``user.custom_tool_result``.

    ``input`` is normally an object; anything else (a list, ``None``, a string) is sent as it
    is, as a misbehaving model might.
    """

    name: str
    input: Mapping[str, Any] | Any = field(default_factory=dict)
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
