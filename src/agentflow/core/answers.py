"""What answering a call produced, in no dialect's shape: :class:`ToolReply`.

The actions router runs a tool (or refuses it) and gets a :class:`ToolReply`; the dialect
turns it into its wire form (``user.custom_tool_result``, a ``tool_result`` block, an
Everruns tool result, ...).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

__all__ = ["Outcome", "ToolReply", "text_block"]

Outcome = Literal[
    "ok", "error", "timeout", "invalid_input", "invalid_output", "denied", "interrupted", "unknown"
]
"""How a tool call ended: it returned (``ok``), raised (``error``), ran past its timeout,
got input that failed validation, returned content no server would accept
(``invalid_output``), was denied by a policy (``confirm=True``), was caught mid-run by a
crash (``interrupted``), or named no tool of the app (``unknown``)."""


def text_block(text: str) -> dict[str, Any]:
    """A text content block."""
    return {"type": "text", "text": text}


@dataclass(frozen=True)
class ToolReply:
    """What running (or refusing) one tool call produced: content blocks and whether it is
    an error, with the outcome, the time it took and the error text.

    ``exception`` is what the tool raised (or the ``TimeoutError`` of a timeout), for
    observers (a span's exception event); it is never sent and not part of equality.
    """

    content: list[dict[str, Any]]
    is_error: bool = False
    outcome: Outcome = "ok"
    duration_s: float = 0.0
    error: str | None = None
    exception: BaseException | None = field(default=None, repr=False, compare=False)

    @classmethod
    def failure(
        cls,
        outcome: Outcome,
        message: str,
        duration_s: float = 0.0,
        exception: BaseException | None = None,
    ) -> ToolReply:
        """An ``is_error`` reply whose text is ``message``."""
        return cls([text_block(message)], True, outcome, duration_s, message, exception)

    @property
    def text(self) -> str:
        """The text blocks of the content, joined."""
        return "".join(str(b.get("text", "")) for b in self.content if b.get("type") == "text")
