"""Confirmation policies: order, first answer wins, awaitables, failures and the default."""

from __future__ import annotations

import io
import sys
from typing import Any

import anyio
import pytest

from agentflow import Allow, Deny, PluginError, PolicyError, hookimpl
from agentflow.core.context import Context
from agentflow.events import parse_event
from agentflow.plugins import (
    AllowList,
    ConfirmPolicies,
    DenyList,
    TerminalPolicy,
    decide,
    make_plugin_manager,
)


def tool_use(name: str, **extra: Any) -> Any:
    return parse_event(
        {
            "type": "agent.tool_use",
            "id": f"sevt_{name}",
            "processed_at": "2026-05-14T09:12:05Z",
            "name": name,
            "input": {"path": "/etc/hosts"},
            "evaluated_permission": "ask",
            "evaluation": {"type": "always_ask"},
            **extra,
        }
    )


class Says:
    def __init__(self, answer: Any, log: list[str], label: str) -> None:
        self.answer, self.log, self.label = answer, log, label

    @hookimpl
    def agentflow_confirm_tool(self, event: Any, ctx: Any) -> Any:
        self.log.append(self.label)
        return self.answer


def _last(pm: Any) -> Any:
    return [p for p in pm.get_plugins() if isinstance(p, Says) and p.label == "new"][0]


async def _decide(pm: Any, event: Any, **kw: Any) -> Any:
    with anyio.fail_after(5):
        return await decide(pm, event, Context("sesn_1"), **kw)


async def test_registered_plugins_run_newest_first_and_first_answer_wins() -> None:
    log: list[str] = []
    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(Says(Deny("old"), log, "old"))
    pm.register(Says(None, log, "abstains"))
    pm.register(Says(Allow(), log, "new"))
    decision = await _decide(pm, tool_use("read"))
    assert decision.verdict == Allow() and log == ["new"]
    assert decision.policy == pm.get_name(_last(pm))


async def test_abstaining_policies_pass_to_the_next() -> None:
    log: list[str] = []
    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(Says(Deny("the old one"), log, "old"))
    pm.register(Says(None, log, "new"))
    decision = await _decide(pm, tool_use("read"))
    assert decision.verdict == Deny("the old one") and log == ["new", "old"]


async def test_tryfirst_beats_later_registrations() -> None:
    log: list[str] = []

    class First:
        @hookimpl(tryfirst=True)
        def agentflow_confirm_tool(self) -> Any:
            log.append("first")
            return Deny("org policy")

    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(First())
    pm.register(Says(Allow(), log, "later"))
    assert (await _decide(pm, tool_use("bash"))).verdict == Deny("org policy")
    assert log == ["first"]


async def test_confirm_functions_run_in_declaration_order_after_registered_plugins() -> None:
    log: list[str] = []
    confirms = ConfirmPolicies()

    def first(event: Any) -> Any:
        log.append("confirm-1")
        return None

    def second() -> Any:
        log.append("confirm-2")
        return Allow()

    confirms.add(first, ("*",))
    confirms.add(second, ("re*",))
    pm = make_plugin_manager(confirms, load_entrypoints=False)
    pm.register(Says(None, log, "registered"))
    assert (await _decide(pm, tool_use("read"))).verdict == Allow()
    assert log == ["registered", "confirm-1", "confirm-2"]
    log.clear()
    decision = await _decide(pm, tool_use("bash"))  # "re*" does not match bash
    assert log == ["registered", "confirm-1"] and decision.policy == "default"


async def test_awaitable_answers_are_awaited_and_none_continues() -> None:
    log: list[str] = []
    confirms = ConfirmPolicies()

    async def later_none(event: Any, ctx: Any) -> Any:
        await anyio.sleep(0)
        log.append("async-none")
        return None

    async def later_deny() -> Any:
        await anyio.sleep(0)
        log.append("async-deny")
        return Deny("thought about it")

    confirms.add(later_none, ("*",))
    confirms.add(later_deny, ("*",))
    pm = make_plugin_manager(confirms, load_entrypoints=False)

    class AsyncPlugin:
        @hookimpl
        def agentflow_confirm_tool(self, event: Any) -> Any:
            async def answer() -> None:
                log.append("plugin-none")

            return answer()

    pm.register(AsyncPlugin())
    decision = await _decide(pm, tool_use("bash"))
    assert decision.verdict == Deny("thought about it")
    assert log == ["plugin-none", "async-none", "async-deny"]


@pytest.mark.parametrize(
    ("answer", "verdict"),
    [(True, Allow()), (False, Deny())],
    ids=["true", "false"],
)
async def test_bool_answers(answer: bool, verdict: Any) -> None:
    confirms = ConfirmPolicies()
    confirms.add(lambda: answer, ("*",))
    pm = make_plugin_manager(confirms, load_entrypoints=False)
    assert (await _decide(pm, tool_use("x"))).verdict == verdict


async def test_no_policy_matched_denies_with_a_message() -> None:
    pm = make_plugin_manager(load_entrypoints=False)
    decision = await _decide(pm, tool_use("bash"))
    assert decision.policy == "default" and decision.error is None
    assert isinstance(decision.verdict, Deny)
    assert "No confirmation policy matched tool 'bash'" in decision.verdict.message


async def test_configured_default_applies_when_none_answers() -> None:
    pm = make_plugin_manager(load_entrypoints=False)
    decision = await _decide(pm, tool_use("bash"), default=Allow())
    assert (decision.verdict, decision.policy) == (Allow(), "default")


async def test_a_raising_policy_denies_and_is_reported(caplog: pytest.LogCaptureFixture) -> None:
    log: list[str] = []

    class Broken:
        @hookimpl
        def agentflow_confirm_tool(self, event: Any) -> Any:
            raise RuntimeError("database down")

    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(Says(Allow(), log, "older"))
    pm.register(Broken(), name="broken-policy")
    decision = await _decide(pm, tool_use("read"))
    assert isinstance(decision.verdict, Deny) and log == []  # fails closed, no fall-through
    assert decision.policy == "broken-policy"
    assert isinstance(decision.error, PolicyError)
    assert (
        str(decision.error)
        == "confirmation policy 'broken-policy' raised RuntimeError: database down"
    )
    assert isinstance(decision.error.__cause__, RuntimeError)
    assert "database down" in caplog.text


async def test_a_raising_awaitable_policy_denies() -> None:
    confirms = ConfirmPolicies()

    async def broken() -> Any:
        raise ValueError("nope")

    confirms.add(broken, ("*",))
    pm = make_plugin_manager(confirms, load_entrypoints=False)
    decision = await _decide(pm, tool_use("read"))
    assert isinstance(decision.verdict, Deny) and isinstance(decision.error, PolicyError)
    assert "ValueError: nope" in str(decision.error)


async def test_a_wrong_answer_type_is_a_policy_error() -> None:
    confirms = ConfirmPolicies()
    confirms.add(lambda: "yes", ("*",))
    pm = make_plugin_manager(confirms, load_entrypoints=False)
    decision = await _decide(pm, tool_use("read"))
    assert isinstance(decision.verdict, Deny)
    assert "returned 'yes'; expected Allow(), Deny(message), a bool or None" in str(decision.error)


def test_confirm_function_with_unknown_parameters_fails_at_registration() -> None:
    def bad(event: Any, tool: str) -> Any:
        return None

    with pytest.raises(PluginError, match="required parameter 'tool'"):
        ConfirmPolicies().add(bad, ("*",))


async def test_allow_and_deny_lists() -> None:
    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(AllowList("read*", "glob"))
    pm.register(DenyList("bash", message="no shells"))
    assert (await _decide(pm, tool_use("read_file"))).verdict == Allow()
    assert (await _decide(pm, tool_use("bash"))).verdict == Deny("no shells")
    assert (await _decide(pm, tool_use("write"))).policy == "default"
    default_message = DenyList("w*").agentflow_confirm_tool(tool_use("write"))
    assert default_message == Deny("Tool 'write' is not allowed by the client.")
    with pytest.raises(ValueError, match="at least one"):
        AllowList()


async def test_terminal_policy_asks_in_a_thread() -> None:
    questions: list[str] = []

    def ask(question: str) -> str:
        questions.append(question)
        return "y" if "read" in question else "n"

    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(TerminalPolicy(ask=ask))
    assert (await _decide(pm, tool_use("read"))).verdict == Allow()
    denied = (await _decide(pm, tool_use("bash"))).verdict
    assert denied == Deny("The user denied tool 'bash' at the terminal.")
    assert questions[0] == 'Allow tool \'read\' with input {"path": "/etc/hosts"}? [y/N] '


async def test_terminal_policy_without_a_tty_denies(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("y\n"))
    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(TerminalPolicy("*"))
    verdict = (await _decide(pm, tool_use("bash"))).verdict
    assert verdict == Deny("No one is at a terminal to confirm tool 'bash'; denied.")


async def test_terminal_policy_end_of_input_denies() -> None:
    def ask(question: str) -> str:
        raise EOFError

    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(TerminalPolicy(ask=ask))
    assert isinstance((await _decide(pm, tool_use("bash"))).verdict, Deny)


def test_the_hook_can_be_called_through_pluggy_directly() -> None:
    pm = make_plugin_manager(load_entrypoints=False)
    pm.register(DenyList("bash"))
    pm.register(AllowList("*"))
    answer = pm.hook.agentflow_confirm_tool(event=tool_use("bash"), ctx=Context())
    assert answer == Allow()


def test_app_constructor_sets_the_default_and_entry_point_loading() -> None:
    from agentflow import App

    app = App(default_confirmation=Allow(), load_entrypoints=False)
    assert app.default_confirmation == Allow()
    assert app.load_entrypoints is False
    plain = App()
    assert plain.default_confirmation is None  # None means: deny, saying no policy matched
    assert plain.load_entrypoints is True
