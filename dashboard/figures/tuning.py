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
    needed = 2 if which == "importance" else 1
    if which == "intermediate" and not any(t.intermediate_values for t in finished):
        return empty_figure("This model trains in one go: no per-epoch scores to compare.", height=320)
    if len(finished) < needed:
        return empty_figure(f"Appears after {needed} finished trial{'s' if needed > 1 else ''}.", height=320)
    try:
        fig = getattr(visualization, FIGURES[which][0])(study)
    except (ValueError, RuntimeError) as exc:  # e.g. importances when every trial scored the same
        return empty_figure(f"Not available yet: {exc}", height=320)
    fig.update_layout(title=None)
    fig.for_each_trace(lambda t: t.update(name="validation accuracy") if t.name == "Objective Value" else None)
    fig.for_each_yaxis(
        lambda axis: axis.update(title_text="validation accuracy") if axis.title.text == "Objective Value" else None
    )
    fig.for_each_xaxis(
        lambda axis: axis.update(title_text="validation accuracy") if axis.title.text == "Objective Value" else None
    )
    if which == "importance" and len(finished) < FEW_TRIALS:
        fig.add_annotation(
            text=f"Only {len(finished)} finished trials: these shares say little yet (about {FEW_TRIALS} are needed).",
            xref="paper",
            yref="paper",
            x=0,
            y=1.08,
            showarrow=False,
            xanchor="left",
            font=dict(size=12, color="#c0392b"),
        )
        return base_layout(fig, height=320, margin=dict(l=50, r=20, t=40, b=40))
    return base_layout(fig, height=320, margin=dict(l=50, r=20, t=20, b=40))
