"""The Messages :class:`~agentflow.Channel`: the agent loop over one :class:`Conversation`.

The run loop reads events from it; the channel makes the requests that produce them:

1. ``start_turn`` (the ``send`` inputs) and ``send`` (``ctx.send``) add user content;
2. whenever the conversation ends with user content (or a ``pause_turn`` response), the
   next event asked for starts a streamed request with the App's tools; every event is
   enriched by the :class:`~agentflow.messages.builder.MessageBuilder` and yielded at once;
3. at ``message_stop`` the response is appended to the conversation (saved, for a
   ``Conversation.open`` one) *before* the event is yielded; a ``tool_use`` stop is a pause:
   the actions router runs the calls (concurrently) and posts one batch with ``answer``,
   which appends one user message holding a ``tool_result`` for every ``tool_use`` id;
4. a failed response is asked for again (see :mod:`~agentflow.messages.response`); what a
   broken attempt had streamed was already dispatched, and the retry streams a new response.

Restart: a conversation whose last message holds ``tool_use`` blocks without results (the
process died after the tools ran, before the results were sent) is re-announced, by
``latest()`` or as the first event, as a ``message_stop`` rebuilt from it
(``event.restored``); the router then finds the results recorded in the checkpoint store and
posts them without running anything again. A call still without any answer gets a result
stored in the checkpoint, else an error result, because the API refuses a ``tool_use``
without its ``tool_result``.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator, AsyncIterator, Collection, Mapping, Sequence
from contextlib import aclosing
from functools import partial
from types import TracebackType
from typing import TYPE_CHECKING, Any, Protocol

from .builder import MessageBuilder
from .dialect import MESSAGES
from .events.message import Interrupted, MessageStop
from .response import Failed, stream_response
from .tail import restored_stop, tool_results, user_blocks

if TYPE_CHECKING:
    from ..core.checkpoint import CheckpointStore
    from ..core.events import Event
    from ..core.types import JSONObject
    from ..wire.http import HTTPCore
    from .conversation import Conversation

__all__ = ["MessagesChannel", "RequestMaker"]


class RequestMaker(Protocol):
    """What the channel needs of its client (:class:`~agentflow.messages.MessagesClient`)."""

    stream_timeout: float | None

    @property
    def core(self) -> HTTPCore:
        """The HTTP layer requests go through."""
        ...

    @property
    def max_retries(self) -> int:
        """How many times one response is asked for again."""
        ...

    def request_body(
        self,
        messages: list[dict[str, Any]],
        app_tools: Sequence[Mapping[str, Any]] = (),
        overrides: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        """The body of one streamed request."""
        ...


class MessagesChannel:
    """One conversation's agent loop for the run loop (see the module docstring)."""

    dialect = MESSAGES

    def __init__(
        self,
        client: RequestMaker,
        conversation: Conversation,
        *,
        checkpoint: CheckpointStore,
        overrides: Mapping[str, Any],
    ) -> None:
        self.session_id = conversation.id
        self.conversation = conversation
        self.client = client
        self.checkpoint = checkpoint
        self.overrides = dict(overrides)
        self.errors: list[str] = []
        """Retries and answers made by the channel (a bound run's ``RunResult.errors``)."""
        self._tools: list[dict[str, Any]] = []
        self._tool_names: set[str] = set()
        self._pending: list[dict[str, Any]] = []  # user content waiting for the tool results
        self._announced: set[tuple[str, ...]] = set()
        self._idle = False  # a turn ended in a fatal error or an interrupt: wait for input
        self._interrupted = False
        self._events: AsyncGenerator[Event, None] | None = None

    def bind(self, *, app: Any, router: Any, ctx: Any) -> None:
        """Offer the app's tools to the model; report retries in the run's errors."""
        tools = getattr(getattr(app, "actions", None), "tools", None) or ()
        self._tools = []
        for tool in tools:
            definition: dict[str, Any] = {"name": tool.name, "input_schema": tool.input_schema}
            if tool.description:
                definition["description"] = tool.description
            self._tools.append(definition)
        self._tool_names = {t["name"] for t in self._tools}
        errors = getattr(router, "errors", None)
        if isinstance(errors, list):
            self.errors = errors

    # -- the channel protocol --------------------------------------------------------------

    async def __aenter__(self) -> MessagesChannel:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        events, self._events = self._events, None
        if events is not None:
            await events.aclose()

    def __aiter__(self) -> AsyncIterator[Event]:
        if self._events is None:
            self._events = self._loop()
        return self._events

    async def start_turn(self, inputs: Sequence[JSONObject]) -> Collection[str]:
        """Add the inputs as user content; the turn starts with the next request."""
        for item in inputs:
            self._add(user_blocks(item))
        return ()

    async def send(self, requests: list[JSONObject]) -> Any:
        """``ctx.send``: user messages or content blocks, sent with the next request."""
        for item in requests:
            self._add(user_blocks(item))
        return None

    async def answer(self, replies: list[JSONObject]) -> None:
        """Append the tool results (one user message) for the open ``tool_use`` blocks."""
        self._complete(replies)

    async def interrupt(self, thread_id: str | None = None) -> Any:
        """Cancel the response being streamed (or the next request): the turn ends
        ``cancelled`` and nothing of the cancelled response is kept."""
        self._interrupted = True
        return None

    def history(self) -> AsyncIterator[Event] | None:
        """None: the checkpoint store and the conversation hold everything a restart needs."""
        return None

    async def latest(self) -> Event | None:
        """The last response, rebuilt from the conversation when it ends with one."""
        messages = self.conversation.messages
        if not messages or messages[-1]["role"] != "assistant":
            return None
        return self._restored()

    # -- the loop --------------------------------------------------------------------------

    def _add(self, blocks: list[dict[str, Any]]) -> None:
        self._idle = False
        if self.conversation.open_tool_uses():
            self._pending.extend(blocks)  # after the tool results, in the same message
        else:
            self.conversation.add_user(blocks)

    def _due(self) -> bool:
        messages = self.conversation.messages
        if self._idle or not messages:
            return False
        if messages[-1]["role"] == "user":
            return True
        return self.conversation.stop_reason == "pause_turn"

    async def _loop(self) -> AsyncGenerator[Event, None]:
        while True:
            if self._interrupted:
                self._interrupted, self._idle = False, True
                yield Interrupted(type="interrupted")
                continue
            uses = self.conversation.open_tool_uses()
            if uses:
                key = tuple(str(u.get("id")) for u in uses)
                if key not in self._announced:
                    yield self._restored()  # the pause of a saved conversation
                else:
                    self._complete([])  # the router left calls: answer them anyway
                continue
            if not self._due():
                return
            async with aclosing(self._respond()) as events:
                async for event in events:
                    yield event

    async def _respond(self) -> AsyncGenerator[Event, None]:
        """One response, asked for again after a transient failure (bounded)."""
        client = self.client
        core = client.core
        body = client.request_body(self.conversation.messages, self._tools, self.overrides)
        content = json.dumps(body, ensure_ascii=False).encode()
        attempt = 0
        while True:
            builder = MessageBuilder()
            stream = stream_response(core, content, builder, read_timeout=client.stream_timeout)
            try:
                async with aclosing(stream) as events:
                    async for event in events:
                        if builder.stopped:
                            self._commit(builder)
                        yield event
                        if self._interrupted:
                            return
                if not builder.stopped:
                    self._idle = True  # a fatal error event ended the response
                return
            except Failed as failed:
                if not failed.retryable or attempt >= client.max_retries:
                    raise failed.error from failed.error.__cause__
                delay = core.backoff.delay(attempt, core.random, failed.retry_after)
                attempt += 1
                self.errors.append(
                    f"response attempt {attempt} failed ({failed.error}); "
                    f"asking again in {delay:.2f} s"
                )
                await core.sleep(delay)

    def _commit(self, builder: MessageBuilder) -> None:
        """Append a complete response to the conversation (before its stop is yielded)."""
        message = builder.message or {}
        reason = message.get("stop_reason")
        self.conversation.add_assistant(message.get("content") or [], reason)
        uses = self.conversation.open_tool_uses()
        if reason == "tool_use" and uses:
            self._announced.add(tuple(str(u.get("id")) for u in uses))

    def _restored(self) -> MessageStop:
        """The conversation's last response as a ``message_stop`` (``restored``)."""
        event = restored_stop(self.conversation)
        if event.tool_events:
            self._announced.add(tuple(str(t.call_id) for t in event.tool_events))
        return event

    def _complete(self, replies: Sequence[Mapping[str, Any]]) -> None:
        """One user message with a result for every open ``tool_use`` (see module doc)."""
        uses = self.conversation.open_tool_uses()
        if not uses:
            if replies:
                self.errors.append(f"{len(replies)} tool result(s) arrived with no call open")
            return
        given = {str(r.get("tool_use_id")): dict(r) for r in replies}
        more: list[dict[str, Any]] = []
        for block in self._pending:
            if block.get("type") == "tool_result":
                given.setdefault(str(block.get("tool_use_id")), block)
            else:
                more.append(block)
        stored = partial(self.checkpoint.get_result, self.session_id)
        results = tool_results(uses, given, stored, self._tool_names, self.errors)
        self._pending = []
        self.conversation.add_tool_results(results, more)

    def __repr__(self) -> str:
        return f"MessagesChannel(session_id={self.session_id!r})"
