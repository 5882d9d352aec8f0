"""What an Everruns stream did on the wire, for tests, logs and dashboards."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["StreamStats"]


@dataclass
class StreamStats:
    """Counters of one stream (they only grow)."""

    connections: int = 0
    """Connections opened (the first included)."""
    reconnects: int = 0
    """Connections opened after the first."""
    cycles: int = 0
    """Connections the server cycled with ``disconnecting``, counted as healthy."""
    stalls: int = 0
    """Connections closed because no byte came for ``stale_after`` seconds."""
    drops: int = 0
    """Connections that broke (a transport error while reading)."""
    skipped_frames: int = 0
    """Frames logged and skipped (not JSON, too large, or invalid fields)."""
    reconciles: int = 0
    """Reads of the ``events`` listing after a skipped frame."""
