"""The card as Markdown (``docs/events.md``) and as terminal text (``agentflow events``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ._rows import CardRow

__all__ = ["render_markdown", "render_row", "render_table"]

TITLES = {"managed_agents": "Managed Agents"}
"""How a dialect's name is written in headings (its name, otherwise)."""

HEADER = """\
# Event reference

Every event type agentflow decodes, per dialect: who sends it, its key fields (`?` marks
the optional ones; `id`, `type` and `processed_at` are left out), its `kind` in the common
vocabulary (see `agentflow/core/events.py`) and when it fires. Types not listed are still
delivered, as unknown events with every field kept.

Generated from the event models: do not edit by hand. Regenerate with
`agentflow events --markdown > docs/events.md`; a test checks it is up to date.
`agentflow events TYPE` prints one entry (`agentflow events 'agent.*'` a group).
"""


def _cell(text: str) -> str:
    return text.replace("|", "\\\\|")


def render_markdown(cards: Mapping[str, Sequence[CardRow]]) -> str:
    """``docs/events.md``: a heading and a table per dialect."""
    out = [HEADER]
    for dialect, rows in cards.items():
        out.append(f"\n## {TITLES.get(dialect, dialect)} (`{dialect}`)\n")
        out.append("| type | direction | key fields | kind | when it fires |")
        out.append("|---|---|---|---|---|")
        for row in rows:
            fields = ", ".join(f"`{f}`" for f in row.fields) or "-"
            kind = f"`{row.kind}`" if row.kind != "-" and " " not in row.kind else row.kind
            out.append(
                f"| `{row.type}` | {row.direction} | {fields} | {_cell(kind)} | {_cell(row.when)} |"
            )
    return "\n".join(out) + "\n"


def render_table(rows: Sequence[CardRow]) -> str:
    """One line per type: type, direction and kind, aligned."""
    width = max((len(r.type) for r in rows), default=0)
    dirs = max((len(r.direction) for r in rows), default=0)
    return "\n".join(
        f"{r.type:<{width}}  {r.direction:<{dirs}}  {r.kind.replace('`', '')}" for r in rows
    )


def render_row(row: CardRow) -> str:
    """Everything the card says about one type."""
    return "\n".join(
        [
            row.type,
            f"  direction   {row.direction}",
            f"  kind        {row.kind.replace('`', '')}",
            f"  fields      {', '.join(row.fields) or '-'}",
            f"  fires       {row.when.replace('`', '')}",
        ]
    )
