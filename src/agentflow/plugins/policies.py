"""Built-in confirmation policies: allow-list, deny-list and asking a person at the terminal.

Register them like any plugin::

    app.plugins.register(DenyList("bash", "write"))
    app.plugins.register(AllowList("read", "glob", "grep"))

Patterns are case-sensitive globs (``fnmatch``) matched against the tool name. A policy that
does not match a tool returns ``None``, so the next policy is asked.
"""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import Any

import anyio

from ..core.cancellation import capture
from ..core.verdicts import Allow, Deny, Verdict
from ._spec import hookimpl

__all__ = ["AllowList", "DenyList", "TerminalPolicy"]


def _tool_name(event: Any) -> str:
    name = getattr(event, "tool_name", None) or getattr(event, "name", None)
    return name if isinstance(name, str) else ""


class _GlobPolicy:
    def __init__(self, *patterns: str) -> None:
        if not patterns:
            raise ValueError(f"{type(self).__name__} needs at least one tool-name pattern")
        self.patterns = patterns

    def matches(self, event: Any) -> bool:
        """Whether the event's tool name matches one of the patterns."""
        name = _tool_name(event)
        return any(fnmatchcase(name, p) for p in self.patterns)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({', '.join(map(repr, self.patterns))})"


class AllowList(_GlobPolicy):
    """Allow tools whose name matches one of the globs; no opinion on the others."""

    @hookimpl
    def agentflow_confirm_tool(self, event: Any) -> Allow | None:
        """Allow a matching tool."""
        return Allow() if self.matches(event) else None


class DenyList(_GlobPolicy):
    """Deny tools whose name matches one of the globs; no opinion on the others."""

    def __init__(self, *patterns: str, message: str | None = None) -> None:
        super().__init__(*patterns)
        self.message = message

    @hookimpl
    def agentflow_confirm_tool(self, event: Any) -> Deny | None:
        """Deny a matching tool, with ``message`` or one naming the tool."""
        if not self.matches(event):
            return None
        return Deny(self.message or f"Tool {_tool_name(event)!r} is not allowed by the client.")


_ASK_LOCK = threading.Lock()  # one question at a time, even when calls are decided in parallel


class TerminalPolicy(_GlobPolicy):
    """Ask a person at the terminal to allow or deny each matching tool call.

    The question is asked with ``input()`` in a worker thread, so the event loop keeps
    running; questions are asked one at a time. "y" or "yes" allows, anything else denies.
    With no terminal (stdin is not a TTY) the call is denied with a message saying so, unless
    a custom ``ask`` function is given (it receives the question and returns the answer).
    A person gets ``timeout`` seconds (default 300; ``None``: as long as it takes) rather
    than the app's ``policy_timeout``; no answer by then denies the call.
    """

    def __init__(
        self, *patterns: str, ask: Callable[[str], str] | None = None, timeout: float | None = 300.0
    ) -> None:
        super().__init__(*(patterns or ("*",)))
        self._ask = ask
        self.policy_timeout = timeout
        """How long a person may take to answer (read by the policy timeout)."""

    @staticmethod
    def has_terminal() -> bool:
        """Whether stdin is an interactive terminal."""
        stdin = sys.stdin
        return stdin is not None and stdin.isatty()

    def question(self, event: Any) -> str:
        """The question shown for ``event``."""
        server = getattr(event, "mcp_server_name", None)
        where = f" on MCP server {server!r}" if server else ""
        shown = json.dumps(getattr(event, "tool_input", None) or {}, default=str)
        if len(shown) > 500:
            shown = shown[:497] + "..."
        return f"Allow tool {_tool_name(event)!r}{where} with input {shown}? [y/N] "

    def _prompt(self, text: str) -> str:
        with _ASK_LOCK:
            try:
                return (self._ask or input)(text)
            except EOFError:
                return ""

    async def _decide(self, event: Any) -> Verdict:
        ok, answer = await anyio.to_thread.run_sync(
            capture, self._prompt, self.question(event), abandon_on_cancel=True
        )
        if not ok:
            raise answer  # in this frame, where the policy guard sees it (see capture)
        if str(answer).strip().lower() in ("y", "yes"):
            return Allow()
        return Deny(f"The user denied tool {_tool_name(event)!r} at the terminal.")

    @hookimpl
    def agentflow_confirm_tool(self, event: Any) -> Any:
        """Ask at the terminal (an awaitable), or deny when there is no terminal."""
        if not self.matches(event):
            return None
        if self._ask is None and not self.has_terminal():
            return Deny(f"No one is at a terminal to confirm tool {_tool_name(event)!r}; denied.")
        return self._decide(event)
