"""`agentflow record`, `replay` and `watch` against the emulator (a real server on 127.0.0.1)."""

from __future__ import annotations

import io
import json
import textwrap
from collections.abc import Iterator
from fnmatch import fnmatchcase
from pathlib import Path

import anyio
import pytest

from agentflow.cli import demo_app, main
from agentflow.cli._view import PlainView
from agentflow.cli.demo import demo_scenario, run_demo
from agentflow.events import parse_event
from agentflow.testing import Emulator, Say, Scenario, Turn


@pytest.fixture
def demo_emulator(monkeypatch: pytest.MonkeyPatch) -> Iterator[Emulator]:
    with Emulator(demo_scenario(delay=0)).run_in_thread() as emu:
        monkeypatch.setenv("ANTHROPIC_API_KEY", emu.api_key)
        monkeypatch.delenv("ANTHROPIC_BASE_URL", raising=False)
        yield emu


def _live_demo(emu: Emulator) -> tuple[str, list[str]]:
    trace: list[str] = []

    async def go() -> str:
        with anyio.fail_after(30):
            run = await run_demo(
                PlainView(io.StringIO()), trace=trace, base_url=emu.base_url, api_key=emu.api_key
            )
        assert run.result is not None and run.result.stop_reason == "end_turn"
        return run.session_id

    return anyio.run(go), trace


def test_replay_of_a_recorded_demo_calls_the_same_handlers_in_the_same_order(
    demo_emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session_id, live = _live_demo(demo_emulator)
    recording = tmp_path / "demo.jsonl"
    code = main(["record", session_id, "-o", str(recording), "--base-url", demo_emulator.base_url])
    assert code == 0
    recorded = [json.loads(line) for line in recording.read_text().splitlines()]
    assert recorded == demo_emulator.history(session_id)
    assert f"recorded {len(recorded)} events of {session_id}" in capsys.readouterr().err

    demo_app.TRACE.clear()
    try:
        code = main(["replay", str(recording), "--app", "agentflow.cli.demo_app:app", "--plain"])
        replayed = list(demo_app.TRACE)
    finally:
        demo_app.TRACE.clear()
    assert code == 0
    handlers = {call.split()[0] for call in live}
    assert handlers == {"on_text", "on_tool_call", "on_decision", "on_result",
                        "on_session_error", "on_status"}  # fmt: skip
    assert replayed == live
    out = capsys.readouterr().out
    # the router's decisions are printed and match what the live run sent
    assert out.count("router   would send") == 4
    assert out.count("[same as recorded]") == 4
    assert "4 from the router (4 same as recorded, 0 different)" in out


def test_record_follow_stops_when_the_session_is_terminated(
    demo_emulator: Emulator, tmp_path: Path
) -> None:
    session_id, _ = _live_demo(demo_emulator)
    demo_emulator.terminate(session_id)
    out = tmp_path / "all.jsonl"
    code = main(["record", session_id, "-o", str(out), "--follow", "--base-url",
                 demo_emulator.base_url])  # fmt: skip
    assert code == 0
    types = [json.loads(line)["type"] for line in out.read_text().splitlines()]
    assert types[-1] == "session.status_terminated"
    assert types.count("session.status_idle") == 3


def test_record_without_a_key_says_how_to_set_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    assert main(["record", "sesn_x", "-o", str(tmp_path / "x.jsonl")]) == 1
    assert "ANTHROPIC_API_KEY is not set" in capsys.readouterr().err


def test_record_of_an_unknown_session_is_a_clear_error(
    demo_emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["record", "sesn_nope", "-o", str(tmp_path / "x.jsonl"),
                 "--base-url", demo_emulator.base_url])  # fmt: skip
    assert code == 1
    err = capsys.readouterr().err
    assert err.startswith("agentflow record: error:")
    assert "sesn_nope" in err and "404" in err
    assert demo_emulator.api_key not in err


def test_watch_shows_a_turn_live_and_stops_when_it_ends(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = Scenario([Turn([Say("Watching works.", stream=True)])], step_delay=0.01)
    with Emulator(scenario).run_in_thread() as emu:
        monkeypatch.setenv("ANTHROPIC_API_KEY", emu.api_key)
        session_id = emu.create_session()
        emu.send(session_id, [{"type": "user.message",
                               "content": [{"type": "text", "text": "hi"}]}])  # fmt: skip
        code = main(["watch", session_id, "--until-idle", "--plain", "--base-url", emu.base_url])
    assert code == 0
    out = capsys.readouterr().out
    assert "you      hi" in out
    assert "agent    Watching works." in out
    assert "status   idle (end_turn)" in out
    assert "\nsummary\n" in out and "\x1b" not in out


def test_watch_until_idle_on_an_idle_session_shows_the_history_and_returns(
    demo_emulator: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    session_id, _ = _live_demo(demo_emulator)
    code = main(["watch", session_id, "--until-idle", "--json", "--base-url",
                 demo_emulator.base_url])  # fmt: skip
    assert code == 0
    lines = capsys.readouterr().out.splitlines()
    assert [parse_event(line).id for line in lines] == [
        e["id"] for e in demo_emulator.history(session_id)
    ]


APP_MODULE = textwrap.dedent(
    """
    from agentflow import App, user_message

    app = App()
    seen = []

    @app.on("agent.message")
    async def reply(event, ctx):
        seen.append(event.id)
        if event.text == "boom":
            raise RuntimeError("handler failed")
        await ctx.send(user_message("thanks: " + event.text))
    """
)


def _recording(tmp_path: Path, *lines: str) -> Path:
    path = tmp_path / "rec.jsonl"
    path.write_text("\n".join(lines) + "\n")
    return path


def _message(i: int, text: str) -> str:
    return json.dumps({"type": "agent.message", "id": f"sevt_{i}",
                       "processed_at": f"2026-05-14T09:12:0{i}Z",
                       "content": [{"type": "text", "text": text}]})  # fmt: skip


def test_replay_prints_handler_replies_and_reports_bad_lines_and_handler_errors(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "replay_target_app.py").write_text(APP_MODULE)
    monkeypatch.syspath_prepend(str(tmp_path))
    path = _recording(
        tmp_path,
        _message(1, "hello"),
        "{not json",
        '{"type": "agent.tool_use", "id": "sevt_x"}',
        _message(2, "boom"),
        _message(3, "bye"),
    )
    code = main(["replay", str(path), "--app", "replay_target_app:app", "--plain"])
    out = capsys.readouterr().out
    assert code == 1
    import replay_target_app  # type: ignore[import-not-found]

    assert replay_target_app.seen == ["sevt_1", "sevt_2", "sevt_3"]  # nothing lost
    assert 'handler  would send {"type":"user.message"' in out and "thanks: hello" in out
    assert "thanks: bye" in out
    assert "skipped  line 2:" in out and "skipped  line 3:" in out
    assert "raised   handler" in out and "RuntimeError" in out
    assert "2 undecodable line(s)" in out


def test_replay_with_a_bad_app_spec_is_a_clear_error(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = _recording(tmp_path, _message(1, "hi"))
    assert main(["replay", str(path), "--app", "no_such_module_here:app"]) == 1
    assert "cannot import 'no_such_module_here'" in capsys.readouterr().err
    assert main(["replay", str(path), "--app", "json:dumps"]) == 1
    assert "not an agentflow App" in capsys.readouterr().err
    assert main(["replay", str(tmp_path / "missing.jsonl"), "--app", "json:x"]) == 1
    assert "error:" in capsys.readouterr().err


def test_demo_record_then_replay_needs_no_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("ANTHROPIC_API_KEY", raising=False)
    recording = tmp_path / "demo.jsonl"
    assert main(["demo", "--plain", "--delay", "0", "--record", str(recording)]) == 0
    events = [parse_event(line) for line in recording.read_text().splitlines()]
    assert f"recorded {len(events)} events" in capsys.readouterr().out
    assert events[0].type == "user.message" and events[-1].is_final_response()
    demo_app.TRACE.clear()
    try:
        assert main(["replay", str(recording), "--app", "agentflow.cli.demo_app:app"]) == 0
        patterns = (
            "agent.message",
            "agent.*tool_use",
            "user.tool_confirmation",
            "*tool_result",
            "session.error",
            "session.status_*",
        )  # the demo's handlers
        matching = [e for e in events if any(fnmatchcase(e.type, p) for p in patterns)]
        assert [call.split()[2] for call in demo_app.TRACE] == [e.id for e in matching]
    finally:
        demo_app.TRACE.clear()
    assert "(4 same as recorded, 0 different)" in capsys.readouterr().out


STOPPING_APP = textwrap.dedent(
    """
    from agentflow import App

    def create_app():
        app = App()
        app.seen = []

        @app.on("agent.message")
        def note(event, ctx):
            app.seen.append(event.id)
            if event.text == "stop":
                ctx.stop()

        return app
    """
)


def test_replay_takes_an_app_factory_and_honours_ctx_stop(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "replay_stop_app.py").write_text(STOPPING_APP)
    monkeypatch.syspath_prepend(str(tmp_path))
    path = _recording(tmp_path, _message(1, "go"), _message(2, "stop"), _message(3, "never"))
    code = main(["replay", str(path), "--app", "replay_stop_app:create_app", "--plain"])
    out = capsys.readouterr().out
    assert code == 0
    assert "stopped  ctx.stop() was called; the rest is not replayed" in out
    assert "replayed        2 events" in out
    assert "never" not in out


def test_replay_without_the_router_runs_no_tool(
    demo_emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    session_id, _ = _live_demo(demo_emulator)
    recording = tmp_path / "demo.jsonl"
    assert main(["record", session_id, "-o", str(recording), "--base-url",
                 demo_emulator.base_url]) == 0  # fmt: skip
    capsys.readouterr()
    args = ["replay", str(recording), "--app", "agentflow.cli.demo_app:app", "--no-router"]
    try:
        assert main(args) == 0
    finally:
        demo_app.TRACE.clear()
    out = capsys.readouterr().out
    assert "router   would send" not in out
    assert "0 from the router" in out
