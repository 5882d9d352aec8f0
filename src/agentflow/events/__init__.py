"""Typed Managed Agents events and builders, under their earlier name.

They now live in :mod:`agentflow.managed_agents.events` and
:mod:`agentflow.managed_agents.builders`; this module keeps the old import path working.
``Event`` is :class:`agentflow.Event`, the base class of every event of every dialect.
"""

from __future__ import annotations

from ..managed_agents.events import *  # noqa: F403
from ..managed_agents.events import __all__ as _events_all

__all__ = list(_events_all)
