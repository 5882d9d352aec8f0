"""Best-effort values of streamed tool-input JSON prefixes."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from agentflow.messages import parse_partial
from agentflow.messages.partial import complete_prefix


@pytest.mark.parametrize(
    ("prefix", "value"),
    [
        ("", None),
        ("   ", None),
        ("{", {}),
        ('{"ci', {}),
        ('{"city"', {}),
        ('{"city":', {}),
        ('{"city": "Os', {"city": "Os"}),
        ('{"city": "Oslo", ', {"city": "Oslo"}),
        ('{"city": "Oslo", "days": [1, 2', {"city": "Oslo", "days": [1, 2]}),
        ('{"city": "Oslo", "days": [1, 2.', {"city": "Oslo", "days": [1]}),
        ('{"ok": tr', {}),
        ('{"ok": true, "n": nu', {"ok": True}),
        ('{"q": "a \\"quoted', {"q": 'a "quoted'}),
        ('{"q": "trailing \\', {"q": "trailing "}),
        ('{"q": "caf\\u00', {"q": "caf"}),
        ('{"deep": {"x": [{"y": "z', {"deep": {"x": [{"y": "z"}]}}),
        ('["a", "b', ["a", "b"]),
        ('{"n": -', {}),
        ('{"n": -1', {"n": -1}),
        ('{"a": 1}', {"a": 1}),
    ],
)
def test_prefixes(prefix: str, value: Any) -> None:
    assert parse_partial(prefix) == value


def test_garbage_gives_none_instead_of_raising() -> None:
    assert parse_partial("}") is None
    assert complete_prefix("]]") is None
    assert parse_partial("@@@") is None


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=12,
)  # fmt: skip


@given(st.dictionaries(st.text(), JSON, max_size=5), st.booleans(), st.data())
def test_any_prefix_of_any_object_parses_without_error(
    value: dict[str, Any], ascii_only: bool, data: st.DataObject
) -> None:
    text = json.dumps(value, ensure_ascii=ascii_only)
    cut = data.draw(st.integers(0, len(text)))
    got = parse_partial(text[:cut])
    assert got is None or isinstance(got, dict)
    assert parse_partial(text) == value
    if got:  # whatever came out only has keys of the real object
        assert set(got) <= set(value)
