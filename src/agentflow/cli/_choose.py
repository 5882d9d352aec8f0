"""Choosing the view for an output stream: JSON lines, rich, or plain lines."""

from __future__ import annotations

from typing import TextIO

from ._output import Writer
from ._view import JsonView, PlainView, View

__all__ = ["make_view"]


def make_view(
    stream: TextIO, *, json_lines: bool = False, plain: bool = False, verbose: bool = False
) -> View:
    """The view for ``stream``: JSON lines, rich (a terminal with ``rich``), or plain lines."""
    if json_lines:
        return JsonView(stream, verbose=verbose)
    if not plain and Writer(stream).isatty():
        try:
            from ._rich_view import RichView
        except ImportError:  # the ``cli`` extra is not installed
            return PlainView(stream, verbose=verbose)
        return RichView(stream, verbose=verbose)
    return PlainView(stream, verbose=verbose)
