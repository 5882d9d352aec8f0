"""``@app.on_question``: who answers the questions an agent asks the user.

A question (``kind == "input.requested"``: an Everruns pending question, an m8tes question
gate, orxhestra's ``human_input`` tool) is answered by the first ``@app.on_question``
handler that returns text. Handlers take, by name, any of ``question`` (the text),
``options`` (the offered choices, possibly empty), ``event`` (the asking event) and ``ctx``;
they may be sync or async and return the answer, or ``None`` to leave it to the next one.
When none answers, the question is declined with :data:`DECLINE` (never left waiting).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from fnmatch import fnmatchcase
from typing import TYPE_CHECKING, Any

from .cancellation import describe_failure, must_propagate
from .exceptions import PolicyError
from .inject import bind_call, describe, plan_call

if TYPE_CHECKING:
    from .context import Context
    from .dialect import Call

__all__ = ["DECLINE", "QUESTION_PARAMS", "QuestionHandlers"]

QUESTION_PARAMS = {"question": 0, "options": 1, "event": 2, "ctx": 3}
"""Parameter names an ``@app.on_question`` handler may declare."""

DECLINE: str | None = None
"""The answer sent when no handler answers: ``None``, which each dialect sends as its own
"declined" form (an empty answer, or the wire's decline)."""


class QuestionHandlers:
    """The ``@app.on_question`` handlers of one app, asked in registration order."""

    def __init__(self) -> None:
        self._handlers: list[tuple[str, Callable[..., Any], Callable[..., Any]]] = []

    def __len__(self) -> int:
        return len(self._handlers)

    def register(self, handler: Callable[..., Any], pattern: str = "*") -> None:
        """Add ``handler`` for questions whose text matches the glob ``pattern``."""
        positional, keywords = plan_call(handler, QUESTION_PARAMS, what="question handler")
        self._handlers.append((pattern, bind_call(handler, positional, keywords), handler))

    async def answer(self, call: Call, ctx: Context) -> tuple[str | None, str]:
        """``(answer, who)``: the first handler's answer, or ``(DECLINE, "default")``.

        A handler that raises anything but the run's own cancellation is reported as
        :class:`~agentflow.PolicyError` (the question is then declined).
        """
        text = call.text or ""
        for pattern, call_fn, handler in self._handlers:
            if not fnmatchcase(text, pattern):
                continue
            try:
                result = call_fn(text, call.options, call.event, ctx)
                if inspect.isawaitable(result):
                    result = await result
            except BaseException as exc:
                if must_propagate(exc):
                    raise
                raise PolicyError(
                    f"question handler {describe(handler)!r} raised {describe_failure(exc)}"
                ) from exc
            if result is not None:
                return str(result), describe(handler)
        return DECLINE, "default"
