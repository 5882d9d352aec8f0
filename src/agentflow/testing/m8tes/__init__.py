"""The m8tes emulator: the runs API of m8tes.ai on a local server, driven by a scenario.

:class:`M8tesEmulator` is the entry point (also ``agentflow.testing.Emulator(scenario,
dialect="m8tes")``). The rest is its frame builders (``frames``), runs and gates (``run``,
``gates``), turns (``turns``), state machine (``engine``) and HTTP layer (``server``).
"""

from __future__ import annotations

from .emulator import M8tesEmulator
from .run import EmulatedRun, Gate
from .server import RequestRecord

__all__ = ["EmulatedRun", "Gate", "M8tesEmulator", "RequestRecord"]
