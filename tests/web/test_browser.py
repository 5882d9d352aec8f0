"""The built-in page in a real headless Chromium, following a session an App runs.

The App waits for the page at the moments that matter (each text delta, the tool call), so
what the page shows at each step is observed, not guessed from timing: the text grows delta
by delta, the tool's status line is on screen before the tool has returned, the denied
confirmation and the error banner appear, and the summary ends the turn. Agent text full of
markup stays text. A screenshot of the final page is written to ``test-artifacts/web/``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import anyio
from cdp import Browser
from web_support import emulated, quiet_app, serving

from agentflow import Deny, user_message
from agentflow.testing import CustomTool, Error, Say, Scenario, Tool, Turn
from agentflow.web import Relay

LIMIT = 60
FIRST = "Let me check the weather in Paris for you, one moment please."
HOSTILE = (
    'Done: <script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2"> '
    "& <b>not bold</b> </div><p>still text</p>"
)


def _scenario() -> Scenario:
    return Scenario(
        [
            Turn(
                [
                    Say(FIRST, stream=True),
                    CustomTool("get_weather", {"city": "Paris"}),
                    Tool("bash", {"command": "rm -rf /var/cache"}, permission="always_ask"),
                    Error("model_overloaded_error", "retrying", "The model is overloaded."),
                    Say(HOSTILE, stream=True),
                ]
            )
        ]
    )


def _q(selector: str) -> str:
    return f"document.querySelector({json.dumps(selector)})"


def _body_of(message_id: str) -> str:
    return _q(f'[data-kind=message][data-id="{message_id}"] .body')


async def test_the_page_shows_a_live_session_step_by_step(page: Browser, artifacts: Path) -> None:
    relay = Relay()
    app = quiet_app()
    app.use(relay.middleware())
    steps: dict[str, list[str]] = {}
    line_before_result: list[str] = []

    async def wait_for_the_page(event: Any, ctx: Any, call_next: Any) -> None:
        # The relay has published this delta; the App goes on only once the page shows it.
        if event.kind == "message.delta":
            shown = steps.setdefault(event.event_id, [])
            expected = (shown[-1] if shown else "") + event.text
            body = _body_of(event.event_id)
            got = await page.wait_for(
                f"{body} && {body}.textContent === {json.dumps(expected)} && {body}.textContent"
            )
            shown.append(got)
        await call_next(event, ctx)

    app.use(wait_for_the_page)

    @app.tool
    async def get_weather(city: str) -> str:
        """Weather for a city."""
        line = _q("[data-kind=tool][data-tool=get_weather]")
        line_before_result.append(await page.wait_for(f"{line} && {line}.textContent"))
        await page.screenshot(artifacts / "live-page-tool-running.png")
        return "sunny, 21 C"

    @app.confirm("bash")
    def no_shell(event: Any) -> Deny:
        return Deny("Shell commands are not allowed.")

    with anyio.fail_after(LIMIT):
        async with serving(relay) as server, emulated(_scenario()) as (_, client, sid):
            await page.goto(server.page_url(sid))
            await relay.wait_for_browser(sid)
            result = await app.run(
                client, sid, send=[user_message("weather?")], event_deltas=["agent.message"]
            )
            relay.publish_result(sid, result)
            relay.finish(sid)
            await page.wait_for(f"{_q('#status')}.dataset.state === 'finished'")
            view = await page.evaluate(_SNAPSHOT)
            shot = await page.screenshot(artifacts / "live-page.png")

    assert result.stop_reason == "end_turn"
    # the text grew in steps: each step a longer prefix of the final message
    first, second = steps.values()
    assert len(first) >= 4 and first[-1] == FIRST
    assert all(a != b and b.startswith(a) for a, b in zip(first, first[1:], strict=False))
    assert second[-1] == HOSTILE
    # the tool's status line was on the page while the tool ran, then it was checked off
    assert line_before_result == ["🔧 get_weather…"]
    assert view["tools"]["get_weather"]["state"] == "done"
    assert view["tools"]["get_weather"]["text"].startswith("✓ get_weather")
    assert view["tools"]["bash"]["state"] == "denied"
    # the denied confirmation, with its message
    assert view["approvals"] == ["🛡 bash: denied — Shell commands are not allowed."]
    # the error banner, and its recovery once the session went on
    assert view["errors"] == [
        "⚠ model_overloaded_error: The model is overloaded. retried, recovered ✓"
    ]
    # the summary: time to first token and each tool's time
    summary = view["summary"]
    assert summary["title"] == "Turn ended · end_turn"
    assert summary["ttft"].startswith("time to first token") and summary["ttft"].endswith(" ms")
    assert [t.split(")")[0] for t in summary["tools"]] == [
        "🔧 get_weather (ok",
        "🔧 bash (denied",
    ]
    assert all(t.endswith((" ms", " s")) for t in summary["tools"])
    assert view["result"].startswith("run: end_turn · ok")
    # agent text full of markup is shown as text, never run or rendered
    assert view["messages"] == [FIRST, HOSTILE]
    assert view["injected"] == 0 and view["pwned"] is None
    assert view["width"] <= 390  # laid out for a phone: nothing wider than the screen
    assert page.console == []
    assert shot.stat().st_size > 10_000


_SNAPSHOT = """(() => {
  const text = (n) => n ? n.textContent : null;
  const all = (s) => Array.from(document.querySelectorAll(s));
  const tools = {};
  for (const n of all("[data-kind=tool]")) {
    tools[n.dataset.tool] = {state: n.dataset.state, text: n.textContent};
  }
  const summary = document.querySelector("[data-kind=summary]");
  return {
    tools,
    approvals: all("[data-kind=approval]").map(text),
    errors: all("[data-kind=error]").map(text),
    messages: all("[data-kind=message] .body").map(text),
    summary: summary && {
      title: text(summary.querySelector("h2")),
      ttft: text(summary.querySelector("[data-field=ttft]")),
      tools: Array.from(summary.querySelectorAll("[data-field=tool]")).map(text),
    },
    result: text(document.querySelector("[data-kind=result]")),
    injected: document.querySelectorAll("main script, main img, main b, main p").length,
    pwned: window.__pwned === undefined ? null : window.__pwned,
    width: document.documentElement.scrollWidth,
  };
})()"""
