"""Running an app against a live session: ``app.run``, ``app.run_sync`` and ``app.serve``.

One run = one channel, one :class:`~agentflow.Context`, one actions router, for any dialect:

0. the run takes the session's lease in the checkpoint store (:mod:`agentflow.core.lease`):
   another live run on the same session and store makes it raise
   :class:`~agentflow.SessionBusyError` naming that run (``wait=True`` waits instead), so
   one session is run by one run at a time per store; the lease is renewed while the run
   lasts and released when it ends;
1. the source opens a channel for the session, which connects first (so nothing caused by
   what is sent can be missed), resuming after the checkpoint's position when it has one for
   the session, else at the end of what the session holds (``replay=True`` replays it all);
2. the ``send`` inputs (a ``str`` is a user message in every dialect) start the turn; the
   turn counts as started once the channel delivers one of the events it named (the echoes
   of what was sent), so older events never end the run;
3. with nothing to send, the session's latest status is read: a pending pause is answered,
   and a terminated session or a turn that already ended ends ``run`` at once;
4. each event goes down the one :class:`~agentflow.core.path.EventPath`: remembered,
   dispatched through the middleware and handlers, and fed to the actions router;
5. the run ends when the dialect says the turn ended (``until="end_turn"``), when the session
   is over (``until="terminated"`` only ends there), after ``ctx.stop()``, or when
   ``until(event)`` is true. An error raised out of the run carries the partial
   :class:`~agentflow.RunResult` as ``exc.run_result``.

Events a run dispatched are recorded in the store, and a later run on the session resumes
after them: they are not dispatched again (``replay=True`` replays the whole session). As
only one run holds a session per store at a time, that later run is the earlier one's
successor, never a concurrent reader; apps that follow one session side by side (split
ownership) each use their own store, and each sees every event.

``until="caught_up"`` reads what the session holds and never waits for the agent (a worker
woken by a webhook uses it): the latest status event found in step 3 is the end. The run
answers every pause up to it and stops there with the dialect's turn-end reason, or
``"caught_up"`` (a pause answered, a session still running). If an earlier run dispatched
that event already, it stops right after step 3. It sends nothing, and tools start at the
pause, not as their call arrives, so no tool is left running when the run returns.

``fencing_token`` becomes ``ctx.fencing_token`` (the session lease's token, in scale-out) for
handlers and tools.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, Literal

import anyio

from .actions.router import ActionsRouter
from .channel import bind, is_source
from .context import Context
from .exceptions import AgentflowError
from .lease import SessionLease, new_owner
from .observe import RunObservation
from .path import EventPath
from .tally import Tally

if TYPE_CHECKING:
    from .channel import Channel
    from .checkpoint import CheckpointStore
    from .dialect import Dialect
    from .events import Event
    from .protocols import Dispatcher
    from .results import RunResult

__all__ = ["CAUGHT_UP", "Until", "run_app"]

Until = Literal["end_turn", "terminated", "caught_up"] | Callable[["Event"], bool]

CAUGHT_UP = "caught_up"
"""The stop reason of an ``until="caught_up"`` run that ended where the session is not idle."""


def _check_until(until: Until) -> None:
    if until not in ("end_turn", "terminated", CAUGHT_UP) and not callable(until):
        raise ValueError(
            f"until must be 'end_turn', 'terminated', 'caught_up' or a callable, got {until!r}"
        )


def _router(
    app: Dispatcher,
    channel: Channel,
    store: CheckpointStore,
    limit: int | None,
    lease: Any,
    early: bool,
) -> Any:
    actions = app.actions
    return ActionsRouter(
        session_id=channel.session_id,
        dialect=channel.dialect,
        answer=channel.answer,
        history=channel.history,
        tools=actions.tools,
        policies=actions.policies,
        questions=actions.questions,
        checkpoint=store,
        default_confirmation=actions.default_confirmation,
        unknown_tools=actions.unknown_tools,
        max_concurrency=limit or actions.max_concurrency,
        owner=lease.owner,
        lease=lease.ttl,
        observers=app.observers,
        early_start=early,
    )


async def _attach(
    channel: Channel,
    router: ActionsRouter,
    ctx: Context,
    *,
    replayed: bool,
    store: CheckpointStore,
    until: Until,
) -> tuple[str | None, str | None]:
    """With nothing to send: answer a pending pause; say if the turn or session is over.

    Returns the stop reason when the run is over already, and (``until="caught_up"``) the id
    of the event to read up to.
    """
    dialect: Dialect = channel.dialect
    latest = await channel.latest()
    if latest is None:
        return (CAUGHT_UP if until == CAUGHT_UP else None), None
    terminal = dialect.terminal(latest)
    seen = latest.id is not None and store.is_dispatched(channel.session_id, latest.id)
    if terminal is not None and (until != CAUGHT_UP or seen or latest.id is None):
        return terminal, None  # nothing will follow
    pause = dialect.pause(latest) if terminal is None else None
    if pause is not None:
        ctx.remember(latest)
        await router.on_pause(pause, ctx)
    reason = dialect.turn_end(latest)
    if until == CAUGHT_UP:
        if seen or latest.id is None:  # dispatched before: nothing new up to it
            return reason or CAUGHT_UP, None
        return None, latest.id
    if pause is not None:
        return None, None
    if reason is not None and until == "end_turn" and (not replayed or seen):
        return reason, None  # the turn ended before this run and will not be re-sent
    return None, None


async def run_app(
    app: Dispatcher,
    source: Any,
    session: Any,
    *,
    send: Iterable[str | Mapping[str, Any]] = (),
    until: Until = "end_turn",
    checkpoint: CheckpointStore | None = None,
    replay: bool | None = None,
    max_concurrency: int | None = None,
    wait: bool | float = False,
    fencing_token: int | None = None,
    stream_options: Mapping[str, Any] | None = None,
) -> RunResult:
    """The run loop behind ``app.run`` and ``app.serve`` (see the module docstring)."""
    _check_until(until)
    if not is_source(source):
        raise TypeError(
            f"app.run takes a source (ManagedAgentsClient, MessagesClient, EverrunsClient, "
            f"M8tesClient, OrxhestraSource, ...), got {type(source).__name__}"
        )
    store = checkpoint if checkpoint is not None else app.actions.checkpoint
    dialect: Dialect = source.dialect
    inputs = [dialect.user_input(item) for item in send]
    if inputs and until == CAUGHT_UP:
        raise ValueError("until='caught_up' reads what the session holds: it sends nothing")
    early = until != CAUGHT_UP  # a caught-up run leaves no tool running when it returns
    options = dict(stream_options or {})
    channel = source.channel(session, checkpoint=store, replay=replay, **options)
    session_id = channel.session_id
    tally = Tally(dialect)
    lease = SessionLease(
        store, session_id, owner=new_owner(), ttl=app.actions.session_lease, wait=wait
    )
    router = _router(app, channel, store, max_concurrency, lease, early)
    stop_reason = "stream_ended"
    observed = RunObservation(session_id, dialect.name, tally.counts)
    with app.observers.run(observed):  # handlers and tools run inside its scope
        try:
            try:
                if await lease.acquire():  # it waited: the holder's progress is in the store
                    channel = source.channel(session, checkpoint=store, replay=replay, **options)
                    router = _router(app, channel, store, max_concurrency, lease, early)
                replayed = replay if replay is not None else store.position(session_id) is not None
                ctx = Context(session_id, app=app, channel=channel)
                ctx.fencing_token = fencing_token
                bind(channel, app=app, router=router, ctx=ctx)
                path = EventPath(app, router, dialect)
                with anyio.CancelScope() as body:
                    async with channel, router:
                        if not lease.schedule(body):
                            router.spawn(lambda: lease.keep(body))
                        stop_reason = await _follow(
                            channel, router, ctx, path, tally, inputs, replayed, store, until
                        )
            finally:
                lease.release()
            if lease.lost is not None:
                raise lease.lost
        except AgentflowError as exc:
            exc.run_result = observed.result = tally.result(session_id, "error", router)
            raise
        observed.result = result = tally.result(session_id, stop_reason, router)
    return result


async def _follow(
    channel: Channel,
    router: ActionsRouter,
    ctx: Context,
    path: EventPath,
    tally: Tally,
    inputs: list[Any],
    replayed: bool,
    store: CheckpointStore,
    until: Until,
) -> str:
    """Start the turn (or attach), then take events until the run ends; the stop reason."""
    dialect: Dialect = channel.dialect
    echo_ids: Any = ()
    target: str | None = None  # until="caught_up": the event to read up to
    if inputs:
        echo_ids = set(await channel.start_turn(inputs))
    else:
        attached, target = await _attach(
            channel, router, ctx, replayed=replayed, store=store, until=until
        )
        if attached is not None:
            return attached
    turn_started = not echo_ids
    inert = dialect.inert_types  # types that never end a turn or the session
    async for event in channel:
        tally.count(event)
        if not turn_started and event.id in echo_ids:
            turn_started = True
        await path(event, ctx)
        asked = event.type not in inert
        tally.after(event, turn_started, asked)
        if asked:
            terminal = dialect.terminal(event)
            if terminal is not None:
                return terminal
        if turn_started:
            if until == "end_turn":
                reason = dialect.turn_end(event) if asked else None
                if reason is not None:
                    return reason
            elif target is not None and event.id == target:
                return dialect.turn_end(event) or CAUGHT_UP
            elif callable(until) and until(event):
                return dialect.turn_end(event) or "until"
        if ctx.stopped:
            return "stopped"
    return "stream_ended"
