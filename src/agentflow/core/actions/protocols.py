"""What the actions router needs from tools and policies, as protocols.

The core runs tools and asks policies without knowing how they are implemented:
:mod:`agentflow.tools` (``app.tools``) and :mod:`agentflow.plugins` (``app.plugins``)
provide the real ones, and a third party may provide others.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..answers import ToolReply
    from ..context import Context
    from ..events import Event
    from ..verdicts import Decision, Verdict

__all__ = ["Policies", "ToolLike", "ToolProvider"]


class ToolLike(Protocol):
    """A tool the router can run: it validates its input and never raises for a failure."""

    name: str
    confirm: bool
    """Whether the policies decide before each call runs."""
    idempotent: bool
    """Whether a call interrupted mid-run may be run again."""

    async def call(self, tool_input: Any, ctx: Context | None = None) -> ToolReply:
        """Validate ``tool_input``, run, and return the reply (errors as ``is_error``)."""
        ...


class ToolProvider(Protocol):
    """The tools of an app, by name."""

    def get(self, name: str | None) -> ToolLike | None:
        """The tool called ``name``, or ``None``."""
        ...


class Policies(Protocol):
    """The confirmation policies of an app."""

    async def decide(self, event: Event, ctx: Context, default: Verdict | None = None) -> Decision:
        """Ask the policies in order; the first answer wins, else ``default`` (deny)."""
        ...
