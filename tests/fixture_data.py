"""Test data shipped with the repository (importable from every test module)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).parent / "fixtures"


def load_fixture_events() -> list[dict[str, Any]]:
    """One real-shaped Managed Agents event per type, as dicts."""
    path = FIXTURES / "managed_agents_events.jsonl"
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
