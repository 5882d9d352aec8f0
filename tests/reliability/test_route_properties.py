"""Property tests: route resolution agrees with a straightforward reference matcher.

The reference walks every registered route in registration order (an included router's
routes take the place of the ``include`` call), keeps those whose pattern matches the type
by :func:`fnmatch.fnmatchcase`, and sorts them by descending priority, keeping registration
order for ties. Resolution in agentflow is compiled and cached per event type; it must give
the same routes in the same order, before and after the cache is warm and after new handlers
are registered, and ``app.dispatch`` must call exactly those handlers in that order.
"""

from __future__ import annotations

import fnmatch
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agentflow import App, Router
from agentflow.events import KNOWN_TYPES, UnknownEvent

# Random types and globs on purpose: the typo warning of @app.on has nothing to say here.
pytestmark = pytest.mark.filterwarnings("ignore::agentflow.core.known.UnknownEventTypeWarning")

PROPERTY_SETTINGS = settings(
    max_examples=100,  # hypothesis's default; every CI run draws new ones (no database)
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)

_TOKENS = [
    "agent", "session", "user", "span", "workflow_run", "event_", "tool_use", "status",
    "idle", "thread", "error", "message", "a", "e", "s", ".", "_", "-", "*", "*", "?",
    "[ab]", "[!a]", "[a-z]", "[", "]", "!", "é", "日",
]  # fmt: skip
tokens = st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=6).map("".join)
no_space_text = st.text(
    st.characters(blacklist_categories=("Cs", "Zs", "Zl", "Zp", "Cc")), min_size=1, max_size=8
).filter(lambda s: s == "".join(s.split()))
patterns = st.one_of(st.sampled_from(sorted(KNOWN_TYPES)), tokens, no_space_text, st.just("*"))
event_types = st.one_of(
    st.sampled_from(sorted(KNOWN_TYPES)), tokens, st.text(max_size=10), st.just("")
)


@dataclass
class Spec:
    """A random router tree: routes and nested routers, in registration order."""

    items: list[tuple[str, int] | Spec] = field(default_factory=list)


@st.composite
def specs(draw: st.DrawFn, depth: int = 0) -> Spec:
    route = st.tuples(patterns, st.integers(-2, 2))
    child = specs(depth + 1) if depth < 2 else route
    return Spec(draw(st.lists(st.one_of(route, route, child), max_size=6)))


def build(spec: Spec, router: Router, log: list[int], labels: list[tuple[str, int, int]]) -> None:
    """Register ``spec`` on ``router``; each handler appends its label to ``log``."""
    for item in spec.items:
        if isinstance(item, Spec):
            child = Router()
            router.include(child)
            build(item, child, log, labels)
        else:
            pattern, priority = item
            label = len(labels)
            labels.append((pattern, priority, label))

            def handler(event: Any, label: int = label) -> None:
                log.append(label)

            router.add_handler(handler, pattern, priority=priority)


def reference(labels: list[tuple[str, int, int]], event_type: str) -> list[int]:
    matching = [(p, prio, lbl) for p, prio, lbl in labels if fnmatch.fnmatchcase(event_type, p)]
    return [lbl for _, _, lbl in sorted(matching, key=lambda r: -r[1])]


def resolved(router: Router, labels: list[tuple[str, int, int]], event_type: str) -> list[int]:
    by_handler = {}
    for route in router.routes:
        defaults = getattr(route.handler, "__defaults__", None)  # the label, bound by default
        assert defaults is not None
        by_handler[id(route.handler)] = defaults[0]
    return [by_handler[id(r.handler)] for r in router.handlers_for(event_type)]


@PROPERTY_SETTINGS
@given(specs(), st.lists(event_types, min_size=1, max_size=8))
def test_resolution_matches_the_fnmatch_reference(spec: Spec, types: list[str]) -> None:
    app = App()
    log: list[int] = []
    labels: list[tuple[str, int, int]] = []
    build(spec, app, log, labels)
    for event_type in types + types:  # the second pass is served from the cache
        assert resolved(app, labels, event_type) == reference(labels, event_type)


@PROPERTY_SETTINGS
@given(specs(), specs(), st.lists(event_types, min_size=1, max_size=6))
def test_registering_later_invalidates_the_cache(
    first: Spec, later: Spec, types: list[str]
) -> None:
    app = App()
    log: list[int] = []
    labels: list[tuple[str, int, int]] = []
    late = Router()
    app.include(late)  # an included router stays live
    build(first, app, log, labels)
    for event_type in types:
        assert resolved(app, labels, event_type) == reference(labels, event_type)
    # Handlers added afterwards, to the app and to the router included at the start.
    mark = len(labels)
    build(later, late, log, labels)
    # The late router's routes sit where it was included: before everything in ``first``.
    order = labels[mark:] + labels[:mark]
    for event_type in types:
        assert resolved(app, labels, event_type) == reference(order, event_type)


@PROPERTY_SETTINGS
@given(specs(), st.lists(event_types, min_size=1, max_size=6))
async def test_dispatch_calls_the_reference_handlers_in_order(spec: Spec, types: list[str]) -> None:
    app = App()
    log: list[int] = []
    labels: list[tuple[str, int, int]] = []
    build(spec, app, log, labels)
    for event_type in types:
        log.clear()
        await app.dispatch(UnknownEvent.model_validate({"type": event_type, "id": "e1"}))
        assert log == reference(labels, event_type)
