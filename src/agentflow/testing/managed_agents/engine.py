"""The emulator's session state machine: sessions, client input, turns and their transitions.

idle ──input──► running ──steps──► idle(stop_reason)
                  │  tool calls that need the client
                  └──────────────► idle(requires_action, every blocking id)
                                     │ partial answer: idle again with the rest
                                     └ all answered: running, results, rest of the turn

No HTTP here: the server module turns :class:`~._wire.ApiError` into responses.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

import anyio

from .._wire import Clock, Ids, invalid, not_found
from ..scenario import Scenario
from .resources import apply_update, new_session, render_session, render_thread
from .session import DROP, EmulatedSession, Frame, TurnState
from .turns import run_steps, tool_result_event
from .validate import validate_send

__all__ = ["Engine"]

logger = logging.getLogger("agentflow.testing")

Spawn = Callable[[Callable[[], Coroutine[Any, Any, None]]], object]


class Engine:
    """Holds every session of one emulator and runs their turns in background tasks."""

    def __init__(self, scenario: Scenario) -> None:
        self.scenario = scenario
        self.sessions: dict[str, EmulatedSession] = {}
        self.ids = Ids()
        self.clock = Clock()
        self.spawn: Spawn | None = None
        self._changed: anyio.Event | None = None
        self.errors: list[BaseException] = []
        self.on_event: Callable[[EmulatedSession, dict[str, Any]], None] | None = None
        """Called with every stored event (the webhook sender listens here)."""

    def notify(self) -> None:
        """Wake :meth:`wait_until` callers (an event was stored or a stream came or went)."""
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def wait_until(self, condition: Callable[[], bool]) -> None:
        """Wait until ``condition()`` is true, re-checking after every change (no polling)."""
        while not condition():
            if self._changed is None:
                self._changed = anyio.Event()
            await self._changed.wait()

    # -- sessions -------------------------------------------------------------------------

    def get(self, session_id: str) -> EmulatedSession:
        """The live session ``session_id``; 404 when unknown or deleted."""
        session = self.sessions.get(session_id)
        if session is None or session.deleted:
            raise not_found("session", session_id)
        return session

    def create_session(self, body: dict[str, Any]) -> EmulatedSession:
        """Create a session from a ``sessions.create`` body (any agent / environment id)."""
        session, initial = new_session(self.ids, self.clock, body)
        self.sessions[session.id] = session
        if initial:
            self.send(session, initial)
        return session

    def render(self, session: EmulatedSession) -> dict[str, Any]:
        """The ``Session`` resource as the API returns it."""
        return render_session(session)

    def render_thread(self, session: EmulatedSession, thread_id: str) -> dict[str, Any]:
        """The ``SessionThread`` resource (the primary thread or one announced by an event)."""
        return render_thread(session, thread_id)

    def update(self, session: EmulatedSession, body: dict[str, Any]) -> None:
        """Apply a ``sessions.update`` body and emit ``session.updated`` with what changed."""
        changed = apply_update(session, body, self.clock.stamp())
        if changed:
            self.emit(session, {"type": "session.updated", **changed})

    # -- events ---------------------------------------------------------------------------

    def emit(self, session: EmulatedSession, event: dict[str, Any]) -> dict[str, Any]:
        """Store and stream an event, adding ``id`` and ``processed_at`` when missing."""
        stored = dict(event)
        stored.setdefault("id", self.ids.new("sevt"))
        stored["processed_at"] = stored.get("processed_at") or self.clock.stamp()
        session.store(stored)
        self.notify()
        if self.on_event is not None:
            self.on_event(session, stored)
        etype = stored["type"]
        if etype == "session.thread_created" and isinstance(stored.get("session_thread_id"), str):
            session.threads[stored["session_thread_id"]] = {
                "agent_name": stored.get("agent_name", "agent"),
                "workflow_run_id": stored.get("workflow_run_id"),
                "status": "running",
            }
        elif (
            etype.startswith("session.thread_status_")
            and stored.get("session_thread_id") in session.threads
        ):
            session.threads[stored["session_thread_id"]]["status"] = etype.rsplit("_", 1)[-1]
        return stored

    def send(self, session: EmulatedSession, events: Any) -> list[dict[str, Any]]:
        """Handle ``events.send``: validate the whole batch, echo it, then act on it."""
        if session.terminated:
            raise invalid(f"session {session.id!r} is terminated and accepts no input")
        if session.resource.get("archived_at"):
            raise invalid(f"session {session.id!r} is archived and accepts no input")
        validate_send(session, events, self.scenario.self_hosted)
        echoes: list[dict[str, Any]] = []
        answered = False
        for raw in events:
            event = dict(raw)
            if event["type"] != "user.interrupt":
                event.pop("session_thread_id", None)  # set by the server only
                thread = _call_thread(session, event)
                if thread is not None:
                    event["session_thread_id"] = thread  # routed to that subagent
            if event["type"] == "user.define_outcome":
                event["outcome_id"] = self.ids.new("outc")
            echo = self.emit(session, event)
            echoes.append(echo)
            etype = event["type"]
            if etype in ("user.message", "user.define_outcome"):
                session.queued.append(etype)
            elif etype == "user.interrupt":
                self.interrupt(session)
            elif etype == "user.tool_confirmation":
                answered = True
                self._confirm(session, event)
            elif etype == "user.custom_tool_result":
                answered = True
                session.resolve(event["custom_tool_use_id"])
            elif etype == "user.tool_result":
                answered = True
                session.resolve(event["tool_use_id"])
        if answered and session.pending:
            self.emit_pause(session)
        self.kick(session)
        return echoes

    def emit_pause(self, session: EmulatedSession) -> None:
        """Idle with ``requires_action`` naming every pending call: the session's own idle,
        or the blocked subagent thread's (the session itself keeps running)."""
        stop = {"type": "requires_action", "event_ids": list(session.pending)}
        thread_id = session.active.blocked_thread if session.active is not None else None
        if thread_id is None:
            self.emit_idle(session, stop)
            return
        info = session.threads.get(thread_id, {})
        self.emit(
            session,
            {
                "type": "session.thread_status_idle",
                "session_thread_id": thread_id,
                "agent_name": info.get("agent_name", "agent"),
                "stop_reason": stop,
            },
        )

    def thread_named(self, session: EmulatedSession, name: str) -> str:
        """The id of the session's subagent thread called ``name``, created on first use."""
        for thread_id, info in session.threads.items():
            if info.get("agent_name") == name:
                return thread_id
        thread_id = self.ids.new("sthr")
        self.emit(
            session,
            {"type": "session.thread_created", "session_thread_id": thread_id, "agent_name": name},
        )
        return thread_id

    def thread_running(self, session: EmulatedSession, thread_id: str) -> None:
        """Emit ``session.thread_status_running`` for a subagent thread."""
        name = session.threads.get(thread_id, {}).get("agent_name", "agent")
        self.emit(
            session,
            {
                "type": "session.thread_status_running",
                "session_thread_id": thread_id,
                "agent_name": name,
            },
        )

    def _confirm(self, session: EmulatedSession, event: dict[str, Any]) -> None:
        call = session.pending[event["tool_use_id"]]
        call.verdict = event["result"]
        call.deny_message = event.get("deny_message")
        if (
            call.verdict == "allow"
            and self.scenario.self_hosted
            and call.event["type"] == "agent.tool_use"
        ):
            call.kind = "tool_result"  # a self-hosted sandbox runs it and posts user.tool_result
            call.verdict = None
            return
        session.resolve(event["tool_use_id"])

    def emit_idle(
        self,
        session: EmulatedSession,
        stop_reason: dict[str, Any],
        stop_details: dict[str, Any] | None = None,
    ) -> None:
        """Go idle with ``stop_reason``."""
        session.status = "idle"
        event: dict[str, Any] = {"type": "session.status_idle", "stop_reason": stop_reason}
        if stop_details is not None:
            event["stop_details"] = stop_details
        self.emit(session, event)

    # -- driving turns --------------------------------------------------------------------

    def kick(self, session: EmulatedSession) -> None:
        """Start the session's driver task when it has work and is not blocked."""
        if session.driving or session.terminated or session.deleted or session.pending:
            return
        if session.active is None and not session.queued:
            return
        if self.spawn is None:
            raise RuntimeError("the emulator is not running")
        session.driving = True
        session.driver_gen += 1
        gen = session.driver_gen

        async def drive() -> None:
            try:
                await self._drive(session)
            except Exception as exc:  # an emulator bug: keep serving, report it at exit
                logger.exception("emulator turn failed in session %s", session.id)
                self.errors.append(exc)
            finally:
                if session.driver_gen == gen:
                    session.driving = False
                    session.cancel_scope = None
                self.notify()  # tests wait for the driver to stop (emu.wait_until_quiet)

        self.spawn(drive)

    async def _drive(self, session: EmulatedSession) -> None:
        with anyio.CancelScope() as scope:
            session.cancel_scope = scope
            while not session.terminated:
                if session.active is None:
                    if not session.queued:
                        return
                    origin = session.queued.pop(0)
                    steps = self.scenario.turn(session.next_turn).steps
                    session.next_turn += 1
                    session.active = TurnState(steps, origin)
                    self._running(session)
                else:
                    thread_id = session.active.blocked_thread
                    session.active.blocked_thread = None
                    if thread_id is None:
                        self._running(session)
                    else:
                        self.thread_running(session, thread_id)
                    for call in session.active.resolved:
                        result = tool_result_event(call)
                        if result is not None:
                            self.emit(session, result)
                    session.active.resolved.clear()
                outcome = await run_steps(self, session)
                if outcome != "ended":
                    return

    def _running(self, session: EmulatedSession) -> None:
        session.status = "running"
        self.emit(session, {"type": "session.status_running"})

    def _stop_driver(self, session: EmulatedSession) -> None:
        if session.cancel_scope is not None:
            session.cancel_scope.cancel()
        session.driving = False
        session.cancel_scope = None
        session.driver_gen += 1
        self.notify()

    def interrupt(self, session: EmulatedSession) -> None:
        """``user.interrupt``: drop the turn in progress and queued input, idle with end_turn."""
        self._stop_driver(session)
        session.active = None
        session.pending.clear()
        session.queued.clear()
        self.emit_idle(session, {"type": "end_turn"})

    def terminate(self, session: EmulatedSession, event: dict[str, Any] | None = None) -> None:
        """Emit ``session.status_terminated`` (or ``event``) and end every stream of the session."""
        if session.terminated:
            return
        self._stop_driver(session)
        session.active = None
        session.pending.clear()
        session.queued.clear()
        session.status = "terminated"
        self.emit(session, event or {"type": "session.status_terminated"})
        session.close_streams()

    def delete(self, session: EmulatedSession) -> dict[str, Any]:
        """Delete: ``session.deleted`` ends every stream; the API answers 404 afterwards."""
        self._stop_driver(session)
        session.active = None
        session.pending.clear()
        session.queued.clear()
        self.emit(session, {"type": "session.deleted"})
        session.close_streams()
        session.deleted = True
        return {"id": session.id, "type": "session_deleted"}

    def archive(self, session: EmulatedSession) -> None:
        """Archive: the session stays readable but refuses input."""
        now = self.clock.stamp()
        session.resource["archived_at"] = now
        session.resource["updated_at"] = now

    def drop_streams(self, session: EmulatedSession, frame: Frame = DROP) -> int:
        """Close the session's open connections (abruptly by default); returns how many."""
        count = len(session.subscribers)
        session.close_streams(frame)
        return count


_REPLY_TARGETS = {
    "user.tool_confirmation": "tool_use_id",
    "user.custom_tool_result": "custom_tool_use_id",
    "user.tool_result": "tool_use_id",
}


def _call_thread(session: EmulatedSession, event: dict[str, Any]) -> str | None:
    """The subagent thread of the call a reply answers (the server routes it there)."""
    key = _REPLY_TARGETS.get(event["type"])
    call = session.pending.get(str(event.get(key))) if key else None
    thread = None if call is None else call.event.get("session_thread_id")
    return thread if isinstance(thread, str) else None
