"""The actions router: answers the calls a paused agent waits for, in every dialect.

The event path feeds it every event (calls before the handlers see them, pauses after):

- a call the dialect announces (:meth:`~agentflow.Dialect.calls`) is remembered; a client
  tool call marked ``early`` starts at once (it does not wait for the pause) in the router's
  task group;
- a reply seen on the stream (:meth:`~agentflow.Dialect.settled`) marks its call answered;
- a pause (:meth:`~agentflow.Dialect.pause`): for each id it names that this app owns, a
  reply is produced (a tool's result, a gate's verdict from the policies, a question's
  answer), independent calls run concurrently (one slow policy or tool holds back no other
  reply), and **all** replies are posted in one batch (:mod:`agentflow.core.actions.post`;
  a batch the server rejects is posted reply by reply). Ids it does not own are left for
  their owner and reported (``RunResult.unanswered``).

At most once, across restarts, through the :class:`~agentflow.CheckpointStore`: a call is
``claim``-ed before its tool runs, its reply is ``record_result``-ed before it is posted and
``mark_sent`` after. Before anything runs the session's history (where the channel has one)
is read once, so a call that already has a reply is never run or answered again. A reply
recorded but not posted is posted as stored, without running the tool again; a call claimed
by a run that died before the tool finished gets an error result instead of a second run
(unless its tool is ``idempotent``); a call claimed by a live other run is left to it.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from typing import TYPE_CHECKING, Any

import anyio
from anyio.abc import TaskGroup

from ..answers import ToolReply
from ..checkpoint import CheckpointStore, MemoryCheckpointStore
from ..observers import Observers
from ..questions import QuestionHandlers
from ..verdicts import Deny
from .post import Poster
from .records import unanswered_record
from .resolve import Resolver

if TYPE_CHECKING:
    from ..config import UnknownTools
    from ..context import Context
    from ..dialect import Call, Dialect, Pause
    from ..events import Event
    from ..results import ToolCallRecord
    from ..verdicts import Verdict
    from .protocols import Policies, ToolProvider

__all__ = ["ActionsRouter"]

logger = logging.getLogger("agentflow.router")

Answer = Callable[[list[dict[str, Any]]], Awaitable[Any]]
History = Callable[[], "AsyncIterator[Event] | None"]


class ActionsRouter:
    """Answers the pauses of one session (see the module docstring).

    ``answer`` posts a batch of replies in one attempt (``channel.answer``); ``history``
    returns an async iterator over the session's stored events, or ``None``. At most
    ``max_concurrency`` tool calls run at once (each tool's own limit applies too). A post
    that fails with a transport error, 409, 429 or 5xx is retried up to ``send_attempts``
    times with jittered exponential delays from ``retry_delay`` seconds (capped at 8 s);
    this is the only place a reply post is retried. ``early_start`` starts client tools when
    their call arrives rather than at the pause. ``unknown_tools`` says what a call to a tool
    the app lacks gets (default ``"error"``: an error result). ``owner`` and ``lease`` are
    recorded with each claim (see :mod:`agentflow.core.checkpoint.base`). ``observers`` (the
    app's) see each tool execution, policy decision and reply post.

    Use it as an async context manager around the events it is fed: calls still running when
    it exits are cancelled (their checkpoint stays ``claimed``, so a later run reports them
    as interrupted instead of running them again).
    """

    def __init__(
        self,
        *,
        session_id: str,
        dialect: Dialect,
        answer: Answer,
        history: History | None = None,
        tools: ToolProvider | None = None,
        policies: Policies | None = None,
        questions: QuestionHandlers | None = None,
        checkpoint: CheckpointStore | None = None,
        default_confirmation: Verdict | None = None,
        unknown_tools: UnknownTools = "error",
        max_concurrency: int = 16,
        send_attempts: int = 5,
        retry_delay: float = 0.5,
        early_start: bool = True,
        owner: str | None = None,
        lease: float | None = None,
        observers: Observers | None = None,
    ) -> None:
        self.session_id = session_id
        self.observers = observers if observers is not None else Observers()
        self.dialect = dialect
        self.checkpoint = checkpoint if checkpoint is not None else MemoryCheckpointStore()
        self.early_start = early_start
        self._send = answer
        self._history = history
        self._history_read = False
        self._history_lock: anyio.Lock | None = None  # made by the first read (memory)
        self._calls: dict[str, Call] = {}  # announced calls by id
        self._seq: dict[str, int] = {}  # ids in the order the calls were first seen
        self._answered: set[str] = set()  # ids with a reply on the server (seen or sent)
        self._records: dict[str, ToolCallRecord] = {}
        self._reported: set[str] = set()
        self.unanswered: list[str] = []
        self.errors: list[str] = []
        self._tg: TaskGroup | None = None
        self.resolver = Resolver(
            self,
            tools=tools,
            policies=policies,
            questions=questions or QuestionHandlers(),
            default_confirmation=default_confirmation,
            unknown_tools=unknown_tools,
            max_concurrency=max_concurrency,
            owner=owner,
            lease=lease,
        )
        self.poster = Poster(self, send_attempts=send_attempts, retry_delay=retry_delay)

    async def __aenter__(self) -> ActionsRouter:
        self._tg = anyio.create_task_group()
        await self._tg.__aenter__()
        return self

    async def __aexit__(self, exc_type: Any, exc: BaseException | None, tb: Any) -> bool | None:
        assert self._tg is not None
        self._tg.cancel_scope.cancel()
        if exc is not None and not isinstance(exc, anyio.get_cancelled_exc_class()):
            # Let the original error through as it is, not wrapped in an ExceptionGroup.
            await self._tg.__aexit__(None, None, None)
            return None
        return await self._tg.__aexit__(exc_type, exc, tb)

    # -- feeding ---------------------------------------------------------------------------

    async def feed(self, event: Event, ctx: Context) -> None:
        """Look at one event: remember its calls, or answer the pause it is."""
        pause = self.dialect.pause(event)
        if pause is None:
            self.observe(event, ctx)
        else:
            await self.on_pause(pause, ctx)

    def observe(self, event: Event, ctx: Context) -> None:
        """Remember the calls ``event`` announces (starting early ones) and replies it shows."""
        dialect = self.dialect
        for call in dialect.calls(event):
            self._remember(call)
            if (
                call.kind == "tool"
                and call.early
                and self.early_start
                and self._tg is not None
                and call.id not in self._answered
                and self.resolver.owns_tool(call)
            ):
                self.resolver.start(call, ctx)
        settled = dialect.settled(event)
        if settled is not None:
            self._answered.add(settled)

    async def on_pause(self, pause: Pause, ctx: Context) -> list[dict[str, Any]]:
        """Answer a pause: the ids it names (or every open call) in one batch."""
        for call in pause.calls:
            self._remember(call)
        if pause.ids is not None:
            ids = list(pause.ids)
        else:
            ids = [i for i in self._calls if i not in self._answered]
        return await self.answer(ids, ctx)

    def _remember(self, call: Call) -> None:
        self._calls[call.id] = call
        self._seq.setdefault(call.id, len(self._seq))

    async def send_replies(self, batch: list[dict[str, Any]]) -> None:
        """Post one batch in one attempt (the poster retries)."""
        await self._send(batch)

    def spawn(self, fn: Callable[[], Coroutine[Any, Any, None]]) -> None:
        """Run ``fn()`` in the router's task group."""
        assert self._tg is not None
        self._tg.start_soon(fn)

    # -- state shared with the resolver and the poster -------------------------------------

    def call(self, call_id: str, ctx: Context) -> Call | None:
        """The call ``call_id``: announced on the stream or in history, or found in ``ctx``."""
        found = self._calls.get(call_id)
        if found is None:
            event = ctx.event_by_id(call_id)
            if event is not None:
                for call in self.dialect.calls(event):
                    self._remember(call)
                found = self._calls.get(call_id)
        return found

    def answered(self, call_id: str) -> bool:
        """Whether the server holds a reply to ``call_id`` (seen, read or sent)."""
        return call_id in self._answered

    def mark_answered(self, call_id: str) -> None:
        """Note that the server holds a reply to ``call_id``."""
        self._answered.add(call_id)

    def add_record(self, record: ToolCallRecord) -> None:
        """Keep the record of a call (replacing an earlier one for the same id)."""
        self._seq.setdefault(record.id, len(self._seq))
        self._records[record.id] = record

    def record(self, call_id: str) -> ToolCallRecord | None:
        """The record of ``call_id``, if any."""
        return self._records.get(call_id)

    def substitute(self, call_id: str, why: str) -> dict[str, Any] | None:
        """A reply to put in the place of one the server rejected: an error result for a
        tool, a deny for an approval, a decline for a question (``None``: call unknown)."""
        call = self._calls.get(call_id)
        if call is None:
            return None
        dialect = self.dialect
        if call.kind == "tool":
            return dialect.tool_reply(call, ToolReply.failure("error", why))
        if call.kind == "approval":
            return dialect.approval_reply(call, Deny(why))
        return dialect.question_reply(call, None)

    def leave(self, call_id: str, call: Call | None, why: str, kind: str | None = None) -> None:
        """Leave ``call_id`` unanswered (for its owner), reporting it once."""
        if call_id in self._reported:
            return
        self._reported.add(call_id)
        self.unanswered.append(call_id)
        record = unanswered_record(call_id, call, why)
        if kind is not None:
            record.kind = kind  # type: ignore[assignment]
        self.add_record(record)
        logger.warning("%s: %s left unanswered: %s", self.session_id, call_id, why)

    @property
    def records(self) -> list[ToolCallRecord]:
        """One record per call handled or left unanswered, in the order the calls were made."""
        return sorted(self._records.values(), key=lambda r: self._seq[r.id])

    # -- history ---------------------------------------------------------------------------

    async def read_history(self, *, again: bool = False) -> None:
        """Read the session's history once (or ``again``): calls and the replies it holds."""
        if self._history is None:
            return
        lock = self._history_lock
        if lock is None:
            lock = self._history_lock = anyio.Lock()
        async with lock:
            if self._history_read and not again:
                return
            events = self._history()
            if events is not None:
                async for event in events:
                    for call in self.dialect.calls(event):
                        self._remember(call)
                    call_id = self.dialect.settled(event)
                    if call_id is not None:
                        self._answered.add(call_id)
                        if self.checkpoint.call_state(self.session_id, call_id) != "sent":
                            self.checkpoint.mark_sent(self.session_id, call_id)
            self._history_read = True

    @property
    def history_read(self) -> bool:
        """Whether history was read at least once."""
        return self._history_read

    # -- answering a pause -----------------------------------------------------------------

    async def answer(self, call_ids: list[str], ctx: Context) -> list[dict[str, Any]]:
        """Answer every owned id of a pause in one batch; returns the batch posted."""
        todo = [i for i in dict.fromkeys(call_ids) if i not in self._answered]
        if todo:
            read_before = self._history_read
            await self.read_history()
            unseen = [
                i for i in todo if self.call(i, ctx) is None and not self.resolver.is_running(i)
            ]
            if unseen and read_before:  # calls newer than the last read: read it again
                await self.read_history(again=True)
            todo = [i for i in todo if i not in self._answered]
        if not todo:
            return []
        replies: dict[str, dict[str, Any]] = {}
        async with anyio.create_task_group() as tg:
            for call_id in todo:
                tg.start_soon(self.resolver.resolve, call_id, ctx, replies)
        batch = [replies[i] for i in todo if i in replies]
        if batch:
            await self.poster.post(batch)
        return batch
