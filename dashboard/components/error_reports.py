"""The /errors page's reports: the classification report with recall intervals, and the label
suspects (confident learning) with their CSV download."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import Input, Output, State, html, no_update

from core.evaluation import drilldown, labels
from dashboard import runs_view


def suspects_sentence(preds) -> str:
    suspects = labels.label_suspects(preds)
    wrong = int((preds["y_pred"] != preds["y_true"]).sum())
    return (
        f"The model was very sure and still wrong. Confident learning (cleanlab's find_label_issues on this "
        f"run's test-set probabilities; a photo is flagged when the model's confidence in another class beats "
        f"the confidence it usually has in that class's real photos) flags {len(suspects)} of its "
        f"{wrong} mistakes as photos whose dataset label is itself likely wrong; those are marked "
        "“label suspect” here and in every cell of the matrix, and are worth a human look."
    )


def confidence_note(preds) -> str:
    """What the bars under each photo are: calibrated probabilities, or the model's own scores."""
    if preds.get("calibrated"):
        return (
            "Bars: calibrated probabilities (one temperature fitted on this run's validation photos), so a "
            "90 % bar is right about 90 % of the time on the test photos; mistakes are ranked by them. Where "
            f"one answer misleads, the photo names its {100 * preds['coverage']:.0f} % prediction set: the "
            f"classes that hold the true one for {100 * preds['coverage']:.0f} % of photos."
        )
    return (
        "Bars: the model's own scores. This run has no calibration yet (python -m core calibrate RUN), so a "
        "90 % bar is not how often it is right."
    )


def suspect_notes(preds, shown) -> dict[int, str]:
    suspects = set(labels.label_suspects(preds).tolist())
    return {int(i): "label suspect (confident learning)" for i in shown if int(i) in suspects}


def report_table(preds) -> dbc.Table:
    rows = drilldown.classification_report(preds["y_true"], preds["y_pred"])

    def fmt(v):
        return "" if v is None else f"{v:.3f}"

    def interval(r):
        ci = r.get("recall_ci95") or r.get("ci95")
        return f"{ci[0]:.3f}–{ci[1]:.3f}" if ci else ""

    body = [
        html.Tr(
            [
                html.Td(r["class"], className="fw-semibold" if "avg" in r["class"] else None),
                html.Td(fmt(r["precision"])),
                html.Td(fmt(r["recall"])),
                html.Td(fmt(r["f1-score"])),
                html.Td(interval(r), className="text-muted"),
                html.Td(f"{int(r['support']):,}"),
            ]
        )
        for r in rows
    ]
    heads = ("class", "precision", "recall", "F1", "95 % interval (recall; accuracy)", "photos")
    head = html.Thead(html.Tr([html.Th(h) for h in heads]))
    return dbc.Table(
        [head, html.Tbody(body)], size="sm", striped=True, hover=True, id="errors-report", className="mb-0 small"
    )


# registered by the /errors page (Dash runs page modules once per app; this module only once)
DOWNLOAD_IO = (
    Output("errors-suspects-download", "data"),
    Input("errors-suspects-csv", "n_clicks"),
    State("errors-run", "value"),
)


def download_suspects(_n, run_id):
    """Every label suspect of the run, as a CSV file (the gallery shows only the most confident)."""
    import csv
    import io

    preds, _problem = runs_view.predictions_for(run_id)
    if preds is None:
        return no_update
    rows = labels.suspects_table(preds)
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]) if rows else ["rank", "test_index"])
    writer.writeheader()
    writer.writerows(rows)
    return {"content": out.getvalue(), "filename": f"label-suspects-{run_id}.csv"}
