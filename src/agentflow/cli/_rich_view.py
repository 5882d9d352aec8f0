"""The terminal view, drawn with ``rich`` (the ``cli`` extra); imported only for a terminal.

Finished lines scroll above a live footer holding the message being streamed and a spinner
with the session status and the event count.
"""

from __future__ import annotations

from typing import TextIO

from rich.console import Console, Group
from rich.live import Live
from rich.spinner import Spinner
from rich.table import Table
from rich.text import Text

from ..core.events import Event
from ._describe import Line
from ._view import View

__all__ = ["RichView"]

_STYLES = {
    "user": "bold cyan",
    "agent": "bold white",
    "tool": "yellow",
    "ok": "green",
    "deny": "bold red",
    "error": "red",
    "status": "blue",
    "dim": "dim",
    "note": "dim italic",
}
_TAG_WIDTH = 9


class RichView(View):
    """Colours, a live footer and a summary table, for an interactive terminal."""

    def __init__(self, stream: TextIO, *, verbose: bool = False) -> None:
        super().__init__(stream, verbose=verbose)
        self.console = Console(file=stream, highlight=False, soft_wrap=False)
        self._text = ""
        self._live = Live(
            self._footer(), console=self.console, refresh_per_second=12, transient=True
        )
        self._live.start()

    def _footer(self) -> Group:
        status = self.tally.status or "connecting"
        spinner = Spinner("dots", text=Text(f" {status} - {self.tally.total} events", style="dim"))
        if self._preview is None:
            return Group(spinner)
        body = Text(f"{'agent':<{_TAG_WIDTH}}", style=_STYLES["agent"])
        body.append(self._text)
        return Group(body, spinner)

    def _refresh(self) -> None:
        self._live.update(self._footer())

    def _line(self, line: Line) -> None:
        text = Text(f"{line.tag:<{_TAG_WIDTH}}", style=_STYLES.get(line.style, ""))
        plain = line.style in ("agent", "user")
        text.append(line.text, style="" if plain else _STYLES.get(line.style, ""))
        self._refresh()  # the footer first: printing re-renders it below the new line
        self.console.print(text)

    def _open_stream(self) -> None:
        self._text = ""
        self._refresh()

    def _stream_text(self, text: str) -> None:
        self._text += text
        self._refresh()

    def _end_stream(self, text: str) -> None:
        self._preview = None
        self._text = ""
        self._line(Line("agent", text, "agent"))

    def _break_stream(self) -> None:
        if self._text:
            self._line(Line("agent", self._text, "agent"))
        self._text = ""
        self._refresh()

    def _summary(self, rows: list[tuple[str, str]]) -> None:
        self.close()
        table = Table(title="summary", show_header=False, box=None, title_justify="left")
        table.add_column(style="bold")
        table.add_column()
        for label, value in rows:
            table.add_row(label, value)
        self.console.print()
        self.console.print(table)

    def show(self, event: Event) -> None:
        """Draw one event, then update the footer."""
        super().show(event)
        self._refresh()

    def close(self) -> None:
        """Stop the live footer (idempotent)."""
        if self._live.is_started:
            self._live.stop()
