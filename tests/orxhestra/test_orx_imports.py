"""orxhestra and LangChain are loaded only by the packages that need them."""

from __future__ import annotations

import subprocess
import sys

import pytest

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


RUN_ELSEWHERE = """
import sys

import pytest
from agentflow import App
from agentflow.testing import Emulator, Scenario

app = App(load_entrypoints=False)
texts = []
app.on(kind="message.completed")(lambda event: texts.append(event.text))
with Emulator(Scenario.simple("Hello.")).run_in_thread() as emu:
    session = emu.create_session()
    from agentflow import ManagedAgentsClient

    async def main():
        async with ManagedAgentsClient(api_key=emu.api_key, base_url=emu.base_url) as client:
            return await app.run(client, session, send=["Hi"])

    import anyio
    result = anyio.run(main)
loaded = sorted({{m.split('.')[0] for m in sys.modules}} & set({heavy!r}))
print(result.stop_reason, texts, loaded)
"""


def test_an_app_run_on_another_dialect_never_loads_orxhestra_or_langchain() -> None:
    out = subprocess.run(
        [sys.executable, "-c", RUN_ELSEWHERE.format(heavy=HEAVY)],
        capture_output=True, text=True, check=False, timeout=60,
    )  # fmt: skip
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "end_turn ['Hello.'] []"


MISSING = """
import sys

import pytest
sys.modules[{missing!r}] = None  # as if the extra were not installed
try:
    import {module}
except ImportError as exc:
    print(exc)
else:
    print("imported")
"""


@pytest.mark.parametrize("missing", ["orxhestra", "langchain_core"])
@pytest.mark.parametrize("module", ["agentflow.orxhestra", "agentflow.testing.orxhestra"])
def test_without_the_extra_the_import_error_names_it(module: str, missing: str) -> None:
    code = MISSING.format(missing=missing, module=module)
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    message = out.stdout.strip()
    assert message.startswith(f"{module} needs the 'orxhestra' extra ({missing} is not")
    assert "pip install 'agentflow-events[orxhestra]'" in message
