"""/data: explore the real dataset — samples, class balance, pixels, mean images, a 2-D map."""

from __future__ import annotations

import functools

import dash
import dash_bootstrap_components as dbc
import numpy as np
from dash import Input, Output, State, callback, dcc, html, no_update

from core import data
from core.data import captions, explore, images
from dashboard.components.cards import figure_card
from dashboard.figures import data as figs

dash.register_page(__name__, path="/data", name="Data", order=1, title="Data · Fashion-MNIST Studio")

PER_CLASS_CHOICES = (4, 8, 12, 16)


@functools.lru_cache(maxsize=1)
def _static_figures() -> dict[str, dict]:
    """The figures that depend only on the dataset, built once per process (as plain dicts):
    building them is most of a render's time, and the dataset never changes under a server."""
    stats = explore.dataset_stats()
    names = list(data.CLASS_NAMES)
    means, stds = explore.class_mean_std_images()
    pixel_stats = {"mean": stats["pixel_mean"], "median": stats["pixel_median"], "std": stats["pixel_std"]}
    figures = {
        "samples": figs.sample_grid(*_samples(8, 0), class_names=names),
        "balance": figs.class_balance(stats["class_counts"]),
        "histogram": figs.pixel_histogram(explore.training_histogram(), None, names, pixel_stats),
        "meanstd": figs.mean_std_images(means, stds, names),
        "embedding": _embedding_figure("pca"),
    }
    return {name: fig.to_dict() for name, fig in figures.items()}


def layout(**_query) -> html.Div:
    stats = explore.dataset_stats()
    names = list(data.CLASS_NAMES)
    _means, stds = explore.class_mean_std_images()
    pixel_stats = {"mean": stats["pixel_mean"], "median": stats["pixel_median"], "std": stats["pixel_std"]}
    static = _static_figures()
    return html.Div(
        [
            html.H2("The data"),
            html.P(
                f"Fashion-MNIST has {stats['n_train']:,} training and {stats['n_test']:,} test photos of clothing, "
                f"each {28}×{28} grey pixels, in {len(names)} classes. Models learn from 80 % of the training "
                "photos, we watch them on the other 20 % (validation), and score them once on the test photos.",
                className="lead",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        figure_card(
                            "Samples",
                            "data-samples",
                            static["samples"],
                            photos=True,
                            caption="One row per class, drawn at random. Hover a tile to see which training image it is.",
                            controls=[
                                dbc.InputGroup(
                                    [
                                        dbc.InputGroupText("per class"),
                                        dbc.Select(
                                            id="data-per-class",
                                            value="8",
                                            options=[{"label": str(n), "value": str(n)} for n in PER_CLASS_CHOICES],
                                        ),
                                        dbc.Button("Re-sample", id="data-resample", color="primary", n_clicks=0),
                                    ],
                                    size="sm",
                                    style={"maxWidth": "22rem"},
                                )
                            ],
                        ),
                        lg=7,
                    ),
                    dbc.Col(
                        figure_card(
                            "Class balance",
                            "data-balance",
                            static["balance"],
                            captions.balance_caption(stats["class_counts"]),
                        ),
                        lg=5,
                    ),
                ],
                className="g-3",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        figure_card(
                            "Pixel intensities",
                            "data-histogram",
                            static["histogram"],
                            captions.pixel_caption(pixel_stats),
                            controls=[
                                dbc.RadioItems(
                                    id="data-hist-mode",
                                    value="all",
                                    inline=True,
                                    options=[
                                        {"label": "All classes", "value": "all"},
                                        {"label": "Per class", "value": "class"},
                                    ],
                                )
                            ],
                        ),
                        lg=6,
                    ),
                    dbc.Col(
                        figure_card(
                            "Average photo and variation per class",
                            "data-meanstd",
                            static["meanstd"],
                            captions.meanstd_caption(stds),
                            photos=True,
                        ),
                        lg=6,
                    ),
                ],
                className="g-3 mt-1",
            ),
            dbc.Row(
                [
                    dbc.Col(
                        figure_card(
                            "A map of the photos",
                            "data-embedding",
                            static["embedding"],
                            "Each dot is a training photo, placed so that similar photos sit close together. Overlapping "
                            "colours are classes that models confuse. Hover a dot to see the photo.",
                            controls=[
                                dbc.RadioItems(
                                    id="data-embedding-method",
                                    value="pca",
                                    inline=True,
                                    options=[
                                        {"label": "PCA (linear)", "value": "pca"},
                                        {"label": "t-SNE (neighbourhoods)", "value": "tsne"},
                                    ],
                                )
                            ],
                            extra=dcc.Tooltip(id="data-embedding-tooltip", direction="bottom"),
                        ),
                        width=12,
                    )
                ],
                className="g-3 mt-1",
            ),
            dcc.Store(id="data-sample-seed", data=0),
        ]
    )


def _samples(per_class: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    idx = explore.sample_indices(per_class, seed)
    return data.load().x_train[idx], idx


def _embedding_figure(method: str):
    emb = explore.embedding(method)
    return figs.embedding_scatter(emb["xy"], emb["label"], emb["index"], list(data.CLASS_NAMES), method)


@callback(
    Output("data-samples", "figure"),
    Output("data-sample-seed", "data"),
    Input("data-resample", "n_clicks"),
    Input("data-per-class", "value"),
    State("data-sample-seed", "data"),
    prevent_initial_call=True,
)
def resample(n_clicks, per_class, seed):
    seed = seed if isinstance(seed, int) and not isinstance(seed, bool) and 0 <= seed < 2**31 else 0
    seed += 1 if dash.ctx.triggered_id == "data-resample" else 0
    per_class = int(per_class) if str(per_class).isdigit() and int(per_class) in PER_CLASS_CHOICES else 8
    return figs.sample_grid(*_samples(per_class, seed), class_names=list(data.CLASS_NAMES)), seed


@callback(Output("data-histogram", "figure"), Input("data-hist-mode", "value"), prevent_initial_call=True)
def histogram_mode(mode):
    stats = explore.dataset_stats()
    pixel_stats = {"mean": stats["pixel_mean"], "median": stats["pixel_median"], "std": stats["pixel_std"]}
    per_class = explore.per_class_histograms() if mode == "class" else None
    total = explore.training_histogram()
    return figs.pixel_histogram(total, per_class, list(data.CLASS_NAMES), pixel_stats)


@callback(Output("data-embedding", "figure"), Input("data-embedding-method", "value"), prevent_initial_call=True)
def embedding_method(method):
    return _embedding_figure(method if method in explore.EMBEDDING_METHODS else "pca")


def _hovered_index(point: dict, method: str | None) -> int | None:
    """The training-image index of a hovered dot: its customdata, else (trace, point) looked up in
    the embedding the figure was drawn from (one trace per class, dots in embedding order)."""
    try:
        if point.get("customdata") is not None:
            index = int(point["customdata"])
            return index if 0 <= index < len(data.load().y_train) else None
        emb = explore.embedding(method if method in explore.EMBEDDING_METHODS else "pca")
        return int(emb["index"][emb["label"] == int(point["curveNumber"])][int(point["pointNumber"])])
    except (KeyError, IndexError, TypeError, ValueError):
        return None


@callback(
    Output("data-embedding-tooltip", "show"),
    Output("data-embedding-tooltip", "bbox"),
    Output("data-embedding-tooltip", "children"),
    Input("data-embedding", "hoverData"),
    State("data-embedding-method", "value"),
)
def embedding_hover(hover, method):
    points = hover.get("points") if isinstance(hover, dict) else None
    if not isinstance(points, list) or not points or not isinstance(points[0], dict):
        return False, no_update, no_update  # nothing hovered (or a tampered request)
    point = points[0]
    index = _hovered_index(point, method)
    if index is None:
        return False, no_update, no_update
    label = data.CLASS_NAMES[int(data.load().y_train[index])]
    body = html.Div(
        [
            html.Img(src=images.dataset_thumbnail("train", index), className="pixelated", style={"width": "112px"}),
            html.Div(f"{label} · #{index}", className="small text-center"),
        ]
    )
    bbox = point.get("bbox")
    return (True, bbox, body) if isinstance(bbox, dict) else (False, no_update, no_update)
