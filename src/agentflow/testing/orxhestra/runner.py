"""An orxhestra agent and Runner that play a scenario, for tests and demos.

:func:`scenario_agent` builds a real ``LlmAgent`` with the given tools and a
:class:`ScenarioChatModel`; :func:`scenario_runner` puts it in a real ``Runner`` with an
in-memory session service. Nothing leaves the process::

    runner = scenario_runner(Scenario([Turn([CustomTool("get_weather", {"city": "Oslo"}),
                                             Say("Sunny in Oslo.")])]), [get_weather])
    async for event in runner.astream(user_id="u", session_id="s", new_message="Weather?"):
        ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from langchain_core.tools import BaseTool
from orxhestra import LlmAgent, Runner
from orxhestra.sessions import InMemorySessionService

from ..scenario import Scenario
from .model import ScenarioChatModel

__all__ = ["DEFAULT_APP_NAME", "scenario_agent", "scenario_runner"]

DEFAULT_APP_NAME = "agentflow"


def _as_scenario(scenario: Scenario | Mapping[str, Any] | str | Path) -> Scenario:
    if isinstance(scenario, Scenario):
        return scenario
    if isinstance(scenario, Mapping):
        return Scenario.from_dict(scenario)
    return Scenario.load(scenario)


def scenario_agent(
    scenario: Scenario | Mapping[str, Any] | str | Path,
    tools: Sequence[BaseTool] = (),
    *,
    name: str = "agent",
    instructions: str | None = None,
    max_iterations: int = 10,
    **agent_options: Any,
) -> Any:
    """An ``LlmAgent`` with ``tools`` whose model plays ``scenario`` (object, JSON dict or file).

    ``agent_options`` go to ``LlmAgent`` unchanged (callbacks, ``output_key``, ...).
    """
    model = ScenarioChatModel(_as_scenario(scenario))
    return LlmAgent(
        name,
        model,
        list(tools),
        instructions=instructions,
        max_iterations=max_iterations,
        **agent_options,
    )


def scenario_runner(
    scenario: Scenario | Mapping[str, Any] | str | Path,
    tools: Sequence[BaseTool] = (),
    *,
    app_name: str = DEFAULT_APP_NAME,
    name: str = "agent",
    max_iterations: int = 10,
    **agent_options: Any,
) -> Any:
    """A ``Runner`` (in-memory sessions) around :func:`scenario_agent`.

    The agent is ``runner.agent``, its model ``runner.agent._model`` (a
    :class:`ScenarioChatModel`: ``offered_tools`` shows what the agent offered it).
    """
    agent = scenario_agent(
        scenario, tools, name=name, max_iterations=max_iterations, **agent_options
    )
    return Runner(agent, app_name=app_name, session_service=InMemorySessionService())
