"""Move the ``bench/`` folder to the end of ``sys.path`` (import this first).

Python puts a script's folder first on ``sys.path``, so ``bench/orxhestra.py`` would be what
``import orxhestra`` finds, not the installed package. With the folder last, the package is
found first, and the sibling modules (``_common``) are still found after it.
"""

from __future__ import annotations

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
_ours = [p for p in sys.path if p and Path(p).resolve() == _HERE]
sys.path[:] = [p for p in sys.path if p not in _ours] + _ours
