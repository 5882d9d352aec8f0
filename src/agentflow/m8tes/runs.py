"""``client.runs``: create, follow, reply to, cancel and answer m8tes runs.

The calls and their bodies are the m8tes SDK's (``runs.create``, ``get``, ``stream``,
``reply``, ``cancel``, ``permissions``, ``approve``, ``answer``,
``update_permission_mode``, ``poll``, ``stream_text``), async. Streams are
:class:`~agentflow.m8tes.RunStream` objects, which re-attach by themselves.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Mapping
from typing import Any, Literal, overload

import anyio
import httpx

from ..core.exceptions import APIError, ConflictError, StreamError
from .http import RUN_ID_HEADER, M8tesHTTP, is_replay, new_key
from .models import AnswerReceipt, Permission, PermissionMode, Run
from .stream import RunStream, StreamOptions

__all__ = ["Runs"]


def _body(message: str, stream: bool, options: Mapping[str, Any]) -> dict[str, Any]:
    if not isinstance(message, str) or not message:
        raise ValueError("message must be a non-empty string")
    body: dict[str, Any] = {"message": message, "stream": stream}
    body.update({k: v for k, v in options.items() if v is not None})
    return body


class Runs:
    """The runs endpoints (``client.runs``)."""

    def __init__(self, http: M8tesHTTP, options: StreamOptions) -> None:
        self._http = http
        self.options = options
        self._unclaimed: dict[int, RunStream] = {}

    # -- starting and continuing ----------------------------------------------------------

    @overload
    async def create(
        self, *, message: str, stream: Literal[True] = ..., **options: Any
    ) -> RunStream: ...
    @overload
    async def create(self, *, message: str, stream: Literal[False], **options: Any) -> Run: ...
    async def create(
        self,
        *,
        message: str,
        stream: bool = True,
        agent_id: int | None = None,
        idempotency_key: str | None = None,
        **options: Any,
    ) -> RunStream | Run:
        """Start a run (``POST /runs/``): a :class:`RunStream` (``run.id`` is known at once,
        from ``X-Run-Id``), or with ``stream=False`` the :class:`Run` (status ``running``).

        ``options`` are the SDK's body fields (``teammate_id``, ``human_in_the_loop``,
        ``permission_mode``, ``tools``, ``instructions``, ``user_id``, ``metadata``,
        ``model``, ``max_turns``, ...; ``None`` values are left out; ``agent_id`` is the
        SDK's alias of ``teammate_id``). An ``Idempotency-Key`` is always sent (minted
        unless given), so a timed-out create is retried without starting a second run.
        """
        if agent_id is not None:
            options.setdefault("teammate_id", agent_id)
        body = _body(message, stream, options)
        key = idempotency_key or new_key()
        if not stream:
            response = await self._http.request("POST", "/runs/", json=body, key=key)
            return Run.model_validate_json(response.content)
        response = await self._http.open(
            "POST", "/runs/", json=body, key=key, read_timeout=self.options.stale_after
        )
        return await self._stream_of(response, None)

    async def reply(
        self,
        run_id: int,
        *,
        message: str,
        stream: bool = True,
        idempotency_key: str | None = None,
        **options: Any,
    ) -> RunStream | Run:
        """Send a follow-up on the same run (``POST /runs/{id}/reply``).

        The stream carries what the run does after the reply (the SDK's reply stream); the
        :class:`Run` answer (``stream=False``) says how it was taken (``delivery``:
        ``resumed``, or ``queued`` behind the turn in progress). ``options``: the SDK's
        reply fields (``permission_mode``, ``human_in_the_loop``, ``tools``, ...).
        """
        body = _body(message, stream, options)
        key = idempotency_key or new_key()
        path = f"/runs/{_id(run_id)}/reply"
        if not stream:
            response = await self._http.request("POST", path, json=body, key=key)
            return Run.model_validate_json(response.content)
        response = await self._http.open(
            "POST", path, json=body, key=key, read_timeout=self.options.stale_after
        )
        return await self._stream_of(response, run_id)

    async def open_reply(self, run_id: int, body: Mapping[str, Any]) -> httpx.Response:
        """A streaming reply's raw response (for a channel that follows the run itself)."""
        return await self._http.open(
            "POST",
            f"/runs/{_id(run_id)}/reply",
            json={**body, "stream": True},
            key=new_key(),
            read_timeout=self.options.stale_after,
        )

    async def _stream_of(self, response: httpx.Response, run_id: int | None) -> RunStream:
        """The stream a run-creating POST answered with (or joined, for a replay)."""
        content_type = response.headers.get("content-type", "").partition(";")[0].strip()
        if is_replay(response) or content_type != "text/event-stream":
            try:
                content = await response.aread()
            finally:
                await response.aclose()
            run = Run.model_validate_json(content)
            if run.finished and is_replay(response):
                raise ConflictError(
                    f"run {run.id} was made by an earlier attempt with this idempotency key "
                    f"and has finished ({run.status}): there is no stream to join; read it "
                    f"with client.runs.get({run.id})",
                    status=409,
                    type="idempotent_replay_terminal",
                )
            return RunStream(self._http, run.id, options=self.options)  # joins with a replay
        named = run_id if run_id is not None else _header_id(response)
        if named is None:
            await response.aclose()
            raise APIError(
                "the server started a stream without naming the run (no X-Run-Id header); "
                "a run may have started: check client.runs before creating another",
                status=response.status_code,
            )
        created = RunStream(self._http, named, response=response, options=self.options,
                            after_reply=run_id is not None)  # fmt: skip
        if run_id is None:
            self._keep(created)
        return created

    def _keep(self, stream: RunStream) -> None:
        for key in [k for k, s in self._unclaimed.items() if not s.pristine]:
            del self._unclaimed[key]
        self._unclaimed[stream.id] = stream

    def claim(self, run_id: int) -> RunStream | None:
        """The create stream of ``run_id`` if nobody has read it yet (a channel then follows
        the run on it, from its first frame, instead of re-attaching)."""
        stream = self._unclaimed.pop(run_id, None)
        return stream if stream is not None and stream.pristine else None

    async def aclose_unclaimed(self) -> None:
        """Close the create streams nobody read."""
        streams, self._unclaimed = list(self._unclaimed.values()), {}
        for stream in streams:
            await stream.aclose()

    # -- reading --------------------------------------------------------------------------

    async def get(self, run_id: int) -> Run:
        """``GET /runs/{id}``."""
        response = await self._http.request("GET", f"/runs/{_id(run_id)}")
        return Run.model_validate_json(response.content)

    def stream(self, run_id: int, **options: Any) -> RunStream:
        """Re-attach to a run: its whole history, then live, delivered once each.

        ``options`` override the client's :class:`StreamOptions` (``stale_after``,
        ``max_attempts``, ...); ``checkpoint=`` makes it resume where an earlier stream of
        the run stopped. A finished run gives its final state (``run.completed``, ...).
        """
        checkpoint = options.pop("checkpoint", None)
        opts = StreamOptions(**{**self.options.__dict__, **options}) if options else self.options
        return RunStream(self._http, _id(run_id), checkpoint=checkpoint, options=opts)

    async def poll(
        self,
        run_id: int,
        *,
        interval: float = 2.0,
        timeout: float = 300.0,  # noqa: ASYNC109 - the SDK's signature
    ) -> Run:
        """Read the run every ``interval`` s until it finishes; ``TimeoutError`` after
        ``timeout`` s (a run waiting on a gate keeps waiting: answer it, or use a stream)."""
        with anyio.fail_after(timeout):
            while True:
                run = await self.get(run_id)
                if run.finished:
                    return run
                await self._http.core.sleep(interval)

    async def stream_text(
        self, *, message: str, raise_on_error: bool = False, **options: Any
    ) -> AsyncIterator[str]:
        """Start a run and yield only its text deltas (``create`` takes ``options``).

        ``raise_on_error=True`` raises :class:`~agentflow.StreamError` after the last
        chunk when the run reported errors it did not retract (the SDK's flag: without it a
        failed run looks like a short answer).
        """
        stream = await self.create(message=message, stream=True, **options)
        async with stream:
            async for chunk in stream.iter_text():
                yield chunk
        if raise_on_error and stream.errors:
            raise StreamError(f"run {stream.id} failed: " + "; ".join(stream.errors),
                              status=200, type="run_failed")  # fmt: skip

    # -- gates and control ----------------------------------------------------------------

    async def permissions(self, run_id: int) -> list[Permission]:
        """The run's gates (``GET /runs/{id}/permissions``), open and answered."""
        response = await self._http.request("GET", f"/runs/{_id(run_id)}/permissions")
        return [Permission.model_validate(item) for item in json.loads(response.content)]

    async def approve(
        self,
        run_id: int,
        *,
        request_id: str,
        decision: Literal["allow", "deny"] = "allow",
        remember: bool = False,
        reason: str | None = None,
        retry: Literal["safe", "none"] = "safe",
    ) -> Permission:
        """Allow or deny a gate (``POST /runs/{id}/approve``); ``reason`` steers the agent
        (mainly with a deny). Repeating the same decision is harmless; a 404 with
        ``gate_resolved_otherwise`` means someone decided the other way first."""
        body: dict[str, Any] = {"request_id": request_id, "decision": decision,
                                "remember": remember}  # fmt: skip
        if reason is not None:
            body["reason"] = reason
        path = f"/runs/{_id(run_id)}/approve"
        response = await self._http.request("POST", path, json=body, retry=retry)
        return Permission.model_validate_json(response.content)

    async def answer(
        self,
        run_id: int,
        *,
        answers: Mapping[str, str],
        request_id: str | None = None,
        retry: Literal["safe", "none"] = "safe",
    ) -> AnswerReceipt:
        """Answer a question gate (``POST /runs/{id}/answer``): ``answers`` maps each
        question's text to the chosen label."""
        body: dict[str, Any] = {"answers": dict(answers)}
        if request_id is not None:
            body["request_id"] = request_id
        path = f"/runs/{_id(run_id)}/answer"
        response = await self._http.request("POST", path, json=body, retry=retry)
        return AnswerReceipt.model_validate_json(response.content)

    async def cancel(self, run_id: int) -> Run:
        """Cancel the run (``POST /runs/{id}/cancel``); its open gates are cancelled too."""
        response = await self._http.request("POST", f"/runs/{_id(run_id)}/cancel")
        return Run.model_validate_json(response.content)

    async def update_permission_mode(self, run_id: int, *, permission_mode: str) -> PermissionMode:
        """``autonomous``, ``approval`` or ``plan`` (``autonomous`` allows open approvals)."""
        response = await self._http.request(
            "PATCH", f"/runs/{_id(run_id)}/permission-mode",
            json={"permission_mode": permission_mode},
        )  # fmt: skip
        return PermissionMode.model_validate_json(response.content)


def _id(run_id: Any) -> int:
    """A run id: a positive integer (an ``int``, or a string of digits)."""
    if isinstance(run_id, bool) or not isinstance(run_id, (int, str)):
        raise ValueError(f"a run id is a positive integer, got {run_id!r}")
    text = str(run_id)
    if not text.isdigit() or int(text) < 1:
        raise ValueError(f"a run id is a positive integer, got {run_id!r}")
    return int(text)


def _header_id(response: httpx.Response) -> int | None:
    raw = response.headers.get(RUN_ID_HEADER, "")
    return int(raw) if raw.isdigit() and int(raw) > 0 else None
