"""From a Python function to a custom-tool definition: input model, JSON schema, descriptions.

The tool's parameters become the fields of a pydantic model (``extra="forbid"``, so an
unexpected key is reported instead of silently dropped). Its JSON schema is post-processed
into the plain shape tool definitions use: ``$ref`` pointers are inlined (a schema that refers
to itself keeps its ``$defs``, which is still valid JSON Schema) and pydantic's generated
``title`` keywords are dropped.

Descriptions come from the docstring: the first paragraph describes the tool; parameter
descriptions come from a Google-style ``Args:`` section, a NumPy-style ``Parameters`` section
or reStructuredText ``:param name:`` lines.
"""

from __future__ import annotations

import inspect
import re
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, create_model

from ..core.exceptions import ToolError

__all__ = ["INJECTED_PARAMS", "build_input_model", "clean_schema", "parse_docstring"]

#: Parameter names filled in by agentflow instead of by the model's input.
INJECTED_PARAMS = frozenset({"ctx"})

_SECTION = re.compile(r"^\s*(Args|Arguments|Parameters|Params)\s*:?\s*$")
_OTHER_SECTION = re.compile(
    r"^\s*(Returns?|Yields?|Raises?|Examples?|Notes?|See Also|Warnings?|Attributes)\s*:?\s*$"
)
_GOOGLE_ITEM = re.compile(r"^(\s*)\*{0,2}(\w+)\s*(?:\([^)]*\))?\s*:\s*(.*)$")
_NUMPY_ITEM = re.compile(r"^(\s*)(\w+)\s*(?::\s*[^:]*)?$")
_RST_PARAM = re.compile(r"^\s*:param\s+(?:[^:]*\s)?(\w+)\s*:\s*(.*)$")


def parse_docstring(doc: str | None) -> tuple[str, dict[str, str]]:
    """Split a docstring into (summary paragraph, {parameter: description})."""
    if not doc:
        return "", {}
    lines = inspect.cleandoc(doc).splitlines()
    summary: list[str] = []
    for line in lines:
        if not line.strip() or _SECTION.match(line) or _RST_PARAM.match(line):
            break
        summary.append(line.strip())
    params: dict[str, str] = {}
    current: str | None = None
    in_section = numpy = False
    item_indent = -1
    for line in lines:
        rst = _RST_PARAM.match(line)
        if rst:
            current, in_section = rst.group(1), False
            params[current] = rst.group(2).strip()
            continue
        if _SECTION.match(line):
            in_section, numpy, current, item_indent = True, False, None, -1
            continue
        if _OTHER_SECTION.match(line) or (line.startswith(":") and current is not None):
            in_section, current = False, None
            continue
        if not line.strip():
            continue
        if set(line.strip()) == {"-"}:
            numpy = in_section and current is None
            continue
        indent = len(line) - len(line.lstrip())
        item = (_NUMPY_ITEM if numpy else _GOOGLE_ITEM).match(line)
        if in_section and item and (item_indent < 0 or indent <= item_indent):
            item_indent = indent
            current = item.group(2)
            params[current] = "" if numpy else item.group(3).strip()
        elif current is not None and (in_section or indent > 0):
            params[current] = f"{params[current]} {line.strip()}".strip()
    return " ".join(summary), params


def _hints(fn: Any, localns: dict[str, Any] | None) -> dict[str, Any]:
    try:
        return typing.get_type_hints(fn, localns=localns, include_extras=True)
    except Exception as exc:  # NameError for an undefined forward reference, mostly
        raise ToolError(
            f"cannot resolve the type hints of tool function {fn.__qualname__!r}: {exc}"
        ) from exc


def build_input_model(
    fn: Any, name: str, param_docs: dict[str, str], localns: dict[str, Any] | None = None
) -> tuple[type[BaseModel], bool]:
    """Build the input model of ``fn``; also say whether it takes an injected ``ctx``."""
    signature = inspect.signature(fn)
    hints = _hints(fn, localns)
    fields: dict[str, Any] = {}
    wants_ctx = False
    for param in signature.parameters.values():
        if param.name in INJECTED_PARAMS:
            wants_ctx = True
            continue
        if param.kind in (param.VAR_POSITIONAL, param.VAR_KEYWORD, param.POSITIONAL_ONLY):
            raise ToolError(
                f"tool {name!r}: parameter {param.name!r} must be an ordinary or keyword-only "
                "parameter (the model passes arguments by name)"
            )
        annotation = hints.get(param.name, Any)
        default = ... if param.default is param.empty else param.default
        description = param_docs.get(param.name) or None
        fields[param.name] = (annotation, Field(default, description=description))
    try:
        model = create_model(f"{name}_input", __config__=ConfigDict(extra="forbid"), **fields)
        model.model_json_schema()
    except Exception as exc:
        raise ToolError(f"tool {name!r}: cannot build an input schema: {exc}") from exc
    return model, wants_ctx


_SCHEMA_MAPS = ("properties", "patternProperties", "$defs", "definitions", "dependentSchemas")
_SCHEMA_LISTS = ("anyOf", "oneOf", "allOf", "prefixItems")
_SCHEMA_ONE = ("items", "additionalProperties", "not", "contains", "if", "then", "else")


def _walk(schema: Any, defs: dict[str, Any], stack: tuple[str, ...]) -> Any:
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    out_ref_keys: tuple[str, ...] = ()
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/$defs/"):
        key = ref.removeprefix("#/$defs/")
        if key in stack or key not in defs:
            raise _Recursive
        out.update(_walk(defs[key], defs, (*stack, key)))
        out_ref_keys = ("$ref",)
    for k, v in schema.items():
        if k in ("$defs", "title") or (k == "$ref" and k in out_ref_keys):
            continue
        if k in _SCHEMA_MAPS and isinstance(v, dict):
            out[k] = {name: _walk(sub, defs, stack) for name, sub in v.items()}
        elif k in _SCHEMA_LISTS and isinstance(v, list):
            out[k] = [_walk(sub, defs, stack) for sub in v]
        elif k in _SCHEMA_ONE:
            out[k] = _walk(v, defs, stack)
        else:
            out[k] = v
    return out


class _Recursive(Exception):
    pass


def _strip_titles(schema: Any) -> Any:
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for k, v in schema.items():
        if k == "title":
            continue
        if k in _SCHEMA_MAPS and isinstance(v, dict):
            out[k] = {name: _strip_titles(sub) for name, sub in v.items()}
        elif k in _SCHEMA_LISTS and isinstance(v, list):
            out[k] = [_strip_titles(sub) for sub in v]
        elif k in _SCHEMA_ONE:
            out[k] = _strip_titles(v)
        else:
            out[k] = v
    return out


def clean_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """Inline ``$defs`` references and drop generated titles (recursive models keep $defs)."""
    try:
        return dict(_walk(schema, schema.get("$defs", {}), ()))
    except _Recursive:
        return dict(_strip_titles(schema))
