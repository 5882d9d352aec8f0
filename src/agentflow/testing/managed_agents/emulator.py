"""The :class:`Emulator`: a local Managed Agents server on 127.0.0.1 driven by a scenario.

::

    async with Emulator(Scenario.simple("Hello!")) as emu:
        client = AsyncAnthropic(api_key=emu.api_key, base_url=emu.base_url)
        ...
        assert emu.history(session_id)[-1]["type"] == "session.status_idle"

uvicorn runs inside the current event loop (asyncio) and is stopped, with every stream closed,
when the block exits. ``with Emulator(...).run_in_thread() as emu:`` runs it on a background
thread for synchronous code. Test knobs (all documented below): :meth:`emit`,
:meth:`terminate`, :meth:`interrupt`, :meth:`delete`, :meth:`drop_streams`,
:meth:`stream_error`, :meth:`fail_next`, :meth:`disorder`, :meth:`create_session`,
:meth:`send`, plus the :attr:`requests` log, :meth:`history`, :attr:`sessions` and the
``wait_for_*`` helpers.

``Emulator(scenario, dialect=NAME)`` serves the same scenario on another wire instead
(``"messages"``, ``"everruns"``, ``"m8tes"``): it returns that dialect's emulator.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._frames import Frame
from .._local_server import DEFAULT_API_KEY, LocalServer
from ..scenario import Scenario
from .engine import Engine
from .session import EmulatedSession

if TYPE_CHECKING:
    from .server import Controls, FailRule, RequestRecord
    from .webhooks import WebhookDelivery, WebhookSender

__all__ = ["DEFAULT_API_KEY", "DIALECT_EMULATORS", "Emulator", "as_scenario"]

DIALECT_EMULATORS: dict[str, str] = {
    "messages": "agentflow.testing.messages:MessagesEmulator",
    "everruns": "agentflow.testing.everruns:EverrunsEmulator",
    "m8tes": "agentflow.testing.m8tes:M8tesEmulator",
}
"""``dialect`` name -> ``module:class`` of its emulator (Managed Agents is this module)."""


def as_scenario(scenario: Scenario | Mapping[str, Any] | str | Path | None) -> Scenario:
    """A :class:`Scenario` from an object, its JSON dict, or a path to a JSON file."""
    if scenario is None:
        return Scenario()
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, Mapping):
        return Scenario.from_dict(scenario)
    return Scenario.load(scenario)


def _dialect_emulator(dialect: str) -> type[Any]:
    target = DIALECT_EMULATORS.get(dialect)
    if target is None:
        known = ", ".join(sorted(["managed_agents", *DIALECT_EMULATORS]))
        raise ValueError(f"unknown emulator dialect {dialect!r}; expected one of: {known}")
    module, _, name = target.partition(":")
    cls: type[Any] = getattr(importlib.import_module(module), name)
    return cls


class Emulator(LocalServer):
    """A faithful local Managed Agents session server for tests, demos and other clients.

    ``scenario`` is a :class:`Scenario`, its JSON dict, or a path to a JSON file. With
    ``api_key=None`` any non-empty key is accepted (``emu.api_key`` is then a placeholder);
    with a key, exactly that key is required (401 otherwise). ``host`` must be a loopback
    address; ``port=0`` picks a free port. Shutdown is bounded by ``shutdown_timeout``.
    ``dialect`` other than ``"managed_agents"`` returns that wire's emulator instead.

    With ``webhook_url`` (a loopback URL) and ``webhook_secret`` (``whsec_...``), every status
    change of a session is also POSTed there as a signed thin session webhook
    (:mod:`~agentflow.testing.managed_agents.webhooks`); ``webhook_duplicates`` (0..1)
    redelivers that fraction once more; ``webhook_concurrency`` POSTs that many at once (one
    by one, in order, by default). See :attr:`webhook_deliveries`.
    """

    dialect = "managed_agents"

    def __new__(cls, *args: Any, dialect: str = "managed_agents", **kwargs: Any) -> Any:
        if dialect == "managed_agents" or cls is not Emulator:
            return super().__new__(cls)
        return _dialect_emulator(dialect)(*args, **kwargs)

    def __init__(
        self,
        scenario: Scenario | Mapping[str, Any] | str | Path | None = None,
        *,
        dialect: str = "managed_agents",
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        shutdown_timeout: float = 5.0,
        webhook_url: str | None = None,
        webhook_secret: str | None = None,
        webhook_duplicates: float = 0.0,
        webhook_concurrency: int = 1,
    ) -> None:
        super().__init__(api_key=api_key, host=host, port=port, shutdown_timeout=shutdown_timeout)
        self.scenario = as_scenario(scenario)
        self._engine = Engine(self.scenario)
        self._engine.errors = self._errors
        self._engine.spawn = self.spawn
        self._controls: Controls | None = None
        self._webhooks: WebhookSender | None = None
        if webhook_url is not None or webhook_secret is not None:
            self._webhooks = self._webhook_sender(
                webhook_url, webhook_secret, webhook_duplicates, webhook_concurrency
            )

    def _webhook_sender(
        self, url: str | None, secret: str | None, duplicates: float, concurrency: int
    ) -> WebhookSender:
        from .webhooks import WebhookSender

        if not url or not secret:
            raise ValueError("webhooks need both webhook_url and webhook_secret")
        sender = WebhookSender(
            url,
            secret,
            duplicates=duplicates,
            seed=self.scenario.faults.seed,
            concurrency=concurrency,
        )
        sender.spawn = self.spawn
        sender.notify = self._engine.notify
        self._engine.on_event = sender.observe
        return sender

    def __repr__(self) -> str:
        state = self.base_url if self.running else "not running"
        return f"<Emulator {state} sessions={len(self._engine.sessions)}>"

    def build_app(self) -> Any:
        """The Starlette app serving the session API."""
        from .server import Controls, build_app

        self._controls = Controls(self._engine, self._required_key)
        return build_app(self._controls)

    def close_streams(self) -> None:
        """End every open stream of every session."""
        for session in self._engine.sessions.values():
            session.close_streams()

    # -- inspection -----------------------------------------------------------------------

    @property
    def sessions(self) -> Mapping[str, EmulatedSession]:
        """Every session created so far (deleted ones included, flagged ``deleted``)."""
        return self._engine.sessions

    def session(self, session_id: str) -> EmulatedSession:
        """One session by id (``KeyError`` when unknown)."""
        return self._engine.sessions[session_id]

    def history(self, session_id: str) -> list[dict[str, Any]]:
        """A copy of the session's stored events, in ``processed_at`` order (no previews)."""
        return list(self._engine.sessions[session_id].history)

    def pending(self, session_id: str) -> list[str]:
        """Ids of the tool-call events the session currently waits on."""
        return list(self._engine.sessions[session_id].pending)

    @property
    def webhook_deliveries(self) -> list[WebhookDelivery]:
        """Every webhook POST made so far, in order (empty without a ``webhook_url``)."""
        return [] if self._webhooks is None else list(self._webhooks.deliveries)

    async def wait_for_webhooks(self, count: int) -> list[WebhookDelivery]:
        """Wait until ``count`` webhook POSTs were made; returns them all.

        Waits without limit: bound it with ``anyio.fail_after``.
        """
        await self._engine.wait_until(lambda: len(self.webhook_deliveries) >= count)
        return self.webhook_deliveries

    @property
    def requests(self) -> list[RequestRecord]:
        """Every answered request as ``RequestRecord(method, path, status, query)``."""
        return [] if self._controls is None else list(self._controls.requests)

    def stream_count(self, session_id: str) -> int:
        """How many stream connections of the session are open now."""
        return len(self._engine.sessions[session_id].subscribers)

    async def wait_for_streams(self, session_id: str, count: int = 1) -> None:
        """Wait until at least ``count`` stream connections of the session are open.

        Waits without limit: bound it with ``anyio.fail_after``.
        """
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

    async def wait_until_quiet(self, session_id: str) -> None:
        """Wait until the session's scripted agent has stopped: its turn ended or blocked,
        and no queued input is left, so nothing more is emitted until something is sent.

        The way to check that something did *not* happen, without sleeping. Waits without
        limit: bound it with ``anyio.fail_after``.
        """
        sessions = self._engine.sessions
        await self._engine.wait_until(lambda: not sessions[session_id].driving)

    # -- knobs ----------------------------------------------------------------------------

    def create_session(
        self, agent: Any = "agent_emulated", environment_id: str = "env_emulated", **body: Any
    ) -> str:
        """Create a session directly (no HTTP); returns its id."""
        payload = {"agent": agent, "environment_id": environment_id, **body}
        return self.call(lambda: self._engine.create_session(payload).id)

    def send(self, session_id: str, events: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Send client events directly, as ``events.send`` does (raises ``ApiError`` on 400)."""
        return self.call(lambda: self._engine.send(self._engine.get(session_id), events))

    def emit(self, session_id: str, event: dict[str, Any]) -> dict[str, Any]:
        """Store and stream an arbitrary server event (``id`` / ``processed_at`` added)."""
        if not isinstance(event.get("type"), str):
            raise ValueError("an event needs a string 'type'")
        return self.call(lambda: self._engine.emit(self._engine.get(session_id), event))

    def terminate(self, session_id: str) -> None:
        """Terminate the session: ``session.status_terminated``, then its streams end."""
        self.call(lambda: self._engine.terminate(self._engine.get(session_id)))

    def interrupt(self, session_id: str) -> None:
        """Interrupt the turn in progress (as a ``user.interrupt`` would, without the echo)."""
        self.call(lambda: self._engine.interrupt(self._engine.get(session_id)))

    def delete(self, session_id: str) -> None:
        """Delete the session: ``session.deleted`` ends its streams; the API then answers 404."""
        self.call(lambda: self._engine.delete(self._engine.get(session_id)))

    def drop_streams(self, session_id: str | None = None) -> int:
        """Cut the open stream connections (of one session, or all) abruptly; returns how many."""

        def drop() -> int:
            targets = [self._engine.sessions[session_id]] if session_id else self.sessions.values()
            return sum(self._engine.drop_streams(s) for s in targets)

        return self.call(drop)

    def disorder(
        self,
        session_id: str,
        *,
        skip_live: Iterable[int] = (),
        swap_live: Iterable[int] = (),
        late: Iterable[int] = (),
    ) -> None:
        """Make the session's live stream skip, swap or delay stored events, counted from 1
        over every event the session stores from its creation on (see
        :class:`~agentflow.testing.managed_agents.disorder.Disorder`)."""
        from .disorder import Disorder

        def plan() -> None:
            session = self._engine.get(session_id)
            session.disorder = Disorder.of(
                skip_live=skip_live, swap_live=swap_live, late=late, count=len(session.history)
            )

        self.call(plan)

    def stream_error(
        self,
        session_id: str,
        error_type: str = "overloaded_error",
        message: str = "Emulated stream error.",
    ) -> int:
        """Send an ``event: error`` frame on the session's open streams, then end them."""
        from .._sse import error_frame

        frame = Frame("error", "error", error_frame(error_type, message))
        return self.call(
            lambda: self._engine.drop_streams(self._engine.sessions[session_id], frame)
        )

    def fail_next(
        self,
        status: int,
        *,
        count: int = 1,
        path: str | None = None,
        method: str | None = None,
        error_type: str | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FailRule:
        """Answer the next ``count`` requests matching ``method`` and ``path`` with ``status``
        and the error envelope.

        ``path`` is the full request path (``"/v1/sessions/sesn_x/events/stream"``), or a
        prefix ending in ``*`` (``"/v1/sessions/*"``); ``None`` matches every request.

        ``retry_after`` (seconds) sets ``retry-after`` and ``retry-after-ms``; ``headers`` adds
        more (e.g. ``{"x-should-retry": "false"}``). Rules are checked before authentication.
        """
        from .server import FailRule

        if self._controls is None:
            raise RuntimeError("the emulator is not running")
        extra = dict(headers or {})
        if retry_after is not None:
            extra.setdefault("retry-after", str(math.ceil(retry_after)))
            extra.setdefault("retry-after-ms", str(int(retry_after * 1000)))
        rule = FailRule(status, count, path, method, error_type, message, extra)
        self._controls.fail_rules.append(rule)
        return rule
