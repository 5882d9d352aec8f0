"""The quick reference card: every event type of a dialect, what it means and when it fires.

Each dialect describes its own events as :class:`CardRow` values (type, direction, key
fields, ``kind``, when it fires), usually generated from its event models with
:func:`rows_from_models`. :data:`CARDS` names where each dialect's rows come from
(``module:function``, imported only when asked for), so a dialect is added by registering
one entry. ``docs/events.md`` is :func:`render_markdown` of every registered card, and
``agentflow events [TYPE]`` prints one card or one type.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Sequence

from ._render import render_markdown, render_row, render_table
from ._rows import CardRow, kind_of, rows_from_models

__all__ = [
    "CARDS",
    "CardRow",
    "card",
    "cards",
    "kind_of",
    "register_card",
    "render_markdown",
    "render_row",
    "render_table",
    "rows_from_models",
]

CARDS: dict[str, str] = {
    "managed_agents": "agentflow.managed_agents.card:rows",
}
"""Dialect name -> ``module:function`` returning its rows, in the order the card shows them."""


def register_card(dialect: str, target: str) -> None:
    """Add (or replace) a dialect's card: ``target`` is ``module:function``."""
    module, sep, name = target.partition(":")
    if not sep or not module or not name:
        raise ValueError(f"expected module:function, got {target!r}")
    CARDS[dialect] = target


def card(dialect: str) -> list[CardRow]:
    """The rows of one dialect's card (``ValueError`` naming the known ones if unknown)."""
    target = CARDS.get(dialect)
    if target is None:
        known = ", ".join(sorted(CARDS))
        raise ValueError(f"no event card for dialect {dialect!r}; known: {known}")
    module, _, name = target.partition(":")
    rows: Callable[[], Sequence[CardRow]] = getattr(importlib.import_module(module), name)
    return list(rows())


def cards() -> dict[str, list[CardRow]]:
    """Every registered card, by dialect."""
    return {dialect: card(dialect) for dialect in CARDS}
