"""The text helpers from synchronous code: :func:`stream_text_sync`, :func:`iter_text_sync`.

The client is async; these run it on an event loop in a background thread (an anyio blocking
portal) and hand each chunk back as it arrives, so a script with no event loop can print a
run's text as it streams, as with the SDK's ``runs.stream_text`` / ``stream.iter_text``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

from anyio.from_thread import start_blocking_portal

from .client import M8tesClient
from .stream import RunStream

__all__ = ["iter_text_sync", "stream_text_sync"]


Chunks = Callable[[M8tesClient], AsyncIterator[str]]


def _drive(open_chunks: Chunks, client: dict[str, Any]) -> Iterator[str]:
    with start_blocking_portal() as portal:
        made = portal.call(lambda: M8tesClient(**client))
        chunks = open_chunks(made)
        try:
            while True:
                try:
                    yield portal.call(chunks.__anext__)
                except StopAsyncIteration:
                    return
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                portal.call(aclose)
            portal.call(made.aclose)


def stream_text_sync(
    *,
    message: str,
    api_key: str | None = None,
    base_url: str | None = None,
    client_options: dict[str, Any] | None = None,
    **run_options: Any,
) -> Iterator[str]:
    """Start a run and yield its text deltas, from synchronous code.

    ``run_options`` go to ``client.runs.stream_text`` (``raise_on_error``,
    ``human_in_the_loop``, ...), ``client_options`` to :class:`M8tesClient`.
    """
    client = {"api_key": api_key, "base_url": base_url, **(client_options or {})}
    return _drive(lambda c: c.runs.stream_text(message=message, **run_options), client)


def iter_text_sync(
    run_id: int,
    *,
    api_key: str | None = None,
    base_url: str | None = None,
    client_options: dict[str, Any] | None = None,
) -> Iterator[str]:
    """Re-attach to a run and yield the text deltas of its whole history, then live ones."""
    client = {"api_key": api_key, "base_url": base_url, **(client_options or {})}

    def chunks(made: M8tesClient) -> AsyncIterator[str]:
        stream: RunStream = made.runs.stream(run_id)
        return stream.iter_text()

    return _drive(chunks, client)
