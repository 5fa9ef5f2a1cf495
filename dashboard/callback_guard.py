"""A guard in front of Dash's callback endpoint: a malformed or tampered request gets a 400 with a
short reason instead of a traceback and a 500.

It checks what Dash itself assumes: the body is a JSON object (not too deeply nested), names an output
the app has, carries `inputs` (and `state`) as lists of {id, property, value} that match the
callback's declared inputs and state one for one (count, ids, properties; a pattern-matching input as
a list of components), and the URL properties (pathname, search, hash, href) are strings (a pathname
is never null). Values a page reads are validated where the page reads
them; anything else that fails inside a callback is a real fault and still answers 500 with its
traceback in the log.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from flask import Flask, Response, request

ENDPOINT = "/_dash-update-component"
MAX_DEPTH = 64  # Dash's own bodies nest a few levels; 5 000 levels would exhaust the parser's stack
URL_PROPS = ("pathname", "search", "hash", "href")
URL_STARTS = {"pathname": "/", "search": "?", "hash": "#"}


class Refused(ValueError):
    """The request is not a well-formed callback request; the message says why."""


def _depth_ok(text: str) -> bool:
    depth = deepest = 0
    in_string = escaped = False
    for ch in text:
        if in_string:
            if escaped:
                escaped = False
            elif ch == "\\":
                escaped = True
            elif ch == '"':
                in_string = False
        elif ch == '"':
            in_string = True
        elif ch in "[{":
            depth += 1
            deepest = max(deepest, depth)
            if deepest > MAX_DEPTH:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def _items(body: dict[str, Any], key: str) -> list[dict[str, Any]]:
    items = body.get(key, [])
    if not isinstance(items, list):
        raise Refused(f"'{key}' must be a list")
    flat: list[dict[str, Any]] = []
    for item in items:
        group = item if isinstance(item, list) else [item]  # pattern-matching inputs come as lists
        for entry in group:
            if not isinstance(entry, dict) or "id" not in entry or not isinstance(entry.get("property"), str):
                raise Refused(f"each of '{key}' must be an object with an id and a property")
            if isinstance(entry["id"], str) and entry["id"].startswith("{"):
                raise Refused("a pattern-matching input must come as a list of components")
            flat.append(entry)
    return flat


def _matches(body: dict[str, Any], key: str, declared: list[dict[str, Any]]) -> None:
    """The body's `key` list has the callback's declared dependencies, in order (Dash indexes them by
    position: a missing or extra one raised IndexError inside Dash)."""
    given = body.get(key, [])
    if len(given) != len(declared):
        raise Refused(f"'{key}' has {len(given)} entries; this callback takes {len(declared)}")
    for want, got in zip(declared, given, strict=True):
        wanted_id = str(want.get("id"))
        if wanted_id.startswith("{"):  # a pattern-matching dependency: a list of matching components
            if not isinstance(got, list) or any(
                not isinstance(g, dict) or not isinstance(g.get("id"), dict) or g.get("property") != want["property"]
                for g in got
            ):
                raise Refused(f"'{key}' does not match this callback's pattern-matching {want['property']}")
            continue
        if not isinstance(got, dict) or (str(got.get("id")), got.get("property")) != (wanted_id, want["property"]):
            raise Refused(f"'{key}' does not match this callback's {wanted_id}.{want['property']}")


def check(raw: bytes, outputs: Callable[[], set[str] | dict[str, dict[str, Any]]]) -> None:
    """Refused with a reason when `raw` is not a callback request this app can run. `outputs` gives the
    app's callbacks: a mapping of output to its declared `inputs` and `state` (or just the outputs)."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise Refused("the body is not UTF-8 text") from None
    if not _depth_ok(text):
        raise Refused(f"the body nests deeper than {MAX_DEPTH} levels")
    try:
        body = json.loads(text)
    except ValueError:
        raise Refused("the body is not valid JSON") from None
    if not isinstance(body, dict):
        raise Refused("the body must be a JSON object")
    output = body.get("output")
    if not isinstance(output, str) or not output:
        raise Refused("the body names no output")
    known = outputs()
    if output not in known:
        raise Refused("the body names an output this app does not have")
    if "inputs" not in body:
        raise Refused("the body has no inputs")
    entries = _items(body, "inputs") + _items(body, "state")
    if isinstance(known, dict):
        spec = known[output]
        _matches(body, "inputs", list(spec.get("inputs", [])))
        _matches(body, "state", list(spec.get("state", [])))
    for entry in entries:
        prop, value = entry["property"], entry.get("value")
        if prop == "pathname" and not value:
            raise Refused("pathname must be text starting with '/'")
        if prop in URL_PROPS and value is not None:
            if not isinstance(value, str):
                raise Refused(f"{prop} must be text")
            if value and prop in URL_STARTS and not value.startswith(URL_STARTS[prop]):
                raise Refused(f"{prop} must start with {URL_STARTS[prop]!r}")


def install(server: Flask, outputs: Callable[[], set[str] | dict[str, dict[str, Any]]]) -> None:
    """Check every callback request before Dash reads it (`outputs`: the app's callbacks, see `check`)."""

    @server.before_request
    def guard_callbacks():
        if request.path != ENDPOINT or request.method != "POST":
            return None
        try:
            check(request.get_data(cache=True), outputs)
        except Refused as exc:
            return Response(f"Bad callback request: {exc}.", status=400, mimetype="text/plain")
        return None
