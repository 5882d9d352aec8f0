"""The list endpoints' query handling: time bounds, bisection to a cursor, and paging."""

from __future__ import annotations

import bisect
import operator
from collections.abc import Callable
from datetime import datetime
from typing import Any

from starlette.requests import Request

from .._wire import decode_cursor, paginate, parse_limit, parse_time, stored_time
from .session import EmulatedSession

__all__ = ["events_since", "page_of", "query_list", "time_filter"]


def query_list(request: Request, name: str) -> list[str]:
    """The values of a bracketed array parameter (``name[]=a&name[]=b``, or bare ``name``)."""
    return request.query_params.getlist(f"{name}[]") + request.query_params.getlist(name)


_COMPARE: dict[str, Callable[[datetime, datetime], bool]] = {
    "gt": operator.gt,
    "gte": operator.ge,
    "lt": operator.lt,
    "lte": operator.le,
}


def events_since(request: Request, session: EmulatedSession) -> list[dict[str, Any]] | None:
    """History from a lone ``created_at[gte]`` / ``[gt]`` bound on, found by bisection.

    ``None`` when the query has other time bounds or history is not in time order: the
    caller then filters by scanning. A reader's cursor is the usual query, and scanning the
    whole of a long session for every page made each page cost as much as the session.
    """
    params = request.query_params
    bounds = [op for op in ("gt", "gte", "lt", "lte") if f"created_at[{op}]" in params]
    if len(bounds) != 1 or bounds[0] not in ("gt", "gte") or not session.in_order:
        return None
    op = bounds[0]
    bound = parse_time(params[f"created_at[{op}]"])
    history = session.history
    find = bisect.bisect_left if op == "gte" else bisect.bisect_right
    return history[find(history, bound, key=lambda e: stored_time(e["processed_at"])) :]


def time_filter(request: Request, field: str) -> Callable[[dict[str, Any]], bool] | None:
    """A check of ``field`` against every ``created_at[op]`` bound of the query, if any."""
    bounds = []
    for op in ("gt", "gte", "lt", "lte"):
        raw = request.query_params.get(f"created_at[{op}]")
        if raw is not None:
            bounds.append((_COMPARE[op], parse_time(raw)))
    if not bounds:
        return None
    if len(bounds) == 1:  # the usual query: one bound (a reader's cursor)
        (compare, bound), stamp = bounds[0], stored_time
        return lambda item: compare(stamp(item[field]), bound)

    def check(item: dict[str, Any]) -> bool:
        when = stored_time(item[field])
        return all(compare(when, bound) for compare, bound in bounds)

    return check


def page_of(
    request: Request, items: list[dict[str, Any]], *, order: str, default_limit: int, **filters: Any
) -> dict[str, Any]:
    """One ``{data, next_page}`` page of ``items`` in ``order``, after the ``filters``."""
    limit = parse_limit(request.query_params.get("limit"), default_limit)
    page = request.query_params.get("page")
    start, snapshot = decode_cursor(page) if page else (0, len(items))
    if order == "desc":
        items = items[: max(snapshot, 0)][::-1]
    checks = [f for f in filters.values() if f is not None]
    if len(checks) == 1:
        items = list(filter(checks[0], items))
    elif checks:
        items = [item for item in items if all(check(item) for check in checks)]
    return paginate(items, limit=limit, start=start, snapshot=snapshot, render=lambda e: e)
