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

A policy that raises anything (``BaseException`` subclasses too, a ``CancelledError`` it
raised itself included; only the run's own cancellation and ``KeyboardInterrupt`` go
through), returns something other than ``Allow``, ``Deny``, ``bool`` or ``None``, or does
not answer within the policy timeout (``App(policy_timeout=30.0)``; a plugin's own
``policy_timeout`` attribute wins), denies the call; the failure is logged and reported as a
:class:`PolicyError`. The timeout bounds what a policy awaits; a synchronous policy that
blocks holds the event loop and cannot be bounded (return a coroutine instead). Each
``@app.confirm`` function is a policy of its own (its own timeout, its own name). Wrapper
hook implementations (``wrapper=True`` / ``hookwrapper=True``) take no part in the decision
and are skipped with a warning.

The deciding policy's name (:attr:`Decision.policy`, ``ToolCallRecord.policy``) is the
``@app.confirm`` function's name, or the plugin's name: its class name (see
:mod:`agentflow.plugins._checked`), the entry point's name, or the name given to
``register``.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from fnmatch import fnmatchcase
from typing import Any

import anyio
import pluggy

from ..core.cancellation import describe_failure, must_propagate
from ..core.config import DEFAULT_POLICY_TIMEOUT
from ..core.exceptions import PluginError, PolicyError
from ..core.inject import handler_call
from ..core.verdicts import Allow, Decision, Deny, Verdict, no_policy_deny
from ._checked import AgentflowPluginManager
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
    name: str


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
        name = str(getattr(fn, "__name__", None) or type(fn).__name__)
        self._policies.append(_FunctionPolicy(patterns or ("*",), call, name))

    def __len__(self) -> int:
        return len(self._policies)

    def matching(self, event: Any) -> Iterator[tuple[str, Callable[[Any, Any], Any]]]:
        """``(name, call)`` of each policy whose patterns match ``event``'s tool, in order."""
        for policy in self._policies:
            if _matches(policy.patterns, event):
                yield policy.name, policy.call

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
    """A plugin manager with agentflow's hookspecs, entry-point plugins and ``confirms``
    (an :class:`~agentflow.plugins._checked.AgentflowPluginManager`)."""
    pm = AgentflowPluginManager(PROJECT_NAME)
    pm.add_hookspecs(AgentflowSpec)
    if load_entrypoints:
        try:
            pm.load_setuptools_entrypoints(ENTRY_POINT_GROUP)
        except PluginError:
            raise
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


_Policy = tuple[str, Callable[..., Any], tuple[str, ...], Any]
_BOTH = ("event", "ctx")


def _policies(pm: pluggy.PluginManager, event: Any) -> Iterator[_Policy]:
    """``(name, function, its argument names, plugin)`` of each policy, in asking order."""
    for impl in reversed(pm.hook.agentflow_confirm_tool.get_hookimpls()):
        who = impl.plugin_name
        if impl.wrapper or impl.hookwrapper:
            logger.warning("wrapper hook %s.agentflow_confirm_tool takes no part in decisions", who)
            continue
        if isinstance(impl.plugin, ConfirmPolicies):  # each function is a policy of its own
            for name, call in impl.plugin.matching(event):
                yield name, call, _BOTH, None
            continue
        yield who, impl.function, tuple(impl.argnames), impl.plugin


def _failed(who: str, error: PolicyError) -> Decision:
    logger.error("%s; the tool call is denied", error, exc_info=error.__cause__)
    return Decision(Deny("The client's confirmation policy failed; denied."), who, error)


async def decide(
    pm: pluggy.PluginManager,
    event: Any,
    ctx: Any,
    default: Verdict | None = None,
    *,
    policy_timeout: float | None = DEFAULT_POLICY_TIMEOUT,
) -> Decision:
    """Ask the policies in order (see the module docstring) and return the first answer.

    ``policy_timeout`` bounds each policy (seconds, ``None``: unbounded); a plugin's own
    ``policy_timeout`` attribute, when it has one, bounds it instead.
    """
    args = {"event": event, "ctx": ctx}
    for who, function, names, plugin in _policies(pm, event):
        limit = policy_timeout
        if plugin is not None:
            limit = getattr(plugin, "policy_timeout", policy_timeout)
        try:
            with anyio.move_on_after(limit) as scope:
                answer = function(*[args[name] for name in names])
                if inspect.isawaitable(answer):
                    answer = await answer
                verdict = _verdict(answer, who)
        except PolicyError as exc:
            return _failed(who, exc)
        except BaseException as exc:
            if must_propagate(exc):
                raise
            error = PolicyError(f"confirmation policy {who!r} raised {describe_failure(exc)}")
            error.__cause__ = exc
            return _failed(who, error)
        if scope.cancelled_caught:
            error = PolicyError(f"confirmation policy {who!r} did not answer within {limit:g}s")
            return _failed(who, error)
        if verdict is not None:
            return Decision(verdict, who)
    name = getattr(event, "tool_name", None) or getattr(event, "name", None)
    return Decision(default if default is not None else no_policy_deny(name), "default")


class PluginPolicies:
    """The policies of a plugin manager, as the actions router asks them (``decide``).

    ``timeout`` bounds each policy (seconds; ``None``: unbounded).
    """

    def __init__(
        self, pm: pluggy.PluginManager, *, timeout: float | None = DEFAULT_POLICY_TIMEOUT
    ) -> None:
        self.pm = pm
        self.timeout = timeout

    async def decide(self, event: Any, ctx: Any, default: Verdict | None = None) -> Decision:
        """Ask the policies in order (see the module docstring)."""
        return await decide(self.pm, event, ctx, default, policy_timeout=self.timeout)
