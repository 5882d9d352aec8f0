"""The pure half of the seam: a :class:`Dialect` says what a wire's events mean.

A dialect is a description, not a connection: given one event it says which calls the event
announces (a client tool to run, an approval to give, a question to answer), which call it
settles, whether the agent now waits for answers (a :class:`Pause`), whether the turn or the
whole session ended, how severe an error event is, and how the App's answers are written in
the wire's own form. It does no I/O, so the run loop, the actions router, replays and tests
all read events the same way. The other half, the :class:`~agentflow.Channel`, moves bytes.

Subclass :class:`Dialect` and override what applies; every method has a neutral default.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from .known import register_dialect_class, register_event_fields, register_known_types

if TYPE_CHECKING:
    from .answers import ToolReply
    from .events import Event
    from .types import JSONObject
    from .verdicts import Verdict

__all__ = [
    "Call",
    "CallKind",
    "Dialect",
    "Pause",
    "Severity",
    "TokenCount",
    "register_event_fields",
    "register_known_types",
]

CallKind = Literal["tool", "approval", "question"]
"""``tool``: the client runs a tool; ``approval``: the client allows or denies a call the
platform runs; ``question``: the client answers a question for the user."""

Severity = Literal["retrying", "exhausted", "terminal"]
"""How bad an error event is: the platform retries by itself (``retrying``), the turn is
over but the session lives (``exhausted``), or the session is ending (``terminal``)."""


@dataclass(frozen=True)
class Call:
    """A call announced by an event, which the client may have to answer.

    ``id`` is what the answer refers to (and what the checkpoint records); ``name`` and
    ``input`` the tool and its input (``input`` as the wire sent it: it may not be an
    object); ``event`` the announcing event, which policies and tools see. ``early`` lets a
    client tool start as soon as it is announced instead of at the pause. ``text`` and
    ``options`` hold a question; ``data`` any wire detail the reply needs (a request id).
    """

    id: str
    kind: CallKind
    event: Event
    name: str | None = None
    input: Any = None
    early: bool = False
    text: str | None = None
    options: tuple[str, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Pause:
    """The agent waits for answers: to the calls ``ids`` (``None``: every open call).

    ``calls`` are calls announced by the pausing event itself (some wires list the tool
    calls in the pause); they are added before the pause is answered.
    """

    ids: tuple[str, ...] | None = None
    calls: tuple[Call, ...] = ()


@dataclass(frozen=True)
class TokenCount:
    """Token counts one event adds to the run's totals."""

    input_tokens: int = 0
    output_tokens: int = 0


class Dialect:
    """What one wire's events mean; see the module docstring. ``name`` names the wire."""

    name: str = "dialect"
    known_types: frozenset[str] = frozenset()
    """Every event ``type`` the dialect decodes to its own class. A subclass that sets it
    registers them for the typo checks of ``@app.on(...)`` when the class is made
    (:mod:`agentflow.core.known`; :func:`register_known_types` does it by hand)."""
    event_module: str | None = None
    """The module that defines the dialect's event classes, when importing the dialect does
    not import it (their models are built on first use): the typo checks of field filters
    import it before they look at the known fields."""
    inert_types: frozenset[str] = frozenset()
    """Event types the run loop need not ask about: for every event of these types,
    :meth:`calls` is empty and :meth:`settled`, :meth:`pause`, :meth:`turn_end`,
    :meth:`terminal`, :meth:`severity` and :meth:`usage` are ``None``. It is a speed hint
    (most events of a stream are text, thinking or spans, and skipping five questions for
    each is a sizeable part of a run's cost per event); the default, empty, asks about every
    event, which is always correct. A type listed here wrongly would lose calls, so list only
    types whose answers cannot depend on an event's data."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        register_dialect_class(cls)

    def calls(self, event: Event) -> Sequence[Call]:
        """The calls ``event`` announces (most events announce none)."""
        return ()

    def settled(self, event: Event) -> str | None:
        """The id of the call ``event`` shows as answered (a reply seen on the stream)."""
        return None

    def pause(self, event: Event) -> Pause | None:
        """Whether the agent now waits for answers, and to which calls."""
        return None

    def turn_end(self, event: Event) -> str | None:
        """The stop reason when ``event`` ends the turn (``end_turn``, ``refusal``, ...)."""
        return None

    def terminal(self, event: Event) -> str | None:
        """``"terminated"`` (or another reason) when nothing more will follow ``event``."""
        return None

    def severity(self, event: Event) -> Severity | None:
        """How severe an error event is; ``None`` for events that are not errors."""
        return None

    def unanswered(self, event: Event) -> tuple[str, str]:
        """``(record kind, why)`` for a paused id whose event announces no answerable call."""
        return "other", f"{event.type} announces no call this client can answer"

    def usage(self, event: Event) -> TokenCount | None:
        """The tokens ``event`` adds to the run's totals, where the wire reports them."""
        return None

    # -- writing answers ------------------------------------------------------------------

    def user_input(self, item: str | Mapping[str, Any]) -> JSONObject:
        """The request that sends ``item`` to the agent: a ``str`` is a user message."""
        if isinstance(item, str):
            return {"type": "user_message", "text": item}
        return dict(item)

    def tool_reply(self, call: Call, reply: ToolReply) -> JSONObject:
        """The wire form of a tool's result."""
        return {"call_id": call.id, "content": reply.content, "is_error": reply.is_error}

    def approval_reply(self, call: Call, verdict: Verdict) -> JSONObject:
        """The wire form of an approval's verdict."""
        from .verdicts import Allow

        allowed = isinstance(verdict, Allow)
        reply: JSONObject = {"call_id": call.id, "result": "allow" if allowed else "deny"}
        if not allowed:
            reply["message"] = getattr(verdict, "message", None)
        return reply

    def question_reply(self, call: Call, answer: str | None) -> JSONObject:
        """The wire form of an answer to a question (``None``: declined)."""
        return {"call_id": call.id, "answer": answer}

    def reply_target(self, reply: Mapping[str, Any]) -> str:
        """The id of the call a reply (made by the methods above) answers."""
        return str(reply.get("call_id"))

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name!r}>"
