"""Posting a batch of replies: the one place a reply post is retried.

The channel posts in one attempt; :class:`Poster` retries transient failures (transport
errors, 409, 429, 5xx) with jittered exponential delays, honouring the server's
``retry-after``. When a batch finally cannot be posted that way, the error is raised (the
replies stay recorded in the checkpoint, so a later run posts them without running anything
again).

A rejected batch (400) may mean an earlier attempt got through with its response lost, so
history is read again and replies it already holds are dropped. What is left is posted reply
by reply, so one bad reply (a tool's malformed content, a stored reply the server no longer
takes) cannot keep the others from landing. A reply the server rejects on its own is
replaced by an error result (a deny for an approval, a decline for a question) naming the
rejection, so its call is still answered; each rejection is reported in ``RunResult.errors``
and the call's record (outcome ``rejected``). Only when even the replacement is rejected is
:class:`~agentflow.BadRequestError` raised, after the other replies landed: a session waiting
on a call nobody can answer must not look like a quiet one.
"""

from __future__ import annotations

import random
from typing import TYPE_CHECKING, Any

import anyio

from ..exceptions import BadRequestError, ConflictError, RateLimitError, ServerError, TransportError
from ..observe import PostObservation

if TYPE_CHECKING:
    from .state import RouterState

__all__ = ["RETRYABLE", "Poster"]

RETRYABLE = (TransportError, RateLimitError, ServerError, ConflictError)
"""Failures of a post worth another attempt."""

_MAX_DELAY = 8.0


class Poster:
    """Posts reply batches for one router (see the module docstring)."""

    def __init__(self, router: RouterState, *, send_attempts: int, retry_delay: float) -> None:
        if send_attempts < 1:
            raise ValueError(f"send_attempts must be >= 1, got {send_attempts!r}")
        self.router = router
        self.send_attempts = send_attempts
        self.retry_delay = retry_delay
        self.attempts = 0
        """Post attempts made so far (all batches)."""

    async def _send(self, batch: list[dict[str, Any]], seen: PostObservation) -> None:
        """Post ``batch``, retrying transient failures; raises the last failure."""
        router = self.router
        failures = 0
        while True:
            try:
                self.attempts += 1
                seen.attempts += 1
                await router.send_replies(batch)
                return
            except RETRYABLE as exc:
                failures += 1
                router.errors.append(
                    f"posting {len(batch)} replies failed (attempt {failures}): {exc}"
                )
                if failures >= self.send_attempts:
                    raise
                hint = getattr(exc, "retry_after", None)
                if isinstance(hint, (int, float)) and hint >= 0:
                    delay = min(float(hint), 60.0)
                else:
                    delay = random.uniform(0, min(_MAX_DELAY, self.retry_delay * 2**failures))
                await anyio.sleep(delay)

    def _sent(self, batch: list[dict[str, Any]], seen: PostObservation) -> None:
        router = self.router
        seen.sent += len(batch)
        store, sid = router.checkpoint, router.session_id
        for call_id in map(router.dialect.reply_target, batch):
            store.mark_sent(sid, call_id)
            router.mark_answered(call_id)
            record = router.record(call_id)
            if record is not None and record.reply is not None:
                record.sent = True

    async def post(self, batch: list[dict[str, Any]]) -> None:
        """Post ``batch`` (see the module docstring), then mark what landed as sent."""
        seen = PostObservation(self.router.session_id, self.router.dialect.name, len(batch))
        await self.router.observers.post(seen, self._post(batch, seen))

    async def _post(self, batch: list[dict[str, Any]], seen: PostObservation) -> None:
        router = self.router
        try:
            await self._send(batch, seen)
        except BadRequestError as exc:
            router.errors.append(f"posting {len(batch)} replies was rejected: {exc}")
            await router.read_history(again=True)  # perhaps an earlier attempt got through
            target = router.dialect.reply_target
            left = [r for r in batch if not router.answered(target(r))]
            if not left:
                seen.status = "skipped"
            await self._each(left, seen)
            return
        self._sent(batch, seen)

    async def _each(self, replies: list[dict[str, Any]], seen: PostObservation) -> None:
        """Post replies one by one; raise when one could not be answered at all."""
        failed: list[BadRequestError] = []
        for reply in replies:
            try:
                await self._one(reply, seen)
            except BadRequestError as exc:
                failed.append(exc)
        if failed:
            raise failed[0]

    async def _one(self, reply: dict[str, Any], seen: PostObservation) -> None:
        """Post one reply; a rejected one is replaced (see the module docstring)."""
        router = self.router
        call_id = router.dialect.reply_target(reply)
        try:
            await self._send([reply], seen)
        except BadRequestError as exc:
            why = f"the server rejected the client's reply to this call: {exc.message}"
            router.errors.append(f"the reply to {call_id} was rejected: {exc}")
            substitute = router.substitute(call_id, why)
            record = router.record(call_id)
            if record is not None:
                record.outcome, record.is_error, record.error = "rejected", True, why
            if substitute is None:
                raise
            router.checkpoint.record_result(router.session_id, call_id, substitute)
            if record is not None:
                record.reply = substitute
            try:
                await self._send([substitute], seen)
            except BadRequestError as again:
                router.errors.append(f"the replacement reply to {call_id} was rejected: {again}")
                raise BadRequestError(
                    f"the server rejected every reply to {call_id}: {again.message}",
                    status=again.status,
                    type=again.type,
                    request_id=again.request_id,
                ) from again
            reply = substitute
        self._sent([reply], seen)
