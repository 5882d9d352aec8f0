"""Content blocks and the small objects events carry (stop reasons, permissions, errors, usage).

Every union here is open: an object whose ``type`` we do not know decodes to a generic model
that keeps all its fields, so a new server-side variant never breaks decoding.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, get_args

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field

__all__ = [
    "AutoEvaluation",
    "AutoPermission",
    "Base64Source",
    "ContentBlock",
    "DeltaContent",
    "DocumentBlock",
    "ErrorObject",
    "Evaluation",
    "FileRubric",
    "FileSource",
    "ImageBlock",
    "MediaSource",
    "ModelUsage",
    "Money",
    "PlainTextSource",
    "PreviewRef",
    "RedactedBlock",
    "RetryStatus",
    "Rubric",
    "SearchResultBlock",
    "UsageSnapshot",
    "StopDetails",
    "StopReason",
    "TextBlock",
    "TextRubric",
    "UnknownBlock",
    "UrlSource",
    "WorkflowRunPhase",
    "WorkflowRunResult",
]


class _Obj(BaseModel):
    """Base of every nested object: immutable, unknown fields kept."""

    model_config = ConfigDict(frozen=True, extra="allow")


BY_TYPE = Field(discriminator="type")
"""An open union's known members: picked by their ``type`` tag."""

FIRST_MATCH = Field(union_mode="left_to_right")
"""An open union's outer rule: its known members (one tagged union) first, else the fallback."""


def unknown_type(known: object) -> BeforeValidator:
    """Marks an open union's fallback member: it takes an object of any ``type`` but those
    of the ``known`` members (a union of models, each with a ``Literal`` ``type``).

    An open union is ``Annotated[Annotated[Known, BY_TYPE] | Annotated[UnknownX,
    unknown_type(Known)], FIRST_MATCH]``. pydantic-core picks a known member by its
    ``type`` tag without calling Python (a callable discriminator would make it build a
    dict of every nested object first); only an object the tagged union rejects reaches
    this check. A known ``type`` with invalid fields is refused here too, so it is an error
    (named by the tagged union's error, which comes first) and not an unknown object.
    """
    names = frozenset(get_args(m.model_fields["type"].annotation)[0] for m in get_args(known))

    def check(value: Any) -> Any:
        tag = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
        if tag in names:
            raise ValueError(f"a {tag!r} object with invalid fields")
        return value

    return BeforeValidator(check)


# ---------------------------------------------------------------- media sources


class Base64Source(_Obj):
    """Inline bytes: ``{"type": "base64", "media_type", "data"}``."""

    type: Literal["base64"]
    media_type: str
    data: str


class PlainTextSource(_Obj):
    """Inline plain text for a document (``type`` ``"text"``, ``media_type`` ``text/plain``)."""

    type: Literal["text"]
    media_type: str = "text/plain"
    data: str


class UrlSource(_Obj):
    """A source fetched by URL."""

    type: Literal["url"]
    url: str


class FileSource(_Obj):
    """A previously uploaded file."""

    type: Literal["file"]
    file_id: str


class UnknownSource(_Obj):
    """A source type this version does not know; every field is kept."""

    type: str


_KnownSource = Base64Source | PlainTextSource | UrlSource | FileSource

MediaSource = Annotated[
    Annotated[_KnownSource, BY_TYPE] | Annotated[UnknownSource, unknown_type(_KnownSource)],
    FIRST_MATCH,
]

# ---------------------------------------------------------------- content blocks


class TextBlock(_Obj):
    """``{"type": "text", "text": ...}``."""

    type: Literal["text"]
    text: str


class ImageBlock(_Obj):
    """An image, inline or by reference."""

    type: Literal["image"]
    source: MediaSource


class DocumentBlock(_Obj):
    """A document (PDF, plain text, …) with an optional title and context."""

    type: Literal["document"]
    source: MediaSource
    title: str | None = None
    context: str | None = None


class SearchResultBlock(_Obj):
    """A search result a tool returns: source URL, title and text content."""

    type: Literal["search_result"]
    source: str
    title: str
    content: list[TextBlock]
    citations: dict[str, Any] | None = None


class RedactedBlock(_Obj):
    """Content withheld by policy. It has no text; ``.text`` conveniences skip it."""

    type: Literal["redacted"]


class UnknownBlock(_Obj):
    """A block type this version does not know; every field is kept."""

    type: str


_KnownBlock = TextBlock | ImageBlock | DocumentBlock | SearchResultBlock | RedactedBlock

ContentBlock = Annotated[
    Annotated[_KnownBlock, BY_TYPE] | Annotated[UnknownBlock, unknown_type(_KnownBlock)],
    FIRST_MATCH,
]

# ---------------------------------------------------------------- stop reasons


class StopReason(_Obj):
    """Why a session (or thread) went idle.

    ``type`` is one of ``end_turn``, ``requires_action``, ``retries_exhausted``,
    ``budget_reached``, ``refusal``, or a reason this version does not know (kept as is).
    ``event_ids`` lists the blocking events of a ``requires_action`` stop and is empty
    otherwise.
    """

    type: str
    event_ids: list[str] = Field(default_factory=list)  # (a list default is deep-copied)

    @property
    def requires_action(self) -> bool:
        """True when the session waits for replies to ``event_ids``."""
        return self.type == "requires_action"


class StopDetails(_Obj):
    """Details of a refusal: ``category`` and ``explanation`` (wording changes; do not parse)."""

    type: str
    category: str | None = None
    explanation: str | None = None


# ---------------------------------------------------------------- permissions


class AutoPermission(_Obj):
    """The server's own judgement under an ``auto`` policy: ``allow``, ``ask`` or ``deny``."""

    type: str
    reason_code: str | None = None


class AlwaysAllowEvaluation(_Obj):
    """The tool's policy is ``always_allow``."""

    type: Literal["always_allow"]


class AlwaysAskEvaluation(_Obj):
    """The tool's policy is ``always_ask``: the call waits for a ``user.tool_confirmation``."""

    type: Literal["always_ask"]


class AutoEvaluation(_Obj):
    """The tool's policy is ``auto``; ``evaluated_permission`` holds the server's judgement."""

    type: Literal["auto"]
    evaluated_permission: AutoPermission


class UnknownEvaluation(_Obj):
    """An evaluation kind this version does not know; every field is kept."""

    type: str


_KnownEvaluation = AlwaysAllowEvaluation | AlwaysAskEvaluation | AutoEvaluation

Evaluation = Annotated[
    Annotated[_KnownEvaluation, BY_TYPE]
    | Annotated[UnknownEvaluation, unknown_type(_KnownEvaluation)],
    FIRST_MATCH,
]

# ---------------------------------------------------------------- errors


class RetryStatus(_Obj):
    """What the server does about an error: ``retrying``, ``exhausted`` or ``terminal``."""

    type: str


class ErrorObject(_Obj):
    """The ``error`` of a ``session.error`` or ``workflow_run.error`` event.

    ``type`` names the error (``model_overloaded_error``, ``billing_error``, …; an open set),
    ``retry_status`` says whether the server retries (absent on workflow-run errors). Extra
    fields such as ``mcp_server_name``, ``repository_url``, ``credential_id`` and ``vault_id``
    are typed where known and kept otherwise.
    """

    type: str
    message: str = ""
    retry_status: RetryStatus | None = None
    mcp_server_name: str | None = None
    repository_url: str | None = None
    credential_id: str | None = None
    vault_id: str | None = None


# ---------------------------------------------------------------- usage, outcomes, runs


class Money(_Obj):
    """An amount in minor units, as a string: ``{"amount": "2500", "currency": "USD"}``."""

    amount: str
    currency: str


class ModelUsage(_Obj):
    """Token usage of one model request (or of an outcome evaluation cycle)."""

    input_tokens: int
    output_tokens: int
    cache_read_input_tokens: int = 0
    cache_creation_input_tokens: int = 0
    speed: str | None = None


class UsageSnapshot(_Obj):
    """Cumulative usage of a session, as ``session.usage`` reports it."""

    input_tokens: int | None = None
    output_tokens: int | None = None
    cache_read_input_tokens: int | None = None
    cache_creation: dict[str, Any] | None = None
    server_tool_use: dict[str, Any] | None = None
    list_cost: Money | None = None
    active_seconds: float | None = None


class TextRubric(_Obj):
    """A grading rubric given inline."""

    type: Literal["text"]
    content: str


class FileRubric(_Obj):
    """A grading rubric stored as a file."""

    type: Literal["file"]
    file_id: str


class UnknownRubric(_Obj):
    """A rubric kind this version does not know; every field is kept."""

    type: str


_KnownRubric = TextRubric | FileRubric

Rubric = Annotated[
    Annotated[_KnownRubric, BY_TYPE] | Annotated[UnknownRubric, unknown_type(_KnownRubric)],
    FIRST_MATCH,
]


class WorkflowRunPhase(_Obj):
    """One phase a workflow run's plan declares."""

    id: str
    name: str
    description: str | None = None


class WorkflowRunResult(_Obj):
    """How a workflow run ended: ``completed``, ``stopped`` or ``error`` (with ``error``)."""

    type: str
    error: ErrorObject | None = None


class PreviewRef(_Obj):
    """The event an ``event_start`` preview announces: its ``type`` and future ``id``."""

    type: str
    id: str


class DeltaContent(_Obj):
    """One piece of a preview: ``content`` is appended to block ``index``."""

    type: str
    index: int | None = None
    content: TextBlock
