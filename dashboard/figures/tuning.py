"""Study figures: Optuna's own Plotly figures, each with a plain message when it cannot be drawn yet."""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard.figures.style import base_layout, empty_figure

FIGURES = {
    "history": ("plot_optimization_history", "Validation accuracy of each trial and the best so far"),
    "intermediate": (
        "plot_intermediate_values",
        "Validation accuracy per epoch of every trial (pruned ones stop early)",
    ),
    "parallel": ("plot_parallel_coordinate", "Each line a trial: its settings and its score"),
    "importance": (
        "plot_param_importances",
        (
            "Which settings mattered most (fANOVA: how much of the spread in scores each setting explains), "
            "from the finished trials"
        ),
    ),
}


FEW_TRIALS = 10  # parameter importances from fewer finished trials than this are flagged as unreliable


def study_figure(study, which: str) -> go.Figure:
    """One of Optuna's figures for `study` (an optuna.Study), in the studio's style."""
    from optuna import visualization
    from optuna.trial import TrialState

    finished = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    needed = FEW_TRIALS if which == "importance" else 1
    if which == "intermediate" and not any(t.intermediate_values for t in finished):
        return empty_figure("This model trains in one go: no per-epoch scores to compare.", height=320)
    if which == "importance" and len(finished) < needed:
        return empty_figure(
            f"Appears after {needed} finished trials: importances from {len(finished)} say little.", height=320
        )
    if len(finished) < needed:
        return empty_figure("Appears after the first finished trial.", height=320)
    try:
        fig = getattr(visualization, FIGURES[which][0])(study)
    except (ValueError, RuntimeError) as exc:  # e.g. importances when every trial scored the same
        return empty_figure(f"Not available yet: {exc}", height=320)
    fig.update_layout(title=None)
    _plain_names(fig)
    if which == "parallel":
        _parallel_readable(fig)
        return base_layout(fig, height=360, margin=dict(l=70, r=60, t=30, b=90))
    if which in ("history", "intermediate"):
        fig.update_xaxes(tickformat="d", dtick=_integer_step(len(study.trials) if which == "history" else None))
    return base_layout(fig, height=320, margin=dict(l=50, r=20, t=20, b=40))


OPTUNA_NAMES = {
    "Objective Value": "validation accuracy",
    "Best Value": "best so far",
    "Trial": "trial number",
    "Intermediate Value": "validation accuracy",
    "Step": "epoch",
}
MAX_AXIS_LABELS = 5  # value labels per parallel-coordinates axis: more stack into each other


def _parallel_readable(fig: go.Figure) -> None:
    """Optuna's parallel coordinates drawn as lines with one vertical axis per setting, its values as
    annotations anchored left of each axis: settings named in words and slanted, at most
    MAX_AXIS_LABELS values per axis, small type on a white ground so values never run into the lines
    or into each other, and room on the left for the first axis's values."""
    axis = fig.layout.xaxis
    names = [OPTUNA_NAMES.get(t, str(t).replace("_", " ")) for t in (axis.ticktext or [])]
    fig.update_xaxes(ticktext=names, tickangle=-25, automargin=True)
    if axis.range:
        fig.update_xaxes(range=[axis.range[0] - 0.3, axis.range[1]])
    by_axis: dict[float, list] = {}
    for note in fig.layout.annotations:
        by_axis.setdefault(note.x, []).append(note)
    kept = []
    for notes in by_axis.values():
        notes = sorted(notes, key=lambda n: n.y)
        step = max(1, -(-len(notes) // MAX_AXIS_LABELS))
        chosen = notes[::step] if notes[-1] in notes[::step] else [*notes[::step][:-1], notes[-1]]
        for note in chosen:
            note.update(font=dict(size=10, color="#2c3e50"), bgcolor="rgba(255,255,255,0.85)", xshift=-3)
        kept += chosen
    fig.layout.annotations = kept


def _plain_names(fig: go.Figure) -> None:
    """Optuna's raw names ("Objective Value", "Best Value") in plain words, on traces, axes, the
    parallel coordinates' axis labels and colour bar."""
    fig.for_each_trace(lambda t: t.update(name=OPTUNA_NAMES.get(t.name, t.name)) if getattr(t, "name", None) else None)
    for axes in (fig.for_each_xaxis, fig.for_each_yaxis):
        axes(lambda axis: axis.update(title_text=OPTUNA_NAMES.get(axis.title.text, axis.title.text)))
    fig.for_each_xaxis(
        lambda axis: axis.update(ticktext=[OPTUNA_NAMES.get(t, t) for t in axis.ticktext]) if axis.ticktext else None
    )
    for trace in fig.data:
        bar = getattr(getattr(trace, "marker", None), "colorbar", None)
        if bar is not None and bar.title and bar.title.text in OPTUNA_NAMES:
            bar.title.text = OPTUNA_NAMES[bar.title.text]


def _integer_step(n: int | None) -> int | None:
    """Ticks on whole trials or epochs only (never at 0.5)."""
    if n is None:
        return None
    return 1 if n <= 15 else 2 if n <= 30 else 5 if n <= 75 else 10
