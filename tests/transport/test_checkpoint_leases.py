"""Checkpoint stores record who claimed a call and who holds a session, and until when."""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from agentflow import CheckpointStore, MemoryCheckpointStore, SqliteCheckpointStore
from agentflow.core.checkpoint import Lease
from agentflow.core.lease import end_owner, holds, new_owner, owner_alive

NOW = [1000.0]


def _clock() -> float:
    return NOW[0]


@pytest.fixture(params=["memory", "sqlite"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[CheckpointStore]:
    NOW[0] = 1000.0
    s: CheckpointStore
    if request.param == "memory":
        s = MemoryCheckpointStore(clock=_clock)
    else:
        s = SqliteCheckpointStore(tmp_path / "cp.db", clock=_clock)
    yield s
    s.close()


def test_a_claim_records_its_owner_and_lease_until_it_has_a_result(store: CheckpointStore) -> None:
    assert store.claim("s", "c1", owner="run-a", lease=30)
    assert not store.claim("s", "c1", owner="run-b", lease=30)
    assert store.claim_holder("s", "c1") == Lease("run-a", 1030.0)
    assert store.claim("s", "c2")  # no owner: none recorded
    assert store.claim_holder("s", "c2") is None
    assert store.claim("s", "c3", owner="run-a")  # no lease: no expiry
    assert store.claim_holder("s", "c3") == Lease("run-a", math.inf)
    store.record_result("s", "c1", {"ok": True})
    assert store.claim_holder("s", "c1") is None  # no longer claimed


def test_one_owner_holds_a_session_and_renewing_renews_its_claims(store: CheckpointStore) -> None:
    assert store.acquire_session("s", "run-a", 30) is None
    assert store.acquire_session("s", "run-b", 30) == Lease("run-a", 1030.0)
    store.claim("s", "c1", owner="run-a", lease=30)
    NOW[0] = 1020.0
    assert store.acquire_session("s", "run-a", 30) is None  # renewed ...
    assert store.claim_holder("s", "c1") == Lease("run-a", 1050.0)  # ... with its claims
    assert store.acquire_session("other-session", "run-b", 30) is None


def test_an_expired_session_lease_is_taken_over(store: CheckpointStore) -> None:
    store.acquire_session("s", "run-a", 30)
    NOW[0] = 1031.0
    assert store.acquire_session("s", "run-b", 30) is None
    assert store.acquire_session("s", "run-a", 30) == Lease("run-b", 1061.0)


def test_releasing_frees_the_session_and_ends_the_owners_claims(store: CheckpointStore) -> None:
    store.acquire_session("s", "run-a", 30)
    store.claim("s", "c1", owner="run-a", lease=30)
    store.claim("s", "c2", owner="run-a")
    store.claim("s", "c3", owner="run-b", lease=30)
    store.release_session("s", "run-b")  # not the holder: the session stays run-a's
    assert store.acquire_session("s", "run-c", 30) == Lease("run-a", 1030.0)
    store.release_session("s", "run-a")
    assert store.claim_holder("s", "c1") == Lease("run-a", 1000.0)  # expired now
    assert store.claim_holder("s", "c2") == Lease("run-a", 1000.0)
    assert not holds(Lease("run-a", 1000.0), store.now())
    assert store.acquire_session("s", "run-c", 30) is None


def test_forget_drops_the_lease(store: CheckpointStore) -> None:
    store.acquire_session("s", "run-a", 30)
    store.forget("s")
    assert store.acquire_session("s", "run-b", 30) is None


def test_a_file_made_before_owners_is_upgraded_in_place(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite3.connect(path)
    db.executescript(
        """
        CREATE TABLE agentflow_calls (
            session_id TEXT NOT NULL, call_id TEXT NOT NULL, state TEXT NOT NULL, reply TEXT,
            UNIQUE (session_id, call_id)
        );
        INSERT INTO agentflow_calls VALUES ('s', 'old', 'claimed', NULL);
        INSERT INTO agentflow_calls VALUES ('s', 'done', 'result_ready', '{"a": 1}');
        """
    )
    db.commit()
    db.close()
    with SqliteCheckpointStore(path, clock=_clock) as store:
        assert store.call_state("s", "old") == "claimed"
        assert store.claim_holder("s", "old") is None  # claimed before owners were recorded
        assert store.pending_results("s") == {"done": {"a": 1}}
        assert store.claim("s", "new", owner="run-a", lease=5)
        assert store.claim_holder("s", "new") == Lease("run-a", NOW[0] + 5)


def test_a_store_without_lease_methods_grants_every_session() -> None:
    class Minimal(MemoryCheckpointStore):
        acquire_session = CheckpointStore.acquire_session
        claim_holder = CheckpointStore.claim_holder
        release_session = CheckpointStore.release_session

    store: Any = Minimal()
    assert store.acquire_session("s", "a", 30) is None
    assert store.acquire_session("s", "b", 30) is None
    store.claim("s", "c", owner="a", lease=30)
    assert store.claim_holder("s", "c") is None


def test_owner_liveness_is_known_in_this_process_and_unknown_elsewhere() -> None:
    owner = new_owner()
    assert owner_alive(owner) is True
    end_owner(owner)
    assert owner_alive(owner) is False
    assert owner_alive("another-machine:1:0badcafe.1") is None
    assert owner_alive("thief") is None
