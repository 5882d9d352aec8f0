"""Answer ``requires_action`` for ``bash`` under ``always_ask`` with a confirmation policy.

When the agent wants to run a built-in tool whose permission policy is ``always_ask``, the
session pauses (``session.status_idle`` with ``stop_reason.type == "requires_action"``) until
the client sends a ``user.tool_confirmation`` for each waiting call. ``app.run`` asks the
app's policies and sends every answer in one batch; a call no policy answers is denied.

The policy is a pluggy plugin: an object with an ``agentflow_confirm_tool`` hook.

    python examples/confirm_bash.py                     # against a local emulator
    python examples/confirm_bash.py --session sesn_...  # a real session (ANTHROPIC_API_KEY)
"""

from __future__ import annotations

import shlex

import anyio
from _session import open_session

from agentflow import Allow, App, Deny, Event, hookimpl, user_message
from agentflow.testing import Say, Scenario, Tool, Turn


class ShellPolicy:
    """Allow a few read-only commands; deny everything else, and anything with shell syntax."""

    SAFE = frozenset({"ls", "pwd", "cat", "head", "wc", "git"})
    GIT_SAFE = frozenset({"status", "log", "diff", "show"})

    @hookimpl
    def agentflow_confirm_tool(self, event: Event) -> Allow | Deny | None:
        if event.tool_name != "bash":
            return None  # no opinion: the next policy (or the default, deny) decides
        command = str((event.tool_input or {}).get("command", ""))
        if any(ch in command for ch in ";|&><`$\n"):
            return Deny("Pipes, redirections and substitutions are not allowed.")
        words = shlex.split(command)
        if not words or words[0] not in self.SAFE:
            return Deny(f"{command!r} is not on the list of read-only commands.")
        if words[0] == "git" and (len(words) < 2 or words[1] not in self.GIT_SAFE):
            return Deny("Only read-only git commands are allowed.")
        return Allow()


app = App()
app.plugins.register(ShellPolicy(), name="shell-policy")


@app.on("user.tool_confirmation")
def show_decision(event: Event) -> None:
    """The server echoes each confirmation we sent: show it as it happens."""
    call = getattr(event, "tool_use_id", "?")
    verdict = getattr(event, "result", "?")
    message = getattr(event, "deny_message", None)
    print(f"  echo: {call} -> {verdict}" + (f" ({message})" if message else ""))


SCENARIO = Scenario(
    [
        Turn(
            [
                Say("I'll look at the repository, then clean it."),
                Tool("bash", {"command": "git status"}, permission="always_ask", result="clean"),
                Tool("bash", {"command": "rm -rf build"}, permission="always_ask"),
                Say("Done: the status is clean; I was not allowed to delete the build folder."),
            ]
        )
    ]
)


async def main() -> None:
    async with open_session(SCENARIO, __doc__ or "") as (client, session_id):
        result = await app.run(
            client, session_id, send=[user_message("Check the repo status and clean it.")]
        )
    for call in result.tool_calls:
        command = call.input.get("command")
        print(f"{call.name} {command!r}: {call.outcome} (decided by {call.policy})")
    print(f"turn ended: {result.stop_reason}")


if __name__ == "__main__":
    anyio.run(main)
