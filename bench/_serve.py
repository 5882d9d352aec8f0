"""A source for the benchmarks that says when each ``app.serve`` run is ready for events.

Nothing here is part of agentflow; the scripts import it as a sibling module.
"""

from __future__ import annotations

import asyncio
from typing import Any

from agentflow import ManagedAgentsClient
from agentflow.managed_agents.channel import ManagedAgentsChannel


class ReadyChannel(ManagedAgentsChannel):
    """The real channel; ``ready`` is set when the run starts iterating it: the stream is
    open, history reconciled and the run attached (it waits for events from then on)."""

    __slots__ = ("ready",)
    ready: asyncio.Event | None

    def __aiter__(self) -> Any:
        if self.ready is not None:
            self.ready.set()
        return super().__aiter__()


class ReadySource:
    """``client`` as ``app.run`` sees it, whose channel sets ``ready`` (see ReadyChannel)."""

    def __init__(self, client: ManagedAgentsClient, ready: asyncio.Event) -> None:
        self.dialect = client.dialect
        self._client = client
        self._ready = ready

    def channel(self, session: str, *, checkpoint: Any, replay: bool | None, **options: Any) -> Any:
        channel = ReadyChannel(
            self._client.events, session, checkpoint=checkpoint, replay=replay, options=options
        )
        channel.ready = self._ready  # set before the run iterates it
        return channel


def serve_app() -> Any:
    """An app with one catch-all handler and no plugins from entry points."""
    from agentflow import App

    app = App()
    app.load_entrypoints = False

    @app.on("*")
    def handle(event: Any) -> None:
        pass

    return app
