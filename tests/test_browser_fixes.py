"""Controls that a person clicks must work: the photo-map hover, Grad-CAM++ in the address, any
typed training-set size, and honest leaderboard numbers (issue: broken hovers, blank Grad-CAM++)."""

from __future__ import annotations

import json
import time

import pytest
from selenium.webdriver.common.action_chains import ActionChains

from core.data import explore
from core.store import RunStore
from dashboard.components import training_form as form
from tests.conftest import click, graph_traces, wait_until


@pytest.fixture()
def client(with_reference_runs):
    from dashboard.app import create_app

    app = create_app()
    app.server.testing = True  # exceptions surface in the test
    return app.server.test_client()


def _hover(client, point: dict) -> dict:
    response = client.post(
        "/_dash-update-component",
        json={
            "output": "..data-embedding-tooltip.show...data-embedding-tooltip.bbox...data-embedding-tooltip.children..",
            "outputs": [{"id": "data-embedding-tooltip", "property": p} for p in ("show", "bbox", "children")],
            "inputs": [{"id": "data-embedding", "property": "hoverData", "value": {"points": [point]}}],
            "state": [{"id": "data-embedding-method", "property": "value", "value": "pca"}],
            "changedPropIds": ["data-embedding.hoverData"],
        },
    )
    assert response.status_code == 200, response.data[:300]
    return response.get_json()["response"]


def test_the_photo_map_hover_shows_the_photo_with_or_without_customdata(client):
    emb = explore.embedding("pca")
    expected = int(emb["index"][emb["label"] == 3][7])  # the 8th dot of the Dress trace
    bbox = {"x0": 1, "x1": 2, "y0": 1, "y1": 2}
    packed = _hover(client, {"curveNumber": 3, "pointNumber": 7, "bbox": bbox})  # what a packed array sends
    assert packed["data-embedding-tooltip"]["show"] is True
    assert f"#{expected}" in json.dumps(packed["data-embedding-tooltip"]["children"])
    listed = _hover(client, {"curveNumber": 3, "pointNumber": 7, "customdata": expected, "bbox": bbox})
    assert f"Dress · #{expected}" in json.dumps(listed["data-embedding-tooltip"]["children"], ensure_ascii=False)


def test_the_map_figure_sends_its_ids_as_plain_lists():
    from core import data
    from dashboard.figures.data import embedding_scatter

    emb = explore.embedding("pca")
    fig = embedding_scatter(emb["xy"], emb["label"], emb["index"], list(data.CLASS_NAMES), "pca")
    assert isinstance(fig.to_plotly_json()["data"][0]["customdata"], (list, tuple))


@pytest.mark.parametrize("typed, used", [(250, 250), (2550, 2550), (47999, 47999)])
def test_any_typed_training_set_size_is_used(typed, used):
    config, error = form.validate(
        "cnn", {**{n: form.default_value("cnn", n) for n in form.FIELD_NAMES}, "subset": typed}
    )
    assert error is None and config.subset == used
    subset_field = next(f for f in form.NUMBER_FIELDS if f[0] == "subset")
    assert subset_field[3]["step"] == "any"  # the browser never refuses (and blanks) a size that is not a multiple


def test_a_too_small_training_set_says_so():
    _config, error = form.validate("cnn", {**{n: form.default_value("cnn", n) for n in form.FIELD_NAMES}, "subset": 5})
    assert error is not None and str(error) == "subset must be between 100 and 48,000, got 5"


def test_a_fractional_epoch_count_is_called_what_it_is():
    values = {**{n: form.default_value("cnn", n) for n in form.FIELD_NAMES}, "epochs": 2.5}
    _config, error = form.validate("cnn", values)
    assert str(error) == "epochs must be a whole number, got 2.5"
    assert all(f[3]["step"] == "any" for f in form.NUMBER_FIELDS)  # the server judges, and says why


def test_each_models_own_parameters_reach_its_config_and_are_validated():
    values = {n: form.default_value("svm", n) for n in form.FIELD_NAMES}
    config, error = form.validate("svm", {**values, "param__svm__C": 3, "param__svm__pca": 40})
    assert error is None and config.params == {"C": 3.0, "pca": 40}
    _config, error = form.validate("svm", {**values, "param__svm__pca": 5000})
    assert error and error.field == "param__svm__pca" and "pca must be between 5 and 784" in str(error)
    mlp = {n: form.default_value("mlp", n) for n in form.FIELD_NAMES}
    config, error = form.validate("mlp", {**mlp, "param__mlp__hidden": "256"})  # a select sends a string
    assert error is None and config.params["hidden"] == "256"
    config, error = form.validate("cnn", {**{n: form.default_value("cnn", n) for n in form.FIELD_NAMES}})
    assert error is None and set(config.params) == set(form.SPECS["cnn"].params)  # only the CNN's own
    assert "C" not in config.params and "k" not in config.params
    assert {f[1] for f in form.PARAM_FIELDS} >= {"svm", "knn", "random_forest", "logreg", "mlp"}


def test_layer_names_get_plain_labels():
    from dashboard.components.layers import layer_label

    assert layer_label("conv3_relu", 2, 3) == "convolution 3 — last, most abstract (conv3_relu)"
    assert layer_label("block2_1_out", 4, 7) == "residual block 2.1 output (block2_1_out)"
    assert layer_label("stem_relu", 0, 7).startswith("input convolution — first")


def test_a_classic_runs_gallery_opens_grad_cam_and_says_which_model_explains_it(client):
    from dashboard import runs_view
    from dashboard.pagerequest import page_request

    record = runs_view.resolve_run("ref-knn")[0]
    link = runs_view.gradcam_run_for(record)
    deep = [r for r in RunStore().list_runs(status="completed") if r.get("family") == "deep"]
    best_cnn = max(deep, key=lambda r: r["metrics"]["test_accuracy"])["run_id"]  # the most accurate CNN
    assert link == {"run": best_cnn, "from": "ref-knn"}
    got = client.get("/_dash-dependencies")
    assert got.status_code == 200, got.data[:300]
    body = client.post(
        "/_dash-update-component",
        json=page_request(got.get_json(), "/gradcam", f"?run={best_cnn}&index=3&from=ref-knn"),
    ).get_data(as_text=True)
    assert "gradcam-stand-in" in body and "has no convolutional layers" in body and "ref-knn" in body


def _prop(tree, component_id: str, name: str):
    """A property of the component with `component_id` anywhere in a Dash JSON response."""
    if isinstance(tree, dict):
        if tree.get("id") == component_id:
            return tree.get(name)
        tree = list(tree.values())
    if isinstance(tree, list):
        for item in tree:
            found = _prop(item, component_id, name)
            if found is not None:
                return found
    return None


def test_grad_cam_opens_with_the_most_faithful_method_and_says_how_faithful(client, with_reference_runs):
    from core.explain import faithfulness
    from core.store import RunStore
    from dashboard.components.gradcam_notes import METHOD_OPTIONS
    from dashboard.pagerequest import page_request

    chosen = faithfulness.default_view("ref-cnn", RunStore(with_reference_runs / "runs"), compute=True, n=30)
    deps = client.get("/_dash-dependencies").get_json()
    body = client.post("/_dash-update-component", json=page_request(deps, "/gradcam", "?run=ref-cnn")).get_data(
        as_text=True
    )
    label = next(o["label"] for o in METHOD_OPTIONS if o["value"] == chosen["method"])
    assert "gradcam-faithfulness" in body and "drops the model" in body and f"Shown with {label}" in body
    assert f"opens on test photo #{chosen['photo']}" in body  # a photo where the explanation is clear
    assert _prop(json.loads(body), "gradcam-index", "value") == chosen["photo"]
    plain = client.post(
        "/_dash-update-component", json=page_request(deps, "/gradcam", "?run=ref-cnn&index=3&method=gradcam")
    ).get_data(as_text=True)
    assert _prop(json.loads(plain), "gradcam-method", "value") == "gradcam"  # an explicit choice is kept as asked
    if chosen["method"] != "gradcam":  # and the page says it is not the measured default
        assert "not the method measured most faithful" in plain and f"which is {label}" in plain
    else:
        assert "the most faithful" in plain


# a live server in a thread last: apps created after it in the same process share Dash's page registry
def test_grad_cam_plus_plus_survives_the_address_bar(dash_duo, app_factory, with_reference_runs):
    dash_duo.start_server(app_factory())
    dash_duo.driver.get(f"{dash_duo.server_url}/gradcam?run=ref-cnn&index=4")
    wait_until(lambda: graph_traces(dash_duo, "gradcam-heat"), timeout=60)
    click(dash_duo, "#gradcam-method input[value='gradcam++']")
    wait_until(lambda: "method=gradcam%2B%2B" in dash_duo.driver.current_url, timeout=20)
    wait_until(lambda: graph_traces(dash_duo, "gradcam-heat"), timeout=60)
    assert not dash_duo.find_elements("#gradcam-problem")
    checked = dash_duo.find_element("#gradcam-method input:checked").get_attribute("value")
    assert checked == "gradcam++"
    assert dash_duo.get_logs() == []


def test_any_run_can_be_replayed_on_the_train_page(dash_duo, app_factory, with_reference_runs):
    dash_duo.start_server(app_factory())
    dash_duo.driver.get(f"{dash_duo.server_url}/train?run=ref-cnn")
    dash_duo.wait_for_contains_text("#train-run-title", "ref-cnn", timeout=20)
    wait_until(lambda: max((t["n"] for t in graph_traces(dash_duo, "train-curves") or []), default=0) == 15, timeout=20)
    status = dash_duo.find_element("#train-status").text
    assert "trained on 48,000 photos" in status and "its settings: 15 ep" in status
    dash_duo.driver.get(f"{dash_duo.server_url}/train?run=ref-logreg")
    dash_duo.wait_for_contains_text("#train-run-title", "ref-logreg", timeout=20)
    dash_duo.wait_for_contains_text("#train-verdict", "no epochs", timeout=20)
    assert dash_duo.get_logs() == []


def test_the_disagreement_view_builds_only_the_tab_on_screen(dash_duo, app_factory, with_reference_runs):
    from core.evaluation import drilldown
    from core.store import RunStore

    store = RunStore(with_reference_runs / "runs")
    diff = drilldown.disagreements(store.predictions("ref-cnn"), store.predictions("ref-svm"))
    dash_duo.start_server(app_factory())
    dash_duo.driver.get(f"{dash_duo.server_url}/errors?run=ref-cnn&compare=ref-svm")
    dash_duo.wait_for_element("#errors-disagree-summary", timeout=60)
    wait_until(
        lambda: len(dash_duo.find_elements("#errors-disagree-gallery .thumb")) == min(30, diff["counts"]["a_right"])
    )
    assert len(dash_duo.find_elements("#errors-disagree .thumb")) == min(30, diff["counts"]["a_right"])  # one tab only
    assert "both wrong" in dash_duo.find_element("#errors-disagree-tabs .nav-item:nth-child(3) .nav-link").text
    a = store.predictions("ref-cnn")
    both_wrong = diff["neither"]
    first = int(both_wrong[(-a["proba"][both_wrong, a["y_pred"][both_wrong]]).argsort(kind="stable")][0])

    def first_thumb() -> str:  # read in the page (the gallery is being replaced)
        return dash_duo.driver.execute_script(
            "const t = document.querySelector('#errors-disagree-gallery .thumb'); return t ? t.id : '';"
        )

    click(dash_duo, "#errors-disagree-tabs .nav-item:nth-child(3) .nav-link")
    wait_until(lambda: f'"index":{first}' in first_thumb().replace(" ", ""), timeout=30)
    wait_until(lambda: len(dash_duo.find_elements("#errors-disagree-gallery .thumb")) == min(30, len(diff["neither"])))
    assert dash_duo.get_logs() == []


def test_photos_have_no_mode_bar_and_the_opacity_slider_no_value_box(dash_duo, app_factory, with_reference_runs):
    dash_duo.start_server(app_factory())
    dash_duo.driver.get(f"{dash_duo.server_url}/gradcam?run=ref-cnn&index=4")
    wait_until(lambda: graph_traces(dash_duo, "gradcam-overlay"), timeout=60)
    ActionChains(dash_duo.driver).move_to_element(dash_duo.find_element("#gradcam-overlay")).perform()
    time.sleep(0.5)
    assert not [e for e in dash_duo.find_elements("#gradcam-overlay .modebar") if e.is_displayed()]
    assert not dash_duo.find_elements("#gradcam-opacity input")  # the value box covered the "heatmap" mark
    assert "heatmap" in dash_duo.find_element("#gradcam-opacity").text
    dash_duo.driver.get(f"{dash_duo.server_url}/data")
    wait_until(lambda: graph_traces(dash_duo, "data-samples"), timeout=60)
    ActionChains(dash_duo.driver).move_to_element(dash_duo.find_element("#data-samples")).perform()
    time.sleep(0.5)
    assert not [e for e in dash_duo.find_elements("#data-samples .modebar") if e.is_displayed()]
    assert dash_duo.get_logs() == []


def test_the_train_page_opens_on_your_own_training_not_a_trial_or_an_ablation_run(client, tmp_path):
    from dashboard import runs_view
    from tests.conftest import completed_run

    store = RunStore(tmp_path / "runs")
    completed_run(store, "mine", accuracy=0.8)
    for run_id, tag in (
        ("a-trial", {"study": {"name": "s", "trial": 0}}),
        ("an-ablation", {"ablation": {"study": "a"}}),
    ):
        with store.open_run(run_id, {"model": "logreg", "label": "LR", "family": "classic", "config": {}, **tag}):
            store.update(run_id, status="validated", validation={"val_accuracy": 0.8})
    assert store.list_runs()[0]["run_id"] != "mine"  # the trial and the ablation run are newer
    assert runs_view.latest_user_run(store) == "mine"


def test_grad_cam_fits_the_window_and_every_method_says_how_faithful_it_is(dash_duo, app_factory, with_reference_runs):
    dash_duo.start_server(app_factory())
    dash_duo.driver.set_window_size(1440, 900)
    dash_duo.driver.get(f"{dash_duo.server_url}/gradcam?run=ref-cnn&index=0&method=smoothgrad")
    wait_until(lambda: graph_traces(dash_duo, "gradcam-overlay"), timeout=60)
    note = dash_duo.find_element("#gradcam-faithfulness").text
    assert note.startswith("Shown with SmoothGrad")  # measured or not, the page says so
    assert "SmoothGrad" in dash_duo.find_element("#gradcam-intro").text
    overflow = dash_duo.driver.execute_script(
        "return document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow} px wider than the window"
    mark = dash_duo.driver.execute_script(
        "const m = [...document.querySelectorAll('#gradcam-opacity *')].filter(e => e.children.length === 0"
        " && e.textContent.trim() === 'heatmap').pop();"
        "const r = m.getBoundingClientRect(); return {text: m.textContent, right: r.right, width: window.innerWidth};"
    )
    assert mark["text"] == "heatmap" and mark["right"] <= mark["width"]
    assert "% sure" in dash_duo.find_element("#gradcam-caption").text
