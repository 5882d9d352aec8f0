"""What the loaded dialects know (their event types, their events' fields), for typo checks.

The core imports no dialect, so the dialects tell it: a :class:`~agentflow.Dialect` subclass
that declares ``known_types`` registers them when the class is made, and every
:class:`~agentflow.Event` subclass registers itself, so its fields and properties count as
attributes a field filter may name. :func:`register_known_types` and
:func:`register_event_fields` do the same by hand (a dialect whose types are only known at
run time).

``@app.on(...)`` checks against what is registered *when it runs*: import your source
(``from agentflow import ManagedAgentsClient``, ``agentflow.messages``, ...) before
registering handlers. With no dialect loaded, nothing is checked (nothing is known).
"""

from __future__ import annotations

import functools
import importlib
import threading
from collections.abc import Iterable
from fnmatch import fnmatchcase
from typing import Any

__all__ = [
    "UnknownEventTypeWarning",
    "attribute_names",
    "closest",
    "filter_problem",
    "known_fields",
    "known_types",
    "pattern_problem",
    "register_dialect_class",
    "register_event_class",
    "register_event_fields",
    "register_known_types",
]


class UnknownEventTypeWarning(UserWarning):
    """``@app.on(...)`` names an event type (or a glob) no loaded dialect has.

    ``App(strict=True)`` makes it a ``ValueError``; ``warnings.simplefilter("error",
    UnknownEventTypeWarning)`` does the same for every router.
    """


_lock = threading.Lock()
_types: dict[str, frozenset[str]] = {}
_classes: list[type] = []  # the base Event first, then every subclass
_fields: set[str] = set()
_modules: list[str] = []  # event modules of registered dialects, not imported yet
_version = [0]
_ALWAYS = frozenset({"error"})  # every event answers it (Event.__getattr__), no class declares it


def register_known_types(dialect: str, types: Iterable[str]) -> None:
    """Add the event ``types`` of ``dialect`` (a name) to what typo checks accept."""
    with _lock:
        _types[dialect] = _types.get(dialect, frozenset()) | frozenset(types)


def register_event_class(cls: type) -> None:
    """Count the fields and properties of the event class ``cls`` as filterable."""
    with _lock:
        _classes.append(cls)
        _version[0] += 1


def register_event_fields(names: Iterable[str]) -> None:
    """Count ``names`` as attributes events may have (for field filters): the attributes an
    event class passes through from a native object it wraps, say."""
    with _lock:
        _fields.update(names)
        _version[0] += 1


def known_types() -> dict[str, frozenset[str]]:
    """The registered event types, by dialect name."""
    with _lock:
        return dict(_types)


def attribute_names(cls: type) -> set[str]:
    """The public fields and properties of a class (pydantic fields, annotations,
    properties): what a field filter may name on its instances."""
    names: set[str] = set()
    model_fields = getattr(cls, "__pydantic_fields__", None)
    if isinstance(model_fields, dict):
        names.update(model_fields)
    for klass in cls.__mro__:
        names.update(getattr(klass, "__annotations__", {}) or {})
        for name, value in vars(klass).items():
            if isinstance(value, (property, functools.cached_property)):
                names.add(name)
    return {name for name in names if not name.startswith("_")}


@functools.lru_cache(maxsize=4)
def _fields_at(version: int) -> frozenset[str] | None:
    with _lock:
        classes, extra = list(_classes), set(_fields)
    if not any(getattr(c, "dialect", None) is not None for c in classes) and not extra:
        return None  # no dialect's events are loaded: nothing to check against
    found = set(extra)
    for cls in classes:
        found |= attribute_names(cls)
    return frozenset(found)


def known_fields() -> frozenset[str] | None:
    """Every attribute a registered event class has; ``None`` when no dialect's events are
    loaded. The event modules registered dialects name are imported first."""
    while _modules:
        with _lock:
            module = _modules.pop() if _modules else None
        if module is not None:
            importlib.import_module(module)  # its classes register themselves
    return _fields_at(_version[0])


def _names(types: dict[str, frozenset[str]]) -> str:
    return ", ".join(sorted(types))


def closest(word: str, candidates: Iterable[str]) -> str | None:
    """The candidate most like ``word`` (a likely typo of it), or ``None``.

    Only candidates of about the same length are compared: a typo changes a few characters,
    and comparing every name costs a millisecond a call.
    """
    import difflib  # (only when a typo is suspected)

    slack = max(2, len(word) // 4)
    near = sorted(c for c in candidates if abs(len(c) - len(word)) <= slack)
    found = difflib.get_close_matches(word, near, n=1)
    return found[0] if found else None


def pattern_problem(pattern: str, *, is_glob: bool) -> str | None:
    """Why ``pattern`` looks like a typo (no loaded dialect has such a type), or ``None``."""
    types = known_types()
    if not types or pattern == "*":
        return None
    every = frozenset().union(*types.values())
    if is_glob:
        if any(fnmatchcase(t, pattern) for t in every):
            return None
        return f"pattern {pattern!r} matches no event type of the loaded dialects ({_names(types)})"
    if pattern in every:
        return None
    close = closest(pattern, every)
    hint = f"; did you mean {close!r}?" if close else ""
    return f"no loaded dialect ({_names(types)}) has an event type {pattern!r}{hint}"


def filter_problem(name: str, extra: Iterable[str] = ()) -> str | None:
    """Why a field filter on ``name`` can never match (no event class has it), or ``None``."""
    fields = known_fields()
    if fields is None or name in fields or name in _ALWAYS or name in extra:
        return None
    close = closest(name, fields)
    hint = f"; did you mean {close!r}?" if close else ""
    return f"no event class of the loaded dialects has a field or property {name!r}{hint}"


def register_dialect_class(cls: Any) -> None:
    """Register the ``known_types`` and ``event_module`` a :class:`~agentflow.Dialect`
    subclass declares (called when the class is made)."""
    types = vars(cls).get("known_types")
    if types:
        register_known_types(str(getattr(cls, "name", cls.__name__)), types)
    module = vars(cls).get("event_module")
    if module:
        with _lock:
            _modules.append(module)
