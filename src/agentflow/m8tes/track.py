"""What a run's stream learns from its frames, in order: no I/O.

:class:`Progress` is the position bookkeeping: how many frames of the run were taken
(``count``, the position of the next one), a fingerprint of the last ones (CRC-32 of their
bytes) and whether the count is only a lower bound (``provisional``: a reply's stream starts
after frames this client may not have seen). Its :meth:`~Progress.cursor` is what the
checkpoint keeps: ``"<count>[~]:<crc>.<crc>"``.

:class:`Accumulator` reads every frame once, in order, and attaches what only the earlier
frames tell: a text or reasoning block's whole text (on its ``*-end``), a tool call's name
(on its later frames) and parsed input (on ``tool-call-end``), the tokens a ``run_metrics``
adds to the totals seen before. It also keeps the two facts that decide what an ending
stream means, by the SDK's rules: whether the last word was a terminal frame (``done``,
``cancelled``, ``error``, a terminal failure; work frames after one re-open the run), and
which human gate is open (a gate frame opens it; its ``permission_resolved``, the gated
tool's own result or new model output closes it).
"""

from __future__ import annotations

import json
import zlib
from collections import deque
from collections.abc import Callable
from typing import Any

from ..core.dialect import TokenCount
from .dialect import TERMINAL_FAILURE_TYPES
from .events import UnknownEvent

__all__ = ["Accumulator", "Gate", "Progress", "crc"]

WINDOW = 2
"""How many trailing frames the fingerprint covers."""

_TERMINAL = TERMINAL_FAILURE_TYPES | {"done", "cancelled", "error"}
_WORK = frozenset({"sandbox-connecting", "message_start", "content_block_start",
                   "content_block_delta"})  # fmt: skip
_GATES = frozenset({"permission_request", "awaiting_approval"})
_TEXT = frozenset({"text-start", "text-delta"})


def crc(data: bytes) -> int:
    """The fingerprint of one frame's bytes."""
    return zlib.crc32(data)


class Progress:
    """Positions taken so far in one run's history (see the module docstring)."""

    __slots__ = ("_last", "count", "provisional", "tail")

    def __init__(self, count: int = 0, tail: tuple[int, ...] = (), provisional: bool = False):
        self.count = count
        self.tail: deque[int] = deque(tail, maxlen=WINDOW)
        self.provisional = provisional
        self._last: tuple[int, str] = (-1, "")  # the last fingerprint written out, and how

    @classmethod
    def from_cursor(cls, cursor: str | None) -> Progress:
        """Read a checkpoint cursor back (``ValueError`` when it is not one of ours)."""
        if not cursor:
            raise ValueError("an m8tes checkpoint position needs a cursor")
        head, _, prints = cursor.partition(":")
        provisional = head.endswith("~")
        count = int(head.rstrip("~"))
        tail = tuple(int(p, 16) for p in prints.split(".") if p)
        if count < 0 or len(tail) > WINDOW:
            raise ValueError(f"not an m8tes cursor: {cursor!r}")
        return cls(count, tail, provisional)

    def take(self, position: int, data: bytes) -> None:
        """Frame ``position`` was taken."""
        self.count = position + 1
        self.tail.append(crc(data))

    def cursor(self) -> str:
        """What the checkpoint stores for the current position."""
        mark = "~" if self.provisional else ""
        tail = self.tail
        if len(tail) == 2:  # (once two frames were taken: written out, it runs per event)
            # The first fingerprint is usually the one written last time: formatting a
            # number costs more than the rest of the cursor, so each is formatted once.
            first, last = tail
            seen, text = self._last
            head = text if seen == first else f"{first:08x}"
            text = f"{last:08x}"
            self._last = (last, text)
            return f"{self.count}{mark}:{head}.{text}"
        return f"{self.count}{mark}:" + ".".join(f"{c:08x}" for c in tail)


class Gate:
    """An open human gate: its request id and the tool call it holds."""

    __slots__ = ("request_id", "tool_use_id")

    def __init__(self, request_id: Any, tool_use_id: Any) -> None:
        self.request_id = request_id
        self.tool_use_id = tool_use_id


class Accumulator:
    """What earlier frames tell about later ones (see the module docstring)."""

    def __init__(self) -> None:
        self.text: list[str] = []
        """Every text delta of the run, in order."""
        self.errors: list[str] = []
        """Errors the run reported and did not retract (``error_cleared`` wipes them)."""
        self.ended = False
        self.gate: Gate | None = None
        self.answered: set[Any] = set()
        self._blocks: dict[Any, list[str]] = {}
        self._reasoning: dict[Any, list[str]] = {}
        self._names: dict[Any, str | None] = {}
        self._args: dict[Any, list[str]] = {}
        self._tokens = (0, 0)
        readers: dict[str, Callable[[str, Any], dict[str, Any] | None]] = {
            "text-start": self._text_start,
            "text-end": self._text_end,
            "run_metrics": self._metrics,
            "error_cleared": self._cleared,
            "error": self._error,
        }
        for name in ("tool-call-start", "tool-call-delta", "tool-call-end", "tool-result-start",
                     "tool-result-delta", "tool-result-end"):  # fmt: skip
            readers[name] = self._tool
        for name in ("reasoning", "thinking", "plan"):
            readers[f"{name}-delta"] = self._thought
            readers[f"{name}-end"] = self._thought_end
        for name in TERMINAL_FAILURE_TYPES:
            readers[name] = self._error
        self._readers = readers

    def take(self, event: Any) -> dict[str, Any] | None:
        """Read ``event``; returns the notes to attach to it (or ``None``)."""
        kind = event.type
        if event.__class__ is UnknownEvent:  # a frame this version cannot read: track only
            self._track(kind, event)
            return None
        if kind == "text-delta":  # most frames: the shortest path
            delta = event.delta
            block = self._blocks.get(event.block_id)
            if block is None:
                block = self._blocks[event.block_id] = []
            block.append(delta)
            self.text.append(delta)
            if self.gate is not None:
                self.gate = None  # the model writes again: every tool call is settled
            return None
        reader = self._readers.get(kind)
        notes = None if reader is None else reader(kind, event)
        if event.kind == "message.delta" and kind != "text-delta":  # Claude-native text
            self.text.append(event.text)
        self._track(kind, event)
        return notes

    def _text_start(self, kind: str, event: Any) -> None:
        self._blocks[event.block_id] = []

    def _text_end(self, kind: str, event: Any) -> dict[str, Any]:
        return {"text": "".join(self._blocks.pop(event.block_id, ()))}

    def _thought(self, kind: str, event: Any) -> None:
        self._reasoning.setdefault(event.block_id, []).append(event.text)

    def _thought_end(self, kind: str, event: Any) -> dict[str, Any]:
        return {"text": "".join(self._reasoning.pop(event.block_id, ()))}

    def _metrics(self, kind: str, event: Any) -> dict[str, Any]:
        return {"added_tokens": self._usage(event)}

    def _error(self, kind: str, event: Any) -> None:
        self.errors.append(str(event.error))

    def _cleared(self, kind: str, event: Any) -> None:
        self.errors.clear()

    def _tool(self, kind: str, event: Any) -> dict[str, Any] | None:
        call_id = event.tool_call_id
        if kind == "tool-call-start":
            self._names[call_id] = event.name
            self._args[call_id] = []
            return None
        if kind == "tool-call-delta":
            self._args.setdefault(call_id, []).append(event.delta)
        notes: dict[str, Any] = {"tool_name": self._names.get(call_id)}
        if kind == "tool-call-end":
            notes["tool_input"] = _parse_args("".join(self._args.pop(call_id, ())))
        return notes

    def _usage(self, event: Any) -> TokenCount:
        seen_in, seen_out = self._tokens
        now_in = event.input_tokens_used if event.input_tokens_used is not None else seen_in
        now_out = event.output_tokens_used if event.output_tokens_used is not None else seen_out
        self._tokens = (max(now_in, seen_in), max(now_out, seen_out))
        return TokenCount(max(now_in - seen_in, 0), max(now_out - seen_out, 0))

    def _track(self, kind: str, event: Any) -> None:
        if kind in _TERMINAL:
            self.ended = True
        elif kind in _WORK:
            self.ended = False  # the run was driven again on the same response
        if kind in _GATES:
            request_id = getattr(event, "request_id", None)
            if request_id not in self.answered:
                self.gate = Gate(request_id, getattr(event, "tool_use_id", None))
            return
        if kind == "permission_resolved":
            request_id = getattr(event, "request_id", None)
            self.answered.add(request_id)
            if self.gate is not None and self.gate.request_id == request_id:
                self.gate = None
            return
        gate = self.gate
        if gate is None:
            return
        ran = kind == "tool-result-end" and gate.tool_use_id is not None
        if ran and getattr(event, "tool_call_id", None) == gate.tool_use_id:
            self.gate = None
        elif _is_model_output(kind, event):
            self.gate = None


def _is_model_output(kind: str, event: Any) -> bool:
    """New model output: the model only writes again once every tool call is settled."""
    if kind in _TEXT:
        return True
    if kind == "content_block_start":
        block = getattr(event, "content_block", None)
        is_text = isinstance(block, dict) and block.get("type") == "text"
        return is_text or event.kind == "tool.started"
    return kind == "content_block_delta" and bool(event.kind == "message.delta")


def _parse_args(text: str) -> Any:
    if not text:
        return {}
    try:
        return json.loads(text)
    except ValueError:
        return None
