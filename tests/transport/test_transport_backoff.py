"""Backoff windows, full jitter, and the server's retry hints."""

from __future__ import annotations

import email.utils
import time

import pytest

from agentflow.transport import Backoff, retry_after_seconds


def test_window_doubles_up_to_the_cap() -> None:
    b = Backoff(base=0.5, cap=4.0)
    assert [b.window(n) for n in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert b.window(10_000) == 4.0


def test_full_jitter_scales_the_window_by_the_random_draw() -> None:
    b = Backoff(base=1.0, cap=10.0)
    assert b.delay(2, lambda: 0.25) == 1.0
    assert b.delay(0, lambda: 0.0) == 0.0
    assert b.delay(5, lambda: 0.999) == pytest.approx(9.99)


def test_server_hint_replaces_jitter_and_is_bounded() -> None:
    b = Backoff(base=1.0, cap=2.0, max_retry_after=30.0)
    assert b.delay(0, lambda: 0.0, retry_after=7.5) == 7.5  # at least what the server asked
    assert b.delay(0, lambda: 0.0, retry_after=120.0) == 30.0


def test_negative_settings_are_rejected() -> None:
    with pytest.raises(ValueError):
        Backoff(base=-1)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after-ms": "1500", "retry-after": "9"}, 1.5),
        ({"retry-after": "3"}, 3.0),
        ({"retry-after": "0.25"}, 0.25),
        ({"retry-after-ms": "nope", "retry-after": "2"}, 2.0),
        ({"retry-after": "soon"}, None),
        ({"retry-after": "-4"}, None),
        ({}, None),
    ],
    ids=["ms-wins", "seconds", "fraction", "bad-ms-falls-back", "garbage", "negative", "none"],
)
def test_retry_after_parsing(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(headers) == expected


def test_retry_after_http_date() -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    value = retry_after_seconds({"retry-after": when})
    assert value is not None and 25 <= value <= 31
    past = email.utils.formatdate(time.time() - 30, usegmt=True)
    assert retry_after_seconds({"retry-after": past}) == 0.0
