"""Writing to stdout safely: a reader that goes away (``| head``) ends the command quietly.

A broken pipe does not raise out of the view (an exception raised inside a middleware would
be handled as the app's error). The :class:`Writer` marks itself closed, drops further
output and calls ``on_close``, which commands point at the cancel scope of their run.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from typing import TextIO

__all__ = ["Writer", "silence_stdout"]


class Writer:
    """Writes and flushes text; after a broken pipe it drops output and calls ``on_close``."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.closed = False
        """True once the reader went away."""
        self.on_close: Callable[[], None] | None = None
        """Called once, when the reader goes away (commands cancel their run)."""

    def write(self, text: str, *, flush: bool = True) -> None:
        """Write ``text`` (and flush, so a live view shows it at once)."""
        if self.closed:
            return
        try:
            self.stream.write(text)
            if flush:
                self.stream.flush()
        except BrokenPipeError:
            self._closed()
        except ValueError:  # the stream was closed under us
            if not getattr(self.stream, "closed", False):
                raise
            self._closed()

    def _closed(self) -> None:
        self.closed = True
        if self.stream is sys.stdout:
            silence_stdout()
        if self.on_close is not None:
            self.on_close()

    def isatty(self) -> bool:
        """Whether the stream is an interactive terminal."""
        try:
            return self.stream.isatty()
        except (AttributeError, ValueError):
            return False


def silence_stdout() -> None:
    """Point stdout at the null device after a broken pipe.

    Python flushes ``sys.stdout`` once more at exit; with the reader gone that flush would
    print an "Exception ignored" message. Redirecting the file descriptor avoids it.
    """
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, sys.stdout.fileno())
        finally:
            os.close(devnull)
    except (OSError, ValueError, AttributeError):  # pragma: no cover - stdout is not a file
        pass
