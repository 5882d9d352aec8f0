"""Type aliases shared by the core: JSON objects, senders and handler functions."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

__all__ = ["HandlerT", "JSONObject", "Sender"]

JSONObject = dict[str, Any]
"""A JSON-ready dict, such as the client events a dialect's builders return."""

Sender = Callable[[list[JSONObject]], Awaitable[Any]]
"""Sends a batch of client events for one session (``ctx.send`` goes through one)."""

HandlerT = TypeVar("HandlerT", bound=Callable[..., Any])
"""A handler function; ``on()`` returns it with its type unchanged."""
