"""What orxhestra events mean to agentflow: the orxhestra :class:`~agentflow.Dialect`.

orxhestra is not a wire: its agent runs in this process and calls its tools itself. So the
App's answers are not posted to a server; they are given to the tools agentflow wraps (see
:class:`~agentflow.orxhestra.OrxhestraSource`), through the same actions router as every
other dialect:

- an agent message announcing tool calls announces one :class:`~agentflow.Call` per call
  this client answers (its id is the model's ``tool_call_id``): ``approval`` for a gated
  tool of the agent (the policies decide before it runs), ``tool`` for an App tool given
  to the agent (the App runs it), ``question`` for ``human_input`` (``@app.on_question``
  answers). Which tool is which is carried by the event itself (``event.roles``, filled in
  by the source that wrapped it), so the dialect stays a pure description;
- a tool response settles its call;
- nothing pauses: each answer is asked for by the wrapped tool at the moment it runs;
- the turn ends with the generator ``Runner.astream`` returns, which no event says: the
  channel marks the last event of the turn (``event.ends_turn``: ``end_turn``, ``error``
  when the agent's last message reports an error, ``cancelled`` after an interrupt);
- an error report (``metadata["error"]``) is ``exhausted``: the turn is over, the session
  lives on;
- token counts come from the ``llm_response`` of tool-call and final messages;
- what an agent can be sent is user messages (:func:`message_texts`): ``astream`` takes a
  ``str``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..core.dialect import Call, Dialect, Severity, TokenCount
from ..core.verdicts import Allow, Deny

if TYPE_CHECKING:
    from ..core.answers import ToolReply
    from ..core.events import Event
    from ..core.types import JSONObject
    from ..core.verdicts import Verdict

__all__ = [
    "EVENT_TYPES",
    "ORXHESTRA",
    "USER_MESSAGE",
    "OrxhestraDialect",
    "message_texts",
    "verdict_of",
]

EVENT_TYPES: frozenset[str] = frozenset(
    {"agent_message", "tool_response", "user_message", "agent_start", "agent_end"}
)
"""The values of orxhestra's ``EventType`` (``user_message`` is stored, never yielded)."""

USER_MESSAGE = "user_message"
"""The ``type`` of the request that sends a user message (``{"type": ..., "text": ...}``)."""


class OrxhestraDialect(Dialect):
    """The orxhestra in-process dialect (see the module docstring)."""

    name = "orxhestra"
    known_types = EVENT_TYPES

    def calls(self, event: Event) -> Sequence[Call]:
        roles: Mapping[str, Any] | None = getattr(event, "roles", None)
        parts = getattr(event, "tool_calls", None)
        if not roles or not parts:
            return ()
        view = getattr(event, "for_call", None)
        found: list[Call] = []
        for part in parts:
            kind = roles.get(part.tool_name)
            if kind is None:
                continue  # a tool this client does not answer for: it just runs
            args = dict(part.args or {})
            text = str(args.get("question", "")) if kind == "question" else None
            seen = view(part) if callable(view) else event
            found.append(Call(str(part.tool_call_id), kind, seen, part.tool_name, args, text=text))
        return found

    def settled(self, event: Event) -> str | None:
        if event.type != "tool_response":
            return None
        return event.call_id

    def turn_end(self, event: Event) -> str | None:
        reason = getattr(event, "ends_turn", None)
        return reason if isinstance(reason, str) else None

    def severity(self, event: Event) -> Severity | None:
        return "exhausted" if event.kind == "error" else None

    def usage(self, event: Event) -> TokenCount | None:
        response = getattr(event, "llm_response", None)
        if response is None:
            return None
        tokens_in = getattr(response, "input_tokens", None)
        tokens_out = getattr(response, "output_tokens", None)
        if tokens_in is None and tokens_out is None:
            return None
        return TokenCount(int(tokens_in or 0), int(tokens_out or 0))

    def unanswered(self, event: Event) -> tuple[str, str]:
        return "other", f"{event.type} announces no call this run answers"

    # -- writing answers ------------------------------------------------------------------

    def user_input(self, item: str | Mapping[str, Any]) -> JSONObject:
        if isinstance(item, str):
            return {"type": USER_MESSAGE, "text": item}
        return dict(item)

    def tool_reply(self, call: Call, reply: ToolReply) -> JSONObject:
        return {
            "tool_call_id": call.id,
            "kind": "tool",
            "content": list(reply.content),
            "is_error": reply.is_error,
        }

    def approval_reply(self, call: Call, verdict: Verdict) -> JSONObject:
        allowed = isinstance(verdict, Allow)
        message = None if allowed else getattr(verdict, "message", None)
        return {"tool_call_id": call.id, "kind": "approval", "allowed": allowed, "message": message}

    def question_reply(self, call: Call, answer: str | None) -> JSONObject:
        return {"tool_call_id": call.id, "kind": "question", "answer": answer}

    def reply_target(self, reply: Mapping[str, Any]) -> str:
        return str(reply.get("tool_call_id"))


def verdict_of(reply: Mapping[str, Any]) -> Verdict:
    """The verdict an :meth:`~OrxhestraDialect.approval_reply` carries."""
    if reply.get("allowed") is True:
        return Allow()
    message = reply.get("message")
    return Deny(message) if isinstance(message, str) and message else Deny()


def _text(request: Any) -> str | None:
    if not isinstance(request, Mapping):
        return None
    kind = request.get("type")
    if kind == USER_MESSAGE and isinstance(request.get("text"), str):
        return str(request["text"])
    content = request.get("content")
    if kind == "user.message" and isinstance(content, list):
        # A Managed Agents user message (what ``agentflow.user_message`` builds): its text
        # blocks, so an App written for that wire can talk to an orxhestra agent too.
        texts = [b.get("text") for b in content if isinstance(b, Mapping)]
        if texts and all(isinstance(t, str) for t in texts):
            return "\n\n".join(str(t) for t in texts)
    return None


def message_texts(requests: Iterable[Any]) -> list[str]:
    """The text of each user message; a ``ValueError`` naming the first that is not one.

    Every request is checked before any is used, so a bad one loses nothing.
    """
    texts: list[str] = []
    for i, request in enumerate(requests):
        text = _text(request)
        if text is None:
            raise ValueError(
                f"an orxhestra agent takes user messages only: a str, "
                f'{{"type": "{USER_MESSAGE}", "text": ...}} or a user.message of text blocks; '
                f"request {i} is {request!r}"
            )
        texts.append(text)
    return texts


ORXHESTRA = OrxhestraDialect()
"""The orxhestra dialect (every :class:`~agentflow.orxhestra.OrxhestraEvent`'s ``.dialect``)."""
