"""An example agentflow confirmation policy: allow read-only tools, deny tools that write.

Registered through the ``agentflow`` entry-point group (see ``pyproject.toml``), so every
agentflow app in an environment where this package is installed asks it.
"""

from __future__ import annotations

from typing import Any

from agentflow import Allow, Deny, hookimpl

__all__ = ["READ_ONLY", "WRITES", "ReadOnlyPolicy", "policy"]

READ_ONLY = frozenset({"read", "glob", "grep", "web_fetch", "web_search"})
WRITES = frozenset({"bash", "edit", "write"})


class ReadOnlyPolicy:
    """Allow read-only built-in tools, deny the ones that change files or run commands."""

    @hookimpl
    def agentflow_confirm_tool(self, event: Any) -> Allow | Deny | None:
        """Decide by tool name; no opinion on tools this policy does not know."""
        name = event.tool_name
        if name in READ_ONLY:
            return Allow()
        if name in WRITES:
            return Deny(f"This environment is read-only: {name!r} is not allowed.")
        return None


policy = ReadOnlyPolicy()
"""The instance the entry point names."""
