"""The SSE decoder's fast path for Everruns' frame shape (``id:``, ``event:``, ``retry:``,
``data:``) gives exactly the frames of the general path, for any values in that shape."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from agentflow.wire.sse import SSEDecoder, SSEFrame

_chars = st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"])
values = st.text(_chars, max_size=10) | st.sampled_from(["", " ", "a:b", "a\0b", "12", "1x"])


def frames(body: bytes) -> list[tuple[str, bytes, str | None, int | None]]:
    got: list[SSEFrame] = SSEDecoder().feed(body)
    return [(f.event, f.data, f.id, f.retry) for f in got]


@settings(max_examples=400, deadline=None, database=None)
@given(
    ident=values,
    name=values,
    retry=st.none() | values,
    data=st.lists(values, min_size=1, max_size=2),
    space=st.booleans(),
)
def test_the_fast_path_agrees_with_the_general_one(
    ident: str, name: str, retry: str | None, data: list[str], space: bool
) -> None:
    lines = [f"id: {ident}", f"event:{' ' if space else ''}{name}"]
    if retry is not None:
        lines.append(f"retry: {retry}")
    lines += [f"data: {d}" for d in data]
    block = ("\n".join(lines) + "\n\n").encode()
    general = b": force the general path\n" + block  # a comment changes nothing
    assert frames(block) == frames(general)


def test_the_everruns_shape_keeps_id_and_retry() -> None:
    body = b'id: event_1\nevent: turn.started\nretry: 100\ndata: {"a": 1}\n\n'
    assert frames(body) == [("turn.started", b'{"a": 1}', "event_1", 100)]
    again = SSEDecoder()
    again.feed(body)
    assert again.last_event_id == "event_1"
