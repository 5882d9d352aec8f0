"""The base every Managed Agents event model shares, with the conveniences handlers use."""

from __future__ import annotations

from datetime import datetime
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict

from ...core.events import Event, split_type
from ..dialect import MANAGED_AGENTS

__all__ = ["BaseEvent", "split_type"]


def _block_text(block: Any) -> str | None:
    if isinstance(block, dict):
        if block.get("type") == "text" and isinstance(block.get("text"), str):
            return str(block["text"])
        return None
    if getattr(block, "type", None) == "text":
        text = getattr(block, "text", None)
        return text if isinstance(text, str) else None
    return None


class BaseEvent(BaseModel, Event):
    """Fields and conveniences common to every event.

    Models are frozen; fields the server adds that this version does not know are kept
    (``extra="allow"``) and come back in :attr:`raw`.

    ``processed_at`` is the RFC 3339 string exactly as sent (``None`` while queued), so
    a dumped event equals its input; :attr:`processed_time` parses it.
    """

    model_config = ConfigDict(frozen=True, extra="allow")

    type: str
    id: str | None = None
    processed_at: str | None = None

    dialect: ClassVar[Any] = MANAGED_AGENTS
    """The Managed Agents dialect (:class:`~agentflow.managed_agents.ManagedAgentsDialect`)."""

    event_kind: ClassVar[str | None] = None
    """The ``kind`` of every event of this class (models whose kind depends on their data
    override :attr:`kind` instead)."""

    @property
    def kind(self) -> str | None:
        """What the event means in the common vocabulary (:mod:`agentflow.core.events`)."""
        return self.event_kind

    # -- identity -------------------------------------------------------------------------

    @property
    def processed_time(self) -> datetime | None:
        """``processed_at`` as an aware :class:`~datetime.datetime` (``None`` while queued)."""
        if self.processed_at is None:
            return None
        return datetime.fromisoformat(self.processed_at.replace("Z", "+00:00"))

    @property
    def raw(self) -> dict[str, Any]:
        """The event as a JSON-ready dict, equal to the object it was decoded from.

        Fields that were absent from the input stay absent; unknown fields are kept.
        """
        return self.model_dump(mode="json", exclude_unset=True)

    # -- conveniences ---------------------------------------------------------------------

    @property
    def text(self) -> str:
        """The text blocks of ``content`` joined together (``""`` when there are none).

        Non-text blocks (images, documents, redacted content) are skipped, never assumed.
        """
        content = getattr(self, "content", None)
        if not isinstance(content, list):
            return ""
        parts = [t for t in map(_block_text, content) if t is not None]
        return "".join(parts)

    def is_final_response(self) -> bool:
        """True when this event ends the agent's turn or the session.

        That is a ``session.status_idle`` whose stop reason is anything but
        ``requires_action`` (including reasons this version does not know), a
        ``session.status_terminated`` or a ``session.deleted``.
        """
        return False
