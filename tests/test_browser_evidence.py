"""Browser tests of the evidence features: the "What helps" page on the committed reference ablation,
and "is A really better than B?" from the overview and the leaderboard to the discordant photos."""

from __future__ import annotations

from core.ablation import study as studies
from core.ablation import wording
from core.evaluation import comparison
from core.evaluation import wording as run_wording
from core.evaluation.facts import Paired
from core.store import RunStore
from tests.conftest import click, click_plot_point, graph_traces, wait_until


def test_what_helps_shows_each_technique_with_its_interval_and_opens_its_curves(
    dash_duo, app_factory, with_reference_runs
):
    summary = studies.summary("ref-ablation", RunStore())
    measured = wording.forest_rows(summary)
    assert measured, "the reference ablation has finished pairs of runs"
    from core.ablation import results

    dash_duo.start_server(app_factory())
    cited = results.cited_name(RunStore())
    dash_duo.driver.get(f"{dash_duo.server_url}/insights")  # the menu's link opens the study the story cites
    wait_until(lambda: cited in dash_duo.find_element("#insights-study").text, timeout=40)
    dash_duo.driver.get(f"{dash_duo.server_url}/insights?study=ref-ablation")
    wait_until(lambda: "ref-ablation ·" in dash_duo.find_element("#insights-study").text, timeout=40)
    traces = wait_until(
        lambda: (lambda t: t if t and t[0]["n"] == len(measured) else None)(graph_traces(dash_duo, "insights-forest")),
        timeout=40,
    )
    assert traces[0]["n"] == len(measured)  # one diamond per technique with a finished pair
    drawn = dash_duo.driver.execute_script(
        "return document.querySelectorAll('#insights-forest .scatterlayer .point').length"
    )
    assert drawn == len(measured)
    items = dash_duo.find_elements("#insights-list li")
    assert [i.text for i in items] == [v["sentence"] for v in summary["variants"]]
    assert "preset fast" in dash_duo.find_element("#insights-base").text
    budget = dash_duo.find_element("#insights-budget-list").text
    assert budget.startswith("4 epochs on 12 000 photos (float32")  # the short study says its budget
    assert "short budget" in dash_duo.find_element("#insights-short-budget").text
    assert "width 32 (today 48)" in dash_duo.find_element("#insights-recipe-note").text
    assert "adjusted for" in dash_duo.find_element("#insights-lead").text
    target = max(measured, key=lambda v: abs(v["effect"]))
    click_plot_point(dash_duo, "insights-forest", 100 * target["effect"], target["label"])
    curves = wait_until(
        lambda: (lambda t: t if t and len(t) >= 2 else None)(graph_traces(dash_duo, "insights-curves")), timeout=30
    )
    names = [t["name"] for t in curves]
    assert any(n.startswith("base · seed") for n in names)
    assert any(n.startswith(f"{target['key']} · seed") for n in names)
    assert dash_duo.get_logs() == []


def test_what_helps_shows_a_study_of_several_budgets_and_a_factorial_study(
    dash_duo, app_factory, tiny_studies, monkeypatch
):
    """Two small real studies: the one of two budgets draws one marker shape per budget, side by side,
    and says how each verdict changes with the budget; the factorial one draws its main effects,
    its interactions (one plot each) and its aliases. Every sentence names its budget."""
    monkeypatch.setenv("STUDIO_ARTIFACTS", str(tiny_studies))
    multi, fact = studies.summary("multi", RunStore()), studies.summary("fact", RunStore())
    dash_duo.start_server(app_factory())
    dash_duo.driver.get(f"{dash_duo.server_url}/insights?study=multi")
    traces = wait_until(lambda: graph_traces(dash_duo, "insights-forest"), timeout=40)
    assert sorted(t["name"] for t in traces) == ["1 epoch on 300 photos", "2 epochs on 300 photos"]
    assert sum(t["n"] for t in traces) == len(wording.forest_rows(multi)) == 2
    drawn = dash_duo.driver.execute_script(
        "return document.querySelectorAll('#insights-forest .scatterlayer .point').length"
    )
    assert drawn == 2
    legend = dash_duo.driver.execute_script("return document.querySelectorAll('#insights-forest .legendtext').length")
    assert legend == 2  # the budgets are named on the chart
    items = [i.text for i in dash_duo.find_elements("#insights-list li")]
    assert items == [v["sentence"] for v in multi["variants"]]
    assert all(t.startswith(("At 1 epoch on 300 photos", "At 2 epochs on 300 photos")) for t in items)
    across = [i.text for i in dash_duo.find_elements("#insights-across li")]
    assert len(across) == 1 and all("1 epoch on 300 photos" in t and "2 epochs on 300 photos" in t for t in across)
    assert len(dash_duo.find_elements("#insights-budget-list li")) == 2

    dash_duo.driver.get(f"{dash_duo.server_url}/insights?study=fact")
    wait_until(
        lambda: (t := graph_traces(dash_duo, "insights-forest")) and sum(x["n"] for x in t) == 2 and t, timeout=40
    )
    plots = wait_until(lambda: dash_duo.find_elements("#insights-interaction-plots .js-plotly-plot"), timeout=30)
    assert len(plots) == min(3, len(fact["interactions"])) and plots[0].size["height"] > 100
    lines = dash_duo.driver.execute_script(
        "return document.querySelector('#insights-interaction-plots .js-plotly-plot').data.length"
    )
    assert lines == 2
    items = [i.text for i in dash_duo.find_elements("#insights-list li")]
    assert items == [e["sentence"] for e in fact["main_effects"]]
    assert all(t.startswith("At 1 and 2 epochs on 300 photos") for t in items)
    assert "factorial" in dash_duo.find_element("#insights-method").text
    assert "The story and the managers' summary never cite it" in dash_duo.find_element("#insights-short-budget").text
    assert dash_duo.get_logs() == []


def test_a_comparison_gives_its_verdict_and_the_discordant_photos_are_one_click_away(
    dash_duo, app_factory, with_reference_runs
):
    top = comparison.top_two(RunStore())
    dash_duo.start_server(app_factory())
    dash_duo.driver.get(dash_duo.server_url + "/")
    # the overview speaks to managers: model names, not run ids; the same sentence rule as everywhere
    dash_duo.wait_for_contains_text("#home-top-two", run_wording.verdict(Paired.of(top)), timeout=30)
    assert top["a"] not in dash_duo.find_element("#home-top-two").text
    assert "95 % interval" in dash_duo.find_element("#home-best-accuracy").find_element("xpath", "..").text
    assert "beyond chance" in dash_duo.find_element("#home-deep-vs-classic").text
    dash_duo.driver.get(dash_duo.server_url + "/leaderboard")
    dash_duo.wait_for_contains_text("#leaderboard-verdict", top["verdict"], timeout=40)
    text = dash_duo.find_element("#leaderboard-verdict").text
    assert f"Only {top['a']} right: {top['a_right_b_wrong']} photos" in text
    click(dash_duo, "#leaderboard-verdict a")
    wait_until(lambda: "/errors" in dash_duo.driver.current_url, timeout=20)
    assert f"compare={top['b']}" in dash_duo.driver.current_url
    dash_duo.wait_for_contains_text("#errors-verdict", top["verdict"], timeout=40)
    tabs = dash_duo.find_element("#errors-disagree-tabs").text
    assert f"{top['a']} right ({top['a_right_b_wrong']})" in tabs
    thumbs = wait_until(lambda: dash_duo.find_elements("#errors-disagree-gallery .thumb"), timeout=30)
    assert len(thumbs) > 0
    assert dash_duo.get_logs() == []
