"""/: what the app does, in plain language, with the current best model from the run store."""

from __future__ import annotations

import dash
import dash_bootstrap_components as dbc
from dash import dcc, html

from core import data
from core.evaluation import comparison, facts, leaderboard, ranking, wording
from core.store import RunError
from dashboard import state
from dashboard.components.cards import stat_tile

dash.register_page(__name__, path="/", name="Overview", order=0, title="Fashion-MNIST Studio")

TOUR = [
    (
        "/data",
        "1. Look at the data",
        (
            "{total:,} small photos of clothes in {classes} classes. See examples, how balanced the classes are, and "
            "which classes look alike."
        ),
    ),
    (
        "/train",
        "2. Train a model",
        (
            "Pick a model, press Start and watch it learn, epoch by epoch. The curves show when it starts to "
            "memorise instead of learn."
        ),
    ),
    (
        "/leaderboard",
        "3. Compare models",
        "Every finished run on one table: accuracy, the class it finds hardest, speed and size.",
    ),
    (
        "/errors",
        "4. Inspect mistakes",
        (
            "Click a cell of the confusion matrix to see exactly which photos a model got wrong, and what it "
            "thought they were."
        ),
    ),
    (
        "/gradcam",
        "5. See where it looks",
        "Grad-CAM colours the parts of a photo that pushed the model to its answer. Upload your own photo too.",
    ),
    (
        "/insights",
        "6. What helps",
        "Which techniques make a model more accurate, measured over several training seeds, with the uncertainty.",
    ),
]


def _dataset_sizes() -> tuple[dict, str | None]:
    try:
        ds = data.load()
    except data.DataError as exc:
        return {"total": 0, "classes": len(data.CLASS_NAMES), "test": 0}, str(exc)
    return {"total": len(ds.y_train) + len(ds.y_test), "classes": len(ds.class_names), "test": len(ds.y_test)}, None


def _interval(record: dict) -> str:
    return leaderboard.interval_text(record["metrics"].get("test_accuracy_ci95")) or "not known"


def _evidence() -> html.Div | None:
    """Two answers with their uncertainty: is the top run better than the runner-up beyond chance,
    and how does the best CNN compare with the best classic model (paired, on the same test photos)."""
    items = []
    for title, get, element_id in (
        ("Is the most accurate run really the best?", comparison.top_two, "home-top-two"),
        ("A CNN against the classic models", comparison.deep_vs_classic, "home-deep-vs-classic"),
    ):
        try:
            result = get(state.store())
        except RunError:
            result = None
        if result is None:
            continue
        items.append(
            dbc.Col(
                dbc.Card(
                    dbc.CardBody(
                        [
                            html.H6(title, className="mb-1"),
                            html.P(
                                wording.verdict(facts.Paired.of(result)),
                                className="small mb-1",
                                id=element_id,
                            ),
                            dcc.Link(
                                "See the photos that decide it →",
                                href=f"/errors?run={result['a']}&compare={result['b']}",
                                className="small",
                            ),
                        ]
                    ),
                    className="h-100",
                ),
                md=6,
            )
        )
    return dbc.Row(items, className="g-3 mb-4", id="home-evidence") if items else None


def layout(**_query) -> html.Div:
    sizes, data_problem = _dataset_sizes()
    store = state.store()
    # from the run index (never every record): the ranked runs, the most accurate, what else there is
    top, n_ranked = store.page({"status": "completed", "full_split": True}, "-test_accuracy", 1)
    damaged, n_damaged = store.page({"status": "damaged"}, "run_id", 5)
    broken = [r["run_id"] for r in damaged]
    best = store.get(top[0]["run_id"]) if top else None
    others = ranking.unranked_words(ranking.counts_from_index(store.index.status_counts()))
    tiles = [
        stat_tile(
            "Finished runs",
            str(n_ranked),
            f"trained on all {ranking.FULL_SPLIT:,} photos and scored on the test photos".replace(",", " ")
            + (f"; besides them: {others}" if others else ""),
            tile_id="home-run-count",
        ),
        stat_tile(
            "Best test accuracy",
            f"{100 * best['metrics']['test_accuracy']:.2f} %" if best else "–",
            f"{facts.display_name(best)}; 95 % interval {_interval(best)}" if best else "train a model to fill this in",
            tile_id="home-best-accuracy",
        ),
        stat_tile(
            "Test photos",
            f"{sizes['test']:,}",
            "never seen during training; every score here is on them",
            tile_id="home-test-count",
        ),
    ]
    return html.Div(
        [
            html.Div(
                [
                    html.H1("Fashion-MNIST Studio", className="display-6"),
                    html.P(
                        "Teach a computer to recognise clothes from tiny photos, and see for yourself how well it "
                        "works, where it fails, and why.",
                        className="lead",
                    ),
                    dcc.Link(
                        "▶ Present: the story in eight slides",
                        href="/story",
                        className="btn btn-success",
                        id="home-present",
                        title="Full-screen slides built from the runs; arrow keys move; a report downloads from there",
                    ),
                ],
                className="py-3",
            ),
            dbc.Alert(data_problem, color="danger", id="home-data-problem") if data_problem else None,
            dbc.Alert(
                [
                    f"{n_damaged} damaged run{'s' if n_damaged > 1 else ''} left out of every figure: ",
                    ", ".join(broken[:5]) + (" …" if n_damaged > 5 else ""),
                    ". The leaderboard shows why; ",
                    html.Code("python -m core runs check"),
                    " lists them all.",
                ],
                color="warning",
                id="home-damaged",
            )
            if broken
            else None,
            dbc.Row([dbc.Col(t, md=4) for t in tiles], className="g-3 mb-3"),
            _evidence(),
            dbc.Row(
                [
                    dbc.Col(
                        dbc.Card(
                            dbc.CardBody(
                                [
                                    html.H5(html.A(title, href=href, className="stretched-link text-decoration-none")),
                                    html.P(text.format(**sizes), className="mb-0 text-muted"),
                                ]
                            ),
                            className="h-100 tour-card",
                        ),
                        md=6,
                        lg=4,
                    )
                    for href, title, text in TOUR
                ],
                className="g-3",
            ),
            html.P(
                [
                    "Numbers on every page come from run records in ",
                    html.Code("artifacts/runs"),
                    " written by the training code; nothing is typed in by hand.",
                ],
                className="small text-muted mt-4",
            ),
        ]
    )
