"""The :class:`EverrunsEmulator`: a local Everruns session server driven by a scenario.

::

    async with EverrunsEmulator(scenario) as emu:
        client = Everruns(api_key=emu.api_key, base_url=emu.base_url)        # management
        agent = AgentClient(agent_url=emu.agent_url, credential=emu.agent_key)  # channel
        ...
        await emu.wait_for_event(session_id, "session.idled")

Also ``agentflow.testing.Emulator(scenario, dialect="everruns")``. ``deterministic=True``
starts the clock at 2026-01-01T00:00:00Z and advances it one millisecond per reading, so
the same requests give byte-identical streams (recordings, benchmarks).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .._frames import DROP, Frame
from .._local_server import DEFAULT_API_KEY, LocalServer
from ..faults import Faults
from ..managed_agents.emulator import as_scenario
from ..managed_agents.server import FailRule
from ..scenario import Scenario
from .engine import Engine
from .server import Controls, EverrunsRequest
from .state import EverrunsSession, ToolCall
from .wire import DISCONNECTING

__all__ = ["CHANNEL_ID", "EverrunsEmulator"]

CHANNEL_ID = "apichan_00000000000000000000000000000001"


class EverrunsEmulator(LocalServer):
    """A faithful local Everruns server (management and channel surfaces) for tests.

    ``api_key`` / ``agent_key``: ``None`` accepts any non-empty credential on that surface; a
    string requires exactly it (401 otherwise). ``agent_key`` defaults to ``api_key``.

    ``stream_faults`` varies the stream faults per connection: the n-th ``/sse`` connection
    (counted over the whole emulator, from 0) streams with ``stream_faults[n % len]``
    instead of the scenario's faults, so one run can mix faults that end a connection in
    different ways (a drop on one, a stall on the next). HTTP faults stay the scenario's.
    """

    path_prefix = "/api"
    dialect = "everruns"

    def __init__(
        self,
        scenario: Scenario | Mapping[str, Any] | str | Path | None = None,
        *,
        api_key: str | None = None,
        agent_key: str | None = None,
        channel_id: str = CHANNEL_ID,
        deterministic: bool = False,
        stream_faults: Sequence[Faults] = (),
        host: str = "127.0.0.1",
        port: int = 0,
        shutdown_timeout: float = 5.0,
    ) -> None:
        super().__init__(api_key=api_key, host=host, port=port, shutdown_timeout=shutdown_timeout)
        if agent_key is not None and not agent_key:
            raise ValueError("agent_key must be a non-empty string or None")
        self.scenario = as_scenario(scenario)
        self.channel_id = channel_id
        self._agent_key = agent_key if agent_key is not None else api_key
        self._engine = Engine(self.scenario, deterministic=deterministic)
        self._engine.errors = self._errors
        self._engine.spawn = self.spawn
        self._engine.stream_faults = tuple(stream_faults)
        self._controls = Controls(self._engine, api_key, self._agent_key, channel_id)

    def __repr__(self) -> str:
        state = self.base_url if self.running else "not running"
        return f"<EverrunsEmulator {state} sessions={len(self._engine.sessions)}>"

    def build_app(self) -> Any:
        """The Starlette app serving both surfaces."""
        from .routes import build_app

        return build_app(self._controls)

    def close_streams(self) -> None:
        """End every open stream of every session."""
        for session in self._engine.sessions.values():
            session.close_streams()

    @property
    def agent_url(self) -> str:
        """The channel surface's base, what ``AgentClient(agent_url=...)`` takes."""
        return f"{self.base_url}/v1/channels/{self.channel_id}"

    @property
    def agent_key(self) -> str:
        """The credential channel clients should send (the required one, or a placeholder)."""
        return self._agent_key or DEFAULT_API_KEY

    # -- inspection -----------------------------------------------------------------------

    @property
    def sessions(self) -> Mapping[str, EverrunsSession]:
        """Every session created so far (deleted ones included, flagged ``deleted``)."""
        return self._engine.sessions

    def session(self, session_id: str) -> EverrunsSession:
        """One session by id (``KeyError`` when unknown)."""
        return self._engine.sessions[session_id]

    def history(self, session_id: str) -> list[dict[str, Any]]:
        """A copy of the session's stored events, in sequence order."""
        return list(self._engine.sessions[session_id].history)

    def pending(self, session_id: str) -> list[ToolCall]:
        """The calls the session waits on (client tools, approvals, questions)."""
        return list(self._engine.sessions[session_id].pending.values())

    @property
    def requests(self) -> list[EverrunsRequest]:
        """Every answered request, with its parsed body and auth style (never the key)."""
        return list(self._controls.requests)

    def stream_count(self, session_id: str) -> int:
        """How many stream connections of the session are open now."""
        return len(self._engine.sessions[session_id].subscribers)

    async def wait_for_streams(self, session_id: str, count: int = 1) -> None:
        """Wait until at least ``count`` streams of the session are open (bound it yourself)."""
        sessions = self._engine.sessions
        await self._engine.wait_until(
            lambda: session_id in sessions and len(sessions[session_id].subscribers) >= count
        )

    async def wait_for_event(
        self, session_id: str, event_type: str, *, count: int = 1
    ) -> dict[str, Any]:
        """Wait until history holds ``count`` events of ``event_type``; returns the last one.

        Waits without limit: bound it with ``anyio.fail_after``.
        """
        if count < 1:
            raise ValueError(f"count must be >= 1, got {count}")
        found: list[dict[str, Any]] = []
        scanned = 0

        def seen() -> bool:
            nonlocal scanned
            history = self._engine.sessions[session_id].history
            found.extend(e for e in history[scanned:] if e["type"] == event_type)
            scanned = len(history)
            return len(found) >= count

        await self._engine.wait_until(seen)
        return found[count - 1]

    async def wait_for_status(self, session_id: str, status: str) -> None:
        """Wait until the session's status is ``status`` (bound it with ``anyio.fail_after``)."""
        await self._engine.wait_until(lambda: self._engine.sessions[session_id].status == status)

    # -- knobs ----------------------------------------------------------------------------

    def create_session(self, **body: Any) -> str:
        """Create a session directly (no HTTP), as ``POST /v1/sessions`` would; returns its id."""
        return self.call(lambda: self._engine.create_session(body).id)

    def send_message(self, session_id: str, text: str) -> dict[str, Any]:
        """Post a user text message directly (starts or queues a turn); returns the Message."""
        body = {"message": {"role": "user", "content": [{"type": "text", "text": text}]}}
        return self.call(lambda: self._engine.post_message(self._engine.get(session_id), body))

    def emit(self, session_id: str, event_type: str, data: dict[str, Any]) -> dict[str, Any]:
        """Store and stream an arbitrary event of ``event_type`` in the session."""
        return self.call(lambda: self._engine.emit(self._engine.get(session_id), event_type, data))

    def cancel(self, session_id: str) -> dict[str, Any]:
        """Cancel the running turn, as ``POST .../cancel`` does."""
        return self.call(lambda: self._engine.cancel(self._engine.get(session_id)))

    def drop_streams(self, session_id: str | None = None) -> int:
        """Cut open stream connections (one session's, or all) abruptly; returns how many."""
        return self.call(lambda: self._close(session_id, DROP))

    def cycle_streams(self, session_id: str | None = None) -> int:
        """Send ``disconnecting`` and close open streams now, as a connection cycle does."""
        return self.call(lambda: self._close(session_id, Frame("raw", text=DISCONNECTING)))

    def _close(self, session_id: str | None, frame: Frame) -> int:
        targets = [self._engine.sessions[session_id]] if session_id else self.sessions.values()
        count = 0
        for session in targets:
            if frame.kind == "raw":
                for sub in session.subscribers:
                    sub.push(frame)
                count += session.close_streams()
            else:
                count += session.close_streams(frame)
        self._engine.notify()
        return count

    def fail_next(
        self,
        status: int,
        *,
        count: int = 1,
        path: str | None = None,
        method: str | None = None,
        code: str | None = None,
        message: str | None = None,
        retry_after: float | None = None,
    ) -> FailRule:
        """Answer the next ``count`` requests matching ``method`` / ``path`` (full path such as
        ``/api/v1/sessions/x/sse``, or a prefix ending in ``*``) with ``status``.

        ``retry_after`` (seconds) sets ``retry-after`` and ``retry-after-ms``. Rules are
        checked before authentication.
        """
        headers = {}
        if retry_after is not None:
            headers = {
                "retry-after": str(math.ceil(retry_after)),
                "retry-after-ms": str(int(retry_after * 1000)),
            }
        rule = FailRule(status, count, path, method, code, message, headers)
        self._controls.fail_rules.append(rule)
        return rule
