"""Tampered or malformed Dash callback requests get a 4xx with a short reason, never a 5xx; a genuine
fault still answers 500 and logs its traceback."""

from __future__ import annotations

import json

import pytest

from core.store import RunStore
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


TAMPERED_VALUES = (7, {"x": 1}, "abc", [], None, True, 10**18, -(10**18), 1e308, -1, "../../etc/passwd", "%00", "")


def _outputs(spec: dict) -> list[dict] | dict:
    outputs = [
        dict(zip(("id", "property"), o.split(".", 1), strict=True)) for o in spec["output"].strip(".").split("...")
    ]
    return outputs if len(outputs) > 1 else outputs[0]


def test_every_callback_refuses_bodies_of_the_wrong_shape_with_a_4xx(app_client):
    """Generated from the callback map itself, so a new callback is covered without writing its case:
    for every registered callback (those that start work included: a wrong shape is refused before
    dispatch), inputs or state with one entry missing, one extra, entries out of order, the wrong id,
    or a null pathname, each answer a 4xx with a short reason."""
    _app, client = app_client
    deps = client.get("/_dash-dependencies").get_json()
    failures, sent = [], 0
    for spec in deps:
        if spec.get("clientside_function"):
            continue
        inputs = [{**i, "value": None} for i in spec["inputs"]]
        state = [{**s, "value": None} for s in spec.get("state", [])]
        base = {"output": spec["output"], "outputs": _outputs(spec), "changedPropIds": [], "inputs": inputs}
        shapes = {
            "an input missing": {**base, "inputs": inputs[:-1], "state": state},
            "an extra input": {
                **base,
                "inputs": [*inputs, {"id": "x", "property": "value", "value": 1}],
                "state": state,
            },
            "an extra state": {**base, "state": [*state, {"id": "x", "property": "value", "value": 1}]},
            "the wrong id": {**base, "inputs": [{**inputs[0], "id": "not-a-component"}, *inputs[1:]], "state": state},
        }
        if len(inputs) > 1 and inputs[0] != inputs[-1]:
            shapes["inputs out of order"] = {**base, "inputs": inputs[::-1], "state": state}
        if state:
            shapes["a state missing"] = {**base, "state": state[:-1]}
        for name, body in shapes.items():
            response = client.post("/_dash-update-component", json=body)
            sent += 1
            if not 400 <= response.status_code < 500:
                failures.append((spec["output"][:60], name, response.status_code))
    assert sent > 150 and failures == [], failures
    page = page_request(deps, "/gradcam", "")
    nulled = {
        **page,
        "inputs": [{**i, "value": None if i["property"] == "pathname" else i["value"]} for i in page["inputs"]],
    }
    response = client.post("/_dash-update-component", json=nulled)
    assert response.status_code == 400 and b"pathname" in response.data


def _tamper_values(client, actions: bool) -> tuple[list, int]:
    """Post every callback (`actions`: only those that start work; otherwise all the others) with each
    input and each state in turn set to each of TAMPERED_VALUES; returns the 5xx answers and the count."""
    deps = client.get("/_dash-dependencies").get_json()
    failures, sent = [], 0
    for spec in deps:
        if spec.get("clientside_function") or actions != any(action in spec["output"] for action in ACTIONS):
            continue
        outputs = _outputs(spec)
        slots = [("inputs", k) for k in range(len(spec["inputs"]))] + [
            ("state", k) for k in range(len(spec.get("state", [])))
        ]
        for where, k in slots:
            target = spec[where][k]
            for value in TAMPERED_VALUES:
                trigger = target if where == "inputs" else spec["inputs"][0]
                body = {
                    "output": spec["output"],
                    "outputs": outputs,
                    "changedPropIds": [f"{trigger['id']}.{trigger['property']}"],
                    "inputs": [
                        {**i, "value": value if (where, j) == ("inputs", k) else None}
                        for j, i in enumerate(spec["inputs"])
                    ],
                    "state": [
                        {**s, "value": value if (where, j) == ("state", k) else None}
                        for j, s in enumerate(spec.get("state", []))
                    ],
                }
                if str(target["id"]).startswith("{"):
                    continue  # pattern-matching inputs come as lists of components (the shape test covers them)
                response = client.post("/_dash-update-component", json=body)
                sent += 1
                if response.status_code >= 500:
                    failures.append((spec["output"][:60], where, target["property"], repr(value)[:20]))
    return failures, sent


def test_no_callback_answers_5xx_to_a_wrong_value_in_any_input_or_state(app_client):
    """Every callback, each input and each state in turn set to a number, an object, a word, a list,
    null, a huge number, a negative one or a `../` path: a 4xx or an answer, never a 5xx (the callbacks
    that start work: the next test, on a store of their own)."""
    _app, client = app_client
    failures, sent = _tamper_values(client, actions=False)
    assert sent > 1000 and failures == [], failures


def test_callbacks_that_start_work_refuse_wrong_values_and_start_nothing(tmp_path, monkeypatch):
    """Train, tune, a study, an ensemble, a report, cancel: the same wrong values in each input and
    state answer a 4xx or a refusal, never a 5xx, and nothing starts (an empty store of their own
    stays empty: no run, no study, no training slot taken)."""
    from dashboard.app import create_app

    monkeypatch.setenv("STUDIO_ARTIFACTS", str(tmp_path))
    client = create_app().server.test_client()
    failures, sent = _tamper_values(client, actions=True)
    assert sent > 200 and failures == [], sorted({(f[0][:30], f[1], f[2], f[3]) for f in failures})
    runs = tmp_path / "runs"
    assert not runs.exists() or [p.name for p in runs.iterdir() if not p.name.startswith(".")] == []
    assert not list((tmp_path / "ablations").glob("*.json")) if (tmp_path / "ablations").exists() else True
    assert RunStore().active_run_id() is None
