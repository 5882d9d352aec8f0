"""Checkpoint stores: dispatched events and the claimed → result_ready → sent tool-call states."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentflow import CheckpointStore, MemoryCheckpointStore, SqliteCheckpointStore
from agentflow.core.checkpoint import Position


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CheckpointStore]:
    s: CheckpointStore
    if request.param == "memory":
        s = MemoryCheckpointStore()
    else:
        s = SqliteCheckpointStore(tmp_path / "cp.db")
    yield s
    s.close()


def test_dispatched_events_and_position(store: CheckpointStore) -> None:
    assert store.position("s1") is None
    assert not store.is_dispatched("s1", "e1")
    store.mark_dispatched("s1", "e1", "2026-01-01T00:00:00.001Z")
    store.mark_dispatched("s1", "e2", "2026-01-01T00:00:00.002Z")
    assert store.is_dispatched("s1", "e1") and store.is_dispatched("s1", "e2")
    assert store.position("s1") == Position("e2", "2026-01-01T00:00:00.002Z")
    # sessions are separate
    assert not store.is_dispatched("s2", "e1")
    assert store.position("s2") is None
    # marking again is harmless; a missing processed_at keeps the last known one
    store.mark_dispatched("s1", "e1")
    store.mark_dispatched("s1", "e3")
    assert store.position("s1") == Position("e3", "2026-01-01T00:00:00.002Z")


def test_tool_call_states(store: CheckpointStore) -> None:
    reply = {"type": "user.custom_tool_result", "custom_tool_use_id": "c1", "content": []}
    assert store.call_state("s", "c1") is None
    assert store.claim("s", "c1") is True
    assert store.claim("s", "c1") is False  # exactly one claimant
    assert store.call_state("s", "c1") == "claimed"
    assert store.get_result("s", "c1") is None
    store.record_result("s", "c1", reply)
    assert store.call_state("s", "c1") == "result_ready"
    assert store.get_result("s", "c1") == reply
    assert store.pending_results("s") == {"c1": reply}
    assert not store.is_answered("s", "c1")
    store.mark_sent("s", "c1")
    assert store.is_answered("s", "c1")
    assert store.pending_results("s") == {}
    assert store.get_result("s", "c1") == reply  # kept for the record
    # a result recorded after sending never makes the call pending again
    store.record_result("s", "c1", {"other": True})
    assert store.call_state("s", "c1") == "sent"
    assert store.pending_results("s") == {}


def test_pending_results_keep_recording_order_and_mark_sent_without_result(
    store: CheckpointStore,
) -> None:
    for call in ("c3", "c1", "c2"):
        store.record_result("s", call, {"id": call})
    assert list(store.pending_results("s")) == ["c3", "c1", "c2"]
    store.mark_sent("s", "c9")  # answered elsewhere (seen in history): no result stored
    assert store.is_answered("s", "c9") and store.get_result("s", "c9") is None
    assert store.claim("s", "c9") is False


def test_stored_results_are_copies(store: CheckpointStore) -> None:
    reply = {"content": [{"type": "text", "text": "a"}]}
    store.record_result("s", "c", reply)
    reply["content"].append({"type": "text", "text": "b"})
    got = store.get_result("s", "c")
    assert got == {"content": [{"type": "text", "text": "a"}]}


def test_forget_drops_one_session(store: CheckpointStore) -> None:
    store.mark_dispatched("a", "e1", "t")
    store.mark_dispatched("b", "e1", "t")
    store.claim("a", "c")
    store.forget("a")
    assert not store.is_dispatched("a", "e1") and store.position("a") is None
    assert store.call_state("a", "c") is None
    assert store.is_dispatched("b", "e1")


def test_memory_store_window_is_bounded() -> None:
    store = MemoryCheckpointStore(max_events=3)
    for i in range(5):
        store.mark_dispatched("s", f"e{i}", f"t{i}")
    assert [store.is_dispatched("s", f"e{i}") for i in range(5)] == [False, False, True, True, True]
    assert store.position("s") == Position("e4", "t4")
    with pytest.raises(ValueError, match="max_events"):
        MemoryCheckpointStore(max_events=0)


def test_sqlite_store_survives_reopening(tmp_path: Path) -> None:
    path = tmp_path / "cp.db"
    with SqliteCheckpointStore(path) as first:
        first.mark_dispatched("s", "e1", "t1")
        first.record_result("s", "c1", {"ok": 1})
    with SqliteCheckpointStore(path) as second:
        assert second.is_dispatched("s", "e1")
        assert second.position("s") == Position("e1", "t1")
        assert second.pending_results("s") == {"c1": {"ok": 1}}
        journal = second._db.execute("PRAGMA journal_mode").fetchone()[0]
    assert journal == "wal"


def test_sqlite_store_rejects_a_bad_synchronous_mode(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="synchronous"):
        SqliteCheckpointStore(tmp_path / "x.db", synchronous="OFF")  # type: ignore[arg-type]


_CLAIMER = textwrap.dedent(
    """
    import sys
    from agentflow import SqliteCheckpointStore
    path, out, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
    won = []
    with SqliteCheckpointStore(path, timeout=30) as store:
        for i in range(n):
            if store.claim("s", f"c{i}"):
                won.append(f"c{i}")
            store.mark_dispatched("s", f"e{i}", f"t{i}")
    with open(out, "w") as f:
        f.write("\\n".join(won))
    """
)


def test_sqlite_claims_are_exclusive_across_processes(tmp_path: Path) -> None:
    db = tmp_path / "shared.db"
    SqliteCheckpointStore(db).close()  # create the schema once
    n = 300
    outs = [tmp_path / f"won{i}.txt" for i in range(3)]
    procs = [
        subprocess.Popen([sys.executable, "-c", _CLAIMER, str(db), str(out), str(n)])
        for out in outs
    ]
    for p in procs:
        assert p.wait(timeout=60) == 0
    won = [set(filter(None, out.read_text().split("\n"))) for out in outs]
    assert set().union(*won) == {f"c{i}" for i in range(n)}
    assert sum(len(w) for w in won) == n  # no call was claimed twice
