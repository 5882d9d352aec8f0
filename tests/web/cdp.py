"""A small client for headless Chromium over its DevTools protocol (no browser download).

It starts the system's Chromium with a fresh profile and ``--remote-debugging-port=0``, reads
the DevTools address Chromium prints, opens one page target over a websocket and offers what
the tests need: navigate, evaluate (awaiting promises), wait for a condition on the page (a
``MutationObserver``, not a polling loop), set a phone-sized viewport and take a screenshot.
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
import os
import shutil
import signal
import subprocess
from pathlib import Path
from types import TracebackType
from typing import Any

import anyio
import websockets

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
)
START_TIMEOUT = 30.0

WAIT_JS = """
new Promise((resolve) => {
  const test = () => { try { return (%s)(); } catch (e) { return false; } };
  const first = test();
  if (first) { resolve(first); return; }
  const obs = new MutationObserver(() => {
    const v = test();
    if (v) { obs.disconnect(); resolve(v); }
  });
  obs.observe(document, {subtree: true, childList: true, characterData: true, attributes: true});
})
"""


def find_chromium() -> str | None:
    """The path of a Chromium to drive (``CHROMIUM`` in the environment wins)."""
    named = os.environ.get("CHROMIUM")
    if named:
        return shutil.which(named) or (named if Path(named).is_file() else None)
    return next((p for p in map(shutil.which, CHROMIUM_NAMES) if p), None)


class CDPError(RuntimeError):
    """Chromium answered a command with an error, or a script on the page threw."""


class Browser:
    """One headless Chromium process with one page; ``async with Browser(path) as page``."""

    def __init__(self, executable: str, profile: Path) -> None:
        self.executable = executable
        self.profile = profile
        """A fresh, empty profile directory for this Chromium."""
        self._ids = itertools.count(1)
        self._pending: dict[int, anyio.Event] = {}
        self._answers: dict[int, dict[str, Any]] = {}
        self._loaded = anyio.Event()
        self._session: str | None = None
        self.console: list[str] = []
        """Console messages and uncaught exceptions of the page."""

    async def __aenter__(self) -> Browser:
        self._process = await anyio.open_process(
            [self.executable, *FLAGS, f"--user-data-dir={self.profile}", "about:blank"],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            start_new_session=True,  # its child processes share a group we can end
        )
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        try:
            with anyio.fail_after(START_TIMEOUT):
                url = await self._devtools_url()
                self._ws = await websockets.connect(url, max_size=64 * 2**20)
                self._tg.start_soon(self._read)
                target = await self.send("Target.createTarget", {"url": "about:blank"})
                attached = await self.send(
                    "Target.attachToTarget", {"targetId": target["targetId"], "flatten": True}
                )
                self._session = attached["sessionId"]
                for domain in ("Page", "Runtime"):
                    await self.send(f"{domain}.enable")
        except BaseException:
            await self.__aexit__(None, None, None)
            raise
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        ws = getattr(self, "_ws", None)
        if ws is not None:
            with anyio.CancelScope(shield=True), anyio.move_on_after(5):
                await ws.close()
        # The task group was entered in __aenter__: leave it here, outside any other scope.
        self._tg.cancel_scope.cancel()
        await self._tg.__aexit__(None, None, None)
        with anyio.CancelScope(shield=True):
            if self._process.returncode is None:
                self._process.terminate()
                with anyio.move_on_after(10):
                    await self._process.wait()
                if self._process.returncode is None:
                    self._process.kill()
                    await self._process.wait()
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self._process.pid, signal.SIGKILL)  # children left behind, if any
            await self._process.aclose()

    async def _devtools_url(self) -> str:
        # Chromium prints "DevTools listening on ws://127.0.0.1:PORT/devtools/browser/ID".
        assert self._process.stderr is not None
        seen = ""
        async for chunk in self._process.stderr:
            seen += chunk.decode(errors="replace")
            for line in seen.splitlines():
                if line.startswith("DevTools listening on "):
                    self._tg.start_soon(self._drain, self._process.stderr)
                    return line.split(" on ", 1)[1].strip()
        raise RuntimeError(f"Chromium exited before it listened; it said:\n{seen[-2000:]}")

    @staticmethod
    async def _drain(stream: Any) -> None:
        async for _ in stream:  # keep reading, so a chatty Chromium never blocks on stderr
            pass

    async def _read(self) -> None:
        async for raw in self._ws:
            message = json.loads(raw)
            if "id" in message:
                self._answers[message["id"]] = message
                waiter = self._pending.pop(message["id"], None)
                if waiter is not None:
                    waiter.set()
                continue
            method = message.get("method")
            params = message.get("params", {})
            if method == "Page.loadEventFired":
                self._loaded.set()
            elif method == "Runtime.consoleAPICalled":
                args = [a.get("value", a.get("description", "")) for a in params.get("args", [])]
                self.console.append(" ".join(map(str, args)))
            elif method == "Runtime.exceptionThrown":
                self.console.append(json.dumps(params.get("exceptionDetails", {}))[:2000])

    async def send(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """Send one command (to the page once attached) and return its result."""
        command_id = next(self._ids)
        message: dict[str, Any] = {"id": command_id, "method": method, "params": params or {}}
        if self._session is not None:
            message["sessionId"] = self._session
        done = self._pending[command_id] = anyio.Event()
        await self._ws.send(json.dumps(message))
        await done.wait()
        answer = self._answers.pop(command_id)
        if "error" in answer:
            raise CDPError(f"{method}: {answer['error']}")
        return answer.get("result", {})  # type: ignore[no-any-return]

    async def phone(self, width: int = 390, height: int = 844) -> None:
        """Emulate a phone-sized screen."""
        await self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 2, "mobile": True},
        )

    async def goto(self, url: str) -> None:
        """Navigate and wait for the load event."""
        self._loaded = anyio.Event()
        await self.send("Page.navigate", {"url": url})
        await self._loaded.wait()

    async def evaluate(self, expression: str) -> Any:
        """The value of ``expression`` on the page (promises awaited)."""
        result = await self.send(
            "Runtime.evaluate",
            {"expression": expression, "awaitPromise": True, "returnByValue": True},
        )
        if "exceptionDetails" in result:
            raise CDPError(f"{expression[:200]!r} threw: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def wait_for(self, condition: str) -> Any:
        """Wait until the JS function body ``condition`` returns a truthy value; return it.

        The page is re-checked on every DOM change; bound the wait with ``anyio.fail_after``.
        """
        return await self.evaluate(WAIT_JS % f"() => ({condition})")

    async def screenshot(self, path: Path) -> Path:
        """Write a PNG of the whole page to ``path``."""
        metrics = await self.send("Page.getLayoutMetrics")
        size = metrics["cssContentSize"]
        shot = await self.send(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True,
             "clip": {"x": 0, "y": 0, "width": size["width"], "height": size["height"],
                      "scale": 1}},
        )  # fmt: skip
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path
