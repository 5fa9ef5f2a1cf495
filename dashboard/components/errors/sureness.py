"""/errors: "How sure, checked": the run's reliability diagram on the test photos, before and after its
calibration, with the measures (ECE with its interval, log-loss, Brier score) and its prediction sets'
coverage and mean size; one plain sentence first, the numbers a click away."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import dcc, html

from core.evaluation import calibrated
from dashboard.figures import errors as figs


class ids:
    block = "errors-sureness"
    promise = "errors-sureness-promise"
    figure = "errors-reliability"
    measures = "errors-sureness-measures"


def _pct(v: float | None, digits: int = 1) -> str:
    return "–" if v is None else f"{100 * v:.{digits}f} %"


def _measures(found: dict) -> html.Details:
    test = found["test"]
    rows = []
    for label, key in (("model's own scores", "before"), ("calibrated", "after")):
        part = test[key]
        low, high = part["ece_ci95"]
        rows.append(
            html.Tr(
                [
                    html.Td(label),
                    html.Td(f"{_pct(part['ece'])} ({_pct(low)}–{_pct(high)})"),
                    html.Td(f"{part['log_loss']:.3f}"),
                    html.Td(f"{part['brier']:.3f}"),
                    html.Td(_pct(part["mean_confidence"])),
                ]
            )
        )
    head = html.Thead(
        html.Tr([html.Th(h) for h in ("", "ECE (95 % interval)", "log-loss", "Brier", "mean confidence")])
    )
    floor = found.get("floor") or 0.0
    fitted = f"Temperature T = {found['temperature']:.3f}" + (
        f" after mixing in a uniform share of {floor:.3f} (its probabilities have hard zeros)" if floor else ""
    )
    sizes = ", ".join(
        f"{n} class{'es' if n != '1' else ''}: {c:,}".replace(",", " ") for n, c in test["set_sizes"].items()
    )
    return html.Details(
        [
            html.Summary("The numbers"),
            dbc.Table([head, html.Tbody(rows)], size="sm", className="small mt-2 mb-1"),
            html.P(
                [
                    (
                        f"{fitted}, fitted on {found['fitted_on']}; test accuracy {_pct(test['accuracy'], 2)} "
                        "(calibration never changes an answer). "
                    ),
                    (
                        f"{100 * found['coverage']:.0f} % prediction sets hold the true class for "
                        f"{_pct(test['set_coverage'])} of the test photos, {test['set_mean_size']:.2f} classes on "
                        f"average ({sizes})."
                    ),
                ],
                className="small text-muted mb-0",
            ),
        ],
        id=ids.measures,
    )


def block(record: dict) -> dbc.Card:
    found = record.get("calibration") if isinstance(record.get("calibration"), dict) else None
    header = dbc.CardHeader(html.H5("How sure, checked", className="mb-0"))
    if calibrated.for_run(record) is None or not found or "test" not in found:
        body = dbc.CardBody(
            html.P(
                [
                    calibrated.promise_sentence(record),
                    " Its bars show the model's own scores. Calibrate it with ",
                    html.Code(f"python -m core calibrate {record['run_id']}"),
                    ".",
                ],
                id=ids.promise,
                className="mb-0",
            )
        )
        return dbc.Card([header, body], className="mt-3", id=ids.block)
    figure = figs.reliability(found.get("reliability_test") or [], found.get("reliability_test_before") or [])
    return dbc.Card(
        [
            header,
            dbc.CardBody(
                [
                    html.P(calibrated.promise_sentence(record), id=ids.promise, className="fw-semibold"),
                    html.P(
                        "Each point is a group of test photos the model was about equally sure of: how sure it said it "
                        "was (across) against how often it was right (up). On the dotted line, “90 % sure” means right "
                        "90 % of the time.",
                        className="small text-muted",
                    ),
                    dcc.Graph(id=ids.figure, figure=figure, config={"displaylogo": False}),
                    _measures(found),
                ]
            ),
        ],
        className="mt-3",
        id=ids.block,
    )
