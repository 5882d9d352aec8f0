"""The envelope every Everruns event shares, and the stream's control frames.

An event is ``{"id", "type", "ts", "session_id", "sequence", "context", "data", "metadata",
"tags"}``; each type's ``data`` is typed by its own model (:mod:`._models`). ``connected``
and ``disconnecting`` are not events of the session (no id, never stored): they are the
stream's control frames, yielded only to consumers that ask for them.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from ...core.events import Event
from ..dialect import EVERRUNS
from ._data import DataModel, EventContext

__all__ = ["ErrorInfo", "EverrunsEvent", "StreamConnected", "StreamControl", "StreamDisconnecting"]


class ErrorInfo(DataModel):
    """What an error event reports: ``type`` (an ``error_code`` or a tool's ``status``) and
    ``message``. Shaped like the other dialects' error objects, so error middleware reads
    every dialect the same way."""

    type: str | None = None
    message: str = ""


class EverrunsEvent(BaseModel, Event):
    """Fields and conveniences of every Everruns event (see :mod:`agentflow.everruns.events`).

    ``id`` is the event's id (``event_<32 hex>``, the resume cursor ``since_id``), ``sequence``
    its 1-based position in the session, ``context`` the turn and trace it belongs to.
    Models are frozen; fields this version does not know are kept and come back in
    :attr:`raw`.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    id: str
    type: str
    ts: str | None = None
    session_id: str | None = None
    sequence: int | None = None
    context: EventContext = Field(default_factory=EventContext)
    metadata: dict[str, Any] | None = None
    tags: list[str] | None = None

    dialect: ClassVar[Any] = EVERRUNS
    """The Everruns dialect (:class:`~agentflow.everruns.EverrunsDialect`)."""

    event_kind: ClassVar[str | None] = None
    """The ``kind`` of every event of this class (classes whose kind depends on their data
    override :attr:`kind`)."""

    @property
    def kind(self) -> str | None:
        """What the event means in the common vocabulary (:mod:`agentflow.core.events`)."""
        return self.event_kind

    @property
    def raw(self) -> dict[str, Any]:
        """The event as a JSON-ready dict, equal to the object it was decoded from."""
        return self.model_dump(mode="json", exclude_unset=True)

    @property
    def error(self) -> ErrorInfo | None:
        """The error the event reports (``turn.failed``, an unsuccessful ``tool.completed``,
        ...); ``None`` on every other event."""
        return None

    @property
    def turn_id(self) -> str | None:
        """The turn the event belongs to (from ``context``, else from ``data``)."""
        found = self.context.turn_id
        if found is None:
            found = getattr(getattr(self, "data", None), "turn_id", None)
        return found if isinstance(found, str) else None

    def __repr__(self) -> str:
        return f"{type(self).__name__}(id={self.id!r}, sequence={self.sequence!r})"


class StreamControl(BaseModel, Event):
    """A control frame of the stream (``connected``, ``disconnecting``): no id, not stored.

    The stream handles them itself; with ``control_events=True`` it also yields them, so
    middleware can see connections open and cycle (``kind`` ``stream.connected`` /
    ``stream.disconnecting``). They are never acknowledged or checkpointed.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    type: str
    id: None = None
    data: dict[str, Any] = Field(default_factory=dict)

    dialect: ClassVar[Any] = EVERRUNS
    event_kind: ClassVar[str | None] = None

    @property
    def kind(self) -> str | None:
        """``stream.connected`` or ``stream.disconnecting``."""
        return self.event_kind

    @property
    def error(self) -> None:
        """Control frames report no error."""
        return None

    @property
    def raw(self) -> dict[str, Any]:
        """The frame as a JSON-ready dict."""
        return {"type": self.type, "data": dict(self.data)}


class StreamConnected(StreamControl):
    """``event: connected``: a connection opened (``{"status": "connected"}``)."""

    type: Literal["connected"] = "connected"
    event_kind: ClassVar[str | None] = "stream.connected"


class StreamDisconnecting(StreamControl):
    """``event: disconnecting``: the server closes this connection now (``reason``,
    ``retry_ms``); the stream reconnects after ``retry_ms``."""

    type: Literal["disconnecting"] = "disconnecting"
    event_kind: ClassVar[str | None] = "stream.disconnecting"

    @property
    def retry_ms(self) -> int:
        """How long the server asks the client to wait before reconnecting (default 100)."""
        value = self.data.get("retry_ms")
        return value if isinstance(value, int) and not isinstance(value, bool) else 100
