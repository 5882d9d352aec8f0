"""orxhestra's events as agentflow events: :class:`OrxhestraEvent` around each native one.

``Runner.astream`` yields orxhestra ``Event`` models (pydantic, not ours to subclass). Each
is wrapped, not copied: the native event is ``event.native``, and every attribute the
wrapper does not define is read from it, so ``event.tool_calls``, ``event.metadata``,
``event.partial``, ``event.llm_response`` or ``event.to_langchain_message()`` are
orxhestra's own. ``type`` is the native value (``agent_message``, ``tool_response``) and
``id`` the native id. What the wrapper adds is ``kind``:

========================================================  =====================
native event                                              ``kind``
========================================================  =====================
partial ``agent_message`` with text                       ``message.delta``
partial with thinking only (or a ReAct thought)           ``reasoning.delta``
``agent_message`` announcing tool calls                   ``tool.started``
``agent_message`` with ``metadata["error"]``              ``error``
complete ReAct thought (``react_step="thought"``)         ``reasoning.completed``
other ReAct steps, the Runner's compaction notices        ``None``
any other complete ``agent_message`` (the answer)         ``message.completed``
``tool_response`` (with ``error``)                        ``tool.completed`` (``tool.failed``)
``agent_start`` / ``agent_end`` / ``user_message``        ``None``
========================================================  =====================
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from ..core.dialect import CallKind
from ..core.events import Event
from .dialect import ORXHESTRA

__all__ = ["CallView", "OrxhestraEvent", "kind_of"]

_NO_ROLES: Mapping[str, CallKind] = {}


def _type_of(native: Any) -> str:
    kind = getattr(native, "type", "")
    return str(getattr(kind, "value", kind))


def _notice(metadata: Mapping[str, Any]) -> bool:
    """The Runner's own notices (context compaction), not something the agent said."""
    return bool(metadata.get("compacting") or metadata.get("compaction"))


def kind_of(native: Any) -> str | None:
    """The common ``kind`` of a native orxhestra event (see the module docstring)."""
    etype = _type_of(native)
    if etype == "tool_response":
        failed = any(part.error is not None for part in native.content.tool_responses)
        return "tool.failed" if failed else "tool.completed"
    if etype != "agent_message":
        return None
    metadata = native.metadata or {}
    step = metadata.get("react_step")
    if native.partial:
        if step == "thought" or (native.thinking and not native.text):
            return "reasoning.delta"
        return "message.delta" if native.text else None
    if native.has_tool_calls:
        return "tool.started"
    if metadata.get("error"):
        return "error"
    if step == "thought":
        return "reasoning.completed"
    if step or _notice(metadata):
        return None
    return "message.completed"


class OrxhestraEvent(Event):
    """One event ``Runner.astream`` yielded (``native``), as agentflow routes it.

    ``roles`` maps the names of the tools this client answers for to the kind of call
    (``approval``, ``tool``, ``question``); the source sets it, and the dialect reads it to
    announce calls. ``ends_turn`` is the stop reason the channel put on the turn's last
    event (``None`` on every other one).
    """

    __slots__ = ("_kind", "ends_turn", "id", "native", "roles", "type")

    dialect: ClassVar[Any] = ORXHESTRA

    def __init__(self, native: Any, roles: Mapping[str, CallKind] | None = None) -> None:
        self.native = native
        self.type = _type_of(native)
        self.id = getattr(native, "id", None)
        self.roles = roles if roles is not None else _NO_ROLES
        self.ends_turn: str | None = None
        self._kind: str | None = ""  # not worked out yet (no kind is "")

    def __getattr__(self, name: str) -> Any:
        # Only reached for names the wrapper lacks: orxhestra's own fields and methods.
        if name.startswith("__") or name in OrxhestraEvent.__slots__:
            raise AttributeError(name)
        return getattr(object.__getattribute__(self, "native"), name)

    @property
    def kind(self) -> str | None:
        """What the event means in the common vocabulary (see the module docstring)."""
        kind = self._kind
        if kind == "":  # worked out once: the run's context and its tally both ask
            kind = self._kind = kind_of(self.native)
        return kind

    @property
    def text(self) -> str:
        """orxhestra's ``text``: the text parts (a streamed chunk's new text)."""
        return str(self.native.text)

    @property
    def tool_name(self) -> str | None:
        """orxhestra's ``tool_name``: the first tool call's (or the response's) tool."""
        name = self.native.tool_name
        return None if name is None else str(name)

    @property
    def tool_input(self) -> dict[str, Any] | None:
        """orxhestra's ``tool_input``: the first tool call's arguments."""
        args = self.native.tool_input
        return None if args is None else dict(args)

    @property
    def call_id(self) -> str | None:
        """The first tool call's id, or the id of the call a tool response answers."""
        content = self.native.content
        parts = content.tool_calls or content.tool_responses
        return str(parts[0].tool_call_id) if parts else None

    @property
    def error(self) -> Any:
        """orxhestra's ``error``: a tool response's error, or an error report's text."""
        return self.native.error

    @property
    def raw(self) -> dict[str, Any]:
        """The native event as JSON (``model_dump(mode="json")``)."""
        dumped: dict[str, Any] = self.native.model_dump(mode="json")
        return dumped

    def is_final_response(self) -> bool:
        """orxhestra's ``is_final_response()``: the agent's complete final answer."""
        return bool(self.native.is_final_response())

    def for_call(self, part: Any) -> CallView:
        """This event as one of its tool calls (``part``) sees it: what a policy is shown."""
        return CallView(self, part)

    def __repr__(self) -> str:
        text = self.text
        shown = f", text={text[:40]!r}" if text else ""
        return f"OrxhestraEvent(type={self.type!r}, kind={self.kind!r}, id={self.id!r}{shown})"


class CallView(OrxhestraEvent):
    """A tool-call event seen as one of its calls: ``tool_name``, ``tool_input`` and
    ``call_id`` are that call's (a policy deciding a batch of calls sees each alone)."""

    __slots__ = ("part",)

    def __init__(self, event: OrxhestraEvent, part: Any) -> None:
        super().__init__(event.native, event.roles)
        self.part = part

    def __getattr__(self, name: str) -> Any:
        if name == "part":
            raise AttributeError(name)
        return super().__getattr__(name)

    @property
    def tool_name(self) -> str | None:
        """The call's tool."""
        return str(self.part.tool_name)

    @property
    def tool_input(self) -> dict[str, Any] | None:
        """The call's arguments."""
        return dict(self.part.args or {})

    @property
    def call_id(self) -> str | None:
        """The call's ``tool_call_id``."""
        return str(self.part.tool_call_id)
