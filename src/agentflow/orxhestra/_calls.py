"""Which tool call a tool is running: :class:`ToolCall` and :func:`tool_call_scope`.

orxhestra runs a tool with ``tool.ainvoke(args)`` only: the tool-call id, the session and the
agent are not passed. What it does give is the invocation context, through
``tool.inject_context(ctx)`` right before the call, in the task that runs that one call.
By then the Runner has already stored the agent message announcing the calls in the session,
so the id is found there: the call on the same branch and invocation with this tool's name
and input. Two identical calls in one batch get distinct ids: each is claimed once.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ToolCall", "current_call", "remember_context", "tool_call_scope"]

# The orxhestra InvocationContext injected for the call running in this task. Each call runs
# in its own asyncio task, so a context variable (unlike an attribute on the shared tool
# object) cannot be overwritten by a call of another session running at the same time.
_INVOCATION: ContextVar[Any] = ContextVar("agentflow_orxhestra_invocation", default=None)
# The call being run in this task, with the invocation context it was resolved in.
_CALL: ContextVar[tuple[ToolCall, Any] | None] = ContextVar(
    "agentflow_orxhestra_call", default=None
)

# tool-call event id -> ids of its calls already claimed; bounded so it never grows.
_CLAIMED: OrderedDict[str, set[str]] = OrderedDict()
_MAX_CLAIMED_EVENTS = 512


@dataclass(frozen=True)
class ToolCall:
    """One call of a tool by an orxhestra agent, as the gate and the tool adapters see it.

    ``id`` is the model's tool-call id (the ``tool_call_id`` of the agent message that
    announced the call and of its tool response); ``None`` when the tool runs outside a
    Runner (nothing announced it). ``session_id``, ``invocation_id`` and ``agent_name`` say
    whose call it is, so one agent can serve several sessions.
    """

    name: str
    input: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None
    session_id: str | None = None
    invocation_id: str | None = None
    agent_name: str | None = None


def remember_context(ctx: Any) -> None:
    """Keep the invocation context orxhestra injects for the call running in this task."""
    _INVOCATION.set(ctx)


def current_call() -> ToolCall | None:
    """The tool call being run in this task (inside :func:`tool_call_scope`), else ``None``."""
    scoped = _CALL.get()
    return scoped[0] if scoped is not None else None


def _claim(event_id: str, call_id: str) -> bool:
    claimed = _CLAIMED.get(event_id)
    if claimed is None:
        claimed = _CLAIMED[event_id] = set()
        while len(_CLAIMED) > _MAX_CLAIMED_EVENTS:
            _CLAIMED.popitem(last=False)
    if call_id in claimed:
        return False
    claimed.add(call_id)
    return True


def _find_id(ctx: Any, name: str, tool_input: Mapping[str, Any]) -> str | None:
    session = getattr(ctx, "session", None)
    events = getattr(session, "events", None) or []
    branch = getattr(ctx, "branch", "")
    invocation = getattr(ctx, "invocation_id", "")
    for event in reversed(events):
        calls = getattr(event, "tool_calls", None)
        if not calls or event.branch != branch or event.invocation_id != invocation:
            continue
        # The latest announcement on this branch is the batch being run now.
        for part in calls:
            if part.tool_name == name and part.args == dict(tool_input):
                if _claim(event.id, part.tool_call_id):
                    return str(part.tool_call_id)
        return None
    return None


def _resolve(ctx: Any, name: str, tool_input: Mapping[str, Any], call_id: str | None) -> ToolCall:
    if ctx is None:
        return ToolCall(name, dict(tool_input), call_id)
    return ToolCall(
        name,
        dict(tool_input),
        call_id if call_id is not None else _find_id(ctx, name, tool_input),
        getattr(ctx, "session_id", None),
        getattr(ctx, "invocation_id", None),
        getattr(ctx, "agent_name", None),
    )


@contextmanager
def tool_call_scope(
    name: str, tool_input: Mapping[str, Any], *, call_id: str | None = None
) -> Iterator[ToolCall]:
    """Resolve the call being run (once), and make it :func:`current_call` meanwhile.

    ``call_id`` is the id when the caller knows it (a LangChain ``ToolCall`` input).

    A wrapper around another wrapper (a gated adapted tool) sees the same call: it is
    resolved, and its id claimed, by the outermost one only. A sub-agent's tools run with
    their own injected context, so they never mistake the parent's call for theirs.
    """
    outer = _CALL.get()
    ctx = _INVOCATION.get()
    if outer is not None and outer[1] is ctx and outer[0].name == name:
        yield outer[0]
        return
    call = _resolve(ctx, name, tool_input, call_id)
    token = _CALL.set((call, ctx))
    try:
        yield call
    finally:
        _CALL.reset(token)
