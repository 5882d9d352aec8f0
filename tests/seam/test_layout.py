"""The layout the code shows: no import cycle, small modules, the core free of dialects.

The import graph is read from the source (every import statement: top level, under
``TYPE_CHECKING`` and inside functions), as a reader of the code would follow it.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "src" / "agentflow"
DIALECTS = ("managed_agents", "messages", "everruns", "m8tes", "orxhestra")
CORE_SIDE = ("core", "tools", "plugins", "middleware", "wire", "app")


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _graph() -> dict[str, set[str]]:
    files = {_module(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for mod, path in files.items():
        package = mod if path.name == "__init__.py" else mod.rpartition(".")[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text())):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.split(".")[: len(package.split(".")) - node.level + 1]
                    target = ".".join(base + ([node.module] if node.module else []))
                else:
                    target = node.module or ""
                targets = [target, *(f"{target}.{a.name}" for a in node.names)]
            for target in targets:
                while target and target not in files:
                    target = target.rpartition(".")[0]
                if target.startswith("agentflow") and target != mod:
                    found.add(target)
        graph[mod] = found
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[set[str]]:
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    out: list[set[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = set()
            while True:
                w = stack.pop()
                comp.add(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(comp)

    for v in list(graph):
        if v not in index:
            visit(v)
    return out


def _top(mod: str) -> str:
    return ".".join(mod.split(".")[:2])


def test_no_import_cycle_between_modules() -> None:
    assert _cycles(_graph()) == []


def test_no_import_cycle_between_packages() -> None:
    packages: dict[str, set[str]] = {}
    for mod, deps in _graph().items():
        for dep in deps:
            a, b = _top(mod), _top(dep)
            if a != b and "agentflow" not in (a, b):
                packages.setdefault(a, set()).add(b)
    assert _cycles(packages) == []


def test_the_core_side_imports_no_dialect() -> None:
    # One exemption: ``App.run_sync(None, ...)`` makes a ManagedAgentsClient from the
    # environment (the first release's default, kept); the import runs only in that call.
    wrong = {
        (mod, dep)
        for mod, deps in _graph().items()
        for dep in deps
        if _top(mod).partition(".")[2] in CORE_SIDE
        and not (mod == "agentflow.app" and dep.startswith("agentflow.managed_agents"))
        and _top(dep).partition(".")[2] in DIALECTS
    }
    assert wrong == set()


def test_no_module_is_over_400_lines() -> None:
    sizes = {_module(p): len(p.read_text().splitlines()) for p in PACKAGE.rglob("*.py")}
    assert {m: n for m, n in sizes.items() if n > 400} == {}
