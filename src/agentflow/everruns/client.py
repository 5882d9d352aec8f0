"""``EverrunsClient``: configuration, the two surfaces, lifetime and the resources."""

from __future__ import annotations

import os
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from ..core.exceptions import AuthenticationError
from ..wire.backoff import Backoff, Random, Sleep
from ..wire.http import HTTPCore, check_api_key
from .dialect import EVERRUNS
from .resources import Events, Messages, Sessions, Surfaces
from .surface import Surface, channel_headers, management_headers
from .tools import tool_definitions

if TYPE_CHECKING:
    from ..core.checkpoint import CheckpointStore
    from .channel import EverrunsChannel

__all__ = ["DEFAULT_BASE_URL", "EverrunsClient"]

DEFAULT_BASE_URL = "https://app.everruns.com/api"


def _env(value: str | None, name: str) -> str | None:
    return value if value is not None else (os.environ.get(name) or None)


class EverrunsClient:
    """An async client for Everruns sessions, their event streams and their human gates.

    ::

        async with EverrunsClient() as client:          # EVERRUNS_API_KEY, EVERRUNS_API_URL
            session = await client.sessions.create(tools=client.tool_definitions(app))
            result = await app.run(client, session.id, send=["Where is order 42?"])

    The **management surface** is everruns-sdk's ``Everruns`` client: ``api_key`` (default
    ``EVERRUNS_API_KEY``) is sent as ``Authorization: <key>`` without ``Bearer``,
    ``base_url`` defaults to ``EVERRUNS_API_URL``, else ``https://app.everruns.com/api``
    (routes under ``{base_url}/v1``), ``org_id`` (default ``EVERRUNS_ORG_ID``) as
    ``X-Org-Id``. The **channel surface** is everruns-sdk's ``AgentClient``: ``agent_url``
    (default ``EVERRUNS_AGENT_URL``, e.g. ``{base_url}/v1/channels/apichan_...``) with
    ``agent_key`` (default ``EVERRUNS_AGENT_KEY``) as ``Authorization: Bearer <key>``,
    ``end_user`` as ``End-User``; its creating POSTs carry an ``Idempotency-Key``.

    Tool approvals and question answers exist only on the channel surface, so an App whose
    sessions ask for either needs ``agent_url`` and ``agent_key``. With only the channel
    surface (no ``api_key``), everything goes there. Requests are retried ``max_retries``
    times on connection errors, 408/429/5xx (and 409 where safe), waiting per ``backoff``
    with full jitter; ``sleep`` and ``random`` are injectable. Pass ``http_client`` to use
    your own ``httpx.AsyncClient`` (not closed by :meth:`aclose`). Keys never appear in
    ``repr``, logs or exception messages.
    """

    dialect = EVERRUNS
    """What Everruns events mean (the seam's pure half)."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        org_id: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        *,
        agent_url: str | None = None,
        agent_key: str | None = None,
        end_user: str | None = None,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = 2,
        backoff: Backoff | None = None,
        sleep: Sleep | None = None,
        random: Random | None = None,
        max_connections: int | None = None,
        default_headers: dict[str, str] | None = None,
    ) -> None:
        key = _env(api_key, "EVERRUNS_API_KEY")
        url = base_url or os.environ.get("EVERRUNS_API_URL") or DEFAULT_BASE_URL
        org = _env(org_id, "EVERRUNS_ORG_ID")
        agent = _env(agent_url, "EVERRUNS_AGENT_URL")
        agent_cred = _env(agent_key, "EVERRUNS_AGENT_KEY")
        if agent is not None and agent_cred is None:
            raise AuthenticationError(
                "agent_url is set but no agent key: pass agent_key= or set EVERRUNS_AGENT_KEY"
            )
        if key is None and agent is None:
            raise AuthenticationError(
                "No Everruns credentials: pass api_key= (or set EVERRUNS_API_KEY), or "
                "agent_url= and agent_key= (EVERRUNS_AGENT_URL, EVERRUNS_AGENT_KEY)"
            )
        for value, what in ((org, "org_id"), (end_user, "end_user")):
            if value is not None:
                check_api_key(value, what)  # the same header-safety rules apply
        self._owns_http = http_client is None
        if http_client is None:
            limits = httpx.Limits(
                max_connections=max_connections, max_keepalive_connections=100,
                keepalive_expiry=30.0,
            )  # fmt: skip
            http_client = httpx.AsyncClient(
                timeout=timeout if timeout is not None else httpx.Timeout(60.0, connect=10.0),
                limits=limits,
            )
        self._http = http_client
        common: dict[str, Any] = {
            "http_client": http_client,
            "timeout": timeout,
            "max_retries": max_retries,
            "backoff": backoff,
            "sleep": sleep,
            "random": random,
            "max_connections": max_connections,
            "default_headers": default_headers,
        }
        self.management: Surface | None = None
        """The management surface (``None`` with only an agent key)."""
        self.agent: Surface | None = None
        """The channel surface (``None`` without ``agent_url``)."""
        if key is not None:
            core = HTTPCore(api_key=key, base_url=url, headers=management_headers(key, org),
                            **common)  # fmt: skip
            self.management = Surface("management", core, "/v1")
        if agent is not None and agent_cred is not None:
            headers = channel_headers(agent_cred, end_user)
            core = HTTPCore(api_key=agent_cred, base_url=agent, headers=headers, **common)
            self.agent = Surface("channel", core, "")
        api = self.management or self.agent
        assert api is not None
        surfaces = Surfaces(api, self.agent)
        self.sessions = Sessions(surfaces)
        """Session endpoints (create, get, cancel, tool results, approvals, answers)."""
        self.messages = Messages(surfaces)
        """Message endpoints."""
        self.events = Events(surfaces)
        """Event endpoints: the listing and the resilient stream."""

    def channel(
        self,
        session: str,
        *,
        checkpoint: CheckpointStore,
        replay: bool | None = None,
        **stream_options: Any,
    ) -> EverrunsChannel:
        """A channel for ``session`` (a session id), as ``app.run`` opens one.

        ``stream_options`` go to :meth:`events.stream <Events.stream>` (``stale_after``,
        ``max_attempts``, ``control_events``, ``exclude``, ...).
        """
        from .channel import EverrunsChannel

        return EverrunsChannel(
            self.sessions, self.messages, self.events, session,
            checkpoint=checkpoint, replay=replay, options=stream_options,
        )  # fmt: skip

    @staticmethod
    def tool_definitions(app_or_tools: Any) -> list[dict[str, Any]]:
        """The App's tools as ``client_side`` definitions (see
        :func:`~agentflow.everruns.tool_definitions`)."""
        return tool_definitions(app_or_tools)

    @property
    def base_url(self) -> str | None:
        """The management API root (``None`` with only an agent key)."""
        return None if self.management is None else self.management.core.base_url

    @property
    def agent_url(self) -> str | None:
        """The channel surface's URL, if configured."""
        return None if self.agent is None else self.agent.core.base_url

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The underlying ``httpx.AsyncClient``."""
        return self._http

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        if self._owns_http:
            await self._http.aclose()

    async def __aenter__(self) -> EverrunsClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return (
            f"EverrunsClient(base_url={self.base_url!r}, agent_url={self.agent_url!r}, "
            "credentials=<hidden>)"
        )
