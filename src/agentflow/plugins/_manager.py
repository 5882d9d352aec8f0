"""The plugin manager of an app and how a confirmation is decided.

Order in which policies are asked (the first answer wins):

1. implementations marked ``@hookimpl(tryfirst=True)``, newest first;
2. plugins given to ``app.plugins.register(obj)``, the most recently registered first
   (pluggy calls implementations last-in, first-out);
3. the ``@app.confirm(...)`` policies, in the order they were declared;
4. plugins installed through the ``agentflow`` entry-point group (loaded when the plugin
   manager is created, so they come after everything registered in code);
5. implementations marked ``@hookimpl(trylast=True)``;
6. the app's default (``Deny`` saying that no policy matched, unless configured otherwise).

A policy that raises, or returns something other than ``Allow``, ``Deny``, ``bool`` or
``None``, denies the call; the failure is logged and reported as a :class:`PolicyError`.
Wrapper hook implementations (``wrapper=True`` / ``hookwrapper=True``) take no part in the
decision and are skipped with a warning.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import pluggy

from ..core.exceptions import PluginError, PolicyError
from ..core.inject import handler_call
from ..core.verdicts import Allow, Decision, Deny, Verdict, no_policy_deny
from ._spec import ENTRY_POINT_GROUP, PROJECT_NAME, AgentflowSpec, hookimpl

__all__ = [
    "ConfirmPolicies",
    "Decision",
    "PluginPolicies",
    "decide",
    "make_plugin_manager",
    "no_policy_deny",
]

logger = logging.getLogger("agentflow.plugins")


def _matches(patterns: tuple[str, ...], event: Any) -> bool:
    name = getattr(event, "tool_name", None) or getattr(event, "name", None)
    return isinstance(name, str) and any(fnmatchcase(name, p) for p in patterns)


@dataclass(frozen=True)
class _FunctionPolicy:
    patterns: tuple[str, ...]
    call: Callable[[Any, Any], Any]


class ConfirmPolicies:
    """The ``@app.confirm`` policies of one app: one plugin, asked in declaration order."""

    def __init__(self) -> None:
        self._policies: list[_FunctionPolicy] = []

    def add(self, fn: Callable[..., Any], patterns: tuple[str, ...]) -> None:
        """Add ``fn`` for tool names matching any of ``patterns`` (globs).

        ``fn`` takes ``event`` and/or ``ctx`` by name, like a handler; anything else it
        requires is a :class:`~agentflow.PluginError` here, not at the first confirmation.
        """
        try:
            call = handler_call(fn)
        except TypeError as exc:
            raise PluginError(f"bad confirmation policy: {exc}") from None
        self._policies.append(_FunctionPolicy(patterns or ("*",), call))

    def __len__(self) -> int:
        return len(self._policies)

    def _from(self, start: int, event: Any, ctx: Any) -> Any:
        for i in range(start, len(self._policies)):
            policy = self._policies[i]
            if not _matches(policy.patterns, event):
                continue
            answer = policy.call(event, ctx)
            if inspect.isawaitable(answer):
                return self._resume(answer, i + 1, event, ctx)
            if answer is not None:
                return answer
        return None

    async def _resume(self, pending: Any, nxt: int, event: Any, ctx: Any) -> Any:
        answer = await pending
        if answer is not None:
            return answer
        rest = self._from(nxt, event, ctx)
        return await rest if inspect.isawaitable(rest) else rest

    @hookimpl
    def agentflow_confirm_tool(self, event: Any, ctx: Any) -> Any:
        """Ask the declared policies in order; the first non-None answer wins."""
        return self._from(0, event, ctx)


def make_plugin_manager(
    confirms: ConfirmPolicies | None = None, *, load_entrypoints: bool = True
) -> pluggy.PluginManager:
    """A plugin manager with agentflow's hookspecs, entry-point plugins and ``confirms``."""
    pm = pluggy.PluginManager(PROJECT_NAME)
    pm.add_hookspecs(AgentflowSpec)
    if load_entrypoints:
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except Exception as exc:
            raise PluginError(
                f"loading plugins from the {ENTRY_POINT_GROUP!r} entry-point group failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
    if confirms is not None:
        pm.register(confirms, name="agentflow.confirm")
    return pm


def _verdict(answer: Any, who: str) -> Verdict | None:
    if answer is None or isinstance(answer, (Allow, Deny)):
        return answer
    if isinstance(answer, bool):
        return Allow() if answer else Deny()
    raise PolicyError(
        f"confirmation policy {who!r} returned {answer!r}; "
        "expected Allow(), Deny(message), a bool or None"
    )


async def decide(
    pm: pluggy.PluginManager, event: Any, ctx: Any, default: Verdict | None = None
) -> Decision:
    """Ask the policies in order (see the module docstring) and return the first answer."""
    args = {"event": event, "ctx": ctx}
    for impl in reversed(pm.hook.agentflow_confirm_tool.get_hookimpls()):
        who = impl.plugin_name
        if impl.wrapper or impl.hookwrapper:
            logger.warning("wrapper hook %s.agentflow_confirm_tool takes no part in decisions", who)
            continue
        try:
            answer = impl.function(*[args[name] for name in impl.argnames])
            if inspect.isawaitable(answer):
                answer = await answer
            verdict = _verdict(answer, who)
        except Exception as exc:
            if isinstance(exc, PolicyError):
                error = exc
            else:
                error = PolicyError(
                    f"confirmation policy {who!r} raised {type(exc).__name__}: {exc}"
                )
                error.__cause__ = exc
            logger.error("%s; the tool call is denied", error, exc_info=error.__cause__)
            return Decision(Deny("The client's confirmation policy failed; denied."), who, error)
        if verdict is not None:
            return Decision(verdict, who)
    name = getattr(event, "tool_name", None) or getattr(event, "name", None)
    return Decision(default if default is not None else no_policy_deny(name), "default")


class PluginPolicies:
    """The policies of a plugin manager, as the actions router asks them (``decide``)."""

    def __init__(self, pm: pluggy.PluginManager) -> None:
        self.pm = pm

    async def decide(self, event: Any, ctx: Any, default: Verdict | None = None) -> Decision:
        """Ask the policies in order (see the module docstring)."""
        return await decide(self.pm, event, ctx, default)
