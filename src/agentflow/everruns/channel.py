"""The Everruns :class:`~agentflow.Channel`: one session, as ``app.run`` follows it.

Events come from the resilient stream, opened before anything is sent. A turn starts with a
``messages`` post per input; it counts as started when the ``input.message`` echoing the
first one arrives. Answers are posted in one attempt each (the actions router owns the
retries, a 409 included): tool results to ``tool-results``, approvals to the channel
surface's ``tool-approvals``, question answers to its ``question-answers``. History (the
``events`` listing) lets a restarted run see which calls were answered already.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Collection, Mapping, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from .dialect import EVERRUNS
from .resources import NOISY_TYPES

if TYPE_CHECKING:
    from ..core.checkpoint import CheckpointStore
    from ..core.events import Event
    from ..core.types import JSONObject
    from .events import EverrunsEvent
    from .resources import Events, Messages, Sessions
    from .stream import EverrunsStream

__all__ = ["STATUS_TYPES", "EverrunsChannel"]

STATUS_TYPES = frozenset(
    {
        "input.message", "turn.started", "turn.completed", "turn.failed", "turn.cancelled",
        "turn.sealed", "tool.call_requested", "tool.completed", "tool.approval_requested",
        "tool.approval_resolved", "question.requested", "question.answered",
    }
)  # fmt: skip
"""What :meth:`EverrunsChannel.latest` looks for: where the session's turn stands."""

_LATEST_PAGES = 10
_ECHO_WINDOW = 20


class EverrunsChannel:
    """One Everruns session for the run loop (see the module docstring)."""

    dialect = EVERRUNS

    def __init__(
        self,
        sessions: Sessions,
        messages: Messages,
        events: Events,
        session_id: str,
        *,
        checkpoint: CheckpointStore,
        replay: bool | None,
        options: Mapping[str, Any],
    ) -> None:
        self.session_id = session_id
        self._sessions = sessions
        self._messages = messages
        self._events = events
        self._posted: set[str] = set()  # replies this channel got accepted
        if replay is None:
            replay = checkpoint.position(session_id) is not None
        self.stream: EverrunsStream = events.stream(
            session_id, checkpoint=checkpoint, replay=replay, **options
        )

    async def __aenter__(self) -> EverrunsChannel:
        await self.stream.__aenter__()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stream.__aexit__(exc_type, exc, tb)

    def __aiter__(self) -> AsyncIterator[Event]:
        return self.stream

    async def start_turn(self, inputs: Sequence[JSONObject]) -> Collection[str]:
        """Post the inputs; the turn starts at the ``input.message`` of the first one."""
        sent = [await self._messages.create(self.session_id, body) for body in inputs]
        if not sent or sent[0].id is None:
            return ()
        page, _ = await self._events.page(
            self.session_id, types=["input.message"], limit=_ECHO_WINDOW
        )
        for event in page:
            message = getattr(getattr(event, "data", None), "message", None)
            if getattr(message, "id", None) == sent[0].id:
                return {event.id}
        return ()  # no echo found: count the turn as started now

    async def send(self, requests: list[JSONObject]) -> list[Any]:
        """Send client requests (``ctx.send``): message bodies, or bodies of
        ``tool-results``, ``tool-approvals`` or ``question-answers``."""
        out: list[Any] = []
        sid = self.session_id
        for body in requests:
            if "message" in body:
                out.append(await self._messages.create(sid, body))
            elif "tool_results" in body:
                out.append(await self._sessions.submit_tool_results(sid, body["tool_results"]))
            elif "decisions" in body:
                out.append(await self._sessions.submit_tool_approvals(sid, body["decisions"]))
            elif "answers" in body:
                out.append(await self._sessions.answer_questions(sid, body))
            else:
                raise ValueError(
                    "an Everruns request is a message body {'message': ...} or a "
                    "'tool_results', 'decisions' or 'answers' body; got keys "
                    f"{sorted(body)!r}"
                )
        return out

    async def answer(self, replies: list[JSONObject]) -> None:
        """Post the App's replies, one attempt per endpoint; replies already accepted by an
        earlier attempt of the same batch are not posted again."""
        target = self.dialect.reply_target
        todo = [r for r in replies if target(r) not in self._posted]
        results = [r for r in todo if "answers" not in r and "decision" not in r]
        decisions = [r for r in todo if "decision" in r]
        sid = self.session_id
        if results:
            await self._sessions.submit_tool_results(sid, results)
            self._posted.update(map(target, results))
        if decisions:
            await self._sessions.submit_tool_approvals(sid, decisions)
            self._posted.update(map(target, decisions))
        for body in (r for r in todo if "answers" in r):
            await self._sessions.answer_questions(sid, body)
            self._posted.add(target(body))

    async def interrupt(self, thread_id: str | None = None) -> Any:
        """Cancel the running turn (Everruns has no threads: ``thread_id`` is ignored)."""
        return await self._sessions.cancel(self.session_id)

    def history(self) -> AsyncIterator[EverrunsEvent]:
        """The session's stored events from the start (deltas left out)."""
        return self._events.list(self.session_id, exclude=NOISY_TYPES)

    async def latest(self) -> EverrunsEvent | None:
        """The newest event that says where the turn stands (:data:`STATUS_TYPES`)."""
        before: int | None = None
        for _ in range(_LATEST_PAGES):
            page, _more = await self._events.page(
                self.session_id, exclude=NOISY_TYPES, limit=100, before_sequence=before
            )
            for event in reversed(page):
                if event.type in STATUS_TYPES:
                    return event
            first = page[0].sequence if page else None
            if first is None or first <= 1:
                return None
            before = first
        return None

    def __repr__(self) -> str:
        return f"EverrunsChannel(session_id={self.session_id!r})"
