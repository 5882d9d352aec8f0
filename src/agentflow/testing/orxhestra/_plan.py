"""A scenario turn as the model calls an orxhestra agent makes: :func:`plan_turn`, :class:`Cursor`.

orxhestra's agent loop calls the model until it answers without tool calls, so one turn is
one or more *invocations*: each streams its text, then either asks for tools (the loop runs
them and calls the model again) or is the final answer. Steps map to invocations like this:

=======================  ===================================================================
step                     in the invocation being built
=======================  ===================================================================
``Say``                  streamed text (word by word with ``stream=True``, else one chunk);
                         ``thinking=True`` streams a thinking chunk first
``Think``                a thinking chunk (orxhestra yields it as a partial event; a
                         second one in the same call starts with a space)
``Burst(n)``             ``n`` text chunks
``Wait(s)``              a pause of ``s`` seconds before the next chunk
``CustomTool`` ``Tool``  a tool call (name and input from the step); consecutive tool steps
``McpTool``              are one invocation with several calls, and the next non-tool step
                         starts a new invocation. ``permission`` and ``result`` are not used:
                         the agent's own tools run (and agentflow's gate decides)
``Question``             a ``human_input`` call asking the question (options appended)
``Usage``                usage metadata on this invocation (always, with ``Scenario.usage``)
``Error``                the model raises after streaming what came before (see the model)
``Stop``                 ends the turn here (orxhestra has no stop reasons)
``Emit``                 rejected: a chat model cannot emit arbitrary events
=======================  ===================================================================
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ..scenario import (
    Burst,
    CustomTool,
    Emit,
    Error,
    McpTool,
    Question,
    Say,
    ScenarioError,
    Step,
    Stop,
    Think,
    Tool,
    Turn,
    Usage,
    Wait,
)

__all__ = ["THINKING_TEXT", "Chunk", "Cursor", "Invocation", "plan_turn"]

THINKING_TEXT = "Thinking."
"""What a ``Think`` step (or ``Say(thinking=True)``) streams as thinking."""


@dataclass(frozen=True)
class Chunk:
    """One streamed piece: text or thinking, after an optional pause."""

    text: str = ""
    thinking: str = ""
    pause: float = 0.0


@dataclass
class Invocation:
    """What one model call streams and answers."""

    chunks: list[Chunk] = field(default_factory=list)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    error: Error | None = None
    usage: bool = False

    @property
    def text(self) -> str:
        """The text this call answers with (its chunks joined)."""
        return "".join(c.text for c in self.chunks)


def _words(text: str) -> list[str]:
    # Each word with the whitespace before it, so the chunks join back to the text.
    return re.findall(r"\s*\S+\s*$|\s*\S+", text) or [text]


def _think(inv: Invocation) -> None:
    # orxhestra drops the start of a chunk that repeats everything streamed before it (its
    # guard against providers that resend the whole text), so a repeat starts with a space.
    repeat = any(c.thinking for c in inv.chunks)
    inv.chunks.append(Chunk(thinking=" " + THINKING_TEXT if repeat else THINKING_TEXT))


def _say(inv: Invocation, step: Say) -> None:
    if step.thinking:
        _think(inv)
    pieces = _words(step.text) if step.stream else [step.text]
    if inv.text:  # a second Say in one answer starts a new paragraph
        pieces[0] = "\n\n" + pieces[0]
    inv.chunks.extend(Chunk(text=p) for p in pieces)


def _call(step: Step) -> tuple[str, dict[str, Any]]:
    if isinstance(step, Question):
        question = step.text + (f" ({' / '.join(step.options)})" if step.options else "")
        return "human_input", {"question": question}
    assert isinstance(step, (CustomTool, Tool, McpTool))
    return step.name, dict(step.input)


def plan_turn(turn: Turn, *, usage: bool = False, where: str = "turn") -> list[Invocation]:
    """The model calls one turn makes; ``usage`` puts usage metadata on every one."""
    plan: list[Invocation] = []
    inv = Invocation(usage=usage)

    def close() -> Invocation:
        plan.append(inv)
        return Invocation(usage=usage)

    for number, step in enumerate(turn.steps, 1):
        if isinstance(step, Emit):
            raise ScenarioError(
                f"{where}, step {number}: Emit cannot be played by a chat model; "
                "use the Managed Agents emulator for raw events"
            )
        if isinstance(step, Stop):
            break
        if isinstance(step, (CustomTool, Tool, McpTool, Question)):
            inv.calls.append(_call(step))
            continue
        if isinstance(step, Usage):
            inv.usage = True
            continue
        if inv.calls:  # anything after a tool group happens in the next model call
            inv = close()
        if isinstance(step, Say):
            _say(inv, step)
        elif isinstance(step, Think):
            _think(inv)
        elif isinstance(step, Burst):
            inv.chunks.extend(Chunk(text=f"{step.text} {i}\n") for i in range(step.count))
        elif isinstance(step, Wait):
            inv.chunks.append(Chunk(pause=step.seconds))
        elif isinstance(step, Error):
            inv.error = step
            inv = close()
        else:
            raise ScenarioError(f"{where}, step {number}: {step!r} is not a scenario step")
    if inv.chunks or inv.calls or inv.usage:
        plan.append(inv)
    return plan


@dataclass
class Cursor:
    """Where one session is in the scenario: which turn, which model call of it.

    A call whose last message is the user's starts the next turn, except when it repeats a
    call that just failed: orxhestra retries a failed model call once, with the same
    messages, when the error text looks transient. After an ``Error(retry_status=
    "retrying")`` the retry goes on with the turn; after any other error it fails again.
    """

    usage: bool = False
    turn: int = -1
    plan: list[Invocation] = field(default_factory=list)
    next: int = 0
    failed: tuple[Any, Invocation] | None = None

    def advance(self, *, user_last: bool, fingerprint: Any, plans: Any) -> Invocation:
        """The invocation this model call plays; ``plans(turn_index)`` plans a turn."""
        failed, self.failed = self.failed, None
        if failed is not None and failed[0] == fingerprint:
            error = failed[1].error
            if error is not None and error.retry_status != "retrying":
                return Invocation(error=error, usage=failed[1].usage)  # fails again, silently
        elif user_last:
            self.turn += 1
            self.plan = plans(self.turn)
            self.next = 0
        if self.next < len(self.plan):
            self.next += 1
            return self.plan[self.next - 1]
        return Invocation(usage=self.usage)  # the turn's steps are spent: an empty answer

    def fail(self, fingerprint: Any, invocation: Invocation) -> None:
        """Remember the call that raised, to recognise orxhestra's retry of it."""
        self.failed = (fingerprint, invocation)
