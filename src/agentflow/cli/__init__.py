"""The ``agentflow`` command line.

Each sub-command lives in its own module of this package, exposing ``register(subparsers)``
which adds its parser and sets ``func`` (a callable taking the parsed namespace and returning
the exit code). Modules are imported only when the command line is built, so a missing
optional extra only affects the command that needs it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from .._version import __version__

__all__ = ["build_parser", "main"]

_COMMANDS = (
    "demo", "watch", "send", "record", "replay", "emulator", "events", "worker", "webhooks",
)  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    """Build the ``agentflow`` argument parser with every available sub-command."""
    parser = argparse.ArgumentParser(
        prog="agentflow",
        description="Watch and steer AI agents through their event streams.",
        epilog="Start with:  agentflow demo",
    )
    parser.add_argument("--version", action="version", version=f"agentflow {__version__}")
    subparsers = parser.add_subparsers(title="commands", metavar="COMMAND")
    for name in _COMMANDS:
        try:
            module = importlib.import_module(f".{name}", __name__)
        except ModuleNotFoundError as exc:
            if exc.name is not None and exc.name.startswith("agentflow"):
                continue  # command not built yet
            raise
        module.register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the process exit code.

    One convention for every command: 0 done, 1 a runtime error (one line on stderr, no
    traceback), 2 bad usage (argparse's message), 130 Ctrl-C (``interrupted``, not an error).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        func = getattr(args, "func", None)
        if func is None:
            parser.print_help()
            return 2
        code: int = func(args)
    except KeyboardInterrupt:  # outside a command's event loop (run_async handles it there)
        sys.stderr.write("agentflow: interrupted\n")
        return 130
    return code


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
