"""Helpers for the m8tes dialect tests: a client with quick retries, a recording app."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import anyio
import httpx

from agentflow import App
from agentflow.core.events import Event
from agentflow.m8tes import M8tesClient
from agentflow.testing.m8tes import M8tesEmulator
from agentflow.wire import Backoff

QUICK = Backoff(base=0.01, cap=0.05)
"""Re-attach delays short enough for tests (the defaults wait up to seconds)."""


def client_for(emu: M8tesEmulator, **options: Any) -> M8tesClient:
    """A client of ``emu`` that retries and polls quickly."""
    options.setdefault("backoff", QUICK)
    options.setdefault("gate_poll", 0.02)
    options.setdefault("timeout", 10.0)
    return M8tesClient(api_key=emu.api_key, base_url=emu.base_url, **options)


class Recorder:
    """An app that records every event it dispatches: ``(id, raw)`` in order."""

    def __init__(self) -> None:
        self.app = App(name="m8tes-test")
        self.app.load_entrypoints = False
        self.seen: list[tuple[str | None, dict[str, Any]]] = []
        self.events: list[Event] = []

        @self.app.on("*")
        def record(event: Event) -> None:
            self.events.append(event)
            self.seen.append((event.id, event.raw))

    @property
    def ids(self) -> list[str | None]:
        """The ids of the dispatched events, in order."""
        return [event_id for event_id, _ in self.seen]

    def frames(self, run_id: int) -> list[dict[str, Any]]:
        """The dispatched frames of ``run_id`` (events that are frames: id set)."""
        prefix = f"{run_id}:"
        return [raw for event_id, raw in self.seen if event_id and event_id.startswith(prefix)]


async def released_when_attached(
    emu: M8tesEmulator, run_id: int, work: Callable[[], Awaitable[Any]], *, streams: int = 1
) -> Any:
    """Run ``work()`` while the emulator holds the run's turn end; release it once the
    client holds a stream of the run again (its turn then ends on that stream)."""
    result: list[Any] = []
    async with anyio.create_task_group() as tg:

        async def go() -> None:
            result.append(await work())

        tg.start_soon(go)
        await emu.wait_held(run_id)
        await emu.wait_for_streams(run_id, streams)
        emu.release(run_id)
    return result[0]


class _CutStream(httpx.AsyncByteStream):
    def __init__(self, inner: Any, marker: bytes, transport: CutAfter) -> None:
        self.inner = inner
        self.marker = marker
        self.transport = transport

    async def __aiter__(self) -> Any:
        seen = b""
        async for chunk in self.inner:
            start = len(seen)
            seen += chunk
            at = seen.find(self.marker)
            end = seen.find(b"\n\n", at) if at >= 0 else -1
            if end < 0:
                yield chunk
                continue
            self.transport.cut.set()  # broken now: the next read fails
            yield seen[start : end + 2]  # up to the end of the marked frame
            raise httpx.ReadError("connection cut by the test")

    async def aclose(self) -> None:
        await self.inner.aclose()


class CutAfter(httpx.AsyncBaseTransport):
    """A real loopback transport that breaks the first stream after the frame holding
    ``marker`` (a network cut the server does not see coming); ``cut`` is set then."""

    def __init__(self, marker: bytes) -> None:
        self.inner = httpx.AsyncHTTPTransport()
        self.marker = marker
        self.cut = anyio.Event()
        self._armed = True

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        response = await self.inner.handle_async_request(request)
        if not self._armed or "text/event-stream" not in response.headers.get("content-type", ""):
            return response
        self._armed = False
        stream = _CutStream(response.stream, self.marker, self)
        return httpx.Response(
            response.status_code, headers=response.headers, stream=stream,
            extensions=response.extensions,
        )  # fmt: skip

    async def aclose(self) -> None:
        await self.inner.aclose()
