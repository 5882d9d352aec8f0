"""The base every m8tes event shares: a synthetic id, the wire's own JSON, conveniences.

m8tes frames carry no event id: a frame is known by its position in the run's history
(what a re-attach replays). The stream gives each frame the id ``"<run_id>:<position>"``
and keeps the frame's JSON bytes, so :attr:`M8tesEvent.raw` is the frame exactly as sent.
What the stream learns from earlier frames (a text block's accumulated text, a tool call's
name and parsed input, the tokens a ``run_metrics`` adds) is attached the same way.

These attachments live in slots, not fields: they are not part of the frame, so they never
show in ``model_dump()`` or ``repr()``, and setting them costs one attribute store.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ...core.events import Event
from ..dialect import M8TES

__all__ = ["ErrorText", "M8tesEvent", "attach"]

_set = object.__setattr__
_NEVER = "\x00agentflow-event-id"  # no frame has this key: the wire's "id" is not ours


class ErrorText(str):
    """An error's message, as the SDK gives it (a ``str``), with the machine code as
    ``.type`` (``error_code``, or the frame type of a terminal failure) and ``.message``."""

    type: str | None

    def __new__(cls, message: str, type: str | None = None) -> ErrorText:
        text = super().__new__(cls, message)
        text.type = type
        return text

    @property
    def message(self) -> str:
        """The message, as a plain ``str``."""
        return str.__str__(self)


class M8tesEvent(BaseModel, Event):
    """Fields and conveniences every m8tes event has (frozen; unknown fields are kept)."""

    __slots__ = ("_m8_data", "_m8_note")
    if TYPE_CHECKING:  # slots, not fields: pydantic must not see these annotations
        _m8_data: bytes | None
        _m8_note: dict[str, Any] | None

    model_config = ConfigDict(frozen=True, extra="allow")

    type: str
    id: str | None = Field(None, validation_alias=_NEVER, exclude=True, repr=False)
    """``"<run_id>:<position>"``: the frame's place in the run's history (``None`` for
    events that are not frames of a stream, such as ``run.completed``). Set by the stream:
    the wire's own ``id`` key (a text block's id) is never read into it."""

    dialect: ClassVar[Any] = M8TES
    """The m8tes dialect (:class:`~agentflow.m8tes.M8tesDialect`)."""

    event_kind: ClassVar[str | None] = None
    """The ``kind`` of every event of this class (classes whose kind depends on the frame
    override :attr:`kind`)."""

    final: ClassVar[bool] = False

    @property
    def kind(self) -> str | None:
        """What the event means in the common vocabulary (:mod:`agentflow.core.events`)."""
        return self.event_kind

    @property
    def position(self) -> int | None:
        """The frame's 0-based position in the run's history (``None`` when not a frame)."""
        event_id = self.id
        return None if event_id is None else int(event_id.rpartition(":")[2])

    @property
    def error(self) -> Any:
        """The error an error frame reports; ``None`` on every other event."""
        return None

    def note(self, name: str) -> Any:
        """What the stream attached under ``name`` (``None`` when nothing was)."""
        try:
            notes = self._m8_note
        except AttributeError:
            return None
        return None if notes is None else notes.get(name)

    @property
    def raw(self) -> dict[str, Any]:
        """The frame as the wire sent it (the event as a JSON-ready dict when it is not a
        frame, with unset fields left out)."""
        try:
            data = self._m8_data
        except AttributeError:
            data = None
        if data is not None:
            loaded: dict[str, Any] = json.loads(data)
            return loaded
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)

    def is_final_response(self) -> bool:
        """True for the frames that end a turn (``done``, ``cancelled``, terminal failures)
        and for a finished run's status."""
        return self.final

    def __copy__(self) -> M8tesEvent:
        clone = super().__copy__()
        for name in self.__slots__:
            if hasattr(self, name):
                _set(clone, name, getattr(self, name))
        return clone


def attach(
    event: M8tesEvent,
    event_id: str | None,
    data: bytes | None = None,
    notes: dict[str, Any] | None = None,
) -> M8tesEvent:
    """Give ``event`` its id, its wire bytes and what the stream learned (see module doc)."""
    event.__dict__["id"] = event_id
    _set(event, "_m8_data", data)
    if notes is not None:
        _set(event, "_m8_note", notes)
    return event
