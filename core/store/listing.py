"""A run listing's query string, checked before any SQL: `GET /api/runs` (and anything else that
takes a listing from outside) parses it here. Every problem is a `ListingError` naming the parameter
and what it accepts; nothing reaches the index that it could fail on.

- `limit`: a whole number 0 to 1000 (0 answers only the count); `offset`: 0 to 10^12;
- `sort`: one of the index's columns, `-` for descending;
- filters `status`, `model`, `study`, `group`, `preset`, `family` and the search `q`: plain text of
  at most 100 characters, no control characters; `status` one of the statuses a run can have;
- every parameter at most once; an unknown parameter is refused (a typo would otherwise list
  everything).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from core.store import index
from core.store.record import DAMAGED, STATUSES

MAX_OFFSET = index.MAX_OFFSET
MAX_TEXT = 100
FILTER_PARAMS = {"status": "status", "model": "model", "study": "study", "group": "group_id", "preset": "preset"}
FILTER_PARAMS |= {"family": "family"}
PARAMS = ("limit", "offset", "sort", "q", *FILTER_PARAMS)
_WHOLE = re.compile(r"^[0-9]{1,20}$")  # ASCII digits only (int() would take '٣', ' 3', '+3', '1_000')
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


class ListingError(ValueError):
    """A listing parameter that is not acceptable; `param` names it."""

    def __init__(self, param: str, message: str):
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class Listing:
    filters: dict[str, str] = field(default_factory=dict)
    sort: str = "-created_at"
    limit: int = index.DEFAULT_LIMIT
    offset: int = 0
    search: str | None = None

    def following(self, total: int, returned: int) -> int | None:
        """The offset of the next page, or None when this page is the last (or asked for no rows)."""
        if self.limit == 0 or self.offset + returned >= total:
            return None
        return self.offset + self.limit


def _whole(name: str, text: str, high: int) -> int:
    if not _WHOLE.fullmatch(text) or int(text) > high:
        raise ListingError(name, f"{name} must be a whole number from 0 to {high:,}".replace(",", " "))
    return int(text)


def _text(name: str, text: str) -> str:
    if len(text) > MAX_TEXT:
        raise ListingError(name, f"{name} is at most {MAX_TEXT} characters")
    if _CONTROL.search(text):
        raise ListingError(name, f"{name} must not contain control characters")
    return text


def parse(args: Mapping[str, Sequence[str]]) -> Listing:
    """A `Listing` from a query string's parameters, each a list of values (as `parse_qs` or
    Werkzeug's `to_dict(flat=False)` give them). Raises ListingError on the first bad parameter."""
    unknown = sorted(set(args) - set(PARAMS))
    if unknown:
        name = _text("parameter", unknown[0][:40])
        raise ListingError(name, f"unknown parameter {name!r}; use {', '.join(PARAMS)}")
    one: dict[str, str] = {}
    for name, values in args.items():
        if len(values) != 1:
            raise ListingError(name, f"{name} is given {len(values)} times; give it once")
        one[name] = values[0]
    kwargs: dict[str, Any] = {}
    if "limit" in one:
        kwargs["limit"] = _whole("limit", one["limit"], index.MAX_LIMIT)
    if "offset" in one:
        kwargs["offset"] = _whole("offset", one["offset"], MAX_OFFSET)
    if "sort" in one:
        column = one["sort"][1:] if one["sort"][:1] in "-+" and one["sort"] else one["sort"]
        if column not in index.SORTS:
            raise ListingError("sort", f"sort must be one of {', '.join(index.SORTS)} (prefix - for descending)")
        kwargs["sort"] = one["sort"]
    if one.get("q"):
        kwargs["search"] = _text("q", one["q"])
    filters = {}
    for param, column in FILTER_PARAMS.items():
        if one.get(param):
            filters[column] = _text(param, one[param])
    if "status" in filters and filters["status"] not in (*STATUSES, DAMAGED):
        raise ListingError("status", f"status must be one of {', '.join((*STATUSES, DAMAGED))}")
    return Listing(filters=filters, **kwargs)
