"""The m8tes SDK for the conformance tests, installed on first use into ``.cache/``.

m8tes 4.49.0 declares ``Requires-Python >= 3.11.9``, so ``pip install -e ".[dev]"`` cannot
install it on CPython 3.11.0-3.11.8 (CI runs 3.11.7), although it runs there unchanged. So
the first test that needs it installs the pinned wheel from the package index with
``--no-deps --ignore-requires-python`` into ``.cache/m8tes-4.49.0`` (gitignored), and puts
that folder first on ``sys.path``; later runs reuse the folder. The one runtime dependency
the SDK's client imports, ``requests``, is in the ``dev`` extra. When the SDK cannot be
obtained, the tests that need it fail and say why; only a Python older than 3.11, which the
SDK cannot run on at all (it uses ``enum.StrEnum``), skips them, with that reason.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import os
import shutil
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

M8TES_VERSION = "4.49.0"
ROOT = Path(__file__).resolve().parents[2]
CACHE = ROOT / ".cache" / f"m8tes-{M8TES_VERSION}"
INSTALL_TIMEOUT = 300.0


def _installed(folder: Path) -> bool:
    return (folder / "m8tes" / "__init__.py").is_file() and (
        folder / f"m8tes-{M8TES_VERSION}.dist-info"
    ).is_dir()


def _install() -> None:
    """Install the pinned wheel into a fresh folder, then move it into place whole."""
    staging = CACHE.with_name(f"{CACHE.name}.partial-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    command = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "--no-deps",
        "--ignore-requires-python",
        "--no-input",
        "--disable-pip-version-check",
        "--target",
        str(staging),
        f"m8tes=={M8TES_VERSION}",
    ]
    shown = "python " + " ".join(command[1:])
    try:
        done = subprocess.run(
            command, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        shutil.rmtree(staging, ignore_errors=True)
        pytest.fail(f"could not install the m8tes SDK for the conformance tests ({shown}): {exc}")
    if done.returncode != 0 or not _installed(staging):
        shutil.rmtree(staging, ignore_errors=True)
        tail = "\n".join((done.stderr or done.stdout).strip().splitlines()[-15:])
        pytest.fail(
            f"could not install the m8tes SDK for the conformance tests ({shown}): "
            f"pip exited {done.returncode}\n{tail}"
        )
    CACHE.parent.mkdir(parents=True, exist_ok=True)
    try:
        staging.rename(CACHE)
    except OSError:  # another process put it there first
        shutil.rmtree(staging, ignore_errors=True)
        if not _installed(CACHE):
            raise


def load_m8tes() -> ModuleType:
    """Import m8tes 4.49.0, installing it into ``.cache/`` first when needed."""
    if sys.version_info < (3, 11):
        pytest.skip(f"m8tes {M8TES_VERSION} needs Python 3.11+ (it uses enum.StrEnum)")
    try:
        import requests  # noqa: F401
    except ImportError:
        pytest.fail(
            'the m8tes SDK needs "requests": install the test tools (pip install -e ".[dev]")'
        )
    if not _installed(CACHE):
        _install()
    if str(CACHE) not in sys.path:
        sys.path.insert(0, str(CACHE))
    importlib.invalidate_caches()
    module = importlib.import_module("m8tes")
    found = importlib.metadata.version("m8tes")
    if found != M8TES_VERSION or not str(module.__file__).startswith(str(CACHE)):
        pytest.fail(
            f"expected m8tes {M8TES_VERSION} from {CACHE}, imported {found} from {module.__file__}"
        )
    return module
