"""Property tests: the SSE decoder gives the same frames however the byte stream is cut.

A stream is generated from a model (messages made of ``event``/``data``/``id``/``retry``/
comment/unknown-field lines with random ``\\n``, ``\\r`` and ``\\r\\n`` line endings, values
full of multi-byte UTF-8), the frames the model says it carries are computed independently,
and the decoder must produce exactly those frames whether it is fed the stream in one piece,
one byte at a time, or cut at arbitrary positions (including empty chunks, the middle of a
UTF-8 character and between ``\\r`` and ``\\n``).
"""

from __future__ import annotations

from dataclasses import dataclass

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentflow.wire.sse import SSEDecoder, SSEFrame

PROPERTY_SETTINGS = settings(
    max_examples=100,  # hypothesis's default; every CI run draws new ones (no database)
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

BOM = b"\xef\xbb\xbf"
# Multi-byte characters are over-represented so cuts land inside them often.
_WIDE = "é€𝄞日本語ß✓🙂"
_value_chars = st.one_of(
    st.sampled_from(_WIDE),
    st.characters(blacklist_characters="\r\n", blacklist_categories=["Cs"]),
)
values = st.text(_value_chars, max_size=12)
field_names = st.text("abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=6).filter(
    lambda n: n not in ("event", "data", "id", "retry")
)


@dataclass(frozen=True)
class Line:
    """One line of a message, as sent (without its line ending)."""

    raw: str
    field: str  # event | data | id | retry | comment | other
    value: str  # the field value after the optional leading space is removed


def _field(name: str, raw_value: str, space: bool) -> Line:
    raw = (" " if space else "") + raw_value
    value = raw[1:] if raw.startswith(" ") else raw
    return Line(f"{name}:{raw}", name, value)


lines = st.one_of(
    st.builds(_field, st.just("event"), values, st.booleans()),
    st.builds(_field, st.just("data"), values, st.booleans()),
    st.builds(_field, st.just("data"), values, st.booleans()),
    st.just(Line("data", "data", "")),  # a bare field name: an empty data line
    st.builds(_field, st.just("id"), values | st.just("a\0b"), st.booleans()),
    st.builds(
        _field,
        st.just("retry"),
        st.integers(0, 10**6).map(str) | st.sampled_from(["", "1.5", "x", "٣"]),
        st.booleans(),
    ),
    values.map(lambda v: Line(":" + v, "comment", v)),
    st.builds(lambda n, v: Line(f"{n}: {v}", "other", v), field_names, values),
)
endings = st.sampled_from(["\n", "\r", "\r\n"])
messages = st.lists(st.tuples(lines, endings), max_size=6)


@st.composite
def streams(draw: st.DrawFn) -> tuple[bytes, list[SSEFrame]]:
    """A byte stream and the frames it carries, by the WHATWG rules (agentflow's variant)."""
    out: list[str] = []
    expected: list[SSEFrame] = []
    last_id: str | None = None
    prev_end = ""
    for message in draw(st.lists(messages, max_size=6)):
        event, data, retry = "", [], None
        for line, end in message:
            out.append(line.raw + end)
            prev_end = end
            if line.field == "event":
                event = line.value
            elif line.field == "data":
                data.append(line.value)
            elif line.field == "id" and "\0" not in line.value:
                last_id = line.value
            elif line.field == "retry" and line.value.isascii() and line.value.isdigit():
                retry = int(line.value)

        # The blank line ending the message. After a "\r", a lone "\n" would merge with it
        # into one "\r\n" line ending, so it is not a blank line there.
        def not_merged(ending: str, before: str = prev_end) -> bool:
            return not (before == "\r" and ending == "\n")

        blank = draw(endings.filter(not_merged))
        out.append(blank)
        prev_end = blank
        if data:
            expected.append(SSEFrame(event, "\n".join(data).encode(), last_id, retry))
    # An unfinished message at the end of the stream is discarded.
    for line, end in draw(messages):
        out.append(line.raw + end)
    head = BOM if draw(st.booleans()) else b""
    return head + "".join(out).encode(), expected


def decode(chunks: list[bytes], max_frame_bytes: int | None = None) -> list[SSEFrame]:
    decoder = SSEDecoder() if max_frame_bytes is None else SSEDecoder(max_frame_bytes)
    frames: list[SSEFrame] = []
    for chunk in chunks:
        frames.extend(decoder.feed(chunk))
    return frames


def cut(stream: bytes, positions: list[int]) -> list[bytes]:
    """``stream`` cut at ``positions`` (repeated positions give empty chunks)."""
    bounds = [0, *sorted(positions), len(stream)]
    return [stream[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]


@PROPERTY_SETTINGS
@given(streams(), st.data())
def test_any_split_yields_the_model_frames(
    case: tuple[bytes, list[SSEFrame]], data: st.DataObject
) -> None:
    stream, expected = case
    positions = data.draw(st.lists(st.integers(0, len(stream)), max_size=12))
    assert decode([stream]) == expected
    assert decode(cut(stream, positions)) == expected
    assert decode([stream[i : i + 1] for i in range(len(stream))]) == expected


@PROPERTY_SETTINGS
@given(streams(), st.data())
def test_cuts_inside_utf8_characters_and_crlf_pairs(
    case: tuple[bytes, list[SSEFrame]], data: st.DataObject
) -> None:
    stream, expected = case
    # positions strictly inside a multi-byte character or between "\r" and "\n"
    inner = [
        i
        for i in range(1, len(stream))
        if (stream[i] & 0xC0) == 0x80 or stream[i - 1 : i + 1] == b"\r\n"
    ]
    if inner:
        chosen = data.draw(st.lists(st.sampled_from(inner), min_size=1, max_size=len(inner)))
        assert decode(cut(stream, chosen)) == expected
    assert decode(cut(stream, inner)) == expected
    # the same cuts with an empty chunk at each of them
    assert decode(cut(stream, inner + inner)) == expected


@PROPERTY_SETTINGS
@given(streams(), st.integers(1, 40), st.data())
def test_size_bound_is_independent_of_the_split(
    case: tuple[bytes, list[SSEFrame]], limit: int, data: st.DataObject
) -> None:
    """With a small ``max_frame_bytes``, oversized messages become error frames, the frames
    after them still arrive, and none of it depends on where the stream was cut."""
    stream, expected = case
    whole = decode([stream], limit)
    positions = data.draw(st.lists(st.integers(0, len(stream)), max_size=12))
    assert decode(cut(stream, positions), limit) == whole
    assert decode([stream[i : i + 1] for i in range(len(stream))], limit) == whole
    # Each frame the model expects is delivered intact, in order, or its message was
    # reported as dropped (one error frame per oversized message).
    kept = [f for f in whole if f.error is None]
    errors = len(whole) - len(kept)
    assert all(len(f.data) <= limit for f in kept)
    # (ids are not compared: an ``id:`` line inside a dropped message is dropped with it)
    remaining = iter([(e.event, e.data, e.retry) for e in expected])
    assert all(any((f.event, f.data, f.retry) == e for e in remaining) for f in kept)
    assert len(kept) + errors >= len(expected)


def test_an_oversized_message_is_reported_once_and_the_next_one_arrives() -> None:
    big = b"event: agent.message\ndata: " + "é".encode() * 200 + b"\n\n"
    after = b"event: agent.message\ndata: {}\n\n"
    for size in (1, 2, 3, 7, 64, len(big) + len(after)):
        chunks = [(big + after)[i : i + size] for i in range(0, len(big) + len(after), size)]
        frames = decode(chunks, max_frame_bytes=100)
        assert [f.error is not None for f in frames] == [True, False], size
        assert frames[1] == SSEFrame("agent.message", b"{}")
