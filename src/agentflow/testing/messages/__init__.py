"""The Claude Messages API emulator: ``POST /v1/messages`` on a local server.

:class:`MessagesEmulator` is the entry point (also
``agentflow.testing.Emulator(scenario, dialect="messages")``); ``conversation`` validates
requests and finds their scenario position, ``script`` plans a response, ``render`` writes it
as SSE frames or JSON, ``server`` is the HTTP layer.
"""

from __future__ import annotations

from .conversation import Position
from .emulator import MessagesEmulator
from .server import RecordedRequest

__all__ = ["MessagesEmulator", "Position", "RecordedRequest"]
