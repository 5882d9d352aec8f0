"""Scripted orxhestra agents: a chat model that plays a :class:`~agentflow.testing.Scenario`.

Requires the ``orxhestra`` extra. orxhestra runs in process, so instead of an emulated server
the testing kit gives its agents a scripted model: a real ``LlmAgent`` in a real ``Runner``
plays the scenario's turns with the agent's real tools and no network.

- :class:`ScenarioChatModel`: the LangChain chat model (``bind_tools``, streamed text,
  thinking and tool-call chunks, usage metadata, scripted errors).
- :func:`scenario_agent` / :func:`scenario_runner`: an agent / Runner around it.
- :data:`THINKING_TEXT`: what a ``Think`` step streams as thinking.
"""

from __future__ import annotations

try:
    import langchain_core  # noqa: F401
    import orxhestra  # noqa: F401
except ImportError as exc:  # the extra is missing: say which one
    raise ImportError(
        f"agentflow.testing.orxhestra needs the 'orxhestra' extra ({exc.name or exc} is not "
        "installed): python -m pip install 'agentflow-events[orxhestra]'"
    ) from exc

from ._plan import THINKING_TEXT
from .model import ScenarioChatModel, ScriptedModelError
from .runner import DEFAULT_APP_NAME, scenario_agent, scenario_runner

__all__ = [
    "DEFAULT_APP_NAME",
    "THINKING_TEXT",
    "ScenarioChatModel",
    "ScriptedModelError",
    "scenario_agent",
    "scenario_runner",
]
