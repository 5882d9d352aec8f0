"""``OrxhestraSource``: an orxhestra ``Runner`` as something ``app.run`` follows.

::

    source = OrxhestraSource(runner, user_id="u")          # gates every tool of the agent
    result = await app.run(source, "session-1", send=["Tidy up the build folder."])

Built once per Runner, it takes the agent's tools in hand, in place:

- ``gate=True`` (default) wraps every tool of the agent tree (``gate=["delete_file"]``:
  those named) so that the App's confirmation policies (``@app.confirm``, plugins) decide
  before each call runs. A deny is the tool's error response, carrying the deny message the
  model reads, and the tool never runs. A call no policy answers gets the App's default (a
  deny, unless configured otherwise). ``human_input`` and the App's own tools are not gated:
  ``@app.on_question`` answers the one, ``@app.tool(confirm=True)`` gates the other.
- ``questions=True`` (default) has ``@app.on_question`` answer the agent's ``human_input``
  tool (a declined question answers :data:`DECLINED`).
- ``app_tools=True`` gives the agent the App's ``@app.tool`` functions, run by the run's
  actions router (recorded, ``confirm=True`` honoured); a name the agent already uses is an
  error.

Every answer is asked of the run following the call's session. A gated tool called with no
run following its session (the agent driven by hand) stays shut: it is denied, saying so.
Each ``app.run`` plays the user messages it sends (one ``runner.astream`` each) and ends
when the last one's generator ends; ``replay`` does not apply (a finished turn is not
played again).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Collection, Mapping
from typing import TYPE_CHECKING, Any

from ..core.dialect import CallKind
from ..core.exceptions import ConflictError
from ..core.verdicts import Deny, Verdict
from ..tools import ToolReply
from ._calls import ToolCall, current_call
from .channel import OrxhestraChannel
from .dialect import ORXHESTRA, verdict_of
from .gate import GatedTool, gate_agent, tool_registries
from .human_input import HUMAN_INPUT, answer_human_input
from .tools import RoutedTool
from .turns import active_asker

if TYPE_CHECKING:
    from ..core.checkpoint import CheckpointStore

__all__ = ["DECLINED", "OrxhestraSource"]

DECLINED = "The user declined to answer the question."
"""What ``human_input`` returns to the agent when no ``@app.on_question`` handler answers."""


class OrxhestraSource:
    """An orxhestra ``Runner`` for ``app.run`` (see the module docstring)."""

    dialect = ORXHESTRA

    def __init__(
        self,
        runner: Any,
        *,
        user_id: str,
        gate: bool | Collection[str] = True,
        questions: bool = True,
        app_tools: bool = False,
    ) -> None:
        if not isinstance(user_id, str) or not user_id:
            raise ValueError(f"user_id must be a non-empty str, got {user_id!r}")
        agent = getattr(runner, "agent", None)
        if agent is None or not callable(getattr(runner, "astream", None)):
            raise TypeError(f"OrxhestraSource takes an orxhestra Runner, got {runner!r}")
        self.runner = runner
        self.user_id = user_id
        self.app_tools = app_tools
        self._roles: dict[str, CallKind] = {}
        self._channels: dict[str, OrxhestraChannel] = {}
        self._queues: dict[str, deque[str]] = {}
        self.gated = self._gate(gate, questions)
        """The names of the tools gated."""
        self.questions = answer_human_input(agent, self._question) if questions else 0
        """How many ``human_input`` tools ``@app.on_question`` answers."""
        self._refresh_roles()

    def _gate(self, gate: bool | Collection[str], questions: bool) -> list[str]:
        if gate is False:
            return []
        names = None if gate is True else [gate] if isinstance(gate, str) else list(gate)
        if questions and names is not None and HUMAN_INPUT in names:
            raise ValueError(
                f"{HUMAN_INPUT!r} cannot be gated: @app.on_question answers it "
                "(pass questions=False to leave it to its own callback)"
            )
        exclude = [HUMAN_INPUT] if names is None else []
        return gate_agent(self.runner.agent, self._decide, names=names, exclude=exclude)

    @property
    def roles(self) -> Mapping[str, CallKind]:
        """Tool name -> the kind of call this source answers for it (``approval``: gated,
        ``tool``: an App tool, ``question``: ``human_input``); other tools just run."""
        return self._roles

    # -- the seam --------------------------------------------------------------------------

    def channel(
        self,
        session: Any,
        *,
        checkpoint: CheckpointStore,
        replay: bool | None = None,
        **options: Any,
    ) -> OrxhestraChannel:
        """A channel for the orxhestra session ``session`` (created by the Runner if new)."""
        if options:
            raise TypeError(f"an orxhestra run takes no stream options, got {sorted(options)}")
        if not isinstance(session, str) or not session:
            raise ValueError(f"an orxhestra session is a non-empty str id, got {session!r}")
        return OrxhestraChannel(self, session, checkpoint)

    def queue(self, session_id: str) -> deque[str]:
        """The session's user messages not played yet (kept from one run to the next)."""
        return self._queues.setdefault(session_id, deque())

    def attach(self, channel: OrxhestraChannel) -> None:
        """Make ``channel`` the one run following its session."""
        if channel.session_id in self._channels:
            raise ConflictError(
                f"orxhestra session {channel.session_id!r} is already followed by a run",
                type="session_busy",
            )
        self._channels[channel.session_id] = channel

    def detach(self, channel: OrxhestraChannel) -> None:
        """The run of ``channel`` is over."""
        if self._channels.get(channel.session_id) is channel:
            del self._channels[channel.session_id]

    def prepare(self, app: Any) -> None:
        """Before a run of ``app``: give the agent the App's tools (with ``app_tools``)."""
        if not self.app_tools:
            return
        registries = tool_registries(self.runner.agent)
        if not registries:
            raise TypeError("app_tools=True needs an LlmAgent (an agent with tools) at the root")
        tools = registries[0]
        for name in [n for n, t in tools.items() if isinstance(t, RoutedTool)]:
            del tools[name]  # those of an earlier App
        for tool in app.tools:
            if tool.name in tools:
                raise ValueError(
                    f"the App's tool {tool.name!r} has the name of one of the agent's own tools"
                )
            tools[tool.name] = RoutedTool(tool, self._route)
        self._refresh_roles()

    def _refresh_roles(self) -> None:
        roles: dict[str, CallKind] = {}
        for registry in tool_registries(self.runner.agent):
            for name, tool in registry.items():
                if isinstance(tool, RoutedTool):
                    roles[name] = "tool"
                elif isinstance(tool, GatedTool) and tool.decide == self._decide:
                    roles[name] = "approval"
                elif name == HUMAN_INPUT and self.questions:
                    roles[name] = "question"
        self._roles.clear()
        self._roles.update(roles)  # in place: the events of a running turn hold this dict

    # -- answers, asked by the wrapped tools -----------------------------------------------

    def _channel_for(self, call: ToolCall | None) -> OrxhestraChannel | None:
        asker = active_asker()
        if asker is not None:
            channel = self._channels.get(asker.session_id)
            if channel is asker:
                return channel  # the run whose agent is running this call
        session = call.session_id if call is not None else None
        return self._channels.get(session) if session is not None else None

    async def _decide(self, call: ToolCall) -> Verdict:
        channel = self._channel_for(call)
        if channel is None:
            return Deny(
                f"The tool call was not run: no agentflow run follows session "
                f"{call.session_id!r}, so no policy could allow it."
            )
        reply = await channel.ask(call, "approval")
        if reply is None:
            return Deny(
                f"The tool call was not run: agentflow gave no answer to {call.id!r} "
                "(the run stopped, or the call was answered before)."
            )
        return verdict_of(reply)

    async def _question(self, question: str) -> str:
        call = current_call() or ToolCall(HUMAN_INPUT, {"question": question})
        channel = self._channel_for(call)
        reply = None if channel is None else await channel.ask(call, "question")
        answer = None if reply is None else reply.get("answer")
        return answer if isinstance(answer, str) else DECLINED

    async def _route(self, call: ToolCall) -> ToolReply:
        channel = self._channel_for(call)
        if channel is None:
            text = f"no agentflow run follows session {call.session_id!r}; the tool was not run"
            return ToolReply.failure("error", text)
        reply = await channel.ask(call, "tool")
        if reply is None:
            return ToolReply.failure("error", f"agentflow gave no answer to {call.id!r}")
        return ToolReply(list(reply.get("content") or []), bool(reply.get("is_error")))

    def __repr__(self) -> str:
        return f"OrxhestraSource(agent={self.runner.agent.name!r}, user_id={self.user_id!r})"
