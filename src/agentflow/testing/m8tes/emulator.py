"""The :class:`M8tesEmulator`: a local m8tes runs API on 127.0.0.1 driven by a scenario.

::

    async with M8tesEmulator(Scenario.simple("Hello!")) as emu:
        client = m8tes.M8tes(api_key=emu.api_key, base_url=emu.base_url)  # .../api/v2
        ...

Also ``agentflow.testing.Emulator(scenario, dialect="m8tes")``. The m8tes SDK is
synchronous: run it in a worker thread (``anyio.to_thread.run_sync``) while the emulator
serves on the test's loop, or use ``with emu.run_in_thread():`` from synchronous code.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._frames import DROP
from .._local_server import LocalServer
from ..scenario import Scenario
from .engine import Engine
from .run import EmulatedRun

if TYPE_CHECKING:
    from .server import Controls, RequestRecord

__all__ = ["M8tesEmulator"]


def _scenario(scenario: Scenario | Mapping[str, Any] | str | Path | None) -> Scenario:
    if scenario is None:
        return Scenario()
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, Mapping):
        return Scenario.from_dict(scenario)
    return Scenario.load(scenario)


class M8tesEmulator(LocalServer):
    """A local m8tes runs API for tests: ``base_url`` ends in ``/api/v2``, as the SDK expects.

    Each run plays the scenario from its first turn; every reply plays the next turn.
    ``api_key=None`` accepts any bearer key; a key makes exactly that one required (401
    otherwise). Test switches: :meth:`hold` / :meth:`release` (keep a turn from ending),
    :meth:`drop_streams`, :meth:`emit`, :meth:`cancel`; inspection: :attr:`requests`,
    :attr:`runs`, :meth:`frames` and the ``wait_for_*`` helpers.
    """

    dialect = "m8tes"
    path_prefix = "/api/v2"

    def __init__(
        self,
        scenario: Scenario | Mapping[str, Any] | str | Path | None = None,
        *,
        dialect: str = "m8tes",
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
        shutdown_timeout: float = 5.0,
    ) -> None:
        if dialect != "m8tes":
            raise ValueError(f"M8tesEmulator serves the 'm8tes' dialect, not {dialect!r}")
        super().__init__(api_key=api_key, host=host, port=port, shutdown_timeout=shutdown_timeout)
        self.scenario = _scenario(scenario)
        self._engine = Engine(self.scenario)
        self._engine.errors = self._errors
        self._engine.spawn = self.spawn
        self._controls: Controls | None = None

    def __repr__(self) -> str:
        state = self.base_url if self.running else "not running"
        return f"<M8tesEmulator {state} runs={len(self._engine.runs)}>"

    def build_app(self) -> Any:
        """The Starlette app serving the runs API."""
        from .server import Controls, build_app

        self._controls = Controls(self._engine, self._required_key)
        return build_app(self._controls)

    def close_streams(self) -> None:
        """End every open stream (at shutdown)."""
        for run in self._engine.runs.values():
            run.close_streams()

    # -- inspection -----------------------------------------------------------------------

    @property
    def runs(self) -> Mapping[int, EmulatedRun]:
        """Every run created so far, by id."""
        return self._engine.runs

    def run(self, run_id: int) -> EmulatedRun:
        """One run by id (``KeyError`` when unknown)."""
        return self._engine.runs[run_id]

    def frames(self, run_id: int) -> list[dict[str, Any]]:
        """A copy of every frame the run produced (what a re-attach replays)."""
        return list(self._engine.runs[run_id].frames)

    @property
    def requests(self) -> list[RequestRecord]:
        """Every answered request, with its JSON body and ``Idempotency-Key``."""
        return [] if self._controls is None else list(self._controls.requests)

    def stream_count(self, run_id: int) -> int:
        """How many live streams of the run are open now."""
        return len(self._engine.runs[run_id].subscribers)

    async def wait_for_run(self, count: int = 1) -> EmulatedRun:
        """Wait until ``count`` runs exist; returns the ``count``-th. Bound it with
        ``anyio.fail_after`` (this and every ``wait_*`` wait without limit)."""
        await self._engine.wait_until(lambda: len(self._engine.runs) >= count)
        return self._engine.runs[count]

    async def wait_for_frame(
        self, run_id: int, frame_type: str, *, count: int = 1
    ) -> dict[str, Any]:
        """Wait until the run produced ``count`` frames of ``frame_type``; returns the last."""
        found: list[dict[str, Any]] = []
        scanned = 0

        def seen() -> bool:
            nonlocal scanned
            frames = self._engine.runs[run_id].frames if run_id in self._engine.runs else []
            found.extend(f for f in frames[scanned:] if f.get("type") == frame_type)
            scanned = len(frames)
            return len(found) >= count

        await self._engine.wait_until(seen)
        return found[count - 1]

    async def wait_for_status(self, run_id: int, *statuses: str) -> str:
        """Wait until the run's status is one of ``statuses``; returns it."""
        runs = self._engine.runs
        await self._engine.wait_until(lambda: run_id in runs and runs[run_id].status in statuses)
        return runs[run_id].status

    async def wait_for_streams(self, run_id: int, count: int = 1) -> None:
        """Wait until at least ``count`` live streams of the run are open."""
        runs = self._engine.runs
        await self._engine.wait_until(
            lambda: run_id in runs and len(runs[run_id].subscribers) >= count
        )

    async def wait_held(self, run_id: int) -> None:
        """Wait until the run's turn stands at the hold point (see :meth:`hold`)."""
        runs = self._engine.runs
        await self._engine.wait_until(lambda: run_id in runs and runs[run_id].held)

    # -- knobs ----------------------------------------------------------------------------

    def hold(self, enabled: bool = True) -> None:
        """Make every turn wait before its closing frames (``run_metrics``, ``done``) until
        :meth:`release`, so a test can re-attach to a run that would otherwise end at once.
        ``hold(False)`` stops holding and lets every held turn end."""

        def apply() -> None:
            self._engine.hold_ends = enabled
            if not enabled:
                for run in self._engine.runs.values():
                    if run.release is not None:
                        run.release.set()

        self.call(apply)

    def release(self, run_id: int) -> None:
        """Let the run's held turn end (later turns hold again while :meth:`hold` is on)."""

        def apply() -> None:
            run = self._engine.get(run_id)
            if run.release is not None:
                run.release.set()

        self.call(apply)

    def drop_streams(self, run_id: int | None = None) -> int:
        """Cut the open streams (of one run, or all) abruptly; returns how many."""

        def drop() -> int:
            runs = [self._engine.runs[run_id]] if run_id is not None else self.runs.values()
            count = 0
            for run in runs:
                count += len(run.subscribers)
                run.close_streams(DROP)
            return count

        return self.call(drop)

    def emit(self, run_id: int, frame: dict[str, Any]) -> None:
        """Store and stream an arbitrary frame on the run (it needs a string ``type``)."""
        if not isinstance(frame.get("type"), str):
            raise ValueError("a frame needs a string 'type'")
        self.call(lambda: self._engine.emit(self._engine.get(run_id), dict(frame)))

    def cancel(self, run_id: int) -> None:
        """Cancel the run, as ``POST /runs/{id}/cancel`` does."""
        self.call(lambda: self._engine.cancel(self._engine.get(run_id)))
