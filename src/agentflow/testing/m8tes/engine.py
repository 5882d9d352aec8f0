"""The m8tes emulator's run state machine: runs, replies, re-attach, cancel and turn ends.

running ──turn ends──► completed / failed        (a reply re-opens the same run)
   │ a gate opens (streams close)
   └──► awaiting_approval ──approve / answer──► running
any live status ──cancel──► cancelled

No HTTP here: the server turns :class:`~.errors.M8tesApiError` into responses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import anyio

from .._frames import CLOSE
from .._local_server import Spawn
from .._wire import Clock, Ids
from ..scenario import Scenario
from .errors import conflict, invalid, not_found
from .gates import PERMISSION_MODES
from .run import EmulatedRun, RunSubscriber, event_frame
from .turns import run_turn

__all__ = ["Engine"]

logger = logging.getLogger("agentflow.testing")


class Engine:
    """Every run of one emulator, the idempotency keys it has seen and its test switches."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.runs: dict[int, EmulatedRun] = {}
        self.ids = Ids()
        self.clock = Clock()
        self.spawn: Spawn | None = None
        self.errors: list[BaseException] = []
        self.remembered: set[str] = set()
        """Tools an ``approve(remember=True)`` allowed for every later gate."""
        self.keys: dict[tuple[str, str], int] = {}
        self.hold_ends = False
        self._messages = 0
        self._changed: anyio.Event | None = None

    def notify(self) -> None:
        """Wake :meth:`wait_until` callers."""
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Wait until ``condition()`` holds, re-checked after every change (no polling)."""
        while not condition():
            if self._changed is None:
                self._changed = anyio.Event()
            await self._changed.wait()

    def get(self, run_id: int) -> EmulatedRun:
        """The run ``run_id``; 404 when unknown."""
        run = self.runs.get(run_id)
        if run is None:
            raise not_found(f"run {run_id} not found", "run_not_found")
        return run

    def emit(self, run: EmulatedRun, frame: dict[str, Any]) -> None:
        """Store and stream one frame of ``run``."""
        run.store(frame)
        self.notify()

    def replayed(self, scope: str, key: str | None) -> EmulatedRun | None:
        """The run an earlier request with this ``Idempotency-Key`` made, if any."""
        run_id = self.keys.get((scope, key)) if key else None
        return None if run_id is None else self.runs[run_id]

    # -- creating and continuing runs ---------------------------------------------------------

    def create(self, body: dict[str, Any], key: str | None) -> EmulatedRun:
        """``POST /runs/``: a new run whose first turn starts at once."""
        _check_input(body)
        run = EmulatedRun(
            id=len(self.runs) + 1,
            body=body,
            created_at=self.clock.stamp(),
            permission_mode=body.get("permission_mode"),
            human_in_the_loop=body.get("human_in_the_loop"),
        )
        run.updated_at = run.created_at
        self.runs[run.id] = run
        if key:
            self.keys[("create", key)] = run.id
        run.todo = 1
        self.kick(run)
        return run

    def reply(self, run: EmulatedRun, body: dict[str, Any], key: str | None) -> dict[str, Any]:
        """``POST /runs/{id}/reply``: the next turn now (ended run) or after this one."""
        _check_input(body)
        if body.get("permission_mode") is not None:
            run.permission_mode = body["permission_mode"]
        if body.get("human_in_the_loop") is not None:
            run.human_in_the_loop = body["human_in_the_loop"]
        if key:
            self.keys[(f"reply:{run.id}", key)] = run.id
        self._messages += 1
        receipt: dict[str, Any]
        if run.terminal:
            run.todo += 1
            run.status, run.stop_reason, run.error, run.error_code = "running", None, None, None
            receipt = {"delivery": "resumed"}
        else:
            run.queued.append(self._messages)
            receipt = {"delivery": "queued", "queued_message_id": self._messages}
        run.updated_at = self.clock.stamp()
        self.kick(run)
        self.notify()
        return receipt

    def next_turn(self, run: EmulatedRun) -> int:
        """The number of the last turn asked for so far (a new stream waits on it)."""
        return run.turn + run.todo + len(run.queued)

    def subscribe(self, run: EmulatedRun, turn: int) -> RunSubscriber:
        """A live stream of ``run`` that ends with turn ``turn``."""
        sub = RunSubscriber(turn)
        run.subscribers.add(sub)
        self.notify()
        return sub

    def attach(self, run: EmulatedRun) -> RunSubscriber:
        """``GET /runs/{id}/stream``: the whole run replayed, then live; 409 once it ended."""
        if run.terminal:
            raise conflict(f"run {run.id} is {run.status} and has no live stream", "run_not_active")
        sub = RunSubscriber(run.turn + run.todo)
        for frame in run.frames:  # replayed synchronously: no live frame can slip in between
            sub.push(event_frame(frame))
        if run.status == "awaiting_approval":
            sub.push(CLOSE)  # parked on a gate: the platform closes the stream
        else:
            run.subscribers.add(sub)
        self.notify()
        return sub

    def cancel(self, run: EmulatedRun) -> None:
        """``POST /runs/{id}/cancel``: stop the turn, cancel its gates and queued replies."""
        if run.terminal:
            raise conflict(f"run {run.id} is already {run.status}", "run_not_active")
        self._stop(run)
        now = self.clock.stamp()
        for gate in run.gates.values():
            if gate.status == "pending":
                gate.status, gate.resolved_at = "cancelled", now
                gate.answered.set()
        run.todo = 0
        run.queued.clear()
        self.emit(run, {"type": "cancelled", "run_id": run.id})
        run.status, run.stop_reason, run.updated_at = "cancelled", "cancelled", now
        run.end_streams()
        self.notify()

    # -- turns ----------------------------------------------------------------------------

    async def hold_point(self, run: EmulatedRun) -> None:
        """While :attr:`hold_ends` is set, a turn waits here before its closing frames."""
        if not self.hold_ends:
            return
        run.release = anyio.Event()
        run.held = True
        self.notify()
        try:
            await run.release.wait()
        finally:
            run.held = False
            run.release = None
            self.notify()

    def end_turn(self, run: EmulatedRun, status: str, stop_reason: str) -> None:
        """Record the turn's end and close the streams that waited on it with ``[DONE]``."""
        run.status, run.stop_reason = status, stop_reason
        run.output = "".join(run.text) or None
        run.updated_at = self.clock.stamp()
        if status == "failed":
            run.todo = 0
            run.queued.clear()
            run.end_streams()
        else:
            run.end_streams(run.turn)
        self.notify()

    def kick(self, run: EmulatedRun) -> None:
        """Start the run's driver task when it has a turn to run."""
        if run.driving or not (run.todo or run.queued):
            return
        if self.spawn is None:
            raise RuntimeError("the emulator is not running")
        run.driving = True
        run.driver_gen += 1
        gen = run.driver_gen

        async def drive() -> None:
            try:
                with anyio.CancelScope() as scope:
                    run.cancel_scope = scope
                    while run.todo or run.queued:
                        if run.todo:
                            run.todo -= 1
                        else:
                            run.queued.pop(0)
                        run.turn += 1
                        run.text = []
                        run.status = "running"
                        steps = self.scenario.turn(run.turn - 1).steps
                        await run_turn(self, run, steps)
            except Exception as exc:  # an emulator bug: keep serving, report it at exit
                logger.exception("emulator turn failed in run %s", run.id)
                self.errors.append(exc)
            finally:
                if run.driver_gen == gen:  # a cancel may have started another driver since
                    run.driving = False
                    run.cancel_scope = None
                self.notify()

        self.spawn(drive)

    def _stop(self, run: EmulatedRun) -> None:
        if run.cancel_scope is not None:
            run.cancel_scope.cancel()
        run.cancel_scope = None
        run.driving = False
        run.driver_gen += 1


def _check_input(body: dict[str, Any]) -> None:
    message = body.get("message")
    if not isinstance(message, str) or not message:
        raise invalid("message is required and must be a non-empty string")
    if not isinstance(body.get("stream", True), bool):
        raise invalid("stream must be a boolean")
    mode = body.get("permission_mode")
    if mode is not None and mode not in PERMISSION_MODES:
        raise invalid(f"permission_mode must be one of {sorted(PERMISSION_MODES)}, got {mode!r}")
    hitl = body.get("human_in_the_loop")
    if hitl is not None and not isinstance(hitl, bool):
        raise invalid("human_in_the_loop must be a boolean")
