"""Every ``session.error`` retry_status and every idle stop_reason gets its documented reaction.

Table-driven, against the emulator with the real client and ``app.run``:

- ``ErrorEscalation`` (defaults: ``retrying`` -> log, ``exhausted`` -> log, ``terminal`` ->
  raise, an unknown or missing status -> as terminal) and each configurable action
  (``ignore``, ``log``, ``interrupt``, ``stop``, ``raise``);
- ``app.run``: a turn-ending idle ends the run with its ``stop_reason`` (including reasons
  this version does not know); ``requires_action`` is answered and the run goes on.
"""

from __future__ import annotations

import logging
from typing import Any, Literal

import anyio
import pytest

from agentflow import App, ManagedAgentsClient, RunResult, SessionErrorRaised, user_message
from agentflow.middleware import ErrorEscalation
from agentflow.testing import (
    CustomTool,
    Emit,
    Emulator,
    Error,
    Say,
    Scenario,
    Step,
    Stop,
    Turn,
    Wait,
)

ERRORS_LOGGER = "agentflow.errors"


SCRIPTED: dict[str | None, Literal["retrying", "exhausted", "terminal"]] = {
    "retrying": "retrying",
    "exhausted": "exhausted",
    "terminal": "terminal",
}
"""The statuses the emulator scripts itself (``Error`` steps)."""


def session_error(status: str | None) -> Step:
    """A ``session.error`` step; statuses the emulator does not script are emitted raw."""
    scripted = SCRIPTED.get(status)
    if scripted is not None:
        return Error("model_overloaded_error", scripted)
    error: dict[str, Any] = {"type": "unknown_error", "message": "Something new."}
    if status is not None:
        error["retry_status"] = {"type": status}
    return Emit({"type": "session.error", "error": error})


def new_app(escalation: ErrorEscalation | None) -> tuple[App, list[str]]:
    app = App()
    app.load_entrypoints = False
    seen: list[str] = []

    @app.on("*")
    def record(event: Any) -> None:
        seen.append(event.type)

    if escalation is not None:
        app.use(escalation)
    return app, seen


async def run_turn(
    app: App, steps: list[Step]
) -> tuple[RunResult | BaseException, list[dict[str, Any]]]:
    """One turn on a fresh session: the run's result (or what it raised) and the history."""
    async with Emulator(Scenario([Turn(steps)])) as emu:
        sid = emu.create_session()
        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            outcome: RunResult | BaseException
            with anyio.fail_after(15):
                try:
                    outcome = await app.run(client, sid, send=[user_message("go")])
                except SessionErrorRaised as exc:
                    outcome = exc
        return outcome, emu.history(sid)


# -- session.error x ErrorEscalation ---------------------------------------------------------

# (retry_status, ErrorEscalation keywords, expected reaction)
#   reaction: "raise" | "stopped" | ("ends", stop_reason, logged?) ; "interrupted" adds a
#   user.interrupt to history and ends the turn before the rest of it ran.
ESCALATION_TABLE: list[tuple[str | None, dict[str, Any], Any]] = [
    ("retrying", {}, ("ends", "end_turn", True)),
    ("exhausted", {}, ("ends", "retries_exhausted", True)),
    ("terminal", {}, "raise"),
    ("paused_for_maintenance", {}, "raise"),  # unknown status: treated as terminal
    (None, {}, "raise"),  # no retry_status at all: the same
    ("retrying", {"retrying": "ignore"}, ("ends", "end_turn", False)),
    ("retrying", {"retrying": "raise"}, "raise"),
    ("retrying", {"retrying": "stop"}, "stopped"),
    ("retrying", {"retrying": "interrupt"}, "interrupted"),
    ("exhausted", {"exhausted": "raise"}, "raise"),
    ("exhausted", {"exhausted": "ignore"}, ("ends", "retries_exhausted", False)),
    ("terminal", {"terminal": "log"}, ("ends", "terminated", True)),
    ("paused_for_maintenance", {"terminal": "log"}, ("ends", "end_turn", True)),
]


def _id(row: tuple[str | None, dict[str, Any], Any]) -> str:
    status, options, _ = row
    return f"{status}-{','.join(f'{k}={v}' for k, v in options.items()) or 'defaults'}"


@pytest.mark.parametrize("row", ESCALATION_TABLE, ids=[_id(r) for r in ESCALATION_TABLE])
async def test_session_error_reaction(
    row: tuple[str | None, dict[str, Any], Any], caplog: pytest.LogCaptureFixture
) -> None:
    status, options, expected = row
    caplog.set_level(logging.WARNING, logger=ERRORS_LOGGER)
    app, seen = new_app(ErrorEscalation(**options))
    # The interrupt must land while the turn waits; it cuts the wait short.
    pause = 5.0 if expected == "interrupted" else 0.05
    steps = [Say("working"), session_error(status), Wait(pause), Say("recovered")]
    outcome, history = await run_turn(app, steps)
    logged = [
        r for r in caplog.records if r.name == ERRORS_LOGGER and "session.error" in r.getMessage()
    ]

    assert "session.error" in seen  # the handlers saw the event before any reaction
    if expected == "raise":
        assert isinstance(outcome, SessionErrorRaised)
        assert outcome.retry_status == status
        assert outcome.event is not None and outcome.event.type == "session.error"
        return
    assert isinstance(outcome, RunResult)
    if expected == "stopped":
        assert outcome.stop_reason == "stopped"
        assert "recovered" not in outcome.text
        return
    if expected == "interrupted":
        assert any(e["type"] == "user.interrupt" for e in history)
        assert outcome.stop_reason == "end_turn"
        assert outcome.text != "recovered"
        return
    _, stop_reason, was_logged = expected
    assert outcome.stop_reason == stop_reason
    assert bool(logged) == was_logged
    if was_logged:
        assert repr(status) in logged[0].getMessage()


async def test_without_error_escalation_a_session_error_is_just_an_event() -> None:
    app, seen = new_app(None)
    outcome, _ = await run_turn(app, [session_error("terminal")])
    assert isinstance(outcome, RunResult)
    assert outcome.stop_reason == "terminated"
    assert "session.error" in seen


# -- idle stop_reason x app.run ----------------------------------------------------------------

STOP_TABLE: list[tuple[str, list[Step], str]] = [
    ("end_turn", [Say("done")], "end_turn"),
    ("requires_action", [CustomTool("lookup", {"key": "a"}), Say("done")], "end_turn"),
    (
        "retries_exhausted",
        [Error("tool_use_limit_reached_error", "exhausted")],
        "retries_exhausted",
    ),
    ("budget_reached", [Stop("budget_reached")], "budget_reached"),
    ("refusal", [Stop("refusal", category="cyber")], "refusal"),
    ("unknown", [Stop("paused_for_review")], "paused_for_review"),
]


@pytest.mark.parametrize(
    ("reason", "steps", "expected"), STOP_TABLE, ids=[r[0] for r in STOP_TABLE]
)
async def test_idle_stop_reason_reaction(reason: str, steps: list[Step], expected: str) -> None:
    app, seen = new_app(ErrorEscalation())
    calls: list[str] = []

    @app.tool
    async def lookup(key: str) -> str:
        """Look a key up."""
        calls.append(key)
        return f"value of {key}"

    outcome, history = await run_turn(app, [Say("working"), *steps])
    assert isinstance(outcome, RunResult)
    idles = [e for e in history if e["type"] == "session.status_idle"]
    assert outcome.stop_reason == expected == idles[-1]["stop_reason"]["type"]
    assert outcome.ok == (expected == "end_turn")
    assert seen[-1] == "session.status_idle"  # the run ended on the idle, after dispatching it
    if reason == "requires_action":
        # answered, then the turn went on: one tool run, one reply, two idles
        assert calls == ["a"]
        assert [i["stop_reason"]["type"] for i in idles] == ["requires_action", "end_turn"]
        assert [c.outcome for c in outcome.tool_calls] == ["ok"]
        assert outcome.text == "done"
    else:
        assert calls == []
        assert len(idles) == 1
