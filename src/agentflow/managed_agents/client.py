"""``ManagedAgentsClient``: configuration, lifetime and the resource namespaces."""

from __future__ import annotations

from functools import cached_property
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from ..wire.backoff import Backoff, Random, Sleep
from ..wire.http import HTTPCore, key_and_url
from .dialect import MANAGED_AGENTS

if TYPE_CHECKING:
    from ..core.checkpoint import CheckpointStore
    from .channel import ManagedAgentsChannel
    from .resources import Events, Sessions

__all__ = ["API_VERSION", "BETA", "DEFAULT_BASE_URL", "ManagedAgentsClient"]

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2026-10-21"
BETA = "managed-agents-2026-04-01"


class ManagedAgentsClient:
    """An async client for Claude Managed Agents sessions and their event streams.

    ::

        async with ManagedAgentsClient() as client:
            session = await client.sessions.create(agent="agent_...", environment_id="env_...")
            async with client.events.stream(session.id) as stream:
                await client.events.send(session.id, [user_message("hi")])
                async for event in stream:
                    ...

    ``api_key`` defaults to ``ANTHROPIC_API_KEY`` and ``base_url`` to ``ANTHROPIC_BASE_URL``
    (else the public API). Every request carries ``Authorization: Bearer <key>`` (what the
    official SDK sends; the API also accepts ``x-api-key``), ``anthropic-version``,
    ``anthropic-beta: managed-agents-2026-04-01`` and ``Accept: application/json``;
    ``default_headers`` adds or overrides headers (e.g. ``anthropic-workspace-id``).

    Pass ``http_client`` to use your own ``httpx.AsyncClient`` (it is not closed by
    :meth:`aclose`). Otherwise the client owns one with no connection cap (each open stream
    holds a connection; cap it with ``max_connections`` if you must) and ``timeout`` (default
    60 s, 10 s to connect). Requests are retried ``max_retries`` times on 408/409/429/5xx and
    connection errors, waiting per ``backoff`` with full jitter; ``sleep`` and ``random`` are
    injectable so the delays can be tested without waiting. The API key never appears in
    ``repr(client)``, in log records or in exception messages.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        *,
        timeout: float | httpx.Timeout | None = None,
        max_retries: int = 2,
        backoff: Backoff | None = None,
        sleep: Sleep | None = None,
        random: Random | None = None,
        max_connections: int | None = None,
        default_headers: dict[str, str] | None = None,
    ) -> None:
        key, url = key_and_url(
            api_key,
            base_url,
            key_env="ANTHROPIC_API_KEY",
            url_env="ANTHROPIC_BASE_URL",
            default_url=DEFAULT_BASE_URL,
        )
        headers = {
            "authorization": f"Bearer {key}",
            "anthropic-version": API_VERSION,
            "anthropic-beta": BETA,
            "accept": "application/json",
        }
        self._core = HTTPCore(
            api_key=key,
            base_url=url,
            headers=headers,
            http_client=http_client,
            timeout=timeout,
            max_retries=max_retries,
            backoff=backoff,
            sleep=sleep,
            random=random,
            max_connections=max_connections,
            default_headers=default_headers,
        )

    # The endpoints (and with them the event models, most of a client's import cost) are
    # loaded on first use, as the official SDK loads its resources.
    @cached_property
    def sessions(self) -> Sessions:
        """Session endpoints (:class:`~agentflow.transport.Sessions`)."""
        from .resources import Sessions

        return Sessions(self._core)

    @cached_property
    def events(self) -> Events:
        """Event endpoints (:class:`~agentflow.transport.Events`)."""
        from .resources import Events

        return Events(self._core)

    dialect = MANAGED_AGENTS
    """What Managed Agents events mean (the seam's pure half)."""

    def channel(
        self,
        session: str,
        *,
        checkpoint: CheckpointStore,
        replay: bool | None = None,
        **stream_options: Any,
    ) -> ManagedAgentsChannel:
        """A channel for ``session`` (a session id), as ``app.run`` opens one.

        ``stream_options`` go to :meth:`events.stream <Events.stream>` (``event_deltas``,
        ``stale_after``, ...).
        """
        from .channel import ManagedAgentsChannel

        return ManagedAgentsChannel(
            self.events, session, checkpoint=checkpoint, replay=replay, options=stream_options
        )

    @property
    def base_url(self) -> str:
        """The API root requests go to."""
        return self._core.base_url

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The underlying ``httpx.AsyncClient``."""
        return self._core.http

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        await self._core.aclose()

    async def __aenter__(self) -> ManagedAgentsClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"ManagedAgentsClient(base_url={self.base_url!r}, api_key=<hidden>)"
