"""Shared fixtures for the agentflow test suite."""

from __future__ import annotations

from typing import Any

import pytest
from fixture_data import load_fixture_events


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture(scope="session")
def fixture_events() -> list[dict[str, Any]]:
    return load_fixture_events()
