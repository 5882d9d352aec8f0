"""``Conversation``: the message list of a Messages API conversation, across turns and runs.

The Messages API keeps no state: every request carries the whole conversation. A
:class:`Conversation` holds it (user text, assistant content, tool results), is what
``app.run(client, conversation, send=[...])`` follows, and saves to / loads from JSON so a
later process carries on where this one stopped. ``Conversation.open(path)`` also saves after
every change (written to a temporary file, then renamed over the old one), so a process
killed at any point leaves the last complete state on disk.
"""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["FORMAT", "Conversation"]

FORMAT = "agentflow.messages.conversation"
_VERSION = 1


def _blocks(content: Any) -> list[dict[str, Any]]:
    """Content as a list of blocks (a string is one text block)."""
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if isinstance(content, Mapping):
        return [dict(content)]
    if isinstance(content, Sequence):
        out = []
        for block in content:
            if not isinstance(block, Mapping) or not isinstance(block.get("type"), str):
                raise ValueError(f"expected content blocks with a string 'type', got {block!r}")
            out.append(dict(block))
        return out
    raise TypeError(f"expected a string or content blocks, got {type(content).__name__}")


def _check(messages: Any, where: str) -> list[dict[str, Any]]:
    if not isinstance(messages, list):
        raise ValueError(f"{where}: 'messages' must be a list, got {type(messages).__name__}")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("user", "assistant"):
            raise ValueError(f"{where}: messages[{i}] must be an object with role user/assistant")
        if not isinstance(message.get("content"), (str, list)):
            raise ValueError(f"{where}: messages[{i}].content must be a string or a list")
    return messages


class Conversation:
    """The messages of one conversation (see the module docstring).

    ``id`` is the key a checkpoint store records the conversation's tool calls under;
    ``stop_reason`` says how the last response stopped (``None`` before any). ``messages`` is
    the list sent as the request's ``messages``; change it through the ``add_*`` methods,
    which keep roles alternating (consecutive user content is merged into one message, with
    ``tool_result`` blocks first, as the API requires).
    """

    def __init__(
        self,
        messages: Sequence[Mapping[str, Any]] = (),
        *,
        id: str | None = None,
        stop_reason: str | None = None,
        path: str | os.PathLike[str] | None = None,
    ) -> None:
        self.id = id or f"conv_{uuid.uuid4().hex}"
        self.messages: list[dict[str, Any]] = _check([dict(m) for m in messages], "messages")
        self.stop_reason = stop_reason
        self.path: Path | None = None if path is None else Path(path)
        """Where the conversation saves itself after every change (``None``: it does not)."""

    # -- changing it ----------------------------------------------------------------------

    def add_user(self, content: str | Sequence[Mapping[str, Any]] | Mapping[str, Any]) -> None:
        """Append user content (text or blocks), merged into a trailing user message."""
        blocks = _blocks(content)
        if not blocks:
            return
        last = self.messages[-1] if self.messages else None
        if last is not None and last["role"] == "user":
            last["content"] = _blocks(last["content"]) + blocks
        else:
            self.messages.append({"role": "user", "content": blocks})
        self._changed()

    def add_assistant(self, content: Sequence[Mapping[str, Any]], stop_reason: str | None) -> None:
        """Append a response's content as it came, and remember how it stopped.

        Empty content (a response with nothing in it) is not appended: the API refuses an
        empty message anywhere but at the end.
        """
        blocks = _blocks(content)
        if blocks:
            self.messages.append({"role": "assistant", "content": blocks})
        self.stop_reason = stop_reason
        self._changed()

    def add_tool_results(
        self, results: Sequence[Mapping[str, Any]], more: Sequence[Mapping[str, Any]] = ()
    ) -> None:
        """Append one user message: the ``tool_result`` blocks, then any other content."""
        blocks = _blocks(results) + _blocks(more)
        if blocks:
            self.messages.append({"role": "user", "content": blocks})
            self._changed()

    # -- reading it -----------------------------------------------------------------------

    def open_tool_uses(self) -> list[dict[str, Any]]:
        """The ``tool_use`` blocks of the last message, when it is an assistant message whose
        calls still wait for results (empty otherwise)."""
        if not self.messages or self.messages[-1]["role"] != "assistant":
            return []
        content = self.messages[-1]["content"]
        if not isinstance(content, list):
            return []
        return [b for b in content if isinstance(b, dict) and b.get("type") == "tool_use"]

    @property
    def text(self) -> str:
        """The text of the last assistant message (``""`` when there is none)."""
        for message in reversed(self.messages):
            if message["role"] == "assistant":
                return "".join(
                    str(b.get("text", ""))
                    for b in _blocks(message["content"])
                    if b.get("type") == "text"
                )
        return ""

    def __len__(self) -> int:
        return len(self.messages)

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return iter(self.messages)

    def __repr__(self) -> str:
        # Never the content: it may hold anything the user or the tools said.
        return f"Conversation(id={self.id!r}, messages={len(self.messages)})"

    # -- JSON -----------------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        """The JSON form: ``format``, ``version``, ``id``, ``stop_reason``, ``messages``."""
        return {
            "format": FORMAT,
            "version": _VERSION,
            "id": self.id,
            "stop_reason": self.stop_reason,
            "messages": self.messages,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, where: str = "conversation") -> Conversation:
        """A conversation from its JSON form (:meth:`to_dict`); ``ValueError`` if malformed."""
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ValueError(f"{where}: not a saved agentflow conversation (no format {FORMAT!r})")
        if data.get("version") != _VERSION:
            raise ValueError(f"{where}: unsupported version {data.get('version')!r}")
        ident = data.get("id")
        if not isinstance(ident, str) or not ident:
            raise ValueError(f"{where}: 'id' must be a non-empty string")
        stop = data.get("stop_reason")
        return cls(
            _check(data.get("messages"), where),
            id=ident,
            stop_reason=stop if isinstance(stop, str) else None,
        )

    def save(self, path: str | os.PathLike[str] | None = None) -> Path:
        """Write the conversation as JSON (to ``path``, else :attr:`path`); returns the path.

        The file is replaced whole (a temporary file renamed over it), never half-written.
        """
        target = Path(path) if path is not None else self.path
        if target is None:
            raise ValueError("no path: pass save(path) or open the conversation with a path")
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.to_dict(), ensure_ascii=False), encoding="utf-8")
        os.replace(tmp, target)
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Conversation:
        """Read a conversation saved with :meth:`save` (``ValueError`` if it is not one)."""
        where = os.fspath(path)
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
        except ValueError as exc:
            raise ValueError(f"{where}: not valid JSON: {exc}") from None
        return cls.from_dict(data, where=where)

    @classmethod
    def open(cls, path: str | os.PathLike[str]) -> Conversation:
        """The conversation saved at ``path`` (a new one if there is no file), which saves
        itself there after every change."""
        target = Path(path)
        conversation = cls.load(target) if target.exists() else cls()
        conversation.path = target
        return conversation

    def _changed(self) -> None:
        if self.path is not None:
            self.save(self.path)
