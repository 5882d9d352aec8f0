"""Watch and steer an orxhestra agent running in this process, with the same App machinery.

orxhestra's agents run in process: ``Runner.astream`` yields their events, and they call
their LangChain tools themselves. ``OrxhestraSource`` makes a Runner something ``app.run``
follows: every event goes through the App's handlers (by native type or by ``kind``), the
App's confirmation policies decide before the agent's own tools run (a deny is the tool's
error response, and the tool never runs), ``@app.on_question`` answers the agent's
``human_input`` tool, and the App's ``@app.tool`` functions can be given to the agent.

The agent's model here is agentflow's scripted chat model (no key, no network); with a real
one (any LangChain chat model) nothing else changes. Needs the ``orxhestra`` extra::

    python examples/orxhestra_agent.py
"""

from __future__ import annotations

import anyio
from langchain_core.tools import StructuredTool
from orxhestra.cli.tools.human_input import make_human_input_tool

from agentflow import Allow, App, Deny, Event
from agentflow.orxhestra import OrxhestraSource
from agentflow.testing import CustomTool, Question, Say, Scenario, Turn
from agentflow.testing.orxhestra import scenario_runner

app = App(load_entrypoints=False)
streaming = False  # a line of streamed text is open


def show(line: str) -> None:
    global streaming
    if streaming:
        print()
        streaming = False
    print(line)


@app.on(kind="message.delta")
def stream(event: Event) -> None:
    global streaming
    if not streaming:
        print("agent:  ", end="")
        streaming = True
    print(event.text, end="", flush=True)


@app.on(kind="message.completed")
def answer(event: Event) -> None:
    show(f"answer: {event.text}")


@app.on(kind="tool.started")
def calls(event: Event) -> None:
    for part in event.tool_calls:  # orxhestra's own ToolCallPart objects
        show(f"call:   {part.tool_name} {part.args}")


@app.on("tool_response")  # the native type works as well as the kind
def result(event: Event) -> None:
    (response,) = event.content.tool_responses
    show(f"result: {event.tool_name}: {response.error or response.result}")


@app.confirm("list_files")
def listing_is_fine() -> Allow:
    return Allow()


@app.confirm("delete_file")
def keep_the_files(event: Event) -> Deny:
    return Deny(f"Deleting {event.tool_input['path']!r} needs a person's approval.")


@app.on_question
def ask(question: str) -> str:
    show(f"asked:  {question} -> the logs")
    return "the logs"


@app.tool
def disk_usage(folder: str) -> str:
    """How much space a folder takes (the App's own tool, given to the agent).

    Args:
        folder: The folder to measure.
    """
    return f"{folder}: 1.2 GB"


async def list_files(folder: str) -> str:
    """List the files of a folder."""
    return "app.log, error.log, notes.txt"


async def delete_file(path: str) -> str:
    """Delete a file."""
    raise AssertionError("never runs: the App's policy denies it")


SCENARIO = Scenario(
    [
        Turn(
            [
                Question("Which files should I clean up?"),
                Say("I'll look at the folder first.", stream=True),
                CustomTool("list_files", {"folder": "/var/app"}),
                CustomTool("disk_usage", {"folder": "/var/app"}),
                CustomTool("delete_file", {"path": "/var/app/app.log"}),
                Say("The logs take 1.2 GB; deleting them needs your approval.", stream=True),
            ]
        )
    ]
)


async def main() -> None:
    tools = [StructuredTool.from_function(coroutine=f) for f in (list_files, delete_file)]
    tools.append(make_human_input_tool())  # orxhestra's own ask-the-user tool
    runner = scenario_runner(SCENARIO, tools)  # a real orxhestra Runner and LlmAgent
    source = OrxhestraSource(runner, user_id="me", app_tools=True)
    print(f"gated: {source.gated}; questions answered by @app.on_question: {source.questions}")
    result = await app.run(source, "cleanup-1", send=["Free some space in /var/app."])
    print(f"turn ended: {result.stop_reason}; {result.usage.output_tokens} output tokens")
    for call in result.tool_calls:
        decided = f", decided by {call.policy}" if call.policy else ""
        print(f"  {call.name} ({call.kind}): {call.outcome}{decided}")


if __name__ == "__main__":
    anyio.run(main)
