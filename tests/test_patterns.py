"""Event-type patterns and field filters (agentflow._patterns)."""

from __future__ import annotations

from fnmatch import fnmatchcase
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentflow.core.patterns import (
    compile_filter,
    compile_filters,
    compile_pattern,
    is_glob,
    pattern_matches,
    validate_pattern,
)
from agentflow.events import Event, parse_event

PATTERN_CASES = [
    ("agent.tool_use", "agent.tool_use", True, "exact"),
    ("agent.tool_use", "agent.tool_result", False, "exact-other-type"),
    ("agent.tool_use", "agent.tool_use_x", False, "exact-is-not-prefix"),
    ("agent.*", "agent.message", True, "domain-glob"),
    ("agent.*", "agent.mcp_tool_use", True, "domain-glob-long"),
    ("agent.*", "session.status_idle", False, "domain-glob-other-domain"),
    ("agent.*", "agentx.message", False, "domain-glob-dot-is-literal"),
    ("*.error", "session.error", True, "suffix-glob-session"),
    ("*.error", "workflow_run.error", True, "suffix-glob-workflow"),
    ("*.error", "agent.message", False, "suffix-glob-other"),
    ("*.error", "session.errors", False, "suffix-glob-anchored"),
    ("*", "agent.message", True, "star-known"),
    ("*", "event_delta", True, "star-no-dot"),
    ("*", "vendor.brand_new_type", True, "star-unknown"),
    ("session.thread_status_*", "session.thread_status_idle", True, "prefix-glob"),
    ("session.thread_status_*", "session.status_idle", False, "prefix-glob-other"),
    ("agent.tool_???", "agent.tool_use", True, "question-marks"),
    ("agent.tool_???", "agent.tool_result", False, "question-marks-length"),
    ("agent.[mt]*", "agent.message", True, "char-class"),
    ("agent.[!mt]*", "agent.message", False, "negated-char-class"),
    ("Agent.*", "agent.message", False, "case-sensitive"),
]


@pytest.mark.parametrize(
    ("pattern", "event_type", "expected"),
    [case[:3] for case in PATTERN_CASES],
    ids=[case[3] for case in PATTERN_CASES],
)
def test_pattern_matching(pattern: str, event_type: str, expected: bool) -> None:
    assert compile_pattern(pattern)(event_type) is expected
    assert pattern_matches(pattern, event_type) is expected


@given(
    pattern=st.text(alphabet="ab._*?[]!", min_size=1, max_size=8),
    event_type=st.text(alphabet="ab._", max_size=10),
)
def test_pattern_matching_agrees_with_fnmatchcase(pattern: str, event_type: str) -> None:
    assert compile_pattern(pattern)(event_type) is fnmatchcase(event_type, pattern)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("agent.*", True), ("agent.tool_?se", True), ("[ab]", True), ("agent.message", False)],
    ids=["star", "question", "bracket", "plain"],
)
def test_is_glob(text: str, expected: bool) -> None:
    assert is_glob(text) is expected


@pytest.mark.parametrize(
    ("pattern", "error"),
    [
        ("", ValueError),
        (" agent.message", ValueError),
        ("agent.message\n", ValueError),
        ("agent message", ValueError),
        (42, TypeError),
        (None, TypeError),
    ],
    ids=["empty", "leading-space", "trailing-newline", "inner-space", "int", "none"],
)
def test_invalid_patterns_are_rejected(pattern: Any, error: type[Exception]) -> None:
    with pytest.raises(error, match="pattern"):
        validate_pattern(pattern)


def _event(data: dict[str, Any]) -> Event:
    base = {"id": "sevt_1", "processed_at": "2026-05-14T09:12:05.800Z"}
    return parse_event({**base, **data})


TOOL_USE = _event({"type": "agent.tool_use", "name": "web_search", "input": {"q": "x"}})
TOOL_RESULT = _event({"type": "agent.tool_result", "tool_use_id": "sevt_0", "is_error": True})
MESSAGE = _event({"type": "agent.message", "content": [{"type": "text", "text": "hello"}]})
UNKNOWN = _event({"type": "vendor.thing", "flavour": "mint"})

FILTER_CASES: list[tuple[str, Any, Event, bool, str]] = [
    ("name", "web_search", TOOL_USE, True, "literal-equal"),
    ("name", "web_fetch", TOOL_USE, False, "literal-different"),
    ("name", "web_*", TOOL_USE, True, "glob-match"),
    ("name", "bash*", TOOL_USE, False, "glob-no-match"),
    ("name", "web_search", MESSAGE, False, "missing-field-literal"),
    ("name", "*", MESSAGE, False, "missing-field-glob"),
    ("tool_name", "web_*", TOOL_USE, True, "property-glob"),
    ("tool_name", "web_search", MESSAGE, False, "property-none-vs-literal"),
    ("tool_name", None, MESSAGE, True, "property-none-literal-none"),
    ("text", "hel*", MESSAGE, True, "text-property-glob"),
    ("is_error", True, TOOL_RESULT, True, "bool-literal"),
    ("is_error", False, TOOL_RESULT, False, "bool-literal-different"),
    ("is_error", "Tr*", TOOL_RESULT, False, "glob-on-non-string"),
    ("input", {"q": "x"}, TOOL_USE, True, "dict-literal"),
    ("flavour", "mi*", UNKNOWN, True, "unknown-event-extra-field"),
    ("flavour", "mint", TOOL_USE, False, "extra-field-missing"),
    ("name", lambda v: v.startswith("web"), TOOL_USE, True, "predicate-true"),
    ("name", lambda v: v == "bash", TOOL_USE, False, "predicate-false"),
    ("input", lambda v: "q" in v, TOOL_USE, True, "predicate-on-dict"),
    ("domain", "agent", TOOL_USE, True, "domain-property"),
]


@pytest.mark.parametrize(
    ("name", "expected", "event", "matches"),
    [case[:4] for case in FILTER_CASES],
    ids=[case[4] for case in FILTER_CASES],
)
def test_field_filter(name: str, expected: Any, event: Event, matches: bool) -> None:
    assert compile_filter(name, expected)(event) is matches


def test_predicate_is_not_called_when_the_field_is_missing() -> None:
    seen: list[Any] = []

    def predicate(value: Any) -> bool:
        seen.append(value)
        return True

    check = compile_filter("name", predicate)
    assert check(MESSAGE) is False
    assert seen == []
    assert check(TOOL_USE) is True
    assert seen == ["web_search"]


def test_no_filters_compile_to_none() -> None:
    assert compile_filters({}) is None


@pytest.mark.parametrize(
    ("filters", "matches"),
    [
        ({"name": "web_*", "input": {"q": "x"}}, True),
        ({"name": "web_*", "input": {"q": "y"}}, False),
        ({"name": "bash", "input": {"q": "x"}}, False),
        ({"name": "web_*", "evaluated_permission": None, "tool_name": "web_search"}, True),
    ],
    ids=["all-pass", "second-fails", "first-fails", "three-pass"],
)
def test_all_filters_must_pass(filters: dict[str, Any], matches: bool) -> None:
    check = compile_filters(filters)
    assert check is not None
    assert check(TOOL_USE) is matches


def test_filter_name_must_be_an_identifier() -> None:
    with pytest.raises(ValueError, match="field name"):
        compile_filter("not a field", 1)
