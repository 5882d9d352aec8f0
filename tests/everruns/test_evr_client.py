"""EverrunsClient: everruns-sdk's configuration, both surfaces' headers, typed errors."""

from __future__ import annotations

import anyio
import pytest
from evr_support import client_for, quiet_app

from agentflow import AuthenticationError, NotFoundError, PermissionDeniedError
from agentflow.everruns import DEFAULT_BASE_URL, EverrunsClient, tool_approval
from agentflow.testing import Scenario
from agentflow.testing.everruns import EverrunsEmulator

ENV = ("EVERRUNS_API_KEY", "EVERRUNS_API_URL", "EVERRUNS_ORG_ID", "EVERRUNS_AGENT_URL",
       "EVERRUNS_AGENT_KEY")  # fmt: skip


@pytest.fixture(autouse=True)
def no_everruns_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ENV:
        monkeypatch.delenv(name, raising=False)


async def test_configuration_comes_from_the_sdks_environment_variables(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("EVERRUNS_API_KEY", "evr_pat_from_env")
    async with EverrunsClient() as client:
        assert (client.base_url, client.agent_url) == (DEFAULT_BASE_URL, None)
    monkeypatch.setenv("EVERRUNS_API_URL", "http://127.0.0.1:9/api/")
    monkeypatch.setenv("EVERRUNS_AGENT_URL", "http://127.0.0.1:9/api/v1/channels/apichan_1")
    monkeypatch.setenv("EVERRUNS_AGENT_KEY", "evr_ak_from_env")
    async with EverrunsClient() as client:
        assert client.base_url == "http://127.0.0.1:9/api"
        assert client.agent_url == "http://127.0.0.1:9/api/v1/channels/apichan_1"
        text = repr(client)
    assert "from_env" not in text and "hidden" in text


def test_missing_or_bad_credentials_are_refused_clearly() -> None:
    with pytest.raises(AuthenticationError, match="EVERRUNS_API_KEY"):
        EverrunsClient()
    with pytest.raises(AuthenticationError, match="EVERRUNS_AGENT_KEY"):
        EverrunsClient(agent_url="http://127.0.0.1:9/api/v1/channels/apichan_1")
    with pytest.raises(ValueError, match="whitespace") as info:
        EverrunsClient(api_key="evr_pat_secret\n")
    assert "secret" not in str(info.value)
    with pytest.raises(ValueError, match="org_id"):
        EverrunsClient(api_key="evr_pat_k", org_id="org\r\nX-Evil: 1")


async def test_each_surface_sends_its_own_headers() -> None:
    async with EverrunsEmulator(api_key="evr_pat_k", agent_key="evr_ak_k") as emu:
        async with EverrunsClient(
            api_key="evr_pat_k", base_url=emu.base_url, org_id="org_7",
            agent_url=emu.agent_url, agent_key="evr_ak_k", end_user="customer-42",
        ) as client:  # fmt: skip
            session = await client.sessions.create(title="t")
            await client.messages.create(session.id, "hi")
            again = await client.sessions.get(session.id)
        async with EverrunsClient(agent_url=emu.agent_url, agent_key="evr_ak_k") as agent:
            other = await agent.sessions.create(title="channel only")
            await agent.messages.create(other.id, "hi", idempotency_key="k-1")
        requests = emu.requests
    management = [r for r in requests if r.surface == "management"]
    channel = [r for r in requests if r.surface == "channel"]
    assert {r.auth for r in management} == {"raw"}  # the token as it is, no Bearer
    assert {r.org_id for r in management} == {"org_7"}
    assert {r.idempotency_key for r in management} == {None}
    assert {r.auth for r in channel} == {"bearer"}
    assert again.id == session.id and channel[0].end_user == "customer-42"
    posts = [r for r in channel if r.method == "POST"]
    assert [r.path.rsplit("/", 1)[-1] for r in posts] == ["sessions", "messages"]
    assert posts[0].idempotency_key and posts[1].idempotency_key == "k-1"
    assert all(r.status < 300 for r in requests)


async def test_approvals_and_answers_need_the_channel_surface() -> None:
    async with EverrunsEmulator() as emu, client_for(emu, channel=False) as client:
        session = await client.sessions.create()
        with pytest.raises(ValueError, match="agent_url= and agent_key="):
            await client.sessions.submit_tool_approvals(session.id, [tool_approval("c", "allow")])
        with pytest.raises(ValueError, match="EVERRUNS_AGENT_URL"):
            await client.sessions.answer_questions(session.id, {"answers": {}})


@pytest.mark.parametrize("replay", [True, False], ids=["stream-first", "listing-first"])
async def test_a_wrong_key_raises_authentication_error_after_one_request(replay: bool) -> None:
    async with EverrunsEmulator(api_key="evr_pat_right") as emu:
        session_id = emu.create_session()
        async with EverrunsClient(api_key="evr_pat_wrong", base_url=emu.base_url) as client:
            with anyio.fail_after(5), pytest.raises(AuthenticationError) as info:
                async with client.events.stream(session_id, replay=replay):
                    pass
        requests = emu.requests
    assert len(requests) == 1 and requests[0].status == 401
    assert "wrong" not in str(info.value) and "right" not in str(info.value)


async def test_app_run_with_a_wrong_key_fails_after_one_request() -> None:
    async with EverrunsEmulator(api_key="evr_pat_right") as emu:
        session_id = emu.create_session()
        async with EverrunsClient(api_key="evr_pat_wrong", base_url=emu.base_url) as client:
            with anyio.fail_after(5), pytest.raises(AuthenticationError):
                await quiet_app().run(client, session_id, send=["hi"])
        assert len(emu.requests) == 1


async def test_forbidden_and_unknown_sessions_are_typed_and_not_retried() -> None:
    async with EverrunsEmulator(Scenario.simple("x")) as emu, client_for(emu) as client:
        with anyio.fail_after(5), pytest.raises(NotFoundError):
            async with client.events.stream("session_nope"):
                pass
        session_id = emu.create_session()
        emu.fail_next(403, path=f"/api/v1/sessions/{session_id}/sse")
        with anyio.fail_after(5), pytest.raises(PermissionDeniedError):
            async with client.events.stream(session_id):
                pass
        assert [r.status for r in emu.requests if r.path.endswith("/sse")] == [404, 403]


def test_tool_definitions_declare_the_apps_tools_as_client_side() -> None:
    app = quiet_app()

    @app.tool
    def get_weather(city: str, unit: str = "C") -> str:
        """Current weather for a city.

        Args:
            city: The city.
        """
        return city

    (definition,) = EverrunsClient.tool_definitions(app)
    assert definition["type"] == "client_side" and definition["name"] == "get_weather"
    assert definition["description"].startswith("Current weather")
    assert definition["parameters"]["required"] == ["city"]
