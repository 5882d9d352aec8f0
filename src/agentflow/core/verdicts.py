"""The answers to a gate: :class:`Allow` and :class:`Deny`, and how one was reached.

A confirmation policy returns one of these; the actions router sends it in the dialect's
form (a Managed Agents ``user.tool_confirmation``, an m8tes ``approve``, an Everruns tool
approval) or, for ``@app.tool(confirm=True)`` tools, runs the tool or answers with the deny
message as an error result.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeAlias

__all__ = ["DEFAULT_DENY_MESSAGE", "Allow", "Decision", "Deny", "Verdict", "no_policy_deny"]

DEFAULT_DENY_MESSAGE = "The tool call was denied by the client's confirmation policy."


@dataclass(frozen=True)
class Allow:
    """Let the call run. ``remember`` asks the platform to allow such calls from now on,
    where it can (m8tes); other wires ignore it."""

    remember: bool = False


@dataclass(frozen=True)
class Deny:
    """Refuse the call; ``message`` is sent to the agent as the reason."""

    message: str = DEFAULT_DENY_MESSAGE
    remember: bool = False


Verdict: TypeAlias = Allow | Deny


@dataclass(frozen=True)
class Decision:
    """How a gate was decided: the verdict, the deciding policy's name, any policy failure.

    ``policy`` is a readable name: an ``@app.confirm`` function's name, a plugin's class
    name, or ``"default"`` when no policy answered. ``error`` holds the failure of a policy
    that raised or timed out (the call is then denied).
    """

    verdict: Verdict
    policy: str
    error: Exception | None = None


def no_policy_deny(tool_name: str | None) -> Deny:
    """The default answer: deny, saying that no policy matched."""
    return Deny(
        f"No confirmation policy matched tool {tool_name!r}; the call was denied by default."
    )
