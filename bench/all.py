"""Run every benchmark in ``bench/`` and print one summary table of their targets.

Run from the repository root (after ``pip install -e ".[dev]"``)::

    python bench/all.py [--only decode_dispatch,end_to_end] [--quick]

Each script runs in its own process, one after the other (they would compete for the cores
otherwise), with its own output shown as it goes. Every ``PASS``/``MISS`` line a script prints
becomes one row of the summary, with the script's wall time. ``--quick`` passes smaller
counts to the scripts that take them (a smoke run: its figures are not the ones to quote).
The exit status is 1 when any target is missed or any script fails.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
from pathlib import Path

from _common import header, table

HERE = Path(__file__).resolve().parent

# script -> (arguments of a full run, arguments of a --quick run)
SCRIPTS: dict[str, tuple[list[str], list[str]]] = {
    "startup": ([], ["--runs", "5"]),
    "decode_dispatch": ([], ["--events", "40000", "--sdk-events", "4000", "--repeat", "3"]),
    "end_to_end": ([], ["--events", "5000", "--repeat", "2"]),
    "latency": ([], []),
    "memory": ([], ["--streams", "200", "--hold", "1"]),
    "streams": ([], ["--streams", "1000"]),
    "tool_roundtrip": ([], []),
    "messages": ([], []),
    "everruns": ([], []),
    "m8tes": ([], []),
    "orxhestra": ([], []),
    "telemetry": ([], []),
    "cluster": ([], ["--sessions", "60"]),
}


def run(name: str, argv: list[str]) -> tuple[list[tuple[str, str]], float, int]:
    """Run one script, echoing its output; its target lines, wall seconds and exit status."""
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(HERE / f"{name}.py"), *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        cwd=HERE.parent,
    )
    assert proc.stdout is not None
    targets: list[tuple[str, str]] = []
    for line in proc.stdout:
        print(line, end="", flush=True)
        word, _, rest = line.partition("  ")
        if word in ("PASS", "MISS"):
            targets.append((word, rest.strip()))
    code = proc.wait()
    return targets, time.perf_counter() - started, code


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", help="comma-separated script names (default: all)")
    parser.add_argument("--quick", action="store_true", help="smaller counts (a smoke run)")
    args = parser.parse_args()
    names = args.only.split(",") if args.only else list(SCRIPTS)
    unknown = [n for n in names if n not in SCRIPTS]
    if unknown:
        parser.error(f"unknown script(s): {', '.join(unknown)}; known: {', '.join(SCRIPTS)}")
    header("agentflow benchmarks: every script, then one summary", f"scripts: {', '.join(names)}")
    rows: list[tuple[str, str, str, str]] = []
    failed = False
    for name in names:
        print(f"\n===== bench/{name}.py =====", flush=True)
        full, quick = SCRIPTS[name]
        targets, seconds, code = run(name, quick if args.quick else full)
        if not targets:
            targets = [("FAIL" if code else "-", f"(no target line; exit status {code})")]
        for word, what in targets:
            rows.append((name, word, what, f"{seconds:.0f}"))
        failed |= code != 0 or any(word != "PASS" for word, _ in targets)
    print("\n===== summary =====")
    table([("script", "<"), ("", "<"), ("target", "<"), ("wall s", ">")], rows)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
