"""The orxhestra tests run real orxhestra agents; orxhestra comes with the ``dev`` extra."""

from __future__ import annotations

try:
    import orxhestra  # noqa: F401
except ImportError as exc:  # a missing prerequisite is an error, never a quiet skip
    raise ImportError(
        "the tests in tests/orxhestra need orxhestra==0.1.8: pip install -e '.[dev]'"
    ) from exc
