"""The Everruns emulator: the platform's session API and SSE stream on a local server.

:class:`EverrunsEmulator` serves the management surface (``{base_url}/v1/sessions...``,
``everruns_sdk.Everruns``) and the channel surface (``{agent_url}/sessions...``,
``everruns_sdk.AgentClient``) from the same sessions, playing a
:class:`~agentflow.testing.Scenario` as Everruns events. The package: ``wire`` (ids, error
envelope, frame text), ``state`` (a session), ``hub`` / ``engine`` (the state machine),
``turns`` / ``tools`` / ``gates`` (steps, tool calls, answers), ``stream`` (SSE and listing),
``server`` / ``routes`` (HTTP) and ``emulator`` (the entry point).

Inferred, because the platform does not document them (everruns-sdk passes these bodies
through untouched): the approval events ``tool.approval_requested`` /
``tool.approval_resolved``, the question events ``question.requested`` /
``question.answered``, the ``tool-approvals`` and ``question-answers`` body shapes, the
``pending_approvals`` / ``pending_questions`` entry shapes, the session status while a turn
waits on a human (``active``), and ``turn.cancelled`` reason ``new_message``.
"""

from __future__ import annotations

from .emulator import CHANNEL_ID, EverrunsEmulator
from .server import EverrunsRequest
from .state import EverrunsSession, ToolCall

__all__ = ["CHANNEL_ID", "EverrunsEmulator", "EverrunsRequest", "EverrunsSession", "ToolCall"]
