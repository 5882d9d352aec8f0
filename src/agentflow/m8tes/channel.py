"""The m8tes :class:`~agentflow.Channel`: one run, as ``app.run`` follows it.

The session is the run (its id). The channel follows the run on the create's own stream
when nobody has read it yet (``client.runs.create`` then ``app.run(client, run.id)``), and
otherwise re-attaches: the run is replayed from its first frame and the frames the
checkpoint says were dispatched are skipped. ``send`` is a reply (``POST /runs/{id}/reply``,
streamed: the turn it starts is followed on the reply's own stream). The App's answers to
gates are ``approve`` / ``answer`` calls, one attempt each (the actions router retries);
once a gate is answered the stream re-attaches so the run goes on. History is the run's
gates (``GET /runs/{id}/permissions``), so a restarted run never answers a gate twice.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Collection, Sequence
from types import TracebackType
from typing import TYPE_CHECKING, Any

from ..core.exceptions import ConflictError, NotFoundError
from .dialect import M8TES
from .events import M8tesEvent, PermissionRequest, PermissionResolved, RunStatus
from .http import error_code
from .stream import RunStream

if TYPE_CHECKING:
    from ..core.checkpoint import CheckpointStore
    from ..core.types import JSONObject
    from .models import Permission, Run
    from .runs import Runs
    from .stream import StreamOptions

__all__ = ["BENIGN_REFUSALS", "M8tesChannel"]

logger = logging.getLogger("agentflow.m8tes")

BENIGN_REFUSALS = frozenset({"gate_cancelled", "run_not_active"})
"""Refusals of an answer that contradict nothing: the gate was cancelled, or the run ended
first (the SDK's own list). ``gate_resolved_otherwise`` (someone decided the other way) is
never one of them."""


def gate_events(gate: Permission) -> list[M8tesEvent]:
    """A gate resource as the frames that opened (and, once answered, settled) it."""
    ids = {"request_id": gate.request_id, "tool_use_id": gate.tool_use_id}
    opened = {"type": "permission_request", **ids, "tool_name": gate.tool_name,
              "tool_input": gate.tool_input}  # fmt: skip
    events: list[M8tesEvent] = [PermissionRequest.model_validate(opened)]
    if gate.status != "pending":
        closed = {"type": "permission_resolved", **ids, "resolved_status": gate.status}
        events.append(PermissionResolved.model_validate(closed))
    return events


class M8tesChannel:
    """One m8tes run for the run loop (see the module docstring)."""

    dialect = M8TES

    def __init__(
        self,
        runs: Runs,
        run_id: int,
        *,
        checkpoint: CheckpointStore,
        replay: bool | None,
        options: StreamOptions,
    ) -> None:
        if replay is False:
            raise ValueError(
                "m8tes frames carry no ids, so a channel cannot start at the end of a run: it "
                "follows the run from its first frame, or after the frames its checkpoint "
                "records (replay=None), or from the first frame again (replay=True)"
            )
        self.session_id = str(run_id)
        self.run_id = run_id
        self._runs = runs
        self._checkpoint = checkpoint
        self._options = options
        self._run: Run | None = None
        claimed = runs.claim(run_id)
        if claimed is not None:
            claimed.adopt(checkpoint, from_start=bool(replay))
            self.stream = claimed
        else:
            self.stream = self._new_stream(from_start=bool(replay))

    def _new_stream(self, **options: Any) -> RunStream:
        return RunStream(
            self._runs._http, self.run_id, checkpoint=self._checkpoint, follow=True,
            options=self._options, **options,
        )  # fmt: skip

    async def __aenter__(self) -> M8tesChannel:
        if not self.stream.pristine:
            self._run = await self._runs.get(self.run_id)  # a 404 / 401 is raised here
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stream.__aexit__(exc_type, exc, tb)

    def __aiter__(self) -> AsyncIterator[M8tesEvent]:
        return self.stream

    async def start_turn(self, inputs: Sequence[JSONObject]) -> Collection[str]:
        """Reply with the one input; the turn is followed on the reply's stream."""
        if len(inputs) != 1:
            raise ValueError(f"an m8tes reply starts one turn: send one message, not {len(inputs)}")
        run = self._run or await self._runs.get(self.run_id)
        if not run.finished:
            raise ConflictError(
                f"run {self.run_id} is {run.status}: a reply now would wait behind the turn in "
                f"progress; follow the run to the end of its turn first (app.run(client, "
                f"{self.run_id})), then send",
                type="run_active",
            )
        await self.stream.aclose()
        response = await self._runs.open_reply(self.run_id, inputs[0])
        stream = await self._runs._stream_of(response, self.run_id)
        if stream.pristine:  # the reply's own stream: it starts after what was seen
            stream.adopt(self._checkpoint)
        else:  # a repeat answered from the first attempt: follow the run with a replay
            stream = self._new_stream()
        self.stream = stream
        return {f"{self.session_id}:{stream.progress.count}"}

    async def send(self, requests: list[JSONObject]) -> Any:
        """Each request is a reply's body (``{"message": ...}``), sent without a stream."""
        sent = []
        for body in requests:
            options = {k: v for k, v in body.items() if k not in ("message", "stream")}
            sent.append(
                await self._runs.reply(
                    self.run_id, message=body["message"], stream=False, **options
                )  # fmt: skip
            )
        return sent

    async def answer(self, replies: list[JSONObject]) -> None:
        """``approve`` or ``answer`` each gate, one attempt each (the router retries)."""
        for reply in replies:
            request_id = str(reply.get("request_id"))
            try:
                if "answers" in reply:
                    await self._runs.answer(
                        self.run_id, answers=reply["answers"], request_id=request_id,
                        retry="none",
                    )  # fmt: skip
                else:
                    await self._runs.approve(
                        self.run_id, request_id=request_id, decision=reply["decision"],
                        remember=bool(reply.get("remember")), reason=reply.get("reason"),
                        retry="none",
                    )  # fmt: skip
            except (ConflictError, NotFoundError) as exc:
                if error_code(exc) not in BENIGN_REFUSALS:
                    raise
                logger.warning("run %s: gate %s was not answered: %s", self.run_id, request_id,
                               exc)  # fmt: skip
            self.stream.answered.add(request_id)

    async def interrupt(self, thread_id: str | None = None) -> Any:
        """Cancel the run (m8tes has no threads)."""
        return await self._runs.cancel(self.run_id)

    def history(self) -> AsyncIterator[M8tesEvent]:
        """The run's gates, as the frames that opened and settled them."""
        return self._gates()

    async def _gates(self) -> AsyncIterator[M8tesEvent]:
        for gate in await self._runs.permissions(self.run_id):
            for event in gate_events(gate):
                yield event

    async def latest(self) -> M8tesEvent | None:
        """The run's status (with its open gates); nothing while its create stream is unread."""
        if self.stream.pristine:
            return None
        run = self._run or await self._runs.get(self.run_id)  # read on entry, a moment ago
        pending: list[PermissionRequest] = []
        if run.status == "awaiting_approval":
            for gate in await self._runs.permissions(self.run_id):
                if gate.status == "pending":
                    first = gate_events(gate)[0]
                    assert isinstance(first, PermissionRequest)
                    pending.append(first)
        return RunStatus.of(run, pending)

    def __repr__(self) -> str:
        return f"M8tesChannel(run_id={self.run_id})"
