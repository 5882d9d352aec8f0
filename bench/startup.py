"""Start-up cost: ``import agentflow`` + ``App()`` + a client, against importing its own stack.

Run from the repository root (after ``pip install -e ".[dev]"``)::

    python bench/startup.py [--runs 15]

Each sample is a fresh interpreter (``python -c``) that measures its own CPU time
(``time.process_time``) around the statements below and prints it; the interpreter's own
start-up is not counted. The rows run interleaved, ``--runs`` times each, and the table shows
the median and the spread (min-max). Before sampling, agentflow's modules are compiled to
bytecode (``compileall``, as ``pip install`` does for an installed package): with
``PYTHONDONTWRITEBYTECODE`` set, an editable checkout would otherwise compile its source in
every sample while the baseline's packages load their installed bytecode. Rows:

- baseline: ``import httpx, pydantic, anyio`` (what any client built on that stack pays);
- agentflow: ``import agentflow``, ``agentflow.App()`` and
  ``agentflow.ManagedAgentsClient(api_key=...)`` (what a program pays before its first event);
- the same plus ``client.events``: the endpoints, and with them the event models, are loaded
  on first use, so this row shows what the first stream or history read adds;
- the same plus one ``@app.tool``: a tool's input model is where pydantic's model machinery
  (``BaseModel``, ``Field``, ``create_model``) is first loaded, so this row shows what the
  first tool adds;
- import only: ``import agentflow`` alone.

Target: agentflow <= 1.6x the baseline (medians).
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys

from _common import header, table, verdict

TIMED = """
import time
t = time.process_time()
{body}
print(time.process_time() - t)
"""

ROWS: dict[str, str] = {
    "baseline: import httpx, pydantic, anyio": "import httpx, pydantic, anyio",
    "agentflow: import + App() + client": (
        "import agentflow\n"
        "app = agentflow.App()\n"
        "client = agentflow.ManagedAgentsClient(api_key='bench-not-a-key')"
    ),
    "same + client.events (event models loaded)": (
        "import agentflow\n"
        "app = agentflow.App()\n"
        "client = agentflow.ManagedAgentsClient(api_key='bench-not-a-key')\n"
        "client.events"
    ),
    "same + one @app.tool (pydantic's models loaded)": (
        "import agentflow\n"
        "app = agentflow.App()\n"
        "client = agentflow.ManagedAgentsClient(api_key='bench-not-a-key')\n"
        "@app.tool\n"
        "def add(a: int, b: int) -> int:\n"
        "    '''Add two numbers.'''\n"
        "    return a + b"
    ),
    "import agentflow only": "import agentflow",
}


def sample(body: str) -> float:
    """CPU seconds a fresh interpreter spends on ``body``."""
    out = subprocess.run(
        [sys.executable, "-c", TIMED.format(body=body)],
        check=True,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return float(out.stdout.strip().splitlines()[-1])


def compile_agentflow() -> str:
    """Write agentflow's bytecode, as an install does; say so (or that it could not)."""
    import agentflow

    folder = os.path.dirname(agentflow.__file__)
    done = compileall.compile_dir(folder, quiet=2)
    return "agentflow's bytecode compiled" if done else "agentflow's bytecode NOT compiled"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15, help="samples per row (interleaved)")
    args = parser.parse_args()
    header(
        "agentflow start-up: CPU to import and build an app and a client",
        f"{args.runs} fresh interpreters per row, interleaved; medians (ms) and spread; "
        + compile_agentflow(),
    )
    samples: dict[str, list[float]] = {name: [] for name in ROWS}
    for _ in range(args.runs):
        for name, body in ROWS.items():
            samples[name].append(sample(body) * 1000)
    medians = {name: statistics.median(values) for name, values in samples.items()}
    base = medians["baseline: import httpx, pydantic, anyio"]
    rows = [
        (name, f"{medians[name]:.1f}", f"{min(v):.1f}-{max(v):.1f}", f"{medians[name] / base:.2f}x")
        for name, v in samples.items()
    ]
    table([("row", "<"), ("median ms", ">"), ("spread ms", ">"), ("vs baseline", ">")], rows)
    ratio = medians["agentflow: import + App() + client"] / base
    ok = verdict("agentflow start-up vs its stack", ratio, "<= 1.6x", ratio <= 1.6)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
