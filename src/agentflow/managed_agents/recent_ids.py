"""The ids a stream delivered recently: its dedupe window, in two generations of sets."""

from __future__ import annotations

from collections.abc import Set as AbstractSet

__all__ = ["RecentIds"]

_EMPTY: frozenset[str] = frozenset()
_UNUSED: set[str] = set()  # stands for a set not made yet: never added to


class RecentIds:
    """The ids added recently: at least the last ``maxlen`` (at most ``2 * maxlen``).

    Two generations of sets: ids go into the current one; when it holds ``maxlen`` it becomes
    the previous one (the older generation is forgotten). One or two set operations per id,
    with no per-id bookkeeping of the order.
    """

    __slots__ = ("_current", "_max", "_previous", "newest", "window")

    def __init__(self, maxlen: int) -> None:
        if maxlen < 1:
            raise ValueError(f"dedupe window must be positive, got {maxlen!r}")
        self._max = maxlen
        self.window = maxlen
        """How many ids (at least) are remembered."""
        self._current: set[str] = _UNUSED  # made by the first add (an idle stream has none)
        self._previous: AbstractSet[str] = _EMPTY  # a set of its own from the first rotation
        self.newest: str | None = None
        """The id added last (``None`` before the first): it changes whenever one is added."""

    def __contains__(self, event_id: object) -> bool:
        return event_id in self._current or event_id in self._previous

    def __len__(self) -> int:
        return len(self._current) + len(self._previous)

    def add(self, event_id: str) -> bool:
        """Remember ``event_id``; ``False`` (and no change) if it is already remembered."""
        current = self._current
        if event_id in current or event_id in self._previous:
            return False
        if current is _UNUSED:
            current = self._current = set()
        current.add(event_id)
        self.newest = event_id
        if len(current) >= self._max:
            self._previous = current
            self._current = set()
        return True
