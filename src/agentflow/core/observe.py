"""Watching a run from outside: the hooks telemetry (:mod:`agentflow.telemetry`) plugs into.

An observer is any object with some of the ``on_*`` methods below (subclass
:class:`Observer` to inherit do-nothing versions of the others). Each hook but
``on_reconnect`` returns a context manager that wraps the work it observes, or ``None`` to
let that piece of work pass unobserved. The fields named in the last column are filled in
before the context manager exits (also when the work raised, where known):

=========================  ==============================================  =====================
hook                       wraps                                           filled in on exit
=========================  ==============================================  =====================
``on_run(run)``            one ``app.run``: channel, every event, replies  ``result``
``on_tool(tool)``          one execution of an ``@app.tool``               ``reply``
``on_policy(policy)``      one policy decision (gate or ``confirm=True``)  ``decision``
``on_post(post)``          posting one batch of replies, retries included  ``attempts, status``
``on_event(event, ctx)``   one dispatch; only with ``trace_events=True``   --
``on_reconnect(r)``        nothing: called when a channel reconnects       --
=========================  ==============================================  =====================

Each hook runs in the task doing the work, so whatever it makes current (an OpenTelemetry
span, a context variable) is current for the handlers and tools inside it: the run's scope
for every handler and tool, the tool's scope for the tool's own code.

Install observers with ``App(observers=[...])`` or ``app.observe(obs)``; the app keeps them
in :class:`~agentflow.core.observers.Observers`, which the core calls. Without observers
nothing is called; with them, nothing is added per event unless ``trace_events`` asks for
it (a run's per-type counts are a live mapping, ``RunObservation.counts``, to read at will).
An observer cannot break a run: an exception a hook raises is logged on the
``agentflow.observe`` logger and the work goes on without that hook.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeAlias

if TYPE_CHECKING:
    from .actions.protocols import ToolLike
    from .answers import ToolReply
    from .context import Context
    from .dialect import Call
    from .events import Event
    from .results import RunResult
    from .verdicts import Decision

__all__ = [
    "Observer",
    "PolicyObservation",
    "PostObservation",
    "PostStatus",
    "ReconnectObservation",
    "RunObservation",
    "Scope",
    "ToolObservation",
]

Scope: TypeAlias = "AbstractContextManager[Any] | None"
"""What a hook returns: a context manager around the work, or ``None``."""

PostStatus = Literal["pending", "sent", "skipped", "failed"]
"""How a post ended: posted (``sent``), found already on the server after a rejected attempt
(``skipped``: nothing left to post), or given up (``failed``)."""


@dataclass(slots=True)
class RunObservation:
    """One run: its session and dialect, live counts, and the result once it ends."""

    session_id: str
    dialect: str
    counts: Mapping[str, int]
    """Events so far by native type; live (updated as events arrive, read it, never write)."""
    result: RunResult | None = None
    """The run's result (partial, with ``stop_reason="error"``, when it raised)."""


@dataclass(slots=True)
class ToolObservation:
    """One tool execution: the call (id, name, input) and the reply once it ran."""

    session_id: str
    call: Call
    tool: ToolLike
    reply: ToolReply | None = None


@dataclass(slots=True)
class PolicyObservation:
    """One policy decision on a call: the decision once made."""

    session_id: str
    call: Call
    decision: Decision | None = None


@dataclass(slots=True)
class PostObservation:
    """One batch of replies posted: its size, the attempts it took and how it ended."""

    session_id: str
    dialect: str
    count: int
    attempts: int = 0
    status: PostStatus = "pending"
    sent: int = 0
    """Replies actually posted (fewer than ``count`` when the server had some already)."""


@dataclass(slots=True)
class ReconnectObservation:
    """A channel reopening its connection: which attempt, after what delay, and why."""

    session_id: str
    dialect: str
    attempt: int
    delay: float
    error: str
    """The failure that caused it, redacted like every error text (no keys)."""


class Observer:
    """Base class for observers: every hook does nothing; override the ones you need."""

    def on_run(self, run: RunObservation) -> Scope:
        """A context manager around a whole run (or ``None``)."""
        return None

    def on_tool(self, tool: ToolObservation) -> Scope:
        """A context manager around one tool execution (or ``None``)."""
        return None

    def on_policy(self, policy: PolicyObservation) -> Scope:
        """A context manager around one policy decision (or ``None``)."""
        return None

    def on_post(self, post: PostObservation) -> Scope:
        """A context manager around posting one batch of replies (or ``None``)."""
        return None

    def on_event(self, event: Event, ctx: Context) -> Scope:
        """A context manager around one dispatch, with ``trace_events=True`` (or ``None``)."""
        return None

    def on_reconnect(self, reconnect: ReconnectObservation) -> None:
        """Called when a channel reconnects."""
