"""Log every event of a turn, whatever its type, with the time the server processed it.

One handler on ``"*"`` sees all 44 event types, and types this version of agentflow does not
know yet (they arrive as ``UnknownEvent`` with every field kept), so nothing is ever dropped.

    python examples/logging_handler.py            # against a local emulator
    python examples/logging_handler.py --session sesn_...   # a real session (ANTHROPIC_API_KEY)
"""

from __future__ import annotations

import logging

import anyio
from _session import open_session

from agentflow import App, Event, user_message
from agentflow.testing import Emit, Say, Scenario, Tool, Turn

logging.basicConfig(level=logging.WARNING, format="%(message)s")
log = logging.getLogger("events")
log.setLevel(logging.INFO)  # our lines; other libraries stay at WARNING

app = App()


@app.on("*")
def log_event(event: Event) -> None:
    """One line per stored event: processed_at, type, id, and the tool name if any."""
    if event.id is None:
        return  # a preview (event_start / event_delta): not stored, no id or processed_at
    tool = f"  tool={event.tool_name}" if event.tool_name else ""
    log.info("%s  %-28s %s%s", event.processed_at, event.type, event.id, tool)


SCENARIO = Scenario(
    [
        Turn(
            [
                Say("Let me look at the README.", thinking=True),
                Tool("read", {"file_path": "README.md"}, result="# agentflow"),
                # A type this version does not know: logged like any other.
                Emit({"type": "session.checkpoint_saved", "label": "after-read"}),
                Say("The README starts with a title."),
            ]
        )
    ]
)


async def main() -> None:
    async with open_session(SCENARIO, __doc__ or "") as (client, session_id):
        result = await app.run(client, session_id, send=[user_message("What is in README.md?")])
    log.info("turn ended: %s after %d events", result.stop_reason, result.events)


if __name__ == "__main__":
    anyio.run(main)
