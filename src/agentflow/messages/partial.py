"""Best-effort parsing of a JSON prefix: the tool input as far as it has streamed.

``input_json_delta`` fragments cut the input's JSON anywhere. :func:`parse_partial` gives the
value of a prefix by closing what is open: an unfinished string *value* is kept as far as it
goes (``{"city": "Os`` → ``{"city": "Os"}``), while a key without its value, a trailing
comma and an unfinished number or literal are dropped (``{"a": 1, "b`` → ``{"a": 1}``).
It scans the prefix once and is only called when a handler asks (``.partial_input``), never
for every delta.
"""

from __future__ import annotations

import json
import re
from typing import Any

__all__ = ["complete_prefix", "parse_partial"]

_SCALAR = re.compile(r"[-+0-9.eE]+|[a-zA-Z]+")
_WHITESPACE = " \t\n\r"
_LITERALS = frozenset({"true", "false", "null"})
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][-+]?[0-9]+)?")
_PARTIAL_ESCAPE = re.compile(r"\\u[0-9a-fA-F]{0,3}$")


def parse_partial(text: str) -> Any:
    """The value of a JSON prefix, completed as the module docstring says (``None`` when
    nothing usable has arrived yet)."""
    if not text.strip():
        return None
    try:
        return json.loads(text)
    except ValueError:
        pass
    completed = complete_prefix(text)
    if completed is None:
        return None
    try:
        return json.loads(completed)
    except ValueError:
        return None


def _string_end(text: str, start: int) -> int:
    """The index after the string opened at ``start``, or -1 when it is still open."""
    i = start + 1
    while True:
        i = text.find('"', i)
        if i < 0:
            return -1
        backslashes = 0
        j = i - 1
        while j > start and text[j] == "\\":
            backslashes += 1
            j -= 1
        if backslashes % 2 == 0:
            return i + 1
        i += 1


def _open_string(body: str) -> str:
    """An unfinished string value, cut before an unfinished escape."""
    body = _PARTIAL_ESCAPE.sub("", body)
    trailing = len(body) - len(body.rstrip("\\"))
    return body[:-1] if trailing % 2 else body


def _scalar_ok(token: str) -> bool:
    return token in _LITERALS or _NUMBER.fullmatch(token) is not None


def complete_prefix(text: str) -> str | None:
    """``text`` cut and closed into valid JSON, or ``None`` when no value has begun."""
    closers: list[str] = []
    expect_key = False
    safe: tuple[int, str] | None = None
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c in _WHITESPACE:
            i += 1
        elif c == '"':
            is_key = expect_key and bool(closers) and closers[-1] == "}"
            end = _string_end(text, i)
            if end < 0:
                if is_key:
                    break
                return text[:i] + _open_string(text[i:]) + '"' + "".join(reversed(closers))
            i = end
            if is_key:
                expect_key = False
            else:
                safe = (i, "".join(reversed(closers)))
        elif c in "{[":
            closers.append("}" if c == "{" else "]")
            expect_key = c == "{"
            i += 1
            safe = (i, "".join(reversed(closers)))
        elif c in "}]":
            if not closers:
                return None
            closers.pop()
            expect_key = False
            i += 1
            safe = (i, "".join(reversed(closers)))
        elif c == ",":
            expect_key = bool(closers) and closers[-1] == "}"
            i += 1
        elif c == ":":
            i += 1
        else:
            match = _SCALAR.match(text, i)
            if match is None:
                break
            end = match.end()
            if not _scalar_ok(text[i:end]):
                break  # unfinished (``tr``, ``1.``, ``-``): cut before it
            i = end
            safe = (i, "".join(reversed(closers)))
    if safe is None:
        return None
    end, closing = safe
    return text[:end] + closing
