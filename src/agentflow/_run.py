"""Running an app against a live session: ``app.run``, ``app.run_sync`` and ``app.serve``.

One run = one stream, one :class:`~agentflow.Context`, one requires_action router:

1. the stream is opened first (so nothing caused by what is sent can be missed), resuming
   after the checkpoint's position when it has one for the session, else at the end of the
   session's history (``replay=True`` replays the whole history instead);
2. the ``send`` events are posted; the turn is considered started once the stream delivers
   the echo of one of them (older events never end the run);
3. with nothing to send, the session's latest status is read: a pending ``requires_action``
   is answered, and a terminated session or a turn that already ended ends ``run`` at once;
4. each event is remembered (``ctx.event_by_id``), dispatched through the app's middleware
   and handlers, and fed to the router (tool calls first to the router, so custom tools start
   while handlers run; idles first to the handlers, then answered);
5. the run ends on a turn-ending idle (``until="end_turn"``), on ``session.status_terminated``
   or ``session.deleted``, after ``ctx.stop()``, or when ``until(event)`` is true.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import pluggy

from ._checkpoint import CheckpointStore, MemoryCheckpointStore
from ._context import Context
from ._results import RunResult, ToolCallRecord
from ._router import RequiresActionRouter
from ._tools import ToolRegistry
from .plugins import ConfirmPolicies, Verdict, make_plugin_manager

if TYPE_CHECKING:
    from ._app import App
    from .events import Event

__all__ = ["Actions", "RunResult", "ToolCallRecord", "Until", "run_app"]

Until = Literal["end_turn", "terminated"] | Callable[["Event"], bool]

_TERMINAL = {"session.status_terminated": "terminated", "session.deleted": "deleted"}
_STATUS_TYPES = (
    "session.status_idle",
    "session.status_running",
    "session.status_rescheduled",
    "session.status_terminated",
)
_HISTORY_TYPES = (
    "agent.custom_tool_use",
    "agent.tool_use",
    "agent.mcp_tool_use",
    "user.custom_tool_result",
    "user.tool_confirmation",
)


class Actions:
    """An app's custom tools, confirmation policies and run defaults (``app._actions``).

    ``default_confirmation`` answers confirmations no policy decided (``None`` = deny, saying
    no policy matched). ``load_entrypoints`` says whether plugins installed under the
    ``agentflow`` entry-point group are loaded; the plugin manager is created, and entry
    points loaded, the first time :attr:`plugins` is used (``app.plugins`` or the first run).
    ``checkpoint`` is the store runs use when not given one: in memory, shared by the app's
    runs, so a second ``run`` on a session resumes where the first stopped.
    """

    def __init__(self) -> None:
        self.tools = ToolRegistry()
        self.confirms = ConfirmPolicies()
        self.default_confirmation: Verdict | None = None
        self.load_entrypoints = True
        self.max_concurrency = 16
        self.checkpoint: CheckpointStore = MemoryCheckpointStore()
        self._plugins: pluggy.PluginManager | None = None

    @property
    def plugins(self) -> pluggy.PluginManager:
        """The plugin manager (created on first use; see the class docstring)."""
        if self._plugins is None:
            self._plugins = make_plugin_manager(
                self.confirms, load_entrypoints=self.load_entrypoints
            )
        return self._plugins


def _stop_check(until: Until) -> Callable[[Event], bool]:
    if until == "end_turn":
        return lambda event: event.is_final_response()
    if until == "terminated":
        return lambda event: False
    if callable(until):
        return until
    raise ValueError(f"until must be 'end_turn', 'terminated' or a callable, got {until!r}")


async def _latest_status(client: Any, session_id: str) -> Event | None:
    async for event in client.events.list(session_id, order="desc", limit=1, types=_STATUS_TYPES):
        return event  # type: ignore[no-any-return]
    return None


def _stop_reason(event: Event) -> str:
    stop = getattr(event, "stop_reason", None)
    return str(stop.type) if stop is not None else event.type


async def _attach(
    client: Any,
    session_id: str,
    router: RequiresActionRouter,
    ctx: Context,
    *,
    replay: bool,
    store: CheckpointStore,
    until: Until,
) -> str | None:
    """With nothing to send: answer a pending requires_action; say if the turn is over."""
    latest = await _latest_status(client, session_id)
    if latest is not None and latest.type == "session.status_terminated":
        return "terminated"  # nothing will follow
    if latest is None or latest.type != "session.status_idle":
        return None
    if latest.stop_reason.requires_action:  # type: ignore[union-attr]
        await router.feed(latest, ctx)
        return None
    if until == "end_turn" and (not replay or store.is_dispatched(session_id, str(latest.id))):
        return _stop_reason(latest)  # the turn ended before this run and will not be re-sent
    return None


class _Tally:
    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.counts: Counter[str] = Counter()
        self.text = ""
        self.first: float | None = None
        self.last_id: str | None = None

    def count(self, event: Event) -> None:
        if self.first is None:
            self.first = time.perf_counter() - self.started
        self.counts[event.type] += 1
        self.last_id = event.id or self.last_id


async def run_app(
    app: App,
    client: Any,
    session_id: str,
    *,
    send: Iterable[Mapping[str, Any]] = (),
    until: Until = "end_turn",
    checkpoint: CheckpointStore | None = None,
    replay: bool | None = None,
    max_concurrency: int | None = None,
    stream_options: Mapping[str, Any] | None = None,
) -> RunResult:
    """The run loop behind ``app.run`` and ``app.serve`` (see the module docstring)."""
    tally = _Tally()
    stop_when = _stop_check(until)
    actions: Actions = app._actions
    store = checkpoint if checkpoint is not None else actions.checkpoint
    outgoing = [dict(e) for e in send]
    if replay is None:
        replay = store.position(session_id) is not None

    async def post(events: list[dict[str, Any]]) -> Any:
        return await client.events.send(session_id, events)

    ctx = Context(session_id, sender=post, app=app)
    router = RequiresActionRouter(
        session_id=session_id,
        tools=actions.tools,
        plugins=actions.plugins,
        send=post,
        history=lambda: client.events.list(session_id, types=_HISTORY_TYPES),
        checkpoint=store,
        default_confirmation=actions.default_confirmation,
        max_concurrency=max_concurrency or actions.max_concurrency,
    )
    options = dict(stream_options or {})
    stream = client.events.stream(session_id, checkpoint=store, replay=replay, **options)
    stop_reason: str | None = None
    async with stream, router:
        echo_ids: set[str] = set()
        if outgoing:
            echoes = await post(outgoing)
            echo_ids = {str(e.id) for e in echoes or () if getattr(e, "id", None)}
        else:
            stop_reason = await _attach(
                client, session_id, router, ctx, replay=replay, store=store, until=until
            )
        turn_started = not echo_ids
        if stop_reason is None:
            stop_reason = "stream_ended"
            async for event in stream:
                tally.count(event)
                ctx.remember(event)
                kind = event.type
                if not turn_started and event.id in echo_ids:
                    turn_started = True
                if kind == "session.status_idle":
                    await app.dispatch(event, ctx)
                    await router.feed(event, ctx)
                else:
                    await router.feed(event, ctx)
                    await app.dispatch(event, ctx)
                if kind == "agent.message" and turn_started:
                    tally.text = event.text
                if kind in _TERMINAL:
                    stop_reason = _TERMINAL[kind]
                    break
                if turn_started and stop_when(event):
                    stop_reason = _stop_reason(event) if event.is_final_response() else "until"
                    break
                if ctx.stopped:
                    stop_reason = "stopped"
                    break
    return RunResult(
        session_id=session_id,
        stop_reason=stop_reason,
        text=tally.text,
        tool_calls=list(router.records),
        counts=dict(tally.counts),
        events=sum(tally.counts.values()),
        time_to_first_event=tally.first,
        duration=time.perf_counter() - tally.started,
        unanswered=list(router.unanswered),
        errors=list(router.errors),
        last_event_id=tally.last_id,
    )
