"""What the commands share: view and connection options, loading an app, running a coroutine."""

from __future__ import annotations

import argparse
import importlib
import logging
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from typing import Any

import anyio

from ..core.exceptions import AgentflowError
from ._output import silence_stdout

__all__ = [
    "EXIT_ERROR",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_USAGE",
    "CommandError",
    "TurnEnd",
    "add_connection_args",
    "add_view_args",
    "api_key_from_env",
    "fail",
    "interrupted",
    "key_arg",
    "latest_event_id",
    "load_object",
    "log_lines",
    "log_to",
    "port_arg",
    "run_async",
    "seconds_arg",
]

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_INTERRUPTED = 130


class CommandError(Exception):
    """A user-facing failure: printed as ``agentflow <command>: error: <message>``, exit 1."""


def fail(prog: str, message: str, code: int = EXIT_ERROR) -> int:
    """Print ``message`` to stderr the argparse way and return ``code``."""
    try:
        sys.stderr.write(f"{prog}: error: {message}\n")
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # pragma: no cover - stderr gone too
        pass
    return code


def port_arg(text: str) -> int:
    """An argparse ``type``: a TCP port, 0 (pick a free one) to 65535."""
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port must be 0-65535 (0 = a free one), got {port}")
    return port


def seconds_arg(text: str) -> float:
    """An argparse ``type``: a duration in seconds, 0 or more."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number of seconds: {text!r}") from None
    if not value >= 0:  # also refuses nan
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def key_arg(text: str) -> str:
    """An argparse ``type``: an API key that can be sent as given (never echoed back)."""
    from ..wire.http import check_api_key

    try:
        check_api_key(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None
    return text


def interrupted(prog: str) -> int:
    """Say ``PROG: interrupted`` on stderr and return 130 (Ctrl-C is a way to stop, not an
    error)."""
    try:
        sys.stderr.write(f"{prog}: interrupted\n")
        sys.stderr.flush()
    except (BrokenPipeError, ValueError):  # pragma: no cover - stderr gone
        pass
    return EXIT_INTERRUPTED


def add_view_args(parser: argparse.ArgumentParser) -> None:
    """``--json``, ``--plain`` and ``-v``: how events are shown."""
    group = parser.add_mutually_exclusive_group()
    group.add_argument(
        "--json",
        action="store_true",
        help="print one event per line as JSON (the event as received), nothing else",
    )
    group.add_argument(
        "--plain",
        action="store_true",
        help="plain lines without colours or a live footer (the default when not a terminal)",
    )
    parser.add_argument(
        "-v",
        "--verbose",
        action="store_true",
        help="also show spans, usage and other quiet events, and agentflow's log lines",
    )


def add_connection_args(parser: argparse.ArgumentParser) -> None:
    """``--base-url`` (default ``ANTHROPIC_BASE_URL``); the key comes from the environment."""
    parser.add_argument(
        "--base-url",
        default=None,
        help="API base URL (default: $ANTHROPIC_BASE_URL, else the public API)",
    )


def api_key_from_env() -> str:
    """``ANTHROPIC_API_KEY``, or :class:`CommandError` saying how to set it.

    Surrounding whitespace (a newline from ``$(cat key.txt)``) is stripped; whitespace
    inside the key is refused with a message that never shows the key.
    """
    from ..wire.http import check_api_key

    key = os.environ.get("ANTHROPIC_API_KEY", "").strip()
    if not key:
        raise CommandError(
            "ANTHROPIC_API_KEY is not set; export your API key first "
            "(or try `agentflow demo`, which needs none)"
        )
    try:
        check_api_key(key, "ANTHROPIC_API_KEY")
    except ValueError as exc:
        raise CommandError(str(exc)) from None
    return key


def load_object(spec: str) -> Any:
    """Import ``module:attr`` (``attr`` may be dotted); :class:`CommandError` if it fails."""
    module_name, sep, attr = spec.partition(":")
    if not sep or not module_name or not attr:
        raise CommandError(f"expected MODULE:ATTRIBUTE (like myapp.main:app), got {spec!r}")
    if "" not in sys.path and os.getcwd() not in sys.path:
        sys.path.insert(0, os.getcwd())  # like `python -m`: modules in the current directory
    try:
        obj: Any = importlib.import_module(module_name)
    except ImportError as exc:
        raise CommandError(f"cannot import {module_name!r}: {exc}") from exc
    for part in attr.split("."):
        try:
            obj = getattr(obj, part)
        except AttributeError:
            raise CommandError(f"module {module_name!r} has no attribute {attr!r}") from None
    return obj


class _Forward(logging.Handler):
    def __init__(self, emit: Callable[[str], None]) -> None:
        super().__init__(logging.INFO)
        self._emit = emit
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self._emit(self.format(record))
        except Exception:  # pragma: no cover - never let logging break the command
            self.handleError(record)


def log_lines(view: Any, *, json_lines: bool = False) -> Callable[[str], None]:
    """Where log lines go (for :func:`log_to`): the view, or stderr when stdout is JSON."""

    def to_view(text: str) -> None:
        view.line("log", text, "dim")

    def to_stderr(text: str) -> None:
        try:
            sys.stderr.write(text + "\n")
            sys.stderr.flush()
        except (BrokenPipeError, ValueError):  # pragma: no cover - stderr gone
            pass

    return to_stderr if json_lines else to_view


@contextmanager
def log_to(emit: Callable[[str], None] | None, *, verbose: bool) -> Iterator[None]:
    """Route the ``agentflow`` loggers to ``emit`` while the command runs.

    With ``verbose`` every INFO line (one per event from ``LoggingMiddleware``) is shown;
    otherwise only warnings and errors. Without ``emit`` they are kept quiet.
    """
    logger = logging.getLogger("agentflow")
    handler: logging.Handler
    if emit is None:
        handler = logging.NullHandler()
    else:
        handler = _Forward(emit)
        handler.setLevel(logging.INFO if verbose else logging.WARNING)
    old_level, old_propagate = logger.level, logger.propagate
    logger.addHandler(handler)
    logger.setLevel(logging.INFO if verbose else logging.WARNING)
    logger.propagate = False
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
        logger.propagate = old_propagate


def _find(
    exc: BaseException, kinds: type[BaseException] | tuple[type[BaseException], ...]
) -> BaseException | None:
    """``exc`` or the first exception of ``kinds`` inside it (exception groups)."""
    if isinstance(exc, kinds):
        return exc
    for inner in getattr(exc, "exceptions", ()):
        found = _find(inner, kinds)
        if found is not None:
            return found
    return None


def _user_error(exc: BaseException) -> BaseException | None:
    """The CommandError / AgentflowError in ``exc`` (looking inside exception groups)."""
    return _find(exc, (CommandError, AgentflowError))


def run_async(
    prog: str, main: Callable[[], Awaitable[int]], *, close: Callable[[], None] | None = None
) -> int:
    """Run ``main`` on an event loop and turn how it ends into an exit code.

    Ctrl-C gives 130 and the line ``PROG: interrupted`` (not an error); a
    :class:`CommandError` or an agentflow error is one line on stderr and exit 1. ``close``
    (the view's) runs in every case.
    """
    try:
        return anyio.run(main)
    except KeyboardInterrupt:
        _close(close)
        return interrupted(prog)
    except Exception as exc:
        if _find(exc, BrokenPipeError) is not None:
            silence_stdout()  # the reader went away (`| head`): stop quietly
            return EXIT_OK
        found = _user_error(exc)
        if found is None:
            raise
        _close(close)
        return fail(prog, str(found))
    finally:
        _close(close)


def _close(close: Callable[[], None] | None) -> None:
    if close is not None:
        close()


async def latest_event_id(client: Any, session_id: str) -> str | None:
    """The id of the session's newest stored event (``None`` for an empty history)."""
    async for event in client.events.list(session_id, order="desc", limit=1):
        return str(event.id) if event.id is not None else None
    return None


class TurnEnd:
    """An ``until=`` predicate: the end of the turn under way when the command started.

    ``mark`` is the newest stored event at that moment. The stream replays history first;
    idles before the mark belong to earlier turns and do not count. If the mark itself ends
    a turn, or the session was ``idle`` when the command started, it stops at the mark: no
    turn was under way. An idle session with no events at all has nothing to wait for.
    """

    def __init__(self, mark: str | None, *, idle: bool = False) -> None:
        self.mark = mark
        self.idle = idle
        self.passed = mark is None

    @property
    def nothing_to_wait_for(self) -> bool:
        """The session was idle with no stored event: the (empty) history is all there is."""
        return self.idle and self.mark is None

    def __call__(self, event: Any) -> bool:
        if not self.passed:
            if event.id != self.mark:
                return False
            self.passed = True
            if self.idle:
                return True  # idle when the command started: no turn was under way
        return bool(event.is_final_response())
