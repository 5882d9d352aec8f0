"""The live view of an event stream: plain lines, JSON lines, or (in a terminal) rich.

``make_view`` (:mod:`agentflow.cli._choose`) picks the kind: ``--json`` gives one JSON
object per line (the event's ``raw`` form); otherwise a terminal gets the rich view when the
``cli`` extra is installed, and anything else (a pipe, a file, CI, or ``--plain``) gets plain
lines with no escape codes.

Every view is fed events with :meth:`View.show` and ends with :meth:`View.finish`, which
prints the summary (events by type, tool calls and outcomes, time to first event, total time).
"""

from __future__ import annotations

import json
from typing import TextIO

from ..core.events import Event
from ._describe import Line, describe, summary_rows
from ._kinds import STREAMED_KINDS, describe_kind, is_native, tally_kind
from ._output import Writer
from ._tally import Tally

__all__ = ["JsonView", "PlainView", "View"]

_TAG_WIDTH = 9
_KIND_STREAM = "\0message.delta"  # the key of text streamed by kind (no event id to key on)


class View:
    """Base live view: counts every event, draws lines and streamed text, prints a summary."""

    def __init__(self, stream: TextIO, *, verbose: bool = False) -> None:
        self.out = Writer(stream)
        self.verbose = verbose
        self.tally = Tally()
        self._preview: str | None = None  # id of the agent.message being streamed
        self._streamed: dict[str, str] = {}

    # -- what commands call -----------------------------------------------------------------

    def start(self) -> None:
        """Start the clock (time to first event is measured from here)."""
        self.tally.restart()

    def note(self, text: str) -> None:
        """A line of our own (not an event): where the emulator runs, what is being sent."""
        self._close_stream()
        self._line(Line("--", text, "note"))

    def line(self, tag: str, text: str, style: str = "note") -> None:
        """A tagged line of our own, e.g. a reply a replay would send."""
        self._close_stream()
        self._line(Line(tag, text, style))

    def show(self, event: Event) -> None:
        """Draw one event as it arrives."""
        call = self.tally.add(event)
        if not is_native(event):
            self._show_kind(event)
            return
        etype = event.type
        if etype == "event_start":
            ref = getattr(event, "event", None)
            if getattr(ref, "type", None) == "agent.message":
                self._close_stream()
                self._preview = str(getattr(ref, "id", ""))
                self._streamed[self._preview] = ""
                self._open_stream()
            return
        if etype == "event_delta":
            event_id = str(getattr(event, "event_id", ""))
            if event_id in self._streamed:
                self._streamed[event_id] += event.text
                if event_id == self._preview:
                    self._stream_text(event.text)
            return
        streamed = None
        if etype == "agent.message" and event.id is not None:
            streamed = self._streamed.pop(event.id, None)
        if streamed is not None and event.id == self._preview and streamed == event.text:
            self._end_stream(event.text)
            return
        if etype == "span.model_request_end" and self._preview is not None:
            self._close_stream()  # a preview the final event never completed
        line = describe(event, call, verbose=self.verbose)
        if line is not None:
            self._close_stream()
            self._line(line)

    def _show_kind(self, event: Event) -> None:
        """Draw an event of another dialect from its ``kind`` (see :mod:`._kinds`)."""
        tally_kind(self.tally, event)
        kind = event.kind
        if kind == "message.delta":
            if self._preview != _KIND_STREAM:
                self._close_stream()
                self._preview = _KIND_STREAM
                self._streamed[_KIND_STREAM] = ""
                self._open_stream()
            self._streamed[_KIND_STREAM] += event.text
            self._stream_text(event.text)
            return
        if kind in STREAMED_KINDS:
            return
        if kind == "message.completed" and self._preview == _KIND_STREAM:
            if self._streamed.pop(_KIND_STREAM, None) == event.text:
                self._end_stream(event.text)
                return
        line = describe_kind(event, verbose=self.verbose)
        if line is not None:
            self._close_stream()
            self._line(line)

    def finish(self, extra: list[tuple[str, str]] | None = None) -> None:
        """Print the summary, with ``extra`` rows (label, text) at the end."""
        self._close_stream()
        self._summary([*summary_rows(self.tally), *(extra or [])])

    def close(self) -> None:
        """Release the terminal (rich); plain views have nothing to release."""

    # -- drawing primitives (per kind of view) -----------------------------------------------

    def _close_stream(self) -> None:
        if self._preview is not None:
            self._streamed.pop(self._preview, None)
            self._preview = None
            self._break_stream()

    def _line(self, line: Line) -> None:
        raise NotImplementedError

    def _open_stream(self) -> None:
        raise NotImplementedError

    def _stream_text(self, text: str) -> None:
        raise NotImplementedError

    def _end_stream(self, text: str) -> None:
        """The streamed message is complete and matched its final text."""
        self._preview = None
        self._break_stream()

    def _break_stream(self) -> None:
        raise NotImplementedError

    def _summary(self, rows: list[tuple[str, str]]) -> None:
        raise NotImplementedError


class PlainView(View):
    """Plain text lines, no escape codes: for pipes, files and CI logs."""

    def _line(self, line: Line) -> None:
        lines = line.text.splitlines() or [""]
        indent = " " * _TAG_WIDTH
        body = "\n".join([lines[0], *(indent + rest for rest in lines[1:])])
        self.out.write(f"{line.tag:<{_TAG_WIDTH}}{body}".rstrip() + "\n")

    def _open_stream(self) -> None:
        self.out.write(f"{'agent':<{_TAG_WIDTH}}")

    def _stream_text(self, text: str) -> None:
        self.out.write(text.replace("\n", "\n" + " " * _TAG_WIDTH))

    def _break_stream(self) -> None:
        self.out.write("\n")

    def _summary(self, rows: list[tuple[str, str]]) -> None:
        width = max((len(label) for label, _ in rows), default=0) + 2
        text = "".join(f"  {label:<{width}}{value}\n" for label, value in rows)
        self.out.write("\nsummary\n" + text)


class JsonView(View):
    """One JSON object per line: the event as received (``event.raw``); nothing else."""

    def show(self, event: Event) -> None:
        self.tally.add(event)
        self.out.write(json.dumps(event.raw, ensure_ascii=False, separators=(",", ":")) + "\n")

    def note(self, text: str) -> None:
        """Notes are not events: JSON output leaves them out."""

    def line(self, tag: str, text: str, style: str = "note") -> None:
        """Not an event either: left out."""

    def finish(self, extra: list[tuple[str, str]] | None = None) -> None:
        """No summary: the output stays one event per line."""
