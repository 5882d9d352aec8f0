"""A LangChain chat model that plays a :class:`~agentflow.testing.Scenario`, with no network.

Give it to an orxhestra ``LlmAgent`` and run the agent with a real ``Runner``: each
``runner.astream(...)`` (one user message) plays the next turn of the scenario, and each
model call within it plays the next invocation of that turn (see :mod:`._plan`): streamed
text and thinking chunks, then either tool calls (which the agent's real tools then run) or
the final answer. Each session of the Runner starts again from the first turn; when the
turns run out, the fallback reply is said.

``Error`` makes the model raise :class:`ScriptedModelError` (``"<type>: <message>"``), which
orxhestra turns into an agent message with ``metadata={"error": True, "exception_type":
"ScriptedModelError"}``. With ``retry_status="retrying"`` the text says "temporarily
unavailable", so orxhestra retries the call once (after its own 1 s pause, with no event) and
the turn goes on; otherwise the retry (if orxhestra makes one) fails again.

Usage metadata (``llm_response.input_tokens`` / ``output_tokens``) is rough and
deterministic: a token per 4 characters in and out, plus one.

Sessions are told apart by the ``session_id`` the Runner puts in the call's config; calls
made without one (outside a Runner) share one place in the script. orxhestra drops the start
of a streamed chunk that repeats all the text streamed before it in that call, so with
``Say(" no no", stream=True)`` the partial events carry ``" no"`` only (the final answer has
it all); thinking chunks are written so that this never happens to them.
"""

from __future__ import annotations

import itertools
import json
from collections import deque
from collections.abc import AsyncIterator, Callable, Sequence
from typing import Any, cast

import anyio
from langchain_core.callbacks import AsyncCallbackManagerForLLMRun, CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.language_models.chat_models import agenerate_from_stream
from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage, UsageMetadata
from langchain_core.messages.tool import tool_call_chunk
from langchain_core.outputs import ChatGenerationChunk, ChatResult
from langchain_core.runnables import Runnable, RunnableConfig
from langchain_core.tools import BaseTool
from langchain_core.utils.function_calling import convert_to_openai_tool
from pydantic import PrivateAttr

from ..scenario import Error, Scenario
from ._plan import Chunk, Cursor, Invocation, plan_turn

__all__ = ["ScenarioChatModel", "ScriptedModelError"]


class ScriptedModelError(Exception):
    """The model call failed as an ``Error`` step said; ``type`` / ``retry_status`` kept."""

    def __init__(self, error: Error) -> None:
        text = f"{error.type}: {error.message or 'the scripted model call failed'}"
        if error.retry_status == "retrying":
            text += " (temporarily unavailable)"  # the words orxhestra retries on
        super().__init__(text)
        self.type = error.type
        self.retry_status = error.retry_status


def _fingerprint(messages: Sequence[BaseMessage]) -> tuple[Any, ...]:
    last = messages[-1] if messages else None
    return (len(messages), type(last).__name__, str(getattr(last, "content", "")),
            getattr(last, "tool_call_id", None))  # fmt: skip


def _tokens(chars: int) -> int:
    return 1 + chars // 4


class ScenarioChatModel(BaseChatModel):
    """Plays ``scenario`` to an orxhestra agent.

    ``offered_tools`` is what the agent offered it, ``requests`` what it was called with.
    """

    model_name: str = "agentflow-scenario"
    _scenario: Scenario = PrivateAttr()
    _plans: list[list[Invocation]] = PrivateAttr()
    _cursors: dict[str | None, Cursor] = PrivateAttr(default_factory=dict)
    _ids: Any = PrivateAttr(default_factory=lambda: itertools.count(1))
    _offered: list[dict[str, Any]] = PrivateAttr(default_factory=list)
    _requests: deque[tuple[str | None, list[BaseMessage]]] = PrivateAttr(
        default_factory=lambda: deque(maxlen=64)
    )

    def __init__(self, scenario: Scenario, **options: Any) -> None:
        super().__init__(**options)
        self._scenario = scenario
        usage = scenario.usage
        # Planned up front, so a step the model cannot play fails here, not mid-run.
        self._plans = [
            plan_turn(turn, usage=usage, where=f"turn {i + 1}")
            for i, turn in enumerate(scenario.turns)
        ]

    @property
    def _llm_type(self) -> str:
        return "agentflow-scenario"

    @property
    def offered_tools(self) -> list[dict[str, Any]]:
        """The tools last bound (OpenAI function format: name, description, parameters)."""
        return list(self._offered)

    def bind_tools(
        self,
        tools: Sequence[dict[str, Any] | type | Callable[..., Any] | BaseTool],
        *,
        tool_choice: str | None = None,
        **kwargs: Any,
    ) -> Runnable[LanguageModelInput, Any]:
        """Record the tools offered (the script decides the calls) and return the model."""
        self._offered = [convert_to_openai_tool(tool) for tool in tools]
        return self

    @property
    def requests(self) -> list[tuple[str | None, list[BaseMessage]]]:
        """The latest calls (up to 64), oldest first: ``(session_id, messages)``."""
        return list(self._requests)

    def _plan(self, index: int) -> list[Invocation]:
        if index < len(self._plans):
            return self._plans[index]
        return plan_turn(self._scenario.turn(index), usage=self._scenario.usage)

    async def astream(
        self,
        input: LanguageModelInput,
        config: RunnableConfig | None = None,
        *,
        stop: list[str] | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[AIMessageChunk]:
        """Stream one model call; the Runner's ``session_id`` (in the config) picks the cursor."""
        session = ((config or {}).get("metadata") or {}).get("session_id")
        async for chunk in super().astream(input, config, stop=stop, session=session, **kwargs):
            yield chunk

    async def _astream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        *,
        session: str | None = None,
        **kwargs: Any,
    ) -> AsyncIterator[ChatGenerationChunk]:
        self._requests.append((session, list(messages)))
        cursor = self._cursors.setdefault(session, Cursor(usage=self._scenario.usage))
        fingerprint = _fingerprint(messages)
        user_last = bool(messages) and isinstance(messages[-1], HumanMessage)
        inv = cursor.advance(user_last=user_last, fingerprint=fingerprint, plans=self._plan)
        listed = any(c.thinking for c in inv.chunks)  # thinking needs content blocks
        out_chars = 0
        for chunk in inv.chunks:
            if chunk.pause:
                await anyio.sleep(chunk.pause)
            if self._scenario.step_delay:
                await anyio.sleep(self._scenario.step_delay)
            if chunk.text or chunk.thinking:
                out_chars += len(chunk.text) + len(chunk.thinking)
                yield ChatGenerationChunk(message=AIMessageChunk(content=_content(chunk, listed)))
        if inv.error is not None:
            cursor.fail(fingerprint, inv)
            raise ScriptedModelError(inv.error)
        # The calls' input as one JSON piece each: LangChain parses it when the chunks merge.
        calls = [
            tool_call_chunk(name=name, args=json.dumps(args), id=f"call_{next(self._ids)}", index=i)
            for i, (name, args) in enumerate(inv.calls)
        ]
        out_chars += sum(len(c["args"] or "") for c in calls)
        last = AIMessageChunk(
            content=[] if listed else "",
            tool_call_chunks=calls,
            response_metadata={"model_name": self.model_name},
            chunk_position="last",
        )
        if inv.usage:
            in_tokens = _tokens(sum(len(str(m.content)) for m in messages))
            out_tokens = _tokens(out_chars)
            # A cast: mypy reads LangChain's NotRequired keys as required under Python 3.10.
            usage = {"input_tokens": in_tokens, "output_tokens": out_tokens}
            usage["total_tokens"] = in_tokens + out_tokens
            last.usage_metadata = cast("UsageMetadata", usage)
        yield ChatGenerationChunk(message=last)

    async def _agenerate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: AsyncCallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return await agenerate_from_stream(self._astream(messages, stop, run_manager, **kwargs))

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        raise NotImplementedError("ScenarioChatModel plays scenarios asynchronously only")


def _content(chunk: Chunk, listed: bool) -> str | list[str | dict[str, Any]]:
    if not listed:
        return chunk.text
    if chunk.thinking:
        return [{"type": "reasoning", "reasoning": chunk.thinking, "index": 0}]
    return [{"type": "text", "text": chunk.text, "index": 1}]
