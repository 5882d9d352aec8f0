"""The public namespace: every exported name resolves, and ``__all__`` is sorted."""

from __future__ import annotations

import importlib
import typing

import pytest

import agentflow
import agentflow.events


def test_all_is_sorted_and_unique() -> None:
    assert agentflow.__all__ == sorted(set(agentflow.__all__))


def test_all_lists_exactly_the_lazy_exports() -> None:
    assert set(agentflow.__all__) == {*agentflow._EXPORTS, "__version__"}


@pytest.mark.parametrize("name", agentflow.__all__)
def test_every_public_name_resolves(name: str) -> None:
    value = getattr(agentflow, name)
    assert value is not None
    if name.startswith("__"):
        return
    if name == "Event":  # the base class of every event: the 44 models and UnknownEvent
        union = agentflow.events.ManagedAgentsEvent
        known, unknown = typing.get_args(union)
        classes = [*typing.get_args(typing.get_args(known)[0]), unknown]
        assert len(classes) == 45
        assert all(issubclass(c, value) for c in classes)
    if isinstance(value, type) or callable(value) and hasattr(value, "__code__"):
        assert value.__module__.startswith("agentflow"), (name, value.__module__)


def test_unknown_attribute_raises_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        agentflow.nope  # noqa: B018


def test_importing_agentflow_does_not_import_optional_extras() -> None:
    # rich is not checked: httpx imports it for its own command line whenever it is installed.
    import subprocess
    import sys

    code = (
        "import sys, agentflow; from agentflow import App, ManagedAgentsClient, parse_event;"
        "bad = [m for m in ('anthropic', 'starlette', 'uvicorn', 'agentflow.testing',"
        " 'agentflow.cli._rich_view') if m in sys.modules];"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""


def test_submodules_import() -> None:
    for name in ("agentflow.events", "agentflow.middleware", "agentflow.cli"):
        importlib.import_module(name)
