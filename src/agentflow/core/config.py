"""An app's answers and run defaults: :class:`Actions` (``app.actions``).

The run loop reads them; the App fills them in (its tools, its policies, its question
handlers). Kept apart from the run loop so that configuring an app never touches it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Literal

from .checkpoint import CheckpointStore, MemoryCheckpointStore
from .lease import DEFAULT_LEASE
from .questions import QuestionHandlers

if TYPE_CHECKING:
    from .actions.protocols import Policies, ToolProvider
    from .verdicts import Verdict

__all__ = ["DEFAULT_POLICY_TIMEOUT", "Actions", "UnknownTools"]

UnknownTools = Literal["error", "leave"]
"""What a call to a tool the app does not have gets: an error result the agent can act on
(``"error"``, the default), or nothing, leaving it to another client (``"leave"``, for split
ownership: several clients answer one session, each its own tools)."""

DEFAULT_POLICY_TIMEOUT = 30.0
"""Seconds one confirmation policy may take before it counts as a deny."""


class Actions:
    """An app's tools, policies, question handlers and run defaults.

    ``tools`` and the factory of ``policies`` are set by the App; ``policies`` is created on
    first use. ``default_confirmation`` answers gates no policy decides (``None`` = deny,
    saying no policy matched). ``checkpoint`` is the store runs use when not given one: in
    memory, shared by the app's runs, so a second ``run`` on a session resumes where the first
    stopped. ``max_concurrency`` bounds the tool calls running at once in one run.
    ``unknown_tools`` says what a call to a tool the app lacks gets (default ``"error"``).
    ``policy_timeout`` bounds each confirmation policy (seconds; ``None``: unbounded);
    ``session_lease`` is how long a run's hold on its session lasts without renewal.
    """

    def __init__(self) -> None:
        self.tools: ToolProvider | None = None
        self.policies_factory: Callable[[], Policies] | None = None
        self.questions = QuestionHandlers()
        self.default_confirmation: Verdict | None = None
        self.max_concurrency = 16
        self.unknown_tools: UnknownTools = "error"
        self.policy_timeout: float | None = DEFAULT_POLICY_TIMEOUT
        self.session_lease: float = DEFAULT_LEASE
        self.checkpoint: CheckpointStore = MemoryCheckpointStore()
        self._policies: Policies | None = None

    @property
    def policies(self) -> Policies | None:
        """The policies (created by the factory on first use; ``None`` without one)."""
        if self._policies is None and self.policies_factory is not None:
            self._policies = self.policies_factory()
        return self._policies

    @property
    def policies_created(self) -> bool:
        """Whether :attr:`policies` was created already."""
        return self._policies is not None
