"""The two Everruns API surfaces a client may talk to, and the headers each one sends.

- **management** (``base_url`` + ``/v1``, ``everruns_sdk.Everruns``): ``Authorization:
  <token>`` with no ``Bearer`` (the platform reads the personal access token as it is),
  optional ``X-Org-Id``;
- **channel** (``agent_url``, e.g. ``{api}/v1/channels/apichan_...``,
  ``everruns_sdk.AgentClient``): ``Authorization: Bearer <agent key>``, optional
  ``End-User``; its creating POSTs carry an ``Idempotency-Key`` so they can be retried.

A :class:`Surface` is one of them: an :class:`~agentflow.wire.HTTPCore` (retries, typed
errors, the credential redacted from every message) and the prefix of its session routes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import httpx

from ..wire.http import HTTPCore, RetryPolicy, quote_id

__all__ = ["SSE_HEADERS", "Surface", "SurfaceName", "channel_headers", "management_headers"]

SurfaceName = Literal["management", "channel"]

SSE_HEADERS = {"accept": "text/event-stream", "cache-control": "no-store"}
"""Sent when opening the stream (the SDK asks for the same)."""


def management_headers(token: str, org_id: str | None) -> dict[str, str]:
    """The management surface's headers: the raw token (no ``Bearer``), ``X-Org-Id``."""
    headers = {"authorization": token, "accept": "application/json"}
    if org_id is not None:
        headers["x-org-id"] = org_id
    return headers


def channel_headers(key: str, end_user: str | None) -> dict[str, str]:
    """The channel surface's headers: ``Bearer <agent key>``, ``End-User``."""
    headers = {"authorization": f"Bearer {key}", "accept": "application/json"}
    if end_user is not None:
        headers["end-user"] = end_user
    return headers


class Surface:
    """One API surface: its HTTP core and where its session routes start."""

    def __init__(self, name: SurfaceName, core: HTTPCore, prefix: str) -> None:
        self.name: SurfaceName = name
        self.core = core
        self.prefix = prefix

    @property
    def root(self) -> str:
        """The absolute URL its session routes hang off (``.../v1`` or the agent URL)."""
        return self.core.base_url + self.prefix

    def session_path(self, session_id: str, tail: str = "") -> str:
        """``{prefix}/sessions/{id}{tail}`` with the id checked and quoted."""
        return f"{self.prefix}/sessions/{quote_id(session_id)}{tail}"

    async def request(
        self,
        method: str,
        path: str,
        *,
        params: Any = None,
        json: Any = None,
        retry: RetryPolicy = "all",
        headers: Mapping[str, str] | None = None,
    ) -> httpx.Response:
        """One request on this surface (``path`` already includes the prefix)."""
        return await self.core.request(
            method, path, params=params, json=json, retry=retry, headers=headers
        )

    async def json(self, method: str, path: str, **kwargs: Any) -> Any:
        """:meth:`request`, then the JSON body (``None`` when empty)."""
        response = await self.request(method, path, **kwargs)
        return response.json() if response.content else None

    def __repr__(self) -> str:
        return f"Surface({self.name!r}, {self.root!r})"
