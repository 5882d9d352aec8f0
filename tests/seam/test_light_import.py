"""``import agentflow`` and building an App load no dialect and no HTTP client."""

from __future__ import annotations

import subprocess
import sys

CODE = """
import sys
import agentflow
from agentflow import Allow, App

app = App(load_entrypoints=False)

@app.on("agent.message")
def show(event):
    pass

@app.tool
def lookup(key: str) -> str:
    "Look a key up."
    return key

@app.confirm("read*")
def reads(event):
    return Allow()

app.use(lambda event, ctx, call_next: call_next(event, ctx)) if False else None
heavy = ("httpx", "httpcore", "agentflow.managed_agents", "agentflow.messages",
         "agentflow.everruns", "agentflow.m8tes", "agentflow.orxhestra", "agentflow.wire",
         "agentflow.testing", "anthropic", "starlette")
print(",".join(m for m in sys.modules if m.split(".")[0] in ("httpx", "httpcore", "anthropic",
      "starlette") or m.startswith(heavy)))
"""


def _python(code: str) -> str:
    """What a fresh interpreter running ``code`` prints."""
    args = [sys.executable, "-c", code]
    return subprocess.run(args, capture_output=True, text=True, check=True, timeout=60).stdout


def test_an_app_with_handlers_a_tool_and_a_policy_loads_no_dialect_and_no_httpx() -> None:
    assert _python(CODE).strip() == ""


def test_the_check_would_see_a_dialect() -> None:
    code = CODE.replace("import agentflow\n", "import agentflow\nagentflow.ManagedAgentsClient\n")
    out = _python(code)
    assert "httpx" in out.split(",") and "agentflow.managed_agents" in out


DEFERRED = """
import sys
import agentflow

app = agentflow.App(load_entrypoints=False)
client = agentflow.ManagedAgentsClient(api_key="not-a-key", base_url="http://127.0.0.1:9")
{more}
print(",".join(m for m in ("pydantic.main", "pydantic.fields", "agentflow.tools.tool",
                           "agentflow.core.checkpoint.sqlite") if m in sys.modules))
"""


def _loaded(more: str = "") -> set[str]:
    return set(filter(None, _python(DEFERRED.format(more=more)).strip().split(",")))


def test_an_app_and_a_client_load_neither_pydantic_models_nor_the_sqlite_store() -> None:
    # (sqlite3 itself is no test: coverage, say, imports it in every process it measures)
    assert _loaded() == set()


def test_the_first_tool_loads_pydantic_models_and_naming_the_sqlite_store_loads_it() -> None:
    tool = "@app.tool\ndef add(a: int, b: int) -> int:\n    'Add.'\n    return a + b\n"
    assert {"pydantic.main", "agentflow.tools.tool"} <= _loaded(tool)
    store = "agentflow.SqliteCheckpointStore\nagentflow.tools.Tool\n"
    assert {"agentflow.core.checkpoint.sqlite", "agentflow.tools.tool"} <= _loaded(store)
