"""The answers a confirmation policy gives: :class:`Allow` and :class:`Deny`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

__all__ = ["DEFAULT_DENY_MESSAGE", "Allow", "Deny", "Verdict"]

DEFAULT_DENY_MESSAGE = "The tool call was denied by the client's confirmation policy."


@dataclass(frozen=True)
class Allow:
    """Let the tool call run (sent as ``user.tool_confirmation`` with ``result="allow"``)."""


@dataclass(frozen=True)
class Deny:
    """Refuse the tool call; ``message`` is sent to the agent as the ``deny_message``."""

    message: str = DEFAULT_DENY_MESSAGE


Verdict: TypeAlias = Allow | Deny
