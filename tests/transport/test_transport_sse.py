"""The I/O-free SSE decoder: WHATWG framing on bytes, cut anywhere, with a frame size bound."""

from __future__ import annotations

import json

import httpx_sse
import pytest
from fixture_data import load_fixture_events
from hypothesis import given, settings
from hypothesis import strategies as st

from agentflow.events import parse_event
from agentflow.transport import SSEDecoder, SSEFrame


def feed_all(chunks: list[bytes], **kwargs: int) -> list[SSEFrame]:
    decoder = SSEDecoder(**kwargs)
    out: list[SSEFrame] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    return out


def test_a_managed_agents_frame_gives_event_name_and_data_bytes() -> None:
    frames = feed_all([b'event: agent.message\ndata: {"type":"agent.message"}\n\n'])
    assert frames == [SSEFrame("agent.message", b'{"type":"agent.message"}')]
    assert isinstance(frames[0].data, bytes)
    assert frames[0].text == '{"type":"agent.message"}'


@pytest.mark.parametrize("eol", ["\n", "\r", "\r\n"], ids=["lf", "cr", "crlf"])
def test_every_line_ending_is_accepted(eol: str) -> None:
    raw = f"event: x{eol}data: a{eol}data: b{eol}{eol}".encode()
    assert feed_all([raw]) == [SSEFrame("x", b"a\nb")]


def test_cr_at_the_end_of_a_chunk_and_lf_at_the_start_of_the_next_is_one_line_ending() -> None:
    chunks = [b"event: x\r", b"\ndata: 1\r", b"\n\r", b"\n"]
    assert feed_all(chunks) == [SSEFrame("x", b"1")]
    # while "\r" then "\r\n" is two line endings: a blank line ends the message
    assert feed_all([b"data: 2\r", b"\r\n"]) == [SSEFrame("", b"2")]


def test_comments_and_unknown_fields_produce_nothing() -> None:
    raw = b": keepalive\n\n: another\nfoo: bar\n\nevent: ping\ndata: {}\n\n"
    assert feed_all([raw]) == [SSEFrame("ping", b"{}")]


def test_message_without_event_line_is_kept_with_an_empty_name() -> None:
    frames = feed_all(
        [b'data: {"type":"agent.thinking","id":"e1","processed_at":"2026-01-01T00:00:00Z"}\n\n']
    )
    assert frames[0].event == ""
    assert parse_event(frames[0].data).type == "agent.thinking"


def test_message_without_data_is_not_dispatched_but_its_id_is_remembered() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"event: x\nid: 7\n\n") == []
    assert decoder.last_event_id == "7"
    (frame,) = decoder.feed(b"data: y\n\n")
    assert frame.id == "7"  # per the spec the last event id persists


def test_field_value_rules_match_the_spec() -> None:
    raw = b"data:no-space\ndata:  two-spaces\ndata\nretry: 1500\nid: a\0b\n\n"
    (frame,) = feed_all([raw])
    assert frame.data == b"no-space\n two-spaces\n"
    assert frame.retry == 1500
    assert frame.id is None  # an id containing NUL is ignored


def test_leading_bom_is_stripped_even_when_split() -> None:
    raw = b"\xef\xbb\xbfdata: 1\n\n"
    assert feed_all([raw[:1], raw[1:2], raw[2:]]) == [SSEFrame("", b"1")]
    # a BOM later in the stream is data, not stripped
    assert feed_all([b"data: 1\n\n\xef\xbb\xbfdata: 2\n\n"])[1:] == []


def test_multibyte_characters_split_across_chunks_arrive_intact() -> None:
    text = "héllo €𝄞 日本"
    raw = f"event: agent.message\ndata: {json.dumps({'t': text}, ensure_ascii=False)}\n\n"
    data = raw.encode()
    for size in range(1, 8):
        frames = feed_all([data[i : i + size] for i in range(0, len(data), size)])
        assert json.loads(frames[0].data)["t"] == text


def test_partial_message_at_end_of_stream_is_not_emitted() -> None:
    assert feed_all([b"data: complete\n\ndata: partial\n"]) == [SSEFrame("", b"complete")]


def test_oversized_message_is_reported_and_the_stream_continues() -> None:
    big = b"event: agent.message\ndata: " + b"x" * 5000 + b"\n\n"
    small = b"event: agent.message\ndata: {}\n\n"
    for size in (1, 100, 4096, 10_000):
        stream = small + big + small
        frames = feed_all(
            [stream[i : i + size] for i in range(0, len(stream), size)], max_frame_bytes=1000
        )
        assert [f.error is None for f in frames] == [True, False, True], size
        assert "max_frame_bytes=1000" in (frames[1].error or "")
        assert frames[2] == SSEFrame("agent.message", b"{}")


def test_never_ending_message_does_not_grow_the_buffer() -> None:
    decoder = SSEDecoder(max_frame_bytes=1024)
    decoder.feed(b"data: ")
    for _ in range(1000):
        assert decoder.feed(b"y" * 1000) == []
    assert len(decoder._buf) == 0  # discarded while skipping, not accumulated
    frames = decoder.feed(b"\n\ndata: ok\n\n")
    assert [f.error is not None for f in frames] == [True, False]
    assert frames[1].data == b"ok"


USUAL_SHAPES = (
    b'event: agent.message\ndata: {"n":1}\n\n'  # Managed Agents, Messages
    b"data: only\n\n"  # m8tes
    b"id: 7\nevent: output.message.delta\ndata: {}\n\n"  # Everruns
    b"id: 8\ndata: no-name\n\n"
    b"event: two\ndata: a\ndata: b\n\n"  # the general path, between fast ones
    b"id: 9\nevent: with-retry\nretry: 5\ndata: r\n\n"  # Everruns
    b"event: bad-retry\nretry: soon\ndata: q\n\n"  # the general path: the retry is ignored
    b"event: last\ndata: z\n\n"
)
USUAL_FRAMES = [
    SSEFrame("agent.message", b'{"n":1}'),
    SSEFrame("", b"only"),
    SSEFrame("output.message.delta", b"{}", "7"),
    SSEFrame("", b"no-name", "8"),
    SSEFrame("two", b"a\nb", "8"),
    SSEFrame("with-retry", b"r", "9", 5),
    SSEFrame("bad-retry", b"q", "9"),
    SSEFrame("last", b"z", "9"),
]


def test_the_usual_shapes_decode_the_same_however_the_stream_is_cut() -> None:
    stream = USUAL_SHAPES
    assert feed_all([stream]) == USUAL_FRAMES
    assert feed_all([stream[i : i + 1] for i in range(len(stream))]) == USUAL_FRAMES
    for cut in range(1, len(stream)):
        assert feed_all([stream[:cut], stream[cut:]]) == USUAL_FRAMES, cut


def test_an_unfinished_message_does_not_move_the_last_event_id() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"id: 1\ndata: a\n\nid: 2\ndata: b\n") == [SSEFrame("", b"a", "1")]
    assert decoder.last_event_id == "1"  # message 2 has not arrived yet: resume after 1
    assert decoder.feed(b"\n") == [SSEFrame("", b"b", "2")]
    assert decoder.last_event_id == "2"


def test_invalid_max_frame_bytes_is_rejected() -> None:
    with pytest.raises(ValueError, match="max_frame_bytes"):
        SSEDecoder(max_frame_bytes=0)


def test_fixture_events_round_trip_through_the_decoder() -> None:
    events = load_fixture_events()
    wire = b"".join(
        f"event: {e['type']}\ndata: {json.dumps(e)}\n\n: keepalive\n\n".encode() for e in events
    )
    frames = feed_all([wire[i : i + 37] for i in range(0, len(wire), 37)])
    assert [parse_event(f.data).raw for f in frames] == events


_value = st.text(
    st.characters(blacklist_characters="\r\n\0", blacklist_categories=["Cs"]), max_size=10
)
_field = st.one_of(
    st.tuples(st.sampled_from(["event", "data", "id", "", "x"]), _value),
    st.tuples(st.just("retry"), st.integers(0, 99_999).map(str)),
)


def assert_agrees_with_reference(messages: list[list[tuple[str, str]]], size: int) -> None:
    """``messages`` (lists of ``(field, value)``), sent as one stream cut every ``size``
    bytes, decode to the frames httpx-sse's decoder makes of the messages carrying data."""
    ref = httpx_sse._decoders.SSEDecoder()
    expected = []
    for msg in messages:
        for key, value in msg:
            assert ref.decode(f"{key}: {value}") is None
        sse = ref.decode("")
        if any(key == "data" for key, _ in msg):
            assert sse is not None
            event = "" if sse.event == "message" else sse.event
            expected.append((event, sse.data, sse.id or None, sse.retry))
    raw = "".join("".join(f"{k}: {v}\n" for k, v in msg) + "\n" for msg in messages).encode()
    frames = feed_all([raw[i : i + size] for i in range(0, len(raw), size)])
    assert [(f.event, f.text, f.id or None, f.retry) for f in frames] == expected


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.lists(_field, max_size=4), max_size=5), st.integers(1, 9))
def test_agrees_with_the_httpx_sse_reference_decoder(
    messages: list[list[tuple[str, str]]], size: int
) -> None:
    """Field semantics are those of httpx-sse's SSEDecoder for every message carrying data
    (httpx-sse also dispatches data-less messages, which the WHATWG algorithm does not)."""
    assert_agrees_with_reference(messages, size)


_SHAPE = ("id", "event", "retry", "data")
_usual = st.tuples(
    st.none() | _value,  # id
    st.none() | _value,  # event
    st.none() | st.integers(0, 99_999).map(str),  # retry
    _value,  # the one data line
).map(lambda t: [(k, v) for k, v in zip(_SHAPE, t, strict=True) if v is not None])


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(_usual | st.lists(_field, max_size=4), max_size=8), st.integers(1, 40))
def test_the_usual_shapes_agree_with_the_reference_decoder_however_cut(
    messages: list[list[tuple[str, str]]], size: int
) -> None:
    """Streams made mostly of the shapes the line-search path takes (``[id:][event:][retry:]
    data:``), mixed with arbitrary messages, cut every ``size`` bytes: the same frames as
    httpx-sse's decoder gives."""
    assert_agrees_with_reference(messages, size)


def test_event_names_are_decoded_alike_when_seen_again_and_past_the_name_cache() -> None:
    # Names a decoder has seen are reused (a small cache shared by all decoders); a name
    # that is not valid UTF-8 is replaced as before, and names past the cache's size are
    # still decoded correctly.
    names = [f"custom.n{i}" for i in range(300)] + ["agent.message", "custom.n7"]
    body = b"".join(f"event: {n}\ndata: {{}}\n\n".encode() for n in names)
    body += b"event: bad.\xff\ndata: {}\n\n"
    first = feed_all([body])
    again = feed_all([body[i : i + 97] for i in range(0, len(body), 97)])
    assert [f.event for f in first] == [*names, "bad.\ufffd"]
    assert first == again
    assert all(type(f.event) is str for f in first)
