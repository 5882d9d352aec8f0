"""Fixtures for the web view tests: the system's headless Chromium, and where artifacts go."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from cdp import Browser, find_chromium

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "web"
"""Screenshots the browser tests write (the directory is ignored by git)."""

OPT_OUT = "AGENTFLOW_NO_BROWSER"


@pytest.fixture
def chromium_path() -> str:
    """The system Chromium. Its absence fails the test, naming it (CI installs it).

    Set ``AGENTFLOW_NO_BROWSER=1`` to skip the browser tests instead; the skip and its reason
    then show in the test summary.
    """
    path = find_chromium()
    if path is not None:
        return path
    reason = (
        "Chromium is not installed (looked for chromium, chromium-browser, google-chrome; "
        "or set CHROMIUM=/path): install it with `apt-get install -y chromium`"
    )
    if os.environ.get(OPT_OUT):
        pytest.skip(f"{reason} [skipped because {OPT_OUT} is set]")
    pytest.fail(reason)


@pytest.fixture
async def page(chromium_path: str, tmp_path: Path) -> AsyncIterator[Browser]:
    """A phone-sized page in a fresh headless Chromium (a new profile under ``tmp_path``)."""
    profile = tmp_path / "chromium-profile"
    profile.mkdir()
    async with Browser(chromium_path, profile) as browser:
        await browser.phone()
        yield browser


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
