"""The :class:`Relay`: what an App publishes, kept per session for browsers to read.

``relay.middleware()`` (for ``app.use``) publishes every event an App dispatches, before its
handlers run; ``relay.publish(session_id, event)`` does the same for code without an App
(``agentflow watch``). Publishing never waits and never raises into the App. The relay lives
on one event loop: publish from the loop that serves the relay (the usual case of an App run
and a server in one process).
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from ._channel import Channel, Cursor, Message
from ._payload import Translator, result_data

if TYPE_CHECKING:
    from ..core.chain import Middleware, Next
    from ..core.context import Context
    from ..core.events import Event
    from ..core.results import RunResult

__all__ = ["Relay"]

_logger = logging.getLogger("agentflow.web")
_SEEN = 10_000  # event ids remembered per session, to relay an event delivered twice once


class _Session:
    def __init__(self, relay: Relay) -> None:
        self.channel = Channel(relay.buffer_size)
        self.translator = Translator(
            tool_input=relay.tool_input,
            tool_output=relay.tool_output,
            preview_chars=relay.preview_chars,
        )
        self.seen: OrderedDict[str, None] = OrderedDict()
        self.updated = time.time()


class Relay:
    """Keeps the recent events of the sessions an App runs, for :func:`relay_app` to serve.

    ``buffer_size`` messages are kept per session (a browser reconnecting with
    ``Last-Event-ID`` resumes from there); ``queue_size`` is how far behind a browser may
    fall before it is disconnected (it then resumes by ``Last-Event-ID``); text deltas are
    merged for a browser more than ``coalesce_at`` messages behind. ``max_sessions`` sessions
    are kept (the least recently updated one with no browser goes first). Tool inputs and
    outputs are not sent unless ``tool_input`` / ``tool_output`` is true, and then as a
    one-line preview of at most ``preview_chars`` characters.
    """

    def __init__(
        self,
        *,
        buffer_size: int = 2048,
        queue_size: int = 256,
        coalesce_at: int = 32,
        max_sessions: int = 64,
        tool_input: bool = False,
        tool_output: bool = False,
        preview_chars: int = 120,
    ) -> None:
        for name, value in (
            ("buffer_size", buffer_size),
            ("queue_size", queue_size),
            ("max_sessions", max_sessions),
        ):
            if value < 1:
                raise ValueError(f"Relay {name} must be >= 1, got {value!r}")
        self.buffer_size = buffer_size
        self.queue_size = queue_size
        self.coalesce_at = coalesce_at
        self.max_sessions = max_sessions
        self.tool_input = tool_input
        self.tool_output = tool_output
        self.preview_chars = preview_chars
        self.disconnected = 0
        """How many browsers were cut for falling behind."""
        self._sessions: OrderedDict[str, _Session] = OrderedDict()

    # -- feeding --------------------------------------------------------------------------

    def middleware(self, session_id: str | None = None) -> Middleware:
        """An App middleware publishing each event before passing it on.

        ``session_id`` names the session for contexts that have none (``app.dispatch``
        on a detached context, replays); such events are skipped without it.
        """

        async def relay_events(event: Event, ctx: Context, call_next: Next) -> None:
            target = ctx.session_id or session_id
            if target is not None:
                self.publish(target, event)
            # ``Next`` is typed with the Managed Agents event union; any Event passes through.
            forward: Any = call_next
            await forward(event, ctx)

        return relay_events

    def publish(self, session_id: str, event: Event) -> None:
        """Relay one event of ``session_id`` (an event id seen before is skipped)."""
        try:
            session = self._session(session_id)
            if event.id is not None:
                if event.id in session.seen:
                    return
                session.seen[event.id] = None
                if len(session.seen) > max(self.buffer_size, _SEEN):
                    session.seen.popitem(last=False)
            for name, data, key in session.translator.translate(event):
                self._append(session, name, data, key)
        except Exception:  # the view must never break the App it watches
            _logger.exception("relay: could not publish a %s event", getattr(event, "type", "?"))

    def publish_result(self, session_id: str, result: RunResult) -> None:
        """Relay the :class:`~agentflow.RunResult` of a run (``run.result`` message)."""
        self._append(self._session(session_id), "run.result", result_data(result))

    def finish(self, session_id: str) -> None:
        """Say that nothing more will be published for ``session_id`` (``relay.end``)."""
        session = self._session(session_id)
        self._append(session, "relay.end", {"kind": "relay.end", "type": "relay.end"})
        session.channel.finished = True

    def _append(
        self, session: _Session, name: str, data: dict[str, Any], key: str | None = None
    ) -> None:
        channel = session.channel
        channel.finished = False
        lagged = [c for c in channel.cursors if not c.lagged]
        channel.append(name, data, key)
        session.updated = time.time()
        for cursor in lagged:
            if cursor.lagged:
                self.disconnected += 1
                _logger.info("relay: disconnected a browser %d messages behind", cursor.lag)

    # -- reading --------------------------------------------------------------------------

    def _session(self, session_id: str) -> _Session:
        session = self._sessions.get(session_id)
        if session is None:
            session = self._sessions[session_id] = _Session(self)
            self._evict()
        return session

    def _evict(self) -> None:
        idle = [k for k, s in self._sessions.items() if not s.channel.cursors]
        idle.sort(key=lambda k: self._sessions[k].updated)
        while len(self._sessions) > self.max_sessions and idle:
            del self._sessions[idle.pop(0)]

    def subscribe(self, session_id: str, last_id: int | None) -> tuple[Cursor, list[Message]]:
        """A cursor for a new browser connection, and the notices to send it first.

        ``last_id`` is the ``Last-Event-ID`` the browser sent. A ``relay.gap`` notice says
        that messages it has not seen are no longer buffered; ``relay.reset`` that its id is
        newer than anything here (the relay restarted): it gets the whole buffer again.
        """
        channel = self._session(session_id).channel
        first = channel.first_seq
        notices: list[Message] = []
        if last_id is not None and last_id > channel.seq:
            notices.append(Message(0, "relay.reset", {"kind": "relay.reset", "last_id": last_id}))
            last_id = None
        position = first - 1 if last_id is None else max(last_id, first - 1)
        missed = first - 1 - (0 if last_id is None else last_id)
        if missed > 0:
            notices.append(Message(0, "relay.gap", {"kind": "relay.gap", "missed": missed}))
        cursor = channel.attach(position, max(self.queue_size, channel.seq - position))
        return cursor, notices

    def unsubscribe(self, cursor: Cursor) -> None:
        """Forget a browser connection that ended."""
        cursor.channel.detach(cursor)

    def finished(self, session_id: str) -> bool:
        """True when :meth:`finish` was the last thing published for ``session_id``."""
        session = self._sessions.get(session_id)
        return session is not None and session.channel.finished

    def head(self, session_id: str) -> int:
        """The sequence number of the newest message of ``session_id`` (0 if none)."""
        session = self._sessions.get(session_id)
        return 0 if session is None else session.channel.seq

    def sessions(self) -> list[dict[str, Any]]:
        """The sessions kept, most recently updated first (for ``GET /sessions``)."""
        items = sorted(self._sessions.items(), key=lambda kv: kv[1].updated, reverse=True)
        return [
            {
                "id": sid,
                "last_id": s.channel.seq,
                "browsers": len(s.channel.cursors),
                "finished": s.channel.finished,
                "updated": s.updated,
            }
            for sid, s in items
        ]

    def seen_by_browser(self, session_id: str) -> bool:
        """True once a browser has connected to ``session_id``."""
        session = self._sessions.get(session_id)
        return session is not None and session.channel.subscribed.is_set()

    async def wait_for_browser(self, session_id: str) -> None:
        """Return once a browser has connected to ``session_id`` (bound it with a timeout)."""
        await self._session(session_id).channel.subscribed.wait()

    async def wait_delivered(self, session_id: str) -> None:
        """Return once every connected browser was sent everything of ``session_id``."""
        await self._session(session_id).channel.wait_delivered()

    def close(self) -> None:
        """End every open browser connection (before a server shuts down)."""
        for session in self._sessions.values():
            for cursor in list(session.channel.cursors):
                cursor.close()
