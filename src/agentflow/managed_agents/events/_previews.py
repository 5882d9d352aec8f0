"""Stream-only previews and :class:`UnknownEvent`."""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from ._base import BaseEvent
from ._common import _Event
from ._content import (
    DeltaContent,
    PreviewRef,
)

__all__ = ["EventDelta", "EventStart", "UnknownEvent"]


# ------------------------------------------------------------------ previews (stream only)


class EventStart(_Event):
    """Opens a preview of an ``agent.message`` / ``agent.thinking`` (stream only, no id)."""

    type: Literal["event_start"]
    event: PreviewRef


class EventDelta(_Event):
    """A piece of preview text for ``event_id`` (stream only, best effort, no id)."""

    type: Literal["event_delta"]
    event_kind: ClassVar[str | None] = "message.delta"
    event_id: str
    delta: DeltaContent

    @property
    def text(self) -> str:
        """The preview text this delta adds."""
        return self.delta.content.text


class UnknownEvent(BaseEvent):
    """An event whose ``type`` this version does not know. Every field is kept.

    Unknown types are not errors: ``"*"`` handlers still receive them, and the fields are
    reachable as attributes (``event.some_field``) or through :attr:`raw`.
    """

    type: str

    @property
    def error(self) -> Any:
        """The ``error`` field if the event has one, else ``None``."""
        return (self.__pydantic_extra__ or {}).get("error")
