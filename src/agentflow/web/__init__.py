"""The live web view: relay the sessions an App runs to browsers, and a page that shows them.

::

    from agentflow.web import Relay, relay_app

    relay = Relay()
    app.use(relay.middleware())                   # the App publishes what it sees
    web = relay_app(relay, token=TOKEN)           # an ASGI app: mount it, or serve it

Browsers read ``GET /sessions/{id}/events`` (Server-Sent Events in the common ``kind``
vocabulary, resumable with ``Last-Event-ID``) or open the built-in page at ``/``. Every
request needs the token. :class:`Relay` needs nothing beyond agentflow; :func:`relay_app`
needs the ``web`` extra (Starlette). See ``docs/web.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ._relay import Relay

if TYPE_CHECKING:
    from ._app import RelayApp, relay_app

__all__ = ["Relay", "RelayApp", "relay_app"]


def __getattr__(name: str) -> Any:
    if name in ("RelayApp", "relay_app"):
        try:
            from . import _app
        except ModuleNotFoundError as exc:  # pragma: no cover - depends on the environment
            if exc.name is not None and exc.name.startswith("starlette"):
                raise ModuleNotFoundError(
                    "agentflow.web.relay_app needs the 'web' extra: "
                    "python -m pip install 'agentflow-events[web]'",
                    name=exc.name,
                ) from exc
            raise
        value = getattr(_app, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'agentflow.web' has no attribute {name!r}")


def __dir__() -> list[str]:
    return __all__
