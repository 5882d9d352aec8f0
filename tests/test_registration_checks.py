"""Mistakes are caught when handlers and plugins are registered, not by a silent no-op later."""

from __future__ import annotations

import subprocess
import sys
import warnings
from typing import Any

import anyio
import pytest

import agentflow.managed_agents.events  # noqa: F401 - load a dialect: the checks need one
from agentflow import (
    App,
    Deny,
    PluginError,
    Router,
    UnknownEventTypeWarning,
    hookimpl,
    parse_event,
)
from agentflow.core.known import known_types, register_known_types
from agentflow.plugins import DenyList, decide, make_plugin_manager


def _app(**options: Any) -> App:
    return App(load_entrypoints=False, **options)


def test_an_event_type_no_dialect_knows_warns_with_the_closest_name() -> None:
    app = _app()
    with pytest.warns(UnknownEventTypeWarning, match="did you mean 'agent.message'"):

        @app.on("agent.mesage")
        def typo(event: Any) -> None: ...

    with pytest.warns(UnknownEventTypeWarning, match="pattern 'agnt.[*]' matches no event type"):
        app.on("agnt.*")(typo)


def test_the_warning_points_at_the_registering_line() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        _app().on("sesion.error")(lambda: None)
    (warning,) = caught
    assert warning.filename == __file__


def test_known_types_globs_and_star_do_not_warn() -> None:
    app = _app()  # the suite turns warnings into errors: any warning here fails the test
    for pattern in ("agent.message", "session.*", "*.error", "*"):
        app.on(pattern)(lambda: None)


def test_strict_apps_refuse_an_unknown_type() -> None:
    app = _app(strict=True)
    with pytest.raises(ValueError, match="did you mean 'session.status_idle'"):
        app.on("session.status_idel")(lambda: None)
    app.on("session.status_idle")(lambda: None)
    loose = Router()
    with pytest.warns(UnknownEventTypeWarning):
        loose.on("agent.thinkin")(lambda: None)
    with pytest.raises(ValueError, match="agent.thinkin"):
        app.include(loose)


def test_a_type_registered_by_a_dialect_is_known() -> None:
    register_known_types("example", ["example.ping"])
    assert "example.ping" in known_types()["example"]
    _app(strict=True).on("example.ping")(lambda: None)


def test_a_kind_outside_the_vocabulary_warns() -> None:
    with pytest.warns(UnknownEventTypeWarning, match="did you mean 'tool.started'"):
        _app().on(kind="tool.start")(lambda: None)


def test_a_filter_on_a_field_no_event_has_is_an_error() -> None:
    app = _app()
    with pytest.raises(ValueError, match="field or property 'tool_nme'; did you mean 'tool_name'"):
        app.on("agent.tool_use", tool_nme="bash")(lambda: None)
    app.on("agent.tool_use", tool_name="bash", name="bash", mcp_server_name="x")(lambda: None)


class Misspelled:
    @hookimpl
    def agentflow_confirm_tol(self, event: Any) -> Any:
        return Deny()


class Unmarked:
    def agentflow_confirm_tool(self, event: Any) -> Any:
        return Deny()


class WrongArgs:
    @hookimpl
    def agentflow_confirm_tool(self, event: Any, session: Any) -> Any:
        return Deny()


def test_a_plugin_hook_that_is_no_hook_is_an_error_on_register() -> None:
    pm = make_plugin_manager(load_entrypoints=False)
    with pytest.raises(
        PluginError, match="Misspelled: 'agentflow_confirm_tol' is not an agentflow"
    ):
        pm.register(Misspelled())
    with pytest.raises(PluginError, match="did you mean 'agentflow_confirm_tool'"):
        pm.register(Misspelled())


def test_a_hook_without_hookimpl_is_an_error_on_register() -> None:
    with pytest.raises(PluginError, match="Unmarked: 'agentflow_confirm_tool' is not marked"):
        _app().plugins.register(Unmarked())


def test_hook_argument_errors_name_the_plugin_class() -> None:
    with pytest.raises(PluginError, match=r"(?s)plugin WrongArgs .*\{'session'\}"):
        _app().plugins.register(WrongArgs())


async def test_the_deciding_policy_is_named_by_its_class_or_function() -> None:
    app = _app()

    class NoShell:
        @hookimpl
        def agentflow_confirm_tool(self, event: Any) -> Any:
            return Deny("no") if event.tool_name == "bash" else None

    @app.confirm("grep")
    def grep_is_fine() -> bool:
        return True

    app.plugins.register(NoShell())
    app.plugins.register(DenyList("rm"))
    app.plugins.register(DenyList("dd"))
    names = {}
    for tool in ("bash", "grep", "rm", "dd"):
        event = parse_event(
            {"type": "agent.tool_use", "id": f"e_{tool}", "processed_at": "2026-05-14T09:00:00Z",
             "name": tool, "input": {}, "evaluated_permission": "ask"}
        )  # fmt: skip
        with anyio.fail_after(5):
            names[tool] = (await decide(app.plugins, event, None)).policy
    assert names == {
        "bash": "NoShell",
        "grep": "grep_is_fine",
        "rm": "DenyList",
        "dd": "DenyList#2",
    }


LAZY_MODELS = """
import sys
import agentflow
app = agentflow.App(load_entrypoints=False)
client = agentflow.ManagedAgentsClient(api_key="not-a-key", base_url="http://127.0.0.1:9")
print("loaded at start:", "agentflow.managed_agents.events" in sys.modules)
@app.on("agent.tool_use", name="web_search")
async def seen(event):
    pass
print("loaded by a field filter:", "agentflow.managed_agents.events" in sys.modules)
try:
    app.on("agent.tool_use", nmae="web_search")(seen)
except ValueError as exc:
    print("typo:", exc)
"""


def test_a_client_loads_the_event_models_only_when_a_field_filter_needs_them() -> None:
    # a fresh interpreter: this process has loaded the models already
    out = subprocess.run(
        [sys.executable, "-c", LAZY_MODELS], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stderr
    lines = out.stdout.splitlines()
    assert lines[:2] == ["loaded at start: False", "loaded by a field filter: True"]
    assert "field or property 'nmae'" in lines[2] and "did you mean 'name'" in lines[2]
