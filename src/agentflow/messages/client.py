"""``MessagesClient``: the Claude Messages API as a source ``app.run`` can follow.

It holds the connection (``api_key``, ``base_url``, retries) and the request parameters
(``model``, ``max_tokens``, ``system``, ...); ``app.run(client, conversation, send=[...])``
opens a :class:`~agentflow.messages.MessagesChannel` that runs the agent loop: stream a
response, run the tools it asks for, send the results back, until the turn ends.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from ..wire.backoff import Backoff, Random, Sleep
from ..wire.http import HTTPCore, key_and_url
from .channel import MessagesChannel
from .conversation import Conversation
from .dialect import MESSAGES

if TYPE_CHECKING:
    from ..core.checkpoint import CheckpointStore

__all__ = ["API_VERSION", "DEFAULT_BASE_URL", "PARAMS", "MessagesClient"]

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2026-10-21"

PARAMS = frozenset(
    {
        "model",
        "max_tokens",
        "system",
        "tools",
        "tool_choice",
        "thinking",
        "temperature",
        "top_p",
        "top_k",
        "stop_sequences",
        "metadata",
        "service_tier",
    }
)
"""Request parameters a client sets once and a run may override (``app.run(..., model=...)``)."""


class MessagesClient:
    """An async client for the Claude Messages API, streamed, with the App's tools.

    ::

        client = MessagesClient(model="claude-sonnet-4-5", max_tokens=1024)
        conversation = Conversation()
        result = await app.run(client, conversation, send=["Where is my order A-1042?"])

    ``api_key`` defaults to ``ANTHROPIC_API_KEY`` and ``base_url`` to ``ANTHROPIC_BASE_URL``
    (else the public API), as in the official SDK. Every request carries
    ``Authorization: Bearer <key>``, ``anthropic-version: 2026-10-21`` and
    ``Accept: application/json`` (what the SDK sends, streams included); ``default_headers``
    adds or overrides headers (``anthropic-beta``, ...).

    ``model``, ``max_tokens``, ``system`` and the other request parameters are sent with every
    request (``None`` ones are left out). ``tools`` are extra tool definitions sent besides the
    App's own (server tools such as web search); the App's ``@app.tool`` functions are
    offered to the model automatically, with their ``input_schema``. ``extra_body`` merges
    more fields into each request body.

    A request that fails before its stream starts (connection errors, 408, 409, 429, 5xx,
    529, honouring ``x-should-retry``), a stream that reports a transient ``error`` event,
    breaks, stalls for ``stream_timeout`` seconds, sends a frame that does not decode, or ends
    before ``message_stop`` is asked for again, up to ``max_retries`` times, waiting per
    ``backoff`` with full jitter (the server's ``retry-after`` wins). ``sleep`` and
    ``random`` are injectable for tests. The API key never appears in ``repr(client)``, logs
    or exception messages.
    """

    dialect = MESSAGES
    """What Messages events mean (the seam's pure half)."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        http_client: httpx.AsyncClient | None = None,
        *,
        model: str,
        max_tokens: int,
        system: str | Sequence[Mapping[str, Any]] | None = None,
        tools: Sequence[Mapping[str, Any]] = (),
        tool_choice: Mapping[str, Any] | None = None,
        thinking: Mapping[str, Any] | None = None,
        temperature: float | None = None,
        top_p: float | None = None,
        top_k: int | None = None,
        stop_sequences: Sequence[str] | None = None,
        metadata: Mapping[str, Any] | None = None,
        service_tier: str | None = None,
        extra_body: Mapping[str, Any] | None = None,
        timeout: float | httpx.Timeout | None = None,
        stream_timeout: float | None = None,
        max_retries: int = 2,
        backoff: Backoff | None = None,
        sleep: Sleep | None = None,
        random: Random | None = None,
        max_connections: int | None = None,
        default_headers: dict[str, str] | None = None,
    ) -> None:
        if not isinstance(model, str) or not model:
            raise ValueError(f"model must be a non-empty string, got {model!r}")
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1:
            raise ValueError(f"max_tokens must be an integer >= 1, got {max_tokens!r}")
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
        self.params: dict[str, Any] = {
            "model": model,
            "max_tokens": max_tokens,
            "system": system,
            "tools": [dict(t) for t in tools],
            "tool_choice": tool_choice,
            "thinking": thinking,
            "temperature": temperature,
            "top_p": top_p,
            "top_k": top_k,
            "stop_sequences": stop_sequences,
            "metadata": metadata,
            "service_tier": service_tier,
        }
        """The request parameters (see :data:`PARAMS`); ``None`` values are not sent."""
        self.extra_body: dict[str, Any] = dict(extra_body or {})
        self.stream_timeout = (
            stream_timeout if stream_timeout is not None else self._core.timeout.read
        )
        """The longest silence allowed inside a stream before it is retried (pings count)."""

    def channel(
        self,
        session: Conversation,
        *,
        checkpoint: CheckpointStore,
        replay: bool | None = None,
        **options: Any,
    ) -> MessagesChannel:
        """A channel following ``session`` (a :class:`Conversation`), as ``app.run`` opens it.

        ``options`` override request parameters for this run (``model=``, ``system=``,
        ``temperature=``, ...; see :data:`PARAMS`). ``replay`` has no meaning here (the
        conversation itself is the position) and is ignored.
        """
        if not isinstance(session, Conversation):
            raise TypeError(
                "MessagesClient follows a Conversation: app.run(client, Conversation(), ...), "
                f"got {type(session).__name__}"
            )
        unknown = sorted(set(options) - PARAMS)
        if unknown:
            raise TypeError(
                f"unknown Messages option(s) {', '.join(map(repr, unknown))}; "
                f"expected request parameters: {', '.join(sorted(PARAMS))}"
            )
        return MessagesChannel(self, session, checkpoint=checkpoint, overrides=options)

    def request_body(
        self,
        messages: list[dict[str, Any]],
        app_tools: Sequence[Mapping[str, Any]] = (),
        overrides: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The body of one streamed request: the parameters, ``messages`` and the tools."""
        params = {**self.params, **(overrides or {})}
        extra_tools = [dict(t) for t in params.pop("tools", None) or ()]
        names = {t.get("name") for t in app_tools}
        clash = sorted(str(t.get("name")) for t in extra_tools if t.get("name") in names)
        if clash:
            raise ValueError(
                f"tool name(s) {', '.join(clash)} are both App tools and in tools=...; rename one"
            )
        body: dict[str, Any] = {k: v for k, v in params.items() if v is not None}
        tools = [*map(dict, app_tools), *extra_tools]
        if tools:
            body["tools"] = tools
        body.update(self.extra_body)
        body["messages"] = messages
        body["stream"] = True
        return body

    # -- connection -----------------------------------------------------------------------

    @property
    def core(self) -> HTTPCore:
        """The HTTP layer (client, headers, retry settings, key redaction)."""
        return self._core

    @property
    def base_url(self) -> str:
        """The API root requests go to."""
        return self._core.base_url

    @property
    def http_client(self) -> httpx.AsyncClient:
        """The underlying ``httpx.AsyncClient``."""
        return self._core.http

    @property
    def max_retries(self) -> int:
        """How many times one response is asked for again after a transient failure."""
        return self._core.max_retries

    async def aclose(self) -> None:
        """Close the HTTP client if this object created it."""
        await self._core.aclose()

    async def __aenter__(self) -> MessagesClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    def __repr__(self) -> str:
        model = self.params["model"]
        return f"MessagesClient(model={model!r}, base_url={self.base_url!r}, api_key=<hidden>)"
