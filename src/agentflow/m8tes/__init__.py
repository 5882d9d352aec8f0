"""m8tes runs: data-only streams, full-replay re-attach without duplicates, gates by policy.

- :class:`M8tesClient`: ``client.runs`` (create, get, stream, reply, cancel, permissions,
  approve, answer, permission mode, poll, stream_text) and the channel ``app.run`` follows
  a run through: ``run = await client.runs.create(message=...)``, then
  ``await app.run(client, run.id)``;
- :class:`RunStream`: a run's events, each once and in order across re-attaches;
- :mod:`~agentflow.m8tes.events`: one typed model per frame type, ``parse_frame``;
- :class:`M8tesDialect` (``M8TES``): what the frames mean, for the core;
- :func:`stream_text_sync` / :func:`iter_text_sync`: the text helpers from synchronous code.

Names are imported lazily: the events and the dialect need no HTTP client.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .channel import M8tesChannel
    from .client import DEFAULT_BASE_URL, M8tesClient
    from .dialect import DECLINED, M8TES, QUESTION_TOOL, M8tesDialect
    from .events import M8tesEvent, RunStatus, UnknownEvent, parse_frame
    from .models import AnswerReceipt, Permission, PermissionMode, Run
    from .runs import Runs
    from .stream import RunStream, StreamOptions
    from .text import iter_text_sync, stream_text_sync

_EXPORTS: dict[str, str] = {
    "AnswerReceipt": ".models",
    "DECLINED": ".dialect",
    "DEFAULT_BASE_URL": ".client",
    "M8TES": ".dialect",
    "M8tesChannel": ".channel",
    "M8tesClient": ".client",
    "M8tesDialect": ".dialect",
    "M8tesEvent": ".events",
    "Permission": ".models",
    "PermissionMode": ".models",
    "QUESTION_TOOL": ".dialect",
    "Run": ".models",
    "RunStatus": ".events",
    "RunStream": ".stream",
    "Runs": ".runs",
    "StreamOptions": ".stream",
    "UnknownEvent": ".events",
    "iter_text_sync": ".text",
    "parse_frame": ".events",
    "stream_text_sync": ".text",
}

__all__ = [
    "DECLINED",
    "DEFAULT_BASE_URL",
    "M8TES",
    "QUESTION_TOOL",
    "AnswerReceipt",
    "M8tesChannel",
    "M8tesClient",
    "M8tesDialect",
    "M8tesEvent",
    "Permission",
    "PermissionMode",
    "Run",
    "RunStatus",
    "RunStream",
    "Runs",
    "StreamOptions",
    "UnknownEvent",
    "iter_text_sync",
    "parse_frame",
    "stream_text_sync",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'agentflow.m8tes' has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
