"""Conformance with the official ``anthropic`` SDK (a test-only dependency).

Each of our dumps must validate as the SDK's stream event union and resolve to the SDK class
for its type; each builder's output must validate as the SDK's send params.
"""

from __future__ import annotations

import typing
from typing import Any

import pytest

anthropic_sessions = pytest.importorskip("anthropic.types.beta.sessions")

import anthropic.types.beta.sessions as sessions_mod  # noqa: E402
from anthropic.types.beta.sessions import beta_managed_agents_event_params as params_mod  # noqa: E402
from anthropic.types.beta.sessions.beta_managed_agents_stream_session_events import (  # noqa: E402
    BetaManagedAgentsStreamSessionEvents,
)
from fixture_data import load_fixture_events  # noqa: E402
from pydantic import TypeAdapter  # noqa: E402

from agentflow import events as ev  # noqa: E402
from agentflow.events import parse_event  # noqa: E402

FIXTURE = load_fixture_events()
STREAM_UNION: TypeAdapter[Any] = TypeAdapter(BetaManagedAgentsStreamSessionEvents)
SDK_CLASS_BY_TYPE = {
    typing.get_args(cls.model_fields["type"].annotation)[0]: cls
    for cls in typing.get_args(typing.get_args(BetaManagedAgentsStreamSessionEvents)[0])
}


def test_sdk_union_has_the_same_44_types() -> None:
    assert set(SDK_CLASS_BY_TYPE) == ev.KNOWN_TYPES


@pytest.mark.parametrize("obj", FIXTURE, ids=[f"{i}-{e['type']}" for i, e in enumerate(FIXTURE)])
def test_our_dump_validates_as_the_official_union(obj: dict[str, Any]) -> None:
    ours = parse_event(obj)
    dumped = ours.model_dump(mode="json", exclude_unset=True)
    official = STREAM_UNION.validate_python(dumped)
    assert type(official) is SDK_CLASS_BY_TYPE[obj["type"]]
    assert official.type == ours.type


SDK_PARAMS = {
    "user.message": sessions_mod.BetaManagedAgentsUserMessageEventParams,
    "user.interrupt": sessions_mod.BetaManagedAgentsUserInterruptEventParams,
    "user.tool_confirmation": sessions_mod.BetaManagedAgentsUserToolConfirmationEventParams,
    "user.custom_tool_result": sessions_mod.BetaManagedAgentsUserCustomToolResultEventParams,
    "user.define_outcome": sessions_mod.BetaManagedAgentsUserDefineOutcomeEventParams,
    "user.tool_result": sessions_mod.BetaManagedAgentsUserToolResultEventParams,
    "system.message": sessions_mod.BetaManagedAgentsSystemMessageEventParams,
}

BUILT = [
    ev.user_message("hello"),
    ev.user_message(
        [
            {"type": "text", "text": "a"},
            {"type": "image", "source": {"type": "url", "url": "https://x/y.png"}},
        ]
    ),
    ev.interrupt(),
    ev.interrupt("sthr_1"),
    ev.tool_confirmation("sevt_1", "allow"),
    ev.tool_confirmation("sevt_1", "deny", "not on my watch"),
    ev.custom_tool_result("sevt_2", "42"),
    ev.custom_tool_result("sevt_2", "failed", is_error=True),
    ev.tool_result("sevt_3", "ok"),
    ev.define_outcome("make tests pass", "all green", max_iterations=3),
    ev.define_outcome("use the file", {"type": "file", "file_id": "file_1"}),
    ev.system_message("be brief"),
]


@pytest.mark.parametrize("built", BUILT, ids=[f"{i}-{b['type']}" for i, b in enumerate(BUILT)])
def test_builders_validate_as_official_send_params(built: dict[str, Any]) -> None:
    params_type = SDK_PARAMS[built["type"]]
    # TypedDicts ignore unknown keys when validating, so check them against the declared ones.
    declared = set(params_type.__annotations__)
    assert set(built) <= declared, set(built) - declared
    adapter: TypeAdapter[Any] = TypeAdapter(params_type)
    # Iterable fields validate lazily: dumping consumes them, so every item is checked.
    assert adapter.dump_python(adapter.validate_python(built), mode="json") == built
    union: TypeAdapter[Any] = TypeAdapter(params_mod.BetaManagedAgentsEventParams)
    union.validate_python(built)
