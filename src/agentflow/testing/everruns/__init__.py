"""The Everruns emulator: the platform's session API and SSE stream on a local server.

:class:`EverrunsEmulator` serves the management surface (``{base_url}/v1/sessions...``,
``everruns_sdk.Everruns``) and the channel surface (``{agent_url}/sessions...``,
``everruns_sdk.AgentClient``) from the same sessions, playing a
:class:`~agentflow.testing.Scenario` as Everruns events. The package: ``wire`` (ids, error
envelope, frame text), ``state`` (a session), ``hub`` / ``engine`` (the state machine),
``turns`` / ``tools`` / ``gates`` (steps, tool calls, answers), ``stream`` (SSE and listing),
``server`` / ``routes`` (HTTP) and ``emulator`` (the entry point).
"""

from __future__ import annotations

from .emulator import CHANNEL_ID, EverrunsEmulator
from .server import EverrunsRequest
from .state import EverrunsSession, ToolCall

__all__ = ["CHANNEL_ID", "EverrunsEmulator", "EverrunsRequest", "EverrunsSession", "ToolCall"]
