"""Tool, approval and question events (``tool.*``, ``tool.approval_*``, ``question.*``).

The approval and question event names are inferred (the platform documents the waits as
``pending_approvals`` / ``pending_questions`` on the session, not their events); agentflow
decodes them under these names and keeps any other as an unknown event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, PrivateAttr

from ._base import ErrorInfo, EverrunsEvent
from ._data import DataModel, QuestionItem, ToolCallInfo, parts_text

__all__ = [
    "QuestionAnswered",
    "QuestionRequested",
    "ToolApprovalRequested",
    "ToolApprovalResolved",
    "ToolCallRepaired",
    "ToolCallRequested",
    "ToolCompleted",
    "ToolFailed",
    "ToolOutputDelta",
    "ToolProgress",
    "ToolStarted",
]


def _args(value: Any) -> dict[str, Any] | None:
    return value if isinstance(value, dict) else None


class _CallData(DataModel):
    tool_call: ToolCallInfo


class _CarriesCall(EverrunsEvent):
    """An event whose ``data.tool_call`` is the call itself (its name, arguments and id)."""

    if TYPE_CHECKING:
        data: _CallData  # each subclass declares its own ``Data`` (a ``_CallData``)

    @property
    def tool_name(self) -> str | None:
        """The tool's name."""
        return self.data.tool_call.name

    @property
    def tool_input(self) -> dict[str, Any] | None:
        """The call's arguments (``None`` when they are not an object)."""
        return _args(self.data.tool_call.arguments)

    @property
    def call_id(self) -> str | None:
        """The tool call's id."""
        return self.data.tool_call.id


class ToolStarted(_CarriesCall):
    """``tool.started``: a tool call was announced (``tool_call`` {id, name, arguments})."""

    event_kind: ClassVar[str | None] = "tool.started"

    class Data(_CallData):
        display_name: str | None = None
        narration: str | None = None

    type: Literal["tool.started"]
    data: Data


class _ToolRef(DataModel):
    tool_call_id: str
    tool_name: str | None = None


class _AboutCall(EverrunsEvent):
    """An event about one earlier tool call (``data.tool_call_id``)."""

    data: _ToolRef

    @property
    def tool_name(self) -> str | None:
        """The tool's name."""
        return self.data.tool_name

    @property
    def call_id(self) -> str | None:
        """The id of the call this event is about."""
        return self.data.tool_call_id


class ToolProgress(_AboutCall):
    """``tool.progress``: a running tool reports progress (``message``)."""

    class Data(_ToolRef):
        message: str | None = None

    type: Literal["tool.progress"]
    data: Data


class ToolOutputDelta(_AboutCall):
    """``tool.output.delta``: streamed tool output (``delta``, ``stream``)."""

    class Data(_ToolRef):
        delta: str = ""
        stream: str | None = None

    type: Literal["tool.output.delta"]
    data: Data

    @property
    def text(self) -> str:
        """The new output."""
        return self.data.delta


class ToolCompleted(_AboutCall):
    """``tool.completed``: a tool's result; ``kind`` is ``tool.failed`` when ``success`` is
    false (``status`` ``error`` / ``timeout`` / ``cancelled``)."""

    class Data(_ToolRef):
        success: bool
        status: str | None = None
        result: Any = None
        error: str | None = None
        duration_ms: float | None = None

    type: Literal["tool.completed"]
    data: Data

    @property
    def kind(self) -> str | None:
        """``tool.completed``, or ``tool.failed`` for an unsuccessful call."""
        return "tool.completed" if self.data.success else "tool.failed"

    @property
    def text(self) -> str:
        """The result's text parts joined (a plain string result as it is)."""
        result = self.data.result
        return result if isinstance(result, str) else parts_text(result)

    @property
    def error(self) -> ErrorInfo | None:
        """The failure (``type`` is the ``status``), or ``None`` when the call succeeded."""
        if self.data.success:
            return None
        return ErrorInfo(type=self.data.status or "error", message=self.data.error or "")


class ToolFailed(EverrunsEvent):
    """``tool.failed``: a tool call failed outside its result."""

    event_kind: ClassVar[str | None] = "tool.failed"

    class Data(DataModel):
        tool_call_id: str | None = None
        tool_name: str | None = None
        error: str | None = None

    type: Literal["tool.failed"]
    data: Data = Field(default_factory=Data)

    @property
    def tool_name(self) -> str | None:
        """The tool's name."""
        return self.data.tool_name

    @property
    def call_id(self) -> str | None:
        """The failed call's id."""
        return self.data.tool_call_id

    @property
    def error(self) -> ErrorInfo:
        """What failed."""
        return ErrorInfo(type="tool_failed", message=self.data.error or "")


class ToolCallRepaired(EverrunsEvent):
    """``tool.call_repaired``: the platform fixed a malformed tool call."""

    type: Literal["tool.call_repaired"]
    data: dict[str, Any] = Field(default_factory=dict)


class ToolCallRequested(EverrunsEvent):
    """``tool.call_requested``: the turn waits for the client to run ``tool_calls``.

    The conveniences (``tool_name``, ``tool_input``, ``call_id``) describe the first call, or
    the one this copy is about (:meth:`for_call`): the actions router hands each call's
    copy to the policies, so a policy sees the call it decides.
    """

    event_kind: ClassVar[str | None] = "tool.requested"

    class Data(DataModel):
        tool_calls: list[ToolCallInfo]
        tool_summaries: Any = None
        headline: str | None = None

    type: Literal["tool.call_requested"]
    data: Data
    _focus: int = PrivateAttr(default=0)

    def for_call(self, index: int) -> ToolCallRequested:
        """This event, about its ``index``-th call (same fields, same ``raw``)."""
        copy = self.model_copy()
        copy._focus = index
        return copy

    def _call(self) -> ToolCallInfo | None:
        calls = self.data.tool_calls
        return calls[self._focus] if 0 <= self._focus < len(calls) else None

    @property
    def tool_name(self) -> str | None:
        """The name of the call this event is about."""
        call = self._call()
        return None if call is None else call.name

    @property
    def tool_input(self) -> dict[str, Any] | None:
        """The arguments of the call this event is about."""
        call = self._call()
        return None if call is None else _args(call.arguments)

    @property
    def call_id(self) -> str | None:
        """The id of the call this event is about."""
        call = self._call()
        return None if call is None else call.id


class ToolApprovalRequested(_CarriesCall):
    """``tool.approval_requested`` (inferred name): a tool call waits for allow / deny.

    ``approval_id`` is the gate, ``tool_call`` the call held back; the answer goes to the
    channel surface's ``tool-approvals``.
    """

    event_kind: ClassVar[str | None] = "approval.requested"

    class Data(_CallData):
        approval_id: str | None = None
        reason: str | None = None

    type: Literal["tool.approval_requested"]
    data: Data


class ToolApprovalResolved(_AboutCall):
    """``tool.approval_resolved`` (inferred name): an approval was answered (``decision``)."""

    event_kind: ClassVar[str | None] = "approval.resolved"

    class Data(_ToolRef):
        approval_id: str | None = None
        decision: str | None = None
        reason: str | None = None

    type: Literal["tool.approval_resolved"]
    data: Data


class QuestionRequested(EverrunsEvent):
    """``question.requested`` (inferred name): the agent asks the user ``questions``.

    ``.text`` is the questions' text (one per line); the answer goes to the channel
    surface's ``question-answers``.
    """

    event_kind: ClassVar[str | None] = "input.requested"

    class Data(DataModel):
        question_set_id: str
        tool_call_id: str | None = None
        questions: list[QuestionItem] = Field(default_factory=list)

    type: Literal["question.requested"]
    data: Data

    @property
    def text(self) -> str:
        """The questions, one per line."""
        return "\n".join(q.question for q in self.data.questions)

    @property
    def call_id(self) -> str | None:
        """The question set's id (what the answer refers to)."""
        return self.data.question_set_id


class QuestionAnswered(EverrunsEvent):
    """``question.answered`` (inferred name): a question set was answered (``answers``)."""

    class Data(DataModel):
        question_set_id: str
        tool_call_id: str | None = None
        answers: dict[str, Any] = Field(default_factory=dict)

    type: Literal["question.answered"]
    data: Data

    @property
    def call_id(self) -> str | None:
        """The question set's id."""
        return self.data.question_set_id
