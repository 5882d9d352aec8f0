"""What running a turn needs: the engine as a protocol, pacing, model request spans, usage."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

import anyio

from .session import EmulatedSession

if TYPE_CHECKING:
    from .._wire import Ids
    from ..scenario import Scenario

__all__ = ["Engine", "Span", "emit_usage", "outcome_evaluation", "pace", "text_blocks"]


class Engine(Protocol):
    """What running a turn needs of the session engine (:class:`.engine.Engine` is one)."""

    scenario: Scenario
    ids: Ids

    def emit(self, session: EmulatedSession, event: dict[str, Any]) -> dict[str, Any]:
        """Store and stream an event."""
        ...

    def emit_idle(
        self,
        session: EmulatedSession,
        stop_reason: dict[str, Any],
        stop_details: dict[str, Any] | None = None,
    ) -> None:
        """Go idle with ``stop_reason``."""
        ...

    def terminate(self, session: EmulatedSession, event: dict[str, Any] | None = None) -> None:
        """End the session."""
        ...

    def emit_pause(self, session: EmulatedSession) -> None:
        """Idle with ``requires_action`` (the session's, or the blocked thread's)."""
        ...

    def thread_named(self, session: EmulatedSession, name: str) -> str:
        """The id of the subagent thread ``name`` (created on first use)."""
        ...

    def thread_running(self, session: EmulatedSession, thread_id: str) -> None:
        """Emit ``session.thread_status_running``."""
        ...


def text_blocks(text: str) -> list[dict[str, Any]]:
    return [{"type": "text", "text": text}]


async def pace(engine: Engine) -> None:
    delay = engine.scenario.step_delay
    if delay > 0:
        await anyio.sleep(delay)
    else:
        await anyio.lowlevel.checkpoint()


def emit_usage(engine: Engine, session: EmulatedSession) -> None:
    engine.emit(session, {"type": "session.usage", "usage": dict(session.usage)})


def outcome_evaluation(engine: Engine, session: EmulatedSession) -> None:
    outcomes = [e for e in session.history if e["type"] == "user.define_outcome"]
    outcome_id = outcomes[-1]["outcome_id"] if outcomes else engine.ids.new("outc")
    start = engine.emit(
        session, {"type": "span.outcome_evaluation_start", "outcome_id": outcome_id, "iteration": 0}
    )
    engine.emit(
        session,
        {"type": "span.outcome_evaluation_ongoing", "outcome_id": outcome_id, "iteration": 0},
    )
    engine.emit(
        session,
        {
            "type": "span.outcome_evaluation_end",
            "outcome_id": outcome_id,
            "iteration": 0,
            "outcome_evaluation_start_id": start["id"],
            "result": "satisfied",
            "explanation": "The emulated outcome is always satisfied.",
            "usage": {
                "input_tokens": 10,
                "output_tokens": 5,
                "cache_read_input_tokens": 0,
                "cache_creation_input_tokens": 0,
            },
        },
    )


class Span:
    """One ``span.model_request_start`` … ``span.model_request_end`` pair."""

    def __init__(self, engine: Engine, session: EmulatedSession) -> None:
        self.engine = engine
        self.session = session
        self.output_chars = 0

    async def __aenter__(self) -> Span:
        self.start = self.engine.emit(self.session, {"type": "span.model_request_start"})
        await pace(self.engine)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if exc_info[0] is not None:
            return
        usage = {
            "input_tokens": 100,
            "output_tokens": 1 + self.output_chars // 4,
            "cache_read_input_tokens": 0,
            "cache_creation_input_tokens": 0,
        }
        self.session.usage["input_tokens"] += usage["input_tokens"]
        self.session.usage["output_tokens"] += usage["output_tokens"]
        self.engine.emit(
            self.session,
            {
                "type": "span.model_request_end",
                "model_request_start_id": self.start["id"],
                "model_usage": usage,
                "is_error": False,
            },
        )
        await pace(self.engine)
