"""Tampered or malformed Dash callback requests get a 4xx with a short reason, never a 5xx; a genuine
fault still answers 500 and logs its traceback."""

from __future__ import annotations

import json

import pytest

from dashboard.pagerequest import page_request


@pytest.fixture()
def app_client(with_reference_runs):
    from dashboard.app import create_app

    app = create_app()
    return app, app.server.test_client()


def _spec(deps: list, output_part: str) -> dict:
    return next(d for d in deps if output_part in d["output"])


def _body(spec: dict, values: dict) -> dict:
    outputs = [dict(zip(("id", "property"), o.split("."), strict=True)) for o in spec["output"].strip(".").split("...")]
    key = lambda i: f"{json.dumps(i['id']) if isinstance(i['id'], dict) else i['id']}.{i['property']}"  # noqa: E731
    return {
        "output": spec["output"],
        "outputs": outputs if len(outputs) > 1 else outputs[0],
        "changedPropIds": [key(i) for i in spec["inputs"]][:1],
        "inputs": [{**i, "value": values.get(key(i))} for i in spec["inputs"]],
        "state": [{**s, "value": values.get(key(s))} for s in spec.get("state", [])],
    }


def test_tampered_callback_bodies_get_a_4xx_with_a_reason(app_client):
    _app, client = app_client
    deps = client.get("/_dash-dependencies").get_json()
    page = page_request(deps, "/gradcam", "?run=ref-cnn")
    hover = _spec(deps, "data-embedding-tooltip.show")
    histogram = _spec(deps, "data-histogram.figure")
    bodies = {
        "a JSON array": [],
        "an empty object": {},
        "not JSON": "not json {",
        "5 000-deep JSON": "[" * 5000 + "]" * 5000,
        "an unknown output": {**page, "output": "nope.children"},
        "inputs that are not a list": {**page, "inputs": "x"},
        "a pathname that is a number": {**page, "inputs": [{**i, "value": 5} for i in page["inputs"]]},
        "a pathname that is an object": {**page, "inputs": [{**i, "value": {"a": 1}} for i in page["inputs"]]},
        "a search that is a list": {
            **page,
            "inputs": [{**i, "value": [1] if i["property"] == "search" else i["value"]} for i in page["inputs"]],
        },
        "hover points = []": _body(hover, {"data-embedding.hoverData": {"points": []}}),
        "hover points = 'abc'": _body(hover, {"data-embedding.hoverData": {"points": "abc"}}),
        "hover customdata = 'abc'": _body(hover, {"data-embedding.hoverData": {"points": [{"customdata": "abc"}]}}),
        "hover customdata out of range": _body(
            hover, {"data-embedding.hoverData": {"points": [{"customdata": 10**9}]}}
        ),
        "a histogram mode that is an object": _body(histogram, {"data-histogram-mode.value": {"x": 1}}),
    }
    for name, body in bodies.items():
        data = body if isinstance(body, str) else json.dumps(body)
        response = client.post("/_dash-update-component", data=data, content_type="application/json")
        assert response.status_code < 500, (name, response.status_code, response.data[:300])
        if response.status_code >= 400:
            assert response.data and len(response.data) < 500, name  # a short reason


def test_a_page_with_a_bad_query_value_still_renders(app_client):
    _app, client = app_client
    deps = client.get("/_dash-dependencies").get_json()
    for path, search in (
        ("/gradcam", "?index=abc"),
        ("/errors", "?run=%00"),
        ("/story/abc", ""),
        ("/insights", "?study=../x"),
    ):
        response = client.post("/_dash-update-component", json=page_request(deps, path, search))
        assert response.status_code == 200, (path, search, response.data[:300])


ACTIONS = ("train-result", "tune-message", "insights-message", "leaderboard-ensemble", "story-report", "train-message")


def test_no_callback_answers_5xx_to_a_wrong_type_in_any_input(app_client):
    """Every callback, each input in turn set to a number, an object, a word or a list: a 4xx or an
    answer, never a 5xx (callbacks that start work are left out: they are tested with real clicks)."""
    _app, client = app_client
    deps = client.get("/_dash-dependencies").get_json()
    failures, sent = [], 0
    for spec in deps:
        if any(action in spec["output"] for action in ACTIONS) or spec.get("clientside_function"):
            continue
        outputs = [
            dict(zip(("id", "property"), o.split(".", 1), strict=True)) for o in spec["output"].strip(".").split("...")
        ]
        for k, target in enumerate(spec["inputs"]):
            for value in (7, {"x": 1}, "abc", []):
                body = {
                    "output": spec["output"],
                    "outputs": outputs if len(outputs) > 1 else outputs[0],
                    "changedPropIds": [f"{target['id']}.{target['property']}"],
                    "inputs": [{**i, "value": value if j == k else None} for j, i in enumerate(spec["inputs"])],
                    "state": [{**s, "value": None} for s in spec.get("state", [])],
                }
                response = client.post("/_dash-update-component", json=body)
                sent += 1
                if response.status_code >= 500:
                    failures.append((spec["output"][:60], target["property"], value))
    assert sent > 300 and failures == [], failures
