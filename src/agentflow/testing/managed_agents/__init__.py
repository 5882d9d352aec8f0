"""The Managed Agents emulator: the session API of protocol §1.2 on a local server.

:class:`Emulator` is the entry point (also ``agentflow.testing.Emulator``); the rest of this
package is its state machine (``engine``, ``turns``, ``session``), resources, request
validation and HTTP layer (``server``).
"""

from __future__ import annotations

from .emulator import DEFAULT_API_KEY, DIALECT_EMULATORS, Emulator, as_scenario
from .server import FailRule, RequestRecord
from .session import EmulatedSession

__all__ = [
    "DEFAULT_API_KEY",
    "DIALECT_EMULATORS",
    "EmulatedSession",
    "Emulator",
    "FailRule",
    "RequestRecord",
    "as_scenario",
]
