"""``M8tesClient``: configuration, lifetime, ``client.runs`` and the channel ``app.run`` opens."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from ..wire.backoff import Backoff, Random, Sleep
from ..wire.http import HTTPCore, key_and_url
from .dialect import M8TES
from .http import M8tesHTTP
from .runs import Runs, _id
from .stream import StreamOptions

if TYPE_CHECKING:
    from ..core.checkpoint import CheckpointStore
    from .channel import M8tesChannel

__all__ = ["DEFAULT_BASE_URL", "M8tesClient"]

DEFAULT_BASE_URL = "https://api.m8tes.ai/api/v2"
"""The hosted API (the SDK's default; ``M8TES_BASE_URL`` overrides it)."""


class M8tesClient:
    """An async client for m8tes runs, and the source ``app.run`` follows a run through.

    ::

        async with M8tesClient() as client:
            run = await client.runs.create(message="Triage the new tickets")
            result = await app.run(client, run.id)

    ``api_key`` defaults to ``M8TES_API_KEY`` and ``base_url`` to ``M8TES_BASE_URL``, else
    the hosted API (``https://api.m8tes.ai/api/v2``): the SDK's names and defaults, so the
    same ``base_url`` works for both. Every request carries ``Authorization: Bearer <key>``
    and ``Content-Type: application/json``. ``timeout`` (300 s, the SDK's) bounds each
    request; a stream counts as cut after ``stale_after`` seconds without a byte (the
    platform sends a keep-alive every 15 s). Requests are retried ``max_retries`` times as
    :mod:`agentflow.m8tes.http` says, waiting per ``backoff`` with full jitter; ``sleep``
    and ``random`` are injectable. ``max_attempts`` bounds the re-attaches in a row that
    bring no new frame. The API key never appears in ``repr(client)``, logs or errors.
    """

    dialect = M8TES
    """What m8tes frames mean (the seam's pure half)."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        *,
        timeout: float | httpx.Timeout | None = 300.0,
        max_retries: int = 2,
        backoff: Backoff | None = None,
        sleep: Sleep | None = None,
        random: Random | None = None,
        stale_after: float = 60.0,
        max_attempts: int = 8,
        gate_poll: float = 2.0,
        max_connections: int | None = None,
        default_headers: dict[str, str] | None = None,
    ) -> None:
        key, url = key_and_url(
            api_key,
            base_url,
            key_env="M8TES_API_KEY",
            url_env="M8TES_BASE_URL",
            default_url=DEFAULT_BASE_URL,
        )
        if isinstance(timeout, (int, float)):
            timeout = httpx.Timeout(timeout, connect=min(float(timeout), 10.0))
        headers = {"authorization": f"Bearer {key}", "content-type": "application/json"}
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
        self.stream_options = StreamOptions(
            stale_after=stale_after, max_attempts=max_attempts, gate_poll=gate_poll
        )
        self.runs = Runs(M8tesHTTP(self._core), self.stream_options)
        """The runs endpoints (:class:`~agentflow.m8tes.runs.Runs`)."""

    def channel(
        self,
        session: Any,
        *,
        checkpoint: CheckpointStore,
        replay: bool | None = None,
        **options: Any,
    ) -> M8tesChannel:
        """A channel for ``session`` (a run id, or a run or stream with an ``id``), as
        ``app.run`` opens one. ``options`` override :class:`StreamOptions` fields."""
        from .channel import M8tesChannel

        target = session if isinstance(session, (int, str)) else getattr(session, "id", session)
        run_id = _id(target)
        opts = StreamOptions(**{**self.stream_options.__dict__, **options})
        return M8tesChannel(self.runs, run_id, checkpoint=checkpoint, replay=replay, options=opts)

    @property
    def base_url(self) -> str:
        """The API root requests go to (``.../api/v2``)."""
        return self._core.base_url

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The underlying ``httpx.AsyncClient``."""
        return self._core.http

    async def aclose(self) -> None:
        """Close unread create streams, then the HTTP client if this object created it."""
        await self.runs.aclose_unclaimed()
        await self._core.aclose()

    async def __aenter__(self) -> M8tesClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        return f"M8tesClient(base_url={self.base_url!r}, api_key=<hidden>)"
