"""Confirmation policies as pluggy plugins.

A policy is any object with a method ``agentflow_confirm_tool(event, ctx)`` marked with
:data:`hookimpl`; it may take only the arguments it needs. It answers an ``ask``-gated
``agent.tool_use`` / ``agent.mcp_tool_use`` with :class:`Allow`, :class:`Deny`, ``None`` (no
opinion), a bool, or an awaitable of one of these::

    from agentflow import Allow, Deny, hookimpl

    class NoShell:
        @hookimpl
        def agentflow_confirm_tool(self, event):
            if event.tool_name == "bash":
                return Deny("No shell access.")
            return None

    app.plugins.register(NoShell())

Installed packages register policies under the ``agentflow`` entry-point group::

    [project.entry-points.agentflow]
    my_policy = "my_package.policy"      # a module or object with the hook

The order in which policies are asked is documented in :mod:`agentflow.plugins._manager`
and in the README: plugins registered in code (newest first), then ``@app.confirm``
policies (in declaration order), then entry-point plugins, then the default (deny).
"""

from __future__ import annotations

from ..core.verdicts import DEFAULT_DENY_MESSAGE, Allow, Deny, Verdict
from ._manager import (
    ConfirmPolicies,
    Decision,
    PluginPolicies,
    decide,
    make_plugin_manager,
    no_policy_deny,
)
from ._spec import ENTRY_POINT_GROUP, PROJECT_NAME, AgentflowSpec, hookimpl, hookspec
from .policies import AllowList, DenyList, TerminalPolicy

__all__ = [
    "DEFAULT_DENY_MESSAGE",
    "ENTRY_POINT_GROUP",
    "PROJECT_NAME",
    "AgentflowSpec",
    "Allow",
    "AllowList",
    "ConfirmPolicies",
    "Decision",
    "Deny",
    "DenyList",
    "PluginPolicies",
    "TerminalPolicy",
    "Verdict",
    "decide",
    "hookimpl",
    "hookspec",
    "make_plugin_manager",
    "no_policy_deny",
]
