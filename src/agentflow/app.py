"""``App``: the application object, the core's :class:`~agentflow.core.app.BaseApp` with
tools (``@app.tool``, ``app.tools``) and confirmation policies (``@app.confirm``,
``app.plugins``) plugged in.

::

    app = App()

    @app.on("agent.message")            # or @app.on(kind="message.completed")
    def show(event):
        print(event.text)

    @app.tool
    def get_weather(city: str) -> str:
        "Current weather for a city."
        return f"Sunny in {city}"

    @app.confirm("read*")
    def read_only(event):
        return Allow()

    result = await app.run(client, session_id, send=["Weather in Paris?"])
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any, overload

from .core.app import BaseApp
from .core.config import DEFAULT_POLICY_TIMEOUT, UnknownTools
from .core.lease import DEFAULT_LEASE
from .plugins import ConfirmPolicies, PluginPolicies, make_plugin_manager
from .tools import ToolRegistry

if TYPE_CHECKING:
    import pluggy

    from .core.results import RunResult
    from .core.types import HandlerT
    from .core.verdicts import Verdict

__all__ = ["App"]


class App(BaseApp):
    """An agentflow application: handlers, middleware, error handlers, tools and policies.

    ::

        app = App()
        app.use(LoggingMiddleware())

        @app.on("agent.message")
        def show(event):
            print(event.text)

        @app.on_error(TimeoutError)
        async def slow(exc, event, ctx):
            await ctx.interrupt()

    ``App`` is a :class:`~agentflow.Router`: ``on``, ``add_handler`` and ``include`` work
    the same way. The same app runs over every dialect: ``app.run(source, session)``.
    """

    def __init__(
        self,
        *,
        name: str | None = None,
        default_confirmation: Verdict | None = None,
        load_entrypoints: bool = True,
        unknown_tools: UnknownTools = "error",
        policy_timeout: float | None = DEFAULT_POLICY_TIMEOUT,
        session_lease: float = DEFAULT_LEASE,
        strict: bool = False,
        observers: Iterable[object] = (),
        trace_events: bool = False,
    ) -> None:
        """Make an app.

        ``default_confirmation`` answers gated calls no policy decides (``None``, the
        default, denies them with a message saying no policy matched); ``load_entrypoints``
        says whether policies installed under the ``agentflow`` entry-point group are loaded;
        ``unknown_tools`` says what a call to a tool the app lacks gets: an error result the
        agent can act on (``"error"``, default) or nothing, leaving it to another client
        (``"leave"``, for split ownership; see :data:`~agentflow.core.config.UnknownTools`).
        ``policy_timeout`` bounds each confirmation policy (seconds, default 30; ``None``:
        unbounded): one that has not answered by then denies the call. ``session_lease`` is
        how long (seconds, default 30) a run's hold on its session lasts without renewal (a
        crashed run on another machine blocks the session that long). ``strict=True`` makes
        an event type no loaded dialect knows an error in ``@app.on(...)``, not a warning.
        ``observers`` watch the app's runs, tools, policies and replies (telemetry, such as
        :class:`agentflow.telemetry.OpenTelemetryObserver`); ``trace_events`` also passes
        every dispatch through them (see :meth:`observe`).
        """
        super().__init__(name=name, strict=strict, observers=observers, trace_events=trace_events)
        self._tools = ToolRegistry()
        self._confirms = ConfirmPolicies()
        self._load_entrypoints = load_entrypoints
        self._plugins: pluggy.PluginManager | None = None
        actions = self.actions
        actions.tools = self._tools
        actions.default_confirmation = default_confirmation
        actions.unknown_tools = unknown_tools
        self.policy_timeout = policy_timeout  # checked by the setter
        if not session_lease > 0:
            raise ValueError(f"session_lease must be positive, got {session_lease!r}")
        actions.session_lease = session_lease
        actions.policies_factory = lambda: PluginPolicies(
            self.plugins, timeout=self.actions.policy_timeout
        )

    # -- tools ----------------------------------------------------------------------------

    @property
    def tools(self) -> ToolRegistry:
        """The app's tools; ``app.tools.definitions()`` gives their definitions."""
        return self._tools

    @overload
    def tool(self, fn: HandlerT) -> HandlerT: ...
    @overload
    def tool(
        self,
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
        max_concurrency: int | None = None,
        confirm: bool = False,
        idempotent: bool = False,
        strict: bool = True,
    ) -> Callable[[HandlerT], HandlerT]: ...
    def tool(
        self,
        fn: Callable[..., Any] | None = None,
        *,
        name: str | None = None,
        description: str | None = None,
        timeout: float | None = None,
        max_concurrency: int | None = None,
        confirm: bool = False,
        idempotent: bool = False,
        strict: bool = True,
    ) -> Any:
        """Register a tool (``@app.tool`` or ``@app.tool(name=..., timeout=...)``).

        The schema comes from the signature, type hints and docstring; see
        :class:`~agentflow.tools.Tool`. ``confirm=True`` lets the confirmation policies decide
        before each call runs (a deny answers with an error result carrying the deny message;
        the tool never runs). ``idempotent=True`` declares it safe to run again after a crash
        interrupted a call. Input is validated strictly, as the schema says (``true`` is not
        an integer, ``"5"`` is not a number); ``strict=False`` allows pydantic's lax coercion.
        Returns the function unchanged. A name already registered raises
        :class:`~agentflow.ToolError`.
        """
        localns = dict(sys._getframe(1).f_locals)

        def register(f: HandlerT) -> HandlerT:
            self._tools.register(
                f,
                name=name,
                description=description,
                timeout=timeout,
                max_concurrency=max_concurrency,
                confirm=confirm,
                idempotent=idempotent,
                strict=strict,
                localns=localns,
            )
            return f

        return register if fn is None else register(fn)

    # -- confirmation policies ------------------------------------------------------------

    @property
    def plugins(self) -> pluggy.PluginManager:
        """The pluggy plugin manager holding the confirmation policies.

        Created on first use, when the plugins installed under the ``agentflow`` entry-point
        group are loaded (set ``app.load_entrypoints = False`` before that to skip them).
        ``app.plugins.register(obj)`` adds a policy.
        """
        if self._plugins is None:
            self._plugins = make_plugin_manager(
                self._confirms, load_entrypoints=self._load_entrypoints
            )
        return self._plugins

    @property
    def load_entrypoints(self) -> bool:
        """Whether ``app.plugins`` loads entry-point plugins when created (default True)."""
        return self._load_entrypoints

    @load_entrypoints.setter
    def load_entrypoints(self, value: bool) -> None:
        if self._plugins is not None:
            raise RuntimeError("app.plugins already exists; set load_entrypoints before using it")
        self._load_entrypoints = value

    @property
    def policy_timeout(self) -> float | None:
        """Seconds each confirmation policy may take before it counts as a deny."""
        return self.actions.policy_timeout

    @policy_timeout.setter
    def policy_timeout(self, value: float | None) -> None:
        if value is not None and not value > 0:
            raise ValueError(f"policy_timeout must be positive or None, got {value!r}")
        self.actions.policy_timeout = value
        policies = self.actions.policies if self.actions.policies_created else None
        if isinstance(policies, PluginPolicies):
            policies.timeout = value

    @property
    def default_confirmation(self) -> Verdict | None:
        """The answer when no policy decides; ``None`` (default) denies, saying none matched."""
        return self.actions.default_confirmation

    @default_confirmation.setter
    def default_confirmation(self, value: Verdict | None) -> None:
        self.actions.default_confirmation = value

    @overload
    def confirm(self, fn: HandlerT, /) -> HandlerT: ...
    @overload
    def confirm(self, *patterns: str) -> Callable[[HandlerT], HandlerT]: ...
    def confirm(self, *patterns: Any) -> Any:
        """Register a confirmation policy for tools whose name matches a glob (default all).

        ``@app.confirm("read*")`` over a function taking ``event`` and/or ``ctx`` that returns
        ``Allow()``, ``Deny(message)``, a bool, ``None`` (no opinion) or an awaitable of one.
        ``@app.confirm`` policies are asked in declaration order, after the plugins given to
        ``app.plugins.register`` and before entry-point plugins.
        """
        if len(patterns) == 1 and callable(patterns[0]):
            self._confirms.add(patterns[0], ("*",))
            return patterns[0]

        def register(f: HandlerT) -> HandlerT:
            self._confirms.add(f, tuple(patterns))
            return f

        return register

    # -- running --------------------------------------------------------------------------

    def run_sync(self, source: Any, session: Any, **options: Any) -> RunResult:
        """:meth:`run` from synchronous code (``anyio.run``).

        ``source=None`` makes a ``ManagedAgentsClient`` from the environment
        (``ANTHROPIC_API_KEY`` / ``ANTHROPIC_BASE_URL``), closed before returning.
        """
        if source is not None:
            return super().run_sync(source, session, **options)
        import anyio

        async def main() -> RunResult:
            from .managed_agents import ManagedAgentsClient

            async with ManagedAgentsClient() as own:
                return await self.run(own, session, **options)

        return anyio.run(main)
