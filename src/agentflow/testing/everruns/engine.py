"""The Everruns emulator's state machine: sessions, messages, turns, answers and cancel.

::

    started/idle ──message──► active ──steps──► idle (turn.completed / failed, session.idled)
                                │  client-side tools
                                ├──► waitingfortoolresults ──all results──► active
                                │  approvals / questions
                                └──► active (pending_approvals / pending_questions) ──answers──►

A message that arrives while a turn runs waits for the next turn; one that arrives while the
session waits for tool results cancels the wait (the calls complete with ``success: false``,
the turn ends with ``turn.cancelled``, reason ``new_message``) and starts a new turn, as the
platform's client-side tool spec describes. No HTTP here.
"""

from __future__ import annotations

import logging
from typing import Any

import anyio

from .gates import submit_answers, submit_approvals, submit_tool_results
from .hub import Hub
from .state import EverrunsSession, completed_data
from .turns import end_turn, run_steps, start_turn
from .wire import invalid

__all__ = ["HARNESS_ID", "ORGANIZATION_ID", "Engine"]

logger = logging.getLogger("agentflow.testing")

HARNESS_ID = "harness_00000000000000000000000000000001"
ORGANIZATION_ID = "org_00000000000000000000000000000001"
_PART_TYPES = frozenset(("text", "image", "image_file", "tool_call", "tool_result"))


def _check_tools(tools: Any) -> list[dict[str, Any]]:
    """Session tools: the platform keeps only ``client_side`` definitions (others dropped)."""
    if tools is None:
        return []
    if not isinstance(tools, list):
        raise invalid("'tools' must be a list of tool definitions")
    kept = []
    for i, tool in enumerate(tools):
        if not isinstance(tool, dict) or not isinstance(tool.get("name"), str) or not tool["name"]:
            raise invalid(f"tools[{i}] must be an object with a non-empty 'name'")
        if tool.get("type", "client_side") == "client_side":
            kept.append({**tool, "type": "client_side"})
    return kept


def _check_message(body: dict[str, Any]) -> tuple[list[dict[str, Any]], Any]:
    message = body.get("message")
    if not isinstance(message, dict):
        raise invalid("'message' must be an object with 'role' and 'content'")
    if message.get("role", "user") != "user":
        raise invalid(
            f"message.role must be 'user', got {message.get('role')!r} "
            "(send client tool results to POST /v1/sessions/{id}/tool-results)"
        )
    content = message.get("content")
    if not isinstance(content, list) or not content:
        raise invalid("message.content must be a non-empty list of content parts")
    for i, part in enumerate(content):
        if not isinstance(part, dict) or part.get("type") not in _PART_TYPES:
            raise invalid(f"message.content[{i}] must be a part of type {sorted(_PART_TYPES)}")
        if part["type"] == "text" and not isinstance(part.get("text"), str):
            raise invalid(f"message.content[{i}].text must be a string")
    return content, body.get("controls")


class Engine(Hub):
    """Every session of one emulator, and the tasks that run their turns."""

    def create_session(self, body: dict[str, Any]) -> EverrunsSession:
        """Create a session from a ``sessions.create`` body (any agent / harness accepted)."""
        for a, b in (("agent_id", "agent_name"), ("harness_id", "harness_name")):
            if body.get(a) is not None and body.get(b) is not None:
                raise invalid(f"give either {a!r} or {b!r}, not both")
        title = body.get("title")
        if title is not None and not isinstance(title, str):
            raise invalid("'title' must be a string")
        now = self.clock.stamp()
        resource = {
            **body,
            "id": self.ids.new("session"),
            "organization_id": ORGANIZATION_ID,
            "harness_id": body.get("harness_id") or HARNESS_ID,
            "title": title,
            "tags": list(body.get("tags") or []),
            "tools": _check_tools(body.get("tools")),
            "created_at": now,
            "updated_at": now,
        }
        session = EverrunsSession(resource["id"], resource)
        self.sessions[session.id] = session
        self.notify()
        return session

    def post_message(self, session: EverrunsSession, body: dict[str, Any]) -> dict[str, Any]:
        """Store a user message (``input.message``) and start or queue its turn."""
        content, controls = _check_message(body)
        message: dict[str, Any] = {
            "id": self.ids.new("message"),
            "role": "user",
            "content": content,
            "created_at": self.clock.stamp(),
        }
        if isinstance(controls, dict):
            message["controls"] = controls
        session.messages.append(message)
        if session.status == "waitingfortoolresults":
            self._abandon(session, "new_message", "Cancelled: user sent a new message")
        self.emit(session, "input.message", {"message": message}, context={})
        if session.active is None and not session.queued:
            start_turn(self, session, message)
        else:
            session.queued.append(message)
        self.kick(session)
        return message

    def cancel(self, session: EverrunsSession) -> dict[str, Any]:
        """Cancel the running turn (``turn.cancelled``) and drop queued input."""
        if session.active is None and not session.queued:
            return {"status": "no_op"}
        session.queued.clear()
        if session.active is not None:
            self._abandon(session, "cancelled", "Cancelled: the turn was cancelled")
        return {"status": "cancelled"}

    def delete(self, session: EverrunsSession) -> None:
        """Delete the session: its streams end and the API answers 404 afterwards."""
        self._stop_driver(session)
        session.close_streams()
        session.deleted = True
        self.notify()

    def tool_results(self, session: EverrunsSession, body: dict[str, Any]) -> dict[str, Any]:
        """``POST .../tool-results``."""
        return self._answer(session, *submit_tool_results(self, session, body))

    def tool_approvals(self, session: EverrunsSession, body: dict[str, Any]) -> dict[str, Any]:
        """``POST .../tool-approvals``."""
        return self._answer(session, *submit_approvals(self, session, body))

    def question_answers(self, session: EverrunsSession, body: dict[str, Any]) -> dict[str, Any]:
        """``POST .../question-answers``."""
        return self._answer(session, *submit_answers(self, session, body))

    def _answer(
        self, session: EverrunsSession, response: dict[str, Any], resumed: bool
    ) -> dict[str, Any]:
        if resumed:
            self.kick(session)
        return response

    def _abandon(self, session: EverrunsSession, reason: str, error: str) -> None:
        """Stop the turn: every call still waiting completes as cancelled, then the turn."""
        self._stop_driver(session)
        turn = session.active
        if turn is None:
            return
        for call in turn.waiting:
            if not call.answered:
                call.success, call.status, call.error = False, "cancelled", error
            self.emit(session, "tool.completed", completed_data(call))
        end_turn(self, session, "turn.cancelled", reason=reason)

    # -- the driver task ------------------------------------------------------------------

    def kick(self, session: EverrunsSession) -> None:
        """Start the session's driver task when it has work and is not waiting."""
        if session.driving or session.deleted or session.pending:
            return
        if session.active is None and not session.queued:
            return
        if self.spawn is None:
            raise RuntimeError("the emulator is not running")
        session.driving = True
        session.driver_gen += 1
        gen = session.driver_gen

        async def drive() -> None:
            clean = False
            try:
                await self._drive(session)
                clean = True
            except Exception as exc:  # an emulator bug: keep serving, report it at exit
                logger.exception("emulator turn failed in session %s", session.id)
                self.errors.append(exc)
            finally:
                if session.driver_gen == gen:
                    session.driving = False
                    session.cancel_scope = None
                    if clean:
                        self.kick(session)  # work that arrived as the driver stopped

        self.spawn(drive)

    async def _drive(self, session: EverrunsSession) -> None:
        with anyio.CancelScope() as scope:
            session.cancel_scope = scope
            while True:
                if session.active is None:
                    if not session.queued:
                        return
                    start_turn(self, session, session.queued.pop(0))
                if await run_steps(self, session) == "blocked":
                    return

    def _stop_driver(self, session: EverrunsSession) -> None:
        if session.cancel_scope is not None:
            session.cancel_scope.cancel()
        session.driving = False
        session.cancel_scope = None
        session.driver_gen += 1
