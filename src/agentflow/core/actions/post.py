"""Posting a batch of replies: the one place a reply post is retried.

The channel posts in one attempt; :class:`Poster` retries transient failures (transport
errors, 409, 429, 5xx) with jittered exponential delays, honouring the server's
``retry-after``. A rejected batch (400) may mean an earlier attempt got through with its
response lost, so history is read again and replies it already holds are dropped before one
more try. When a batch finally cannot be posted, the error is raised (the replies stay
recorded in the checkpoint, so a later run posts them without running anything again).
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

    async def post(self, batch: list[dict[str, Any]]) -> None:
        """Post ``batch`` (retrying as the module docstring says), then mark it sent."""
        seen = PostObservation(self.router.session_id, self.router.dialect.name, len(batch))
        await self.router.observers.post(seen, self._post(batch, seen))

    async def _post(self, batch: list[dict[str, Any]], seen: PostObservation) -> None:
        router = self.router
        target = router.dialect.reply_target
        failures = 0
        rejected = False
        while True:
            try:
                self.attempts += 1
                seen.attempts += 1
                await router.send_replies(batch)
                break
            except BadRequestError as exc:
                if rejected:
                    raise
                rejected = True  # perhaps an earlier attempt got through: ask the history
                router.errors.append(f"posting {len(batch)} replies was rejected: {exc}")
                await router.read_history(again=True)
                batch = [r for r in batch if not router.answered(target(r))]
                if not batch:
                    seen.status = "skipped"
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
        seen.sent = len(batch)
        store, sid = router.checkpoint, router.session_id
        for call_id in map(target, batch):
            store.mark_sent(sid, call_id)
            router.mark_answered(call_id)
            record = router.record(call_id)
            if record is not None and record.reply is not None:
                record.sent = True
