"""The base every Messages event model shares, with the conventions handlers use.

The wire gives its events no ids, so ``.id`` is ``None``. ``.raw`` is always the event as the
wire sent it; what the channel's message builder adds (the block a delta belongs to, the
complete block, the whole message) is kept beside the fields, never in ``raw``.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from ...core.events import Event
from ..dialect import MESSAGES

__all__ = ["TOOL_BLOCKS", "MessagesEvent", "NoError", "enrich_field"]

TOOL_BLOCKS = frozenset({"tool_use", "server_tool_use", "mcp_tool_use"})
"""Block types that are tool calls (client tools, server tools, MCP tools)."""


def enrich_field(event: Any, name: str, value: Any) -> None:
    # What the builder learns is kept on the instance, outside the model's fields, so
    # ``raw`` stays the wire's event. Not pydantic private attributes: those cost a Python
    # call for every event validated, which was most of the decoding time.
    object.__setattr__(event, name, value)


class MessagesEvent(BaseModel, Event):
    """The base of every Messages event: ``type`` as on the wire, ``id`` always ``None``."""

    model_config = ConfigDict(frozen=True, extra="allow")

    type: str
    id: str | None = None

    dialect: ClassVar[Any] = MESSAGES
    """The Messages dialect (:class:`~agentflow.messages.MessagesDialect`)."""

    event_kind: ClassVar[str | None] = None
    """The ``kind`` of every event of this class (classes whose kind depends on their data
    override :attr:`kind`)."""

    @property
    def kind(self) -> str | None:
        """What the event means in the common vocabulary (:mod:`agentflow.core.events`)."""
        return self.event_kind

    @property
    def raw(self) -> dict[str, Any]:
        """The event as the wire sent it (fields absent from the input stay absent)."""
        return self.model_dump(mode="json", exclude_unset=True)


class NoError:
    """For events that carry no ``error`` (a field of :class:`Error`, so not on the base)."""

    __slots__ = ()

    @property
    def error(self) -> None:
        """``None``: only ``error`` events carry an error."""
        return None
