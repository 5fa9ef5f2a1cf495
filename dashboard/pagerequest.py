"""The JSON body of the Dash Pages routing callback for one URL: how a client (a benchmark, a
test, a load generator) asks the server to render a page without a browser."""

from __future__ import annotations

from typing import Any


def page_request(deps: list[dict[str, Any]], path: str, search: str = "") -> dict[str, Any]:
    """Body for POST /_dash-update-component rendering `path` + `search` (deps: /_dash-dependencies)."""
    spec = next(d for d in deps if "_pages_content.children" in d["output"])
    outputs = [dict(zip(("id", "property"), o.split("."), strict=True)) for o in spec["output"].strip(".").split("...")]
    values = {"_pages_location.pathname": path, "_pages_location.search": search}
    return {
        "output": spec["output"],
        "outputs": outputs,
        "changedPropIds": ["_pages_location.pathname"],
        "inputs": [{**i, "value": values.get(f"{i['id']}.{i['property']}")} for i in spec["inputs"]],
        "state": [{**s, "value": None} for s in spec.get("state", [])],
    }
