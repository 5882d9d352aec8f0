"""pytest plugin for agentflow's emulator (registered through the ``pytest11`` entry point).

It provides:

- ``emulator``: an async fixture yielding a running :class:`agentflow.testing.Emulator`
  (stopped after the test). It needs an async test runner; with anyio's pytest plugin
  (``anyio_mode = "auto"`` or ``@pytest.mark.anyio``) on the asyncio backend it just works.
- ``emulator_scenario``: the scenario the ``emulator`` fixture runs. By default it comes from
  the ``@pytest.mark.emulator_scenario(scenario)`` marker (a ``Scenario``, its JSON dict, or a
  path to a JSON file), else an empty scenario (every message gets the fallback reply).
  Override the fixture to share one scenario across a module.
- ``emulator_api_key``: ``None`` (accept any key) unless overridden; a string makes the
  emulator require exactly that key.

::

    @pytest.mark.emulator_scenario(Scenario.simple("Hi!"))
    async def test_greets(emulator):
        client = AsyncAnthropic(api_key=emulator.api_key, base_url=emulator.base_url)
        ...

This module imports nothing heavy: Starlette and uvicorn load only when the fixture runs, so
installing agentflow without the ``emulator`` extra does not break pytest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from .managed_agents import Emulator

__all__ = ["emulator", "emulator_api_key", "emulator_scenario"]


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``emulator_scenario`` marker."""
    config.addinivalue_line(
        "markers",
        "emulator_scenario(scenario): the Scenario (object, JSON dict or file path) that the "
        "`emulator` fixture runs",
    )


@pytest.fixture
def emulator_scenario(request: pytest.FixtureRequest) -> Any:
    """The scenario for ``emulator``: the ``emulator_scenario`` marker's argument, or None."""
    marker = request.node.get_closest_marker("emulator_scenario")
    if marker is None:
        return None
    if len(marker.args) != 1:
        raise TypeError("@pytest.mark.emulator_scenario takes exactly one scenario argument")
    return marker.args[0]


@pytest.fixture
def emulator_api_key() -> str | None:
    """The API key the emulator requires (None: any non-empty key is accepted)."""
    return None


@pytest.fixture
async def emulator(emulator_scenario: Any, emulator_api_key: str | None) -> AsyncIterator[Emulator]:
    """A running emulator on 127.0.0.1, stopped (streams closed) when the test ends."""
    try:
        from .managed_agents import Emulator
    except ModuleNotFoundError as exc:  # pragma: no cover - depends on the installed extras
        raise RuntimeError(
            "the `emulator` fixture needs the emulator extra: "
            "pip install 'agentflow-events[emulator]'"
        ) from exc
    async with Emulator(emulator_scenario, api_key=emulator_api_key) as emu:
        yield emu
