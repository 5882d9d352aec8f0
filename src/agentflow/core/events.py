"""What every event of every dialect is: :class:`Event`, and the common ``kind`` vocabulary.

Each dialect keeps its native event types (``agent.custom_tool_use``, ``text-delta``,
``content_block_delta``, …) and also names what an event means in one shared vocabulary,
``event.kind`` (``None`` where no common meaning fits), so that one App can route the events
of any agent system: ``@app.on(kind="tool.started")``.

=========================  ============================================================
kind                       meaning
=========================  ============================================================
``message.delta``          a piece of streamed text
``message.completed``      a whole message
``reasoning.delta``        a piece of streamed thinking
``reasoning.completed``    a whole thinking block (or a thinking signal)
``tool.started``           a tool call was announced
``tool.args_delta``        a piece of a tool call's streamed input
``tool.completed``         a tool's result
``tool.failed``            a tool's error result
``tool.requested``         the client must run tools now
``approval.requested``     a gate waits for allow / deny
``approval.resolved``      a gate was answered
``input.requested``        a question for the user
``turn.started``           the agent started working on input
``turn.completed``         the turn ended normally
``turn.failed``            the turn ended in failure (or the session ended)
``turn.cancelled``         the turn was interrupted or cancelled
``usage.updated``          token counts
``error``                  an error was reported
``stream.connected``       stream control: a connection opened (where the wire says so)
``stream.disconnecting``   stream control: the server is about to close the connection
=========================  ============================================================
"""

from __future__ import annotations

from abc import ABC
from typing import TYPE_CHECKING, Any, ClassVar

from .known import register_event_class

__all__ = ["KINDS", "Event", "dialect_of", "split_type"]

KINDS: frozenset[str] = frozenset(
    {
        "message.delta",
        "message.completed",
        "reasoning.delta",
        "reasoning.completed",
        "tool.started",
        "tool.args_delta",
        "tool.completed",
        "tool.failed",
        "tool.requested",
        "approval.requested",
        "approval.resolved",
        "input.requested",
        "turn.started",
        "turn.completed",
        "turn.failed",
        "turn.cancelled",
        "usage.updated",
        "error",
        "stream.connected",
        "stream.disconnecting",
    }
)
"""Every ``kind`` an event may carry (besides ``None``)."""


def dialect_of(event: Any) -> Any:
    """The dialect an event belongs to (``type(event).dialect``), or ``None``."""
    return getattr(event, "dialect", None)


def split_type(event_type: str) -> tuple[str, str]:
    """``(domain, action)`` of a type: the action is the part after the last dot.

    ``"agent.tool_use"`` → ``("agent", "tool_use")``, ``"output.message.delta"`` →
    ``("output.message", "delta")``; a type without a dot is all domain:
    ``"text-delta"`` → ``("text-delta", "")``.
    """
    domain, dot, action = event_type.rpartition(".")
    return (domain, action) if dot else (event_type, "")


class Event(ABC):
    """The base of every event agentflow delivers, whatever its dialect.

    Every event has ``type`` (the wire's own name), ``id`` (``None`` when the wire gives it
    none) and the conveniences below, which are safe to call on any event: they return
    ``None`` or ``""`` where they do not apply. Dialects subclass it (Managed Agents events
    are frozen pydantic models); ``isinstance(event, agentflow.Event)`` holds for all of them.
    """

    __slots__ = ()

    type: str
    id: str | None

    dialect: ClassVar[Any] = None
    """The :class:`~agentflow.Dialect` whose wire the event came from (set by each dialect
    on its event classes); ``None`` for events of no dialect."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Every event class counts for the field-filter checks of @app.on (core.known).
        super().__init_subclass__(**kwargs)
        register_event_class(cls)

    @property
    def kind(self) -> str | None:
        """What the event means in the common vocabulary (see the module doc), or ``None``."""
        return None

    @property
    def domain(self) -> str:
        """The part of ``type`` before its last dot (the whole type when it has none)."""
        return split_type(self.type)[0]

    @property
    def action(self) -> str:
        """The part of ``type`` after its last dot (``""`` when it has none)."""
        return split_type(self.type)[1]

    @property
    def text(self) -> str:
        """The event's text (message text, a delta's new text); ``""`` when it has none."""
        return ""

    @property
    def tool_name(self) -> str | None:
        """The tool's name on a tool event; ``None`` on every other event."""
        return None

    @property
    def tool_input(self) -> dict[str, Any] | None:
        """The tool's input on a tool call event; ``None`` on every other event."""
        return None

    @property
    def call_id(self) -> str | None:
        """The id of the call the event is about: a tool call's own id, or the id of the call
        a result, approval or confirmation refers to; ``None`` on other events."""
        return None

    if TYPE_CHECKING:

        @property
        def error(self) -> Any:
            """The error an error event reports; ``None`` on every other event."""

    else:

        def __getattr__(self, name: str) -> Any:
            # ``error`` is a field of some event models (pydantic refuses a field that
            # shadows a base class attribute), so its default lives here, not as a property.
            if name == "error":
                return None
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    @property
    def raw(self) -> dict[str, Any]:
        """The event as a JSON-ready dict, as the wire sent it."""
        return {"type": self.type, "id": self.id}

    def is_final_response(self) -> bool:
        """True when this event ends the agent's turn or the session."""
        return False


register_event_class(Event)
