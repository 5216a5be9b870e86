"""Contract violations as (field path, reason) pairs instead of pydantic tracebacks."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from pydantic import ValidationError
from pydantic_core import PydanticCustomError

MESSAGE_FIELD = ""
"""The field path of an issue about the message (or item) as a whole."""
_LOCATED = "located"


class Issue(NamedTuple):
    """One reason a message breaks its contract; `field` is a dotted path."""

    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class ItemError:
    """One issue of one item of an HTTP batch; `index` is the item's position."""

    index: int
    field: str
    reason: str


class ContractError(ValueError):
    """A message or value breaks its wire contract; `.issues` says where and why."""

    def __init__(self, issues: Sequence[tuple[str, str]]) -> None:
        if not issues:
            raise ValueError("a ContractError needs at least one issue")
        self.issues: list[Issue] = [Issue(field, reason) for field, reason in issues]
        super().__init__("; ".join(_render(i) for i in self.issues))

    @classmethod
    def single(cls, field: str, reason: str) -> ContractError:
        return cls([(field, reason)])

    @classmethod
    def from_validation_error(cls, error: ValidationError) -> ContractError:
        return cls(issues_from_validation_error(error))


def _render(issue: Issue) -> str:
    return f"{issue.field}: {issue.reason}" if issue.field else issue.reason


_REASONS: dict[str, str] = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field",
    "finite_number": "must be a finite number (NaN and Infinity are rejected)",
    "float_type": "must be a number",
    "float_parsing": "must be a number",
    "int_type": "must be an integer",
    "int_from_float": "must be an integer",
    "string_type": "must be a string",
    "bool_type": "must be true or false",
    "dict_type": "must be a JSON object",
    "model_type": "must be a JSON object",
    "model_attributes_type": "must be a JSON object",
    "list_type": "must be a JSON array",
    "tuple_type": "must be a JSON array",
    "uuid_type": "must be a UUID string",
    "uuid_parsing": "must be a UUID string",
}


def located_error(field: str, reason: str) -> PydanticCustomError:
    """A whole-model check's error that still points at the field it is about."""
    return PydanticCustomError(_LOCATED, "{field}: {reason}", {"field": field, "reason": reason})


def issues_from_validation_error(error: ValidationError) -> list[Issue]:
    """Flatten pydantic's errors; custom validators already word their own reasons."""
    return [_issue(e) for e in error.errors(include_url=False)] or [Issue(MESSAGE_FIELD, "invalid")]


def _issue(err: Any) -> Issue:
    path = field_path(err["loc"])
    if err["type"] != _LOCATED:
        return Issue(path, _reason(err))
    ctx = err["ctx"]
    return Issue(f"{path}.{ctx['field']}" if path else ctx["field"], ctx["reason"])


def _reason(err: Any) -> str:
    kind = err["type"]
    if kind in _REASONS:
        return _REASONS[kind]
    if kind in {"too_short", "too_long"}:
        return _length_reason(err)
    if kind in _BOUNDS:
        return _BOUNDS[kind].format(**(err.get("ctx") or {}))
    if kind == "literal_error":
        return f"must be {err['ctx']['expected']}"
    return str(err["msg"])


_BOUNDS: dict[str, str] = {
    "greater_than": "must be greater than {gt}",
    "greater_than_equal": "must be at least {ge}",
    "less_than": "must be less than {lt}",
    "less_than_equal": "must be at most {le}",
    "string_too_short": "must have at least {min_length} characters",
    "string_too_long": "must have at most {max_length} characters",
    "string_pattern_mismatch": "has characters outside the allowed set ({pattern})",
}


def _length_reason(err: Any) -> str:
    ctx = err.get("ctx") or {}
    actual = ctx.get("actual_length")
    if err["type"] == "too_short":
        return f"needs at least {ctx.get('min_length')} item(s), got {actual}"
    return f"allows at most {ctx.get('max_length')} items, got {actual}"


def field_path(loc: Iterable[int | str]) -> str:
    """`('values', 'temp')` -> `values.temp`; list positions render as `ts[3]`."""
    path = ""
    for part in loc:
        if isinstance(part, int):
            path += f"[{part}]"
        elif part == "[key]":
            continue
        else:
            text = _printable(part)
            path = f"{path}.{text}" if path else text
    return path


def _printable(part: str) -> str:
    if part.isprintable() and len(part) <= 200:
        return part
    return repr(part[:200])
