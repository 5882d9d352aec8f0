"""The Everruns endpoints: ``client.sessions``, ``client.messages`` and ``client.events``.

Session, message, event and stream calls go to the management surface, or to the channel
surface when the client has only an agent key; tool approvals and question answers exist
only on the channel surface. Posting answers (tool results, approvals, question answers) is
one attempt each: whoever posts them owns the retries (``app.run``'s actions router retries
409, 429, 5xx and connection failures with backoff).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

from ..core.exceptions import DecodeError
from .builders import user_message
from .events import EverrunsEvent, Message, parse_stored
from .models import Session
from .stream import EverrunsStream
from .surface import Surface

__all__ = ["NOISY_TYPES", "PAGE_SIZE", "Events", "Messages", "Sessions", "Surfaces"]

PAGE_SIZE = 1000
NOISY_TYPES = ("output.message.delta", "reason.thinking.delta")
"""Delta types left out of history reads that only look for calls, replies and statuses."""


class Surfaces:
    """The surfaces of one client: ``api`` (management, else channel) and ``channel``."""

    def __init__(self, api: Surface, channel: Surface | None) -> None:
        self.api = api
        self.channel = channel

    def need_channel(self, what: str) -> Surface:
        """The channel surface, or a clear error saying how to configure it."""
        if self.channel is None:
            raise ValueError(
                f"{what} go to the Everruns channel surface: pass agent_url= and agent_key= "
                "to EverrunsClient (or set EVERRUNS_AGENT_URL and EVERRUNS_AGENT_KEY)"
            )
        return self.channel


def _creating(surface: Surface, key: str | None) -> tuple[dict[str, str] | None, Any]:
    """Headers and retry policy for a POST that creates something.

    On the channel surface it always carries an ``Idempotency-Key`` (one per call, reused
    by the retries), so it is safe to retry; elsewhere only when the caller gives one.
    """
    if key is None and surface.name == "channel":
        key = uuid.uuid4().hex
    if key is None:
        return None, "safe"
    return {"idempotency-key": key}, "all"


class Sessions:
    """Session endpoints."""

    def __init__(self, surfaces: Surfaces) -> None:
        self._s = surfaces

    async def create(
        self,
        *,
        title: str | None = None,
        tools: Sequence[Mapping[str, Any]] | None = None,
        agent_id: str | None = None,
        agent_name: str | None = None,
        harness_id: str | None = None,
        harness_name: str | None = None,
        idempotency_key: str | None = None,
        **fields: Any,
    ) -> Session:
        """Create a session. ``tools`` are its tool definitions (``client_side`` ones are
        run by this client: see :func:`~agentflow.everruns.tool_definitions`)."""
        body: dict[str, Any] = {k: v for k, v in fields.items() if v is not None}
        for name, value in (
            ("title", title), ("agent_id", agent_id), ("agent_name", agent_name),
            ("harness_id", harness_id), ("harness_name", harness_name),
        ):  # fmt: skip
            if value is not None:
                body[name] = value
        if tools is not None:
            body["tools"] = [dict(t) for t in tools]
        api = self._s.api
        headers, retry = _creating(api, idempotency_key)
        data = await api.json("POST", f"{api.prefix}/sessions", json=body, headers=headers,
                              retry=retry)  # fmt: skip
        return Session.model_validate(data)

    async def get(self, session_id: str) -> Session:
        """The session, with its status and pending approvals / questions."""
        surface = self._s.channel or self._s.api  # pending gates show on the channel surface
        return Session.model_validate(await surface.json("GET", surface.session_path(session_id)))

    async def cancel(self, session_id: str) -> dict[str, Any]:
        """Cancel the running turn: ``{"status": "cancelled" | "no_op"}``."""
        api = self._s.api
        result = await api.json("POST", api.session_path(session_id, "/cancel"), json={})
        return dict(result or {})

    async def submit_tool_results(
        self, session_id: str, results: Sequence[Mapping[str, Any]]
    ) -> dict[str, Any]:
        """Post client-side tool results (``tool_result`` items) in one attempt.

        A 409 (``... not waiting for tool results``) raises :class:`~agentflow.ConflictError`.
        """
        api = self._s.api
        path = api.session_path(session_id, "/tool-results")
        body = {"tool_results": [dict(r) for r in results]}
        return dict(await api.json("POST", path, json=body, retry="none") or {})

    async def submit_tool_approvals(
        self, session_id: str, decisions: Sequence[Mapping[str, Any]]
    ) -> dict[str, Any]:
        """Allow or deny held-back tool calls (``tool_approval`` items), one attempt."""
        channel = self._s.need_channel("tool approvals")
        path = channel.session_path(session_id, "/tool-approvals")
        body = {"decisions": [dict(d) for d in decisions]}
        return dict(await channel.json("POST", path, json=body, retry="none") or {})

    async def answer_questions(self, session_id: str, body: Mapping[str, Any]) -> dict[str, Any]:
        """Answer a question set (a ``question_answer`` body), one attempt."""
        channel = self._s.need_channel("question answers")
        path = channel.session_path(session_id, "/question-answers")
        return dict(await channel.json("POST", path, json=dict(body), retry="none") or {})


class Messages:
    """Message endpoints."""

    def __init__(self, surfaces: Surfaces) -> None:
        self._s = surfaces

    async def create(
        self,
        session_id: str,
        message: str | Mapping[str, Any],
        *,
        controls: Mapping[str, Any] | None = None,
        idempotency_key: str | None = None,
    ) -> Message:
        """Send a user message (a ``str``, or a ``user_message`` body): it starts a turn, or
        waits for the next one while a turn runs."""
        if isinstance(message, str):
            body = user_message(message, controls=controls)
        else:
            body = dict(message)
            if controls is not None:
                body["controls"] = dict(controls)
        api = self._s.api
        headers, retry = _creating(api, idempotency_key)
        path = api.session_path(session_id, "/messages")
        return Message.model_validate(
            await api.json("POST", path, json=body, headers=headers, retry=retry)
        )

    async def list(self, session_id: str) -> list[Message]:
        """The session's messages, oldest first."""
        api = self._s.api
        data = await api.json("GET", api.session_path(session_id, "/messages"))
        return [Message.model_validate(m) for m in (data or {}).get("data", [])]


def _params(**values: Any) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, (list, tuple)):
            out.extend((name, str(v)) for v in value)
        elif isinstance(value, bool):
            out.append((name, "true" if value else "false"))
        else:
            out.append((name, str(value)))
    return out


class Events:
    """Event endpoints: the paged listing and the resilient stream."""

    def __init__(self, surfaces: Surfaces) -> None:
        self._s = surfaces

    @property
    def surface(self) -> Surface:
        """Where events are read from."""
        return self._s.api

    async def page(
        self,
        session_id: str,
        *,
        since_id: str | None = None,
        after_sequence: int | None = None,
        types: Iterable[str] = (),
        exclude: Iterable[str] = (),
        limit: int | None = None,
        before_sequence: int | None = None,
        order_desc: bool | None = None,
    ) -> tuple[list[EverrunsEvent], bool]:
        """One page of the listing: ``(events, has_more)``.

        With a forward cursor (``since_id`` or ``after_sequence``) ``limit`` caps the events
        after it; without one the page holds the newest ``limit``.
        """
        api = self._s.api
        params = _params(
            since_id=since_id, after_sequence=after_sequence, types=list(types),
            exclude=list(exclude), limit=limit, before_sequence=before_sequence,
            order_desc=order_desc,
        )  # fmt: skip
        data = await api.json("GET", api.session_path(session_id, "/events"), params=params)
        if not isinstance(data, dict) or not isinstance(data.get("data"), list):
            what = type(data).__name__
            raise DecodeError(f"Expected an events page {{'data': [...]}}, got {what}")
        return [parse_stored(item) for item in data["data"]], bool(data.get("has_more"))

    async def list(
        self,
        session_id: str,
        *,
        since_id: str | None = None,
        types: Iterable[str] = (),
        exclude: Iterable[str] = (),
        page_size: int = PAGE_SIZE,
    ) -> AsyncIterator[EverrunsEvent]:
        """Every stored event after ``since_id`` (from the start without one), oldest first,
        page by page. Known types with invalid fields come as
        :class:`~agentflow.everruns.events.InvalidEvent` (nothing is lost)."""
        types, exclude = list(types), list(exclude)
        cursor = since_id
        while True:
            start = {"since_id": cursor} if cursor else {"after_sequence": 0}
            page, more = await self.page(
                session_id, **start, types=types, exclude=exclude, limit=page_size
            )
            for event in page:
                yield event
            if not more or not page:
                return
            cursor = page[-1].id

    def stream(self, session_id: str, **options: Any) -> EverrunsStream:
        """The resilient live stream of the session (see :class:`EverrunsStream` for the
        options: ``since_id``, ``types``, ``exclude``, ``stale_after``, ``max_attempts``,
        ``backoff``, ``checkpoint``, ``replay``, ``control_events``, ``until``, ...)."""
        return EverrunsStream(self._s.api, self, session_id, **options)
