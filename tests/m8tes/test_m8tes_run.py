"""``app.run`` over m8tes runs on the emulator: gates answered by policies and question
handlers, every frame dispatched once, the run's result."""

from __future__ import annotations

import anyio
import pytest
from m8tes_app import Recorder, client_for, released_when_attached

from agentflow import Allow, Context, Deny
from agentflow.m8tes import DECLINED
from agentflow.testing import Emulator, Question, Say, Scenario, Tool, Turn
from agentflow.testing.m8tes import M8tesEmulator

TEXT = "I will look at the build host first and then report what I found there."
AFTER = "The cache holds two entries, a and b."
GATED = Scenario(
    [
        Turn(
            [
                Say(TEXT, thinking=True),
                Tool("bash", {"command": "ls /var/cache"}, permission="always_ask", result="a b"),
                Say(AFTER),
            ]
        ),
        Turn(
            [
                Tool("bash", {"command": "du -sh /var"}, permission="always_ask", result="2G"),
                Say("It holds two gigabytes."),
            ]
        ),
    ]
)
DENIAL = "Use the staging host instead."


async def test_a_gate_denied_by_a_policy_gets_one_deny_and_every_frame_once() -> None:
    rec = Recorder()

    @rec.app.confirm("bash")
    def staging_only() -> Deny:
        return Deny(DENIAL)

    async with M8tesEmulator(GATED) as emu, client_for(emu) as client:
        emu.hold()  # the turn waits before its end until the client is attached again
        with anyio.fail_after(15):
            run = await client.runs.create(message="check the host", human_in_the_loop=True)
            result = await released_when_attached(emu, run.id, lambda: rec.app.run(client, run.id))
        frames = emu.frames(run.id)
        requests = emu.requests
        output = emu.run(run.id).output
        tokens = (emu.run(run.id).input_tokens, emu.run(run.id).output_tokens)
    (approve,) = [r for r in requests if r.path.endswith("/approve")]
    assert approve.body == {"request_id": approve.body["request_id"], "decision": "deny",
                            "remember": False, "reason": DENIAL}  # fmt: skip
    assert rec.frames(run.id) == frames  # every frame of the run, in order
    assert rec.ids == [f"{run.id}:{i}" for i in range(len(frames))]  # each once
    assert [r.path for r in requests].count(f"/api/v2/runs/{run.id}/stream") == 1  # re-attached
    assert (result.stop_reason, result.text, result.ok) == ("end_turn", AFTER, True)
    deltas = [e.text for e in rec.events if e.kind == "message.delta"]
    assert "".join(deltas) == output == TEXT + AFTER  # the full text
    (record,) = result.tool_calls
    assert (record.kind, record.outcome, record.name, record.sent) == (
        "confirmation", "denied", "bash", True,
    )  # fmt: skip
    assert record.id == approve.body["request_id"] and record.input == {"command": "ls /var/cache"}
    failed = next(e for e in rec.events if e.kind == "tool.failed")
    assert DENIAL in failed.text and failed.tool_name == "bash"
    assert (result.usage.input_tokens, result.usage.output_tokens) == tokens
    assert result.time_to_first_token is not None and result.dialect == "m8tes"


async def test_allow_remember_and_a_reply_on_the_same_run() -> None:
    rec = Recorder()

    @rec.app.confirm("bash")
    def trusted() -> Allow:
        return Allow(remember=True)

    async with M8tesEmulator(GATED) as emu, client_for(emu) as client:
        with anyio.fail_after(15):
            run = await client.runs.create(message="check the host")
            first = await rec.app.run(client, run.id)
            second = await rec.app.run(client, run.id, send=["and the size of /var?"])
        frames = emu.frames(run.id)
        requests = emu.requests
    (approve,) = [r for r in requests if r.path.endswith("/approve")]
    assert (approve.body["decision"], approve.body["remember"]) == ("allow", True)
    assert "reason" not in approve.body
    assert (first.stop_reason, first.text) == ("end_turn", AFTER)
    assert (second.stop_reason, second.text) == ("end_turn", "It holds two gigabytes.")
    assert second.tool_calls == []  # remembered: the second gate was allowed by the platform
    assert "permission_auto_allowed" in [f["type"] for f in frames]
    assert rec.frames(run.id) == frames and rec.ids == [f"1:{i}" for i in range(len(frames))]
    (reply,) = [r for r in requests if r.path.endswith("/reply")]
    assert reply.body == {"message": "and the size of /var?", "stream": True}
    assert reply.idempotency_key


QUESTION = Scenario(
    [
        Turn(
            [
                Question("Which channel?", ("#general", "#ops"), header="Channel"),
                Say("Posting to the channel you picked."),
            ]
        )
    ]
)


async def test_a_question_is_answered_by_on_question() -> None:
    rec = Recorder()
    asked: list[tuple[str, list[str]]] = []

    @rec.app.on_question("Which*")
    def pick(question: str, options: tuple[str, ...]) -> str:
        asked.append((question, list(options)))
        return options[-1]

    async with M8tesEmulator(QUESTION) as emu, client_for(emu) as client:
        with anyio.fail_after(15):
            run = await client.runs.create(message="post it", human_in_the_loop=True)
            result = await rec.app.run(client, run.id)
        requests = emu.requests
        frames = emu.frames(run.id)
    assert asked == [("Which channel?", ["#general", "#ops"])]
    (answer,) = [r for r in requests if r.path.endswith("/answer")]
    assert answer.body["answers"] == {"Which channel?": "#ops"}
    (record,) = result.tool_calls
    assert (record.kind, record.outcome) == ("question", "answered")
    assert str(record.policy).endswith("pick")
    assert next(e for e in rec.events if e.kind == "input.requested").text == "Which channel?"
    assert "Which channel? -> #ops" in next(f["result"] for f in frames
                                             if f["type"] == "tool-result-end")  # fmt: skip
    assert rec.frames(run.id) == frames and result.stop_reason == "end_turn"


async def test_without_a_handler_a_question_is_declined_and_without_a_policy_denied() -> None:
    scenario = Scenario(
        [Turn([Question("Which channel?", ("#a", "#b")),
               Tool("bash", {"command": "ls"}, permission="always_ask"), Say("Done.")])]
    )  # fmt: skip
    rec = Recorder()
    async with M8tesEmulator(scenario) as emu, client_for(emu) as client:
        with anyio.fail_after(15):
            run = await client.runs.create(message="go", human_in_the_loop=True)
            result = await rec.app.run(client, run.id)
        requests = emu.requests
        frames = emu.frames(run.id)
    (answer,) = [r for r in requests if r.path.endswith("/answer")]
    assert answer.body["answers"] == {"Which channel?": DECLINED}
    (approve,) = [r for r in requests if r.path.endswith("/approve")]
    assert approve.body["decision"] == "deny" and "No confirmation policy" in approve.body["reason"]
    assert [(c.kind, c.outcome) for c in result.tool_calls] == [
        ("question", "declined"), ("confirmation", "denied"),
    ]  # fmt: skip
    assert rec.frames(run.id) == frames and result.text == "Done."


async def test_attaching_to_a_parked_run_answers_its_gate_first() -> None:
    rec = Recorder()

    @rec.app.confirm("bash")
    def fine() -> Allow:
        return Allow()

    async with M8tesEmulator(GATED) as emu, client_for(emu) as client:
        with anyio.fail_after(15):
            run = await client.runs.create(message="x", stream=False)
            await emu.wait_for_status(run.id, "awaiting_approval")
            result = await rec.app.run(client, run.id)
        requests = [(r.method, r.path) for r in emu.requests]
        frames = emu.frames(run.id)
    approve = requests.index(("POST", "/api/v2/runs/1/approve"))
    assert requests.count(("POST", "/api/v2/runs/1/approve")) == 1
    assert approve < requests.index(("GET", "/api/v2/runs/1/stream"))  # answered, then followed
    assert rec.frames(run.id) == frames  # the whole run, from its first frame
    assert (result.stop_reason, result.text) == ("end_turn", AFTER)
    assert [c.outcome for c in result.tool_calls] == ["allowed"]


async def test_a_run_followed_on_its_create_stream_needs_no_re_attach() -> None:
    rec = Recorder()
    emu = Emulator(Scenario([Turn([Say(TEXT)])]), dialect="m8tes")
    assert isinstance(emu, M8tesEmulator)  # the dialect switch builds the m8tes emulator
    async with emu:
        async with client_for(emu) as client:
            with anyio.fail_after(10):
                run = await client.runs.create(message="hi")
                result = await rec.app.run(client, run.id)
                again = await rec.app.run(client, run.id)  # finished: nothing more to follow
        paths = [r.path for r in emu.requests]
        frames = emu.frames(1)
    assert paths == ["/api/v2/runs/", "/api/v2/runs/1"]
    assert rec.frames(1) == frames and result.text == TEXT
    assert (again.stop_reason, again.events) == ("end_turn", 0)


async def test_ctx_interrupt_cancels_the_run_and_ends_the_turn() -> None:
    rec = Recorder()

    @rec.app.on("text-delta")
    async def stop_it(ctx: Context) -> None:
        if not ctx.state.get("cancelled"):
            ctx.state["cancelled"] = True
            await ctx.interrupt()

    scenario = Scenario([Turn([Say(TEXT), Say(AFTER)])], step_delay=0.01)
    async with M8tesEmulator(scenario) as emu:
        async with client_for(emu) as client:
            with anyio.fail_after(15):
                run = await client.runs.create(message="go")
                result = await rec.app.run(client, run.id)
        frames = emu.frames(run.id)
    assert [r.path for r in emu.requests].count("/api/v2/runs/1/cancel") == 1
    end = frames.index({"type": "cancelled", "run_id": 1})
    assert result.stop_reason == "cancelled"
    assert rec.frames(run.id) == frames[: end + 1]  # the run loop stops at the turn's end


async def test_replay_true_dispatches_the_run_again_and_replay_false_is_refused() -> None:
    first, again = Recorder(), Recorder()

    @first.app.confirm("bash")
    @again.app.confirm("bash")
    def fine() -> Allow:
        return Allow()

    async with M8tesEmulator(GATED) as emu, client_for(emu) as client:
        emu.hold()
        with anyio.fail_after(15):
            run = await client.runs.create(message="x")
            async with anyio.create_task_group() as tg:
                tg.start_soon(first.app.run, client, run.id)
                await emu.wait_held(run.id)
                await emu.wait_for_streams(run.id)
                results = []

                async def replayed() -> None:
                    results.append(await again.app.run(client, run.id, replay=True))

                tg.start_soon(replayed)
                await emu.wait_for_streams(run.id, 2)
                emu.release(run.id)
            with pytest.raises(ValueError, match="cannot start at the end"):
                await again.app.run(client, run.id, replay=False)
        frames = emu.frames(run.id)
    assert first.frames(1) == again.frames(1) == frames
    assert [r.path for r in emu.requests].count("/api/v2/runs/1/approve") == 1
    assert results[0].stop_reason == "end_turn"


async def test_ctx_send_posts_a_reply_the_run_queues() -> None:
    rec = Recorder()
    replies: list[object] = []

    @rec.app.on("text-end")
    async def follow_up(ctx: Context) -> None:
        if not replies:
            replies.extend(await ctx.send({"message": "and then?", "human_in_the_loop": False}))

    scenario = Scenario([Turn([Say(TEXT)]), Turn([Say("Then nothing.")])], step_delay=0.005)
    async with M8tesEmulator(scenario) as emu, client_for(emu) as client:
        with anyio.fail_after(15):
            run = await client.runs.create(message="go")
            result = await rec.app.run(client, run.id)
            final = await client.runs.poll(run.id, interval=0.01)
    (reply,) = [r for r in emu.requests if r.path.endswith("/reply")]
    assert reply.body == {"message": "and then?", "stream": False, "human_in_the_loop": False}
    assert reply.idempotency_key and getattr(replies[0], "delivery", None) == "queued"
    assert result.text == TEXT and final.output == "Then nothing."
