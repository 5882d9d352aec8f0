"""Fault injection for the emulators: :class:`Faults` (see :mod:`agentflow.testing.scenario`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from typing import Any

from .steps import ScenarioError

__all__ = ["Faults", "parse_faults"]


@dataclass(frozen=True)
class Faults:
    """Fault injection for the live stream and the HTTP layer; everything is off by default.

    Stream faults count the event frames sent **on one connection** (previews included; a
    reconnect starts counting from zero), so a client that reconnects always makes progress:

    - ``drop_every=N``: close the connection abruptly (no final chunk) right after the N-th,
      2N-th, ... event.
    - ``duplicate_every=N``: send every N-th event twice.
    - ``malformed_every=N``: before every N-th event send an extra frame whose data is not JSON;
      the real event still follows.
    - ``stall_after=N`` + ``stall_seconds``: after the N-th event go silent (no events, no
      keep-alives) for ``stall_seconds``, once per connection.
    - ``keepalive_seconds``: interval of keep-alives (``: keepalive`` comments on Managed
      Agents) while nothing else is sent.
    - ``cycle_seconds``: Everruns closes every stream connection after this long with a
      ``disconnecting`` frame (default 300, as the platform does); other wires ignore it.

    HTTP faults apply to every API request (stream connects included), **per emulator**:

    - ``http_error_rate=p``: answer a fraction ``p`` of requests with one of
      ``http_error_statuses`` (429 carries ``retry-after`` / ``retry-after-ms`` from
      ``retry_after_seconds``). Draws come from ``random.Random(seed)``, so a given request
      order always fails the same requests.

    History is never affected: a client can always reconcile through ``events.list``.
    """

    drop_every: int = 0
    duplicate_every: int = 0
    malformed_every: int = 0
    stall_after: int = 0
    stall_seconds: float = 0.0
    http_error_rate: float = 0.0
    http_error_statuses: tuple[int, ...] = (429, 500, 503)
    retry_after_seconds: float = 0.0
    keepalive_seconds: float = 15.0
    cycle_seconds: float = 300.0
    seed: int = 0

    def __post_init__(self) -> None:
        for name in ("drop_every", "duplicate_every", "malformed_every", "stall_after"):
            if getattr(self, name) < 0:
                raise ScenarioError(f"faults.{name} must be >= 0, got {getattr(self, name)!r}")
        if not 0.0 <= self.http_error_rate <= 1.0:
            raise ScenarioError(
                f"faults.http_error_rate must be in [0, 1], got {self.http_error_rate!r}"
            )
        if self.cycle_seconds <= 0:
            raise ScenarioError(f"faults.cycle_seconds must be > 0, got {self.cycle_seconds!r}")
        if self.keepalive_seconds <= 0:
            raise ScenarioError(
                f"faults.keepalive_seconds must be > 0, got {self.keepalive_seconds!r}"
            )
        if not self.http_error_statuses:
            raise ScenarioError("faults.http_error_statuses must not be empty")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Faults:
        """Build from the JSON ``faults`` object; unknown keys are an error."""
        return parse_faults(data)


def parse_faults(data: Mapping[str, Any]) -> Faults:
    """Build :class:`Faults` from the JSON ``faults`` object; unknown keys are an error."""
    known = {f.name for f in fields(Faults)}
    unknown = sorted(set(data) - known)
    if unknown:
        raise ScenarioError(
            f"unknown faults key(s) {unknown!r}; expected some of {sorted(known)!r}"
        )
    values = dict(data)
    if "http_error_statuses" in values:
        values["http_error_statuses"] = tuple(values["http_error_statuses"])
    try:
        return Faults(**values)
    except TypeError as exc:  # e.g. a string where a number belongs
        raise ScenarioError(f"bad faults object: {exc}") from exc
