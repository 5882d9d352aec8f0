"""Event-type patterns and field filters: pure functions, compiled once at registration.

A *pattern* selects event types by their ``type`` string: an exact type
(``"agent.tool_use"``) or a shell-style glob with :func:`fnmatch.fnmatchcase` semantics
(``"agent.*"``, ``"*.error"``, ``"session.thread_status_*"``, ``"*"``). Matching is
case-sensitive and ``*`` also crosses dots, so ``"*"`` matches every type, including
``UnknownEvent`` types.

A *field filter* (``name="web_*"``) tests one attribute of the event, a model field or a
property such as ``tool_name``. Its expected value is

- a callable: a predicate called with the attribute's value; truthy means match,
- a string containing ``*``, ``?`` or ``[``: a glob the value (a string) must match,
- anything else: a literal the value must equal.

An event that lacks the attribute never matches, whatever the expected value.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable, Mapping
from typing import Any

__all__ = [
    "compile_filter",
    "compile_filters",
    "compile_pattern",
    "is_glob",
    "pattern_matches",
    "validate_pattern",
]

EventCheck = Callable[[Any], bool]
"""Tests an event; built once per route by :func:`compile_filters`."""

_GLOB_CHARS = frozenset("*?[")
_MISSING: Any = object()


def is_glob(text: str) -> bool:
    """True when ``text`` uses glob syntax (``*``, ``?`` or ``[``)."""
    return not _GLOB_CHARS.isdisjoint(text)


def validate_pattern(pattern: object) -> str:
    """Return ``pattern`` if it is a usable pattern, else raise ``TypeError``/``ValueError``.

    A pattern is a non-empty string without whitespace (a stray space would silently match
    nothing).
    """
    if not isinstance(pattern, str):
        raise TypeError(f"Expected an event type pattern (str), got {type(pattern).__name__}")
    if not pattern or pattern != "".join(pattern.split()):
        raise ValueError(
            f"Expected an event type pattern such as 'agent.tool_use' or 'agent.*', got {pattern!r}"
        )
    return pattern


def _glob_matcher(glob: str) -> Callable[[str], bool]:
    # fnmatch.translate is what fnmatchcase uses; compiling here keeps matching regex-only.
    match = re.compile(fnmatch.translate(glob)).match
    return lambda text: match(text) is not None


def compile_pattern(pattern: str) -> Callable[[str], bool]:
    """Compile ``pattern`` into a function ``event_type -> bool``."""
    validate_pattern(pattern)
    if pattern == "*":
        return lambda event_type: True
    if is_glob(pattern):
        return _glob_matcher(pattern)
    return pattern.__eq__


def pattern_matches(pattern: str, event_type: str) -> bool:
    """True when ``event_type`` matches ``pattern`` (exact type or glob)."""
    return compile_pattern(pattern)(event_type)


def compile_filter(name: str, expected: Any) -> EventCheck:
    """Compile one field filter into a function ``event -> bool``.

    See the module docstring for how ``expected`` is interpreted. The attribute is read with
    ``getattr``, so properties (``tool_name``, ``text``, ``domain``) work like fields.
    """
    if not name.isidentifier():
        raise ValueError(f"Expected a field name for a filter, got {name!r}")
    if callable(expected):
        predicate = expected

        def check_predicate(event: Any) -> bool:
            value = getattr(event, name, _MISSING)
            return value is not _MISSING and bool(predicate(value))

        return check_predicate
    if isinstance(expected, str) and is_glob(expected):
        glob = _glob_matcher(expected)

        def check_glob(event: Any) -> bool:
            value = getattr(event, name, None)
            return isinstance(value, str) and glob(value)

        return check_glob

    def check_literal(event: Any) -> bool:
        value = getattr(event, name, _MISSING)
        return value is not _MISSING and bool(value == expected)

    return check_literal


def compile_filters(filters: Mapping[str, Any]) -> EventCheck | None:
    """Compile keyword filters into one check that needs all of them; ``None`` when empty."""
    checks = tuple(compile_filter(name, expected) for name, expected in filters.items())
    if not checks:
        return None
    if len(checks) == 1:
        return checks[0]

    def check_all(event: Any) -> bool:
        for check in checks:
            if not check(event):
                return False
        return True

    return check_all
