"""agentflow's testing kit: a local Managed Agents server and scripted agents.

Requires the ``emulator`` extra (``pip install "agentflow-events[emulator]"``: Starlette and
uvicorn) to run the server; the scenario classes import without it.

::

    from agentflow.testing import CustomTool, Emulator, Say, Scenario, Turn

    scenario = Scenario([Turn([Say("Checking."), CustomTool("get_weather", {"city": "Paris"})]),
                         Turn([Say("Done.")])])
    async with Emulator(scenario) as emu:
        ...  # point any client at emu.base_url with emu.api_key

The pytest plugin (registered automatically) provides an ``emulator`` fixture; see
:mod:`agentflow.testing.pytest_plugin`. Public names are imported lazily.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._local_server import DEFAULT_API_KEY, LocalServer
    from ._wire import ApiError
    from .managed_agents import EmulatedSession, Emulator, FailRule, RequestRecord
    from .scenario import (
        Burst,
        CustomTool,
        Emit,
        Error,
        Faults,
        McpTool,
        Question,
        Say,
        Scenario,
        ScenarioError,
        Step,
        Stop,
        Think,
        Tool,
        Turn,
        Usage,
        Wait,
    )

_EXPORTS: dict[str, str] = {
    "ApiError": "._wire",
    "Burst": ".scenario",
    "CustomTool": ".scenario",
    "DEFAULT_API_KEY": "._local_server",
    "EmulatedSession": ".managed_agents",
    "Emit": ".scenario",
    "Emulator": ".managed_agents",
    "Error": ".scenario",
    "FailRule": ".managed_agents",
    "LocalServer": "._local_server",
    "Faults": ".scenario",
    "McpTool": ".scenario",
    "Question": ".scenario",
    "RequestRecord": ".managed_agents",
    "Say": ".scenario",
    "Scenario": ".scenario",
    "ScenarioError": ".scenario",
    "Step": ".scenario",
    "Stop": ".scenario",
    "Think": ".scenario",
    "Tool": ".scenario",
    "Turn": ".scenario",
    "Usage": ".scenario",
    "Wait": ".scenario",
}

__all__ = [
    "DEFAULT_API_KEY",
    "ApiError",
    "Burst",
    "CustomTool",
    "EmulatedSession",
    "Emit",
    "Emulator",
    "Error",
    "FailRule",
    "Faults",
    "LocalServer",
    "McpTool",
    "Question",
    "RequestRecord",
    "Say",
    "Scenario",
    "ScenarioError",
    "Step",
    "Stop",
    "Think",
    "Tool",
    "Turn",
    "Usage",
    "Wait",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentflow.testing' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
