"""The delivery bookkeeping shared by stream and poller: the dedupe window and acknowledgement."""

from __future__ import annotations

import pytest

from agentflow import MemoryCheckpointStore
from agentflow.events import parse_event
from agentflow.managed_agents.delivery import Delivery, RecentIds, Tracker
from agentflow.managed_agents.events import ManagedAgentsEvent


def message(i: int) -> ManagedAgentsEvent:
    return parse_event(
        {
            "type": "agent.message",
            "id": f"evt_{i}",
            "processed_at": f"2026-01-01T00:00:{i % 60:02d}.000Z",
            "content": [{"type": "text", "text": str(i)}],
        }
    )


def test_recent_ids_remember_at_least_the_window_and_at_most_twice_it() -> None:
    ids = RecentIds(100)
    for i in range(1000):
        assert ids.add(f"e{i}") is True
        assert ids.add(f"e{i}") is False  # a duplicate changes nothing
        assert ids.newest == f"e{i}"
        assert all(f"e{j}" in ids for j in range(max(0, i - 99), i + 1))
        assert len(ids) <= 200
    assert "e0" not in ids  # old ids are forgotten: memory stays bounded


def test_recent_ids_reject_an_empty_window() -> None:
    with pytest.raises(ValueError, match="dedupe window"):
        RecentIds(0)


def test_without_a_checkpoint_nothing_is_kept_for_acknowledgement() -> None:
    delivery = Delivery(Tracker("s", None, 10), until=None, auto_ack=True)
    for i in range(5000):
        delivery.auto_ack_pending()
        assert delivery.deliver(message(i)).id == f"evt_{i}"
    delivery.ack()
    delivery.ack(message(3))
    assert delivery.last_event_id == "evt_4999"
    assert not delivery._unacked and not delivery._pending and not delivery._acked


def test_with_a_checkpoint_acknowledgement_advances_over_the_acked_prefix() -> None:
    store = MemoryCheckpointStore()
    delivery = Delivery(Tracker("s", store, 10), until=None, auto_ack=False)
    events = [delivery.deliver(message(i)) for i in range(3)]
    delivery.ack(events[1])  # out of order: waits for evt_0
    assert not store.is_dispatched("s", "evt_1")
    delivery.ack(events[0])
    assert store.is_dispatched("s", "evt_0") and store.is_dispatched("s", "evt_1")
    assert not store.is_dispatched("s", "evt_2")
    position = store.position("s")
    assert position is not None and position.event_id == "evt_1"


def test_until_and_terminal_types_end_delivery() -> None:
    delivery = Delivery(Tracker("s", None, 10), until=lambda e: e.id == "evt_2", auto_ack=True)
    delivery.deliver(message(1))
    assert not delivery.done
    delivery.deliver(message(2))
    assert delivery.done
    terminal = parse_event(
        {"type": "session.deleted", "id": "evt_9", "processed_at": "2026-01-01T00:01:00Z"}
    )
    other = Delivery(Tracker("s", None, 10), until=None, auto_ack=True)
    other.deliver(terminal)
    assert other.done
