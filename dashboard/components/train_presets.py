"""/train: one button per named recipe (core.training.presets), and what each measured here."""

from __future__ import annotations

import dash_bootstrap_components as dbc
from dash import html


def preset_buttons() -> html.Div:
    """One button per named recipe (core.training.presets); a click fills the form."""
    from core.training import presets

    return html.Div(
        [
            html.Span("Presets:", className="small fw-semibold me-2"),
            *[
                dbc.Button(
                    preset.title.split(" (")[0],
                    id={"type": "train-preset", "name": name},
                    title=f"{preset.title}: {preset.goal}",
                    color="info",
                    outline=True,
                    size="sm",
                    className="me-1",
                    n_clicks=0,
                )
                for name, preset in presets.PRESETS.items()
            ],
        ],
        className="mb-2",
    )


def preset_measured(preset) -> str:
    """What the preset's reference run measured here (or that it has not been measured yet), and why it
    trains this kind of model (what the reference race found at its budget)."""
    from core.race import results

    measured = preset.summary()["measured"]
    said = (
        f"Its reference run reached {100 * measured['test_accuracy']:.2f} % test accuracy after "
        f"{measured['train_seconds']:.0f} s of training."
        if measured
        else "Not measured on this machine yet."
    )
    reason = results.preset_reasons().get(preset.name)
    return f"{said} {reason['sentence']}" if reason else said
