"""orxhestra and LangChain are loaded only by the packages that need them."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("orxhestra", "langchain", "langchain_core", "langgraph", "langsmith")

PROBE = """
import importlib, importlib.util, sys
for name in {modules!r}:
    importlib.import_module(name)
loaded = sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r}))
installed = importlib.util.find_spec('orxhestra') is not None
print(','.join(loaded) + '|' + str(installed))
"""


def loaded_after(*modules: str) -> tuple[list[str], bool]:
    """Top-level heavy packages in ``sys.modules`` of a fresh interpreter after the imports."""
    code = PROBE.format(modules=modules, heavy=HEAVY)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    names, _, installed = out.stdout.strip().rpartition("|")
    return [n for n in names.split(",") if n], installed == "True"


def test_agentflow_and_its_testing_kit_do_not_import_orxhestra_or_langchain() -> None:
    loaded, installed = loaded_after(
        "agentflow", "agentflow.testing", "agentflow.testing.scenario", "agentflow.plugins"
    )
    assert installed  # orxhestra is there to be imported: the check below means something
    assert loaded == []


def test_the_orxhestra_packages_do() -> None:
    loaded, _ = loaded_after("agentflow.orxhestra", "agentflow.testing.orxhestra")
    assert {"orxhestra", "langchain_core"} <= set(loaded)
