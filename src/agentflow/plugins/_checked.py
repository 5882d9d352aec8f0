"""The app's plugin manager: pluggy's, with mistakes caught when a plugin is registered.

pluggy silently ignores a method that is not marked with ``@hookimpl``, and accepts a marked
method whose name is no hook at all (until ``check_pending``, which nobody calls), so a typo
or a forgotten decorator means a policy that never runs. :class:`AgentflowPluginManager`
refuses both on ``register`` with a :class:`~agentflow.PluginError`:

- a method named ``agentflow_*`` that is not one of the hooks (with the closest hook name);
- a method named after a hook but not marked with :data:`~agentflow.hookimpl` (or marked
  for another pluggy project).

pluggy's own validation errors (a hook implementation asking for an argument the hook does
not have) become :class:`~agentflow.PluginError` too. Plugins are named readably: an object
by its class name (``NoShell``, then ``NoShell#2`` for a second instance), a module or
function by its ``__name__``, an entry point by its name; never by an ``id()``.
"""

from __future__ import annotations

from typing import Any

import pluggy

from ..core.exceptions import PluginError

__all__ = ["HOOK_PREFIX", "AgentflowPluginManager", "plugin_label"]

HOOK_PREFIX = "agentflow_"


def plugin_label(plugin: object) -> str:
    """A plugin's readable name: its ``__name__`` (modules, classes, functions), else its
    class name."""
    name = getattr(plugin, "__name__", None)
    return name if isinstance(name, str) and name else type(plugin).__name__


class AgentflowPluginManager(pluggy.PluginManager):
    """A ``pluggy.PluginManager`` that refuses malformed plugins (see the module docstring)."""

    def hook_names(self) -> list[str]:
        """The names of the hooks that have a specification."""
        return sorted(
            name
            for name, caller in vars(self.hook).items()
            if isinstance(caller, pluggy.HookCaller) and caller.has_spec()
        )

    def get_canonical_name(self, plugin: Any) -> str:
        """A readable name not yet taken: the plugin's label, numbered from the second on."""
        base = plugin_label(plugin)
        name, n = base, 2
        while self.get_plugin(name) is not None:
            name, n = f"{base}#{n}", n + 1
        return name

    def check(self, plugin: object) -> None:
        """Raise :class:`~agentflow.PluginError` for a method that would silently not run."""
        known = self.hook_names()
        label = plugin_label(plugin)
        for attr in dir(plugin):
            if not attr.startswith(HOOK_PREFIX):
                continue
            opts = self.parse_hookimpl_opts(plugin, attr)
            marked = opts is not None
            spec = (opts.get("specname") if opts is not None else None) or attr
            if spec not in known:
                import difflib  # (only for the message of a misnamed hook)

                close = difflib.get_close_matches(spec, known, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f"; hooks: {known}"
                raise PluginError(f"plugin {label}: {attr!r} is not an agentflow hook{hint}")
            if not marked:
                raise PluginError(
                    f"plugin {label}: {attr!r} is not marked with @agentflow.hookimpl, so "
                    "it would never be called; decorate it with "
                    "`from agentflow import hookimpl`"
                )

    def register(self, plugin: Any, name: str | None = None) -> str | None:
        """Register ``plugin`` (see ``pluggy.PluginManager.register``) after :meth:`check`."""
        if plugin is not None:
            self.check(plugin)
        try:
            return super().register(plugin, name)
        except pluggy.PluginValidationError as exc:
            label = name or plugin_label(plugin)
            raise PluginError(f"plugin {label} is not a valid agentflow plugin: {exc}") from exc
