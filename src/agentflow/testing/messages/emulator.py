"""The :class:`MessagesEmulator`: a local Claude Messages API (``POST /v1/messages``).

::

    async with MessagesEmulator(scenario) as emu:
        client = AsyncAnthropic(api_key=emu.api_key, base_url=emu.base_url)
        async with client.messages.stream(model="m", max_tokens=256, messages=[...]) as s:
            ...

Also ``agentflow.testing.Emulator(scenario, dialect="messages")``. Each request is answered
from its own ``messages`` list (see :mod:`.conversation`): no session is kept, so any client
that re-sends the conversation, as the Messages API requires, walks the scenario.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from .._frames import DROP
from .._local_server import LocalServer
from ..managed_agents.emulator import as_scenario
from ..managed_agents.server import FailRule
from ..scenario import Scenario
from .server import Controls, RecordedRequest, build_app

__all__ = ["MessagesEmulator"]


class MessagesEmulator(LocalServer):
    """A local Claude Messages API server for tests, driven by a :class:`Scenario`.

    Each scenario :class:`~agentflow.testing.Turn` is the agent's work for one user message;
    its steps render as Messages responses: ``Say`` a text block (several ``text_delta``\\ s),
    ``Think`` / ``Say(thinking=True)`` a thinking block (``thinking_delta``\\ s and a
    ``signature_delta``), consecutive tool steps (``CustomTool``, ``Tool``, ``McpTool``: all
    client tools here) parallel ``tool_use`` blocks and ``stop_reason: "tool_use"``; the
    request carrying their ``tool_result``\\ s continues the turn. ``Stop(reason)`` ends the
    response with that reason; ``Usage`` adds a ``message_delta`` with the usage so far;
    ``Error(type)`` sends ``event: error`` part way (once per position unless
    ``retry_status`` is ``exhausted`` / ``terminal``); ``Error(type, extra={"status": 529})``
    answers that HTTP status before any stream (``extra`` may add ``retry_after`` seconds and
    ``should_retry``); ``Question`` is said as text; ``Burst(n)`` is one text block of ``n``
    deltas; ``Emit`` writes its event as given; ``Wait`` pauses the stream.

    ``api_key=None`` accepts any non-empty key (``x-api-key`` or ``Authorization: Bearer``);
    a key makes exactly that key required (401 otherwise).
    """

    dialect = "messages"

    def __init__(
        self,
        scenario: Scenario | Mapping[str, Any] | str | Path | None = None,
        *,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        shutdown_timeout: float = 5.0,
    ) -> None:
        super().__init__(api_key=api_key, host=host, port=port, shutdown_timeout=shutdown_timeout)
        self.scenario = as_scenario(scenario)
        self._controls: Controls | None = None

    def __repr__(self) -> str:
        state = self.base_url if self.running else "not running"
        return f"<MessagesEmulator {state} requests={len(self.requests)}>"

    def build_app(self) -> Any:
        """The Starlette app serving ``POST /v1/messages``."""
        self._controls = Controls(self.scenario, self._required_key, self.spawn)
        return build_app(self._controls)

    def close_streams(self) -> None:
        """End every open stream (after the frames already queued)."""
        if self._controls is not None:
            self._controls.close_streams()

    def _running_controls(self) -> Controls:
        if self._controls is None:
            raise RuntimeError("the emulator is not running")
        return self._controls

    # -- inspection -----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every answered request: method, path, status, JSON body, headers, position."""
        return [] if self._controls is None else list(self._controls.requests)

    async def wait_for_request(self, count: int = 1) -> RecordedRequest:
        """Wait until ``count`` requests were answered and return the ``count``-th.

        A streamed request counts once its response starts. Waits without limit: bound it
        with ``anyio.fail_after``.
        """
        return await self._running_controls().wait_for_request(count)

    @property
    def stream_count(self) -> int:
        """How many streamed responses are open now."""
        return 0 if self._controls is None else len(self._controls.streams)

    # -- knobs ----------------------------------------------------------------------------

    def drop_streams(self) -> int:
        """Cut every open stream abruptly (no ``message_stop``); returns how many."""
        return self.call(lambda: self._running_controls().close_streams(DROP))

    def reset(self) -> None:
        """Forget which once-only errors fired and which positions were streamed."""
        self.call(self._running_controls().script.reset)

    def fail_next(
        self,
        status: int,
        *,
        count: int = 1,
        error_type: str | None = None,
        message: str | None = None,
        retry_after: float | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> FailRule:
        """Answer the next ``count`` requests with ``status`` and the error envelope.

        ``error_type`` defaults to the type the API uses for the status (``529`` ->
        ``overloaded_error``); ``retry_after`` (seconds) sets ``retry-after`` and
        ``retry-after-ms``; ``headers`` adds more (``{"x-should-retry": "false"}``). Checked
        before authentication.
        """
        extra = dict(headers or {})
        if retry_after is not None:
            extra.setdefault("retry-after", str(math.ceil(retry_after)))
            extra.setdefault("retry-after-ms", str(int(retry_after * 1000)))
        rule = FailRule(status, count, None, None, error_type, message, extra)
        self.call(self._running_controls().fail_rules.append, rule)
        return rule
