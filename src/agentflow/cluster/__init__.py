"""Scale-out on Redis (extra ``cluster``): many workers, every reply exactly once.

- :func:`webhook_app`: an ASGI app that verifies signed session webhooks and queues wake-ups.
- :class:`WakeQueue`: the wake-up stream (Redis Streams consumer group).
- :class:`Leases` / :class:`Lease`: one worker per session, with fencing tokens.
- :class:`RedisCheckpointStore`: the checkpoint, every write fenced by the lease.
- :class:`Worker`: takes wake-ups, leases the session, runs the work, acknowledges; given
  an app, the work is reading the session and answering it (:class:`AppWork`).
- :class:`SessionIndex`: the sessions last seen not idle, which the periodic sweep wakes.

See ``docs/scale-out.md``. Public names are imported lazily, so this package imports even
without the extra; using one needs ``pip install "agentflow-events[cluster]"``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._redis import FencedOutError, Keys
    from .checkpoint import CallRecord, FencedCheckpoint, RedisCheckpointStore
    from .index import SessionIndex
    from .lease import Lease, Leases, Release
    from .queue import Wake, WakeQueue
    from .runner import AppWork, TakeoverCheckpoint
    from .webhooks import DEFAULT_WAKE_TYPES, webhook_app
    from .worker import Worker

_EXPORTS: dict[str, str] = {
    "AppWork": ".runner",
    "CallRecord": ".checkpoint",
    "DEFAULT_WAKE_TYPES": ".webhooks",
    "FencedCheckpoint": ".checkpoint",
    "FencedOutError": "._redis",
    "Keys": "._redis",
    "Lease": ".lease",
    "Leases": ".lease",
    "RedisCheckpointStore": ".checkpoint",
    "Release": ".lease",
    "SessionIndex": ".index",
    "TakeoverCheckpoint": ".runner",
    "Wake": ".queue",
    "WakeQueue": ".queue",
    "Worker": ".worker",
    "webhook_app": ".webhooks",
}

__all__ = [
    "DEFAULT_WAKE_TYPES",
    "AppWork",
    "CallRecord",
    "FencedCheckpoint",
    "FencedOutError",
    "Keys",
    "Lease",
    "Leases",
    "RedisCheckpointStore",
    "Release",
    "SessionIndex",
    "TakeoverCheckpoint",
    "Wake",
    "WakeQueue",
    "Worker",
    "webhook_app",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentflow.cluster' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
