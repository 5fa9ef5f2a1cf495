"""Two-level fractional-factorial ablation designs: every run informs every effect.

One-change-at-a-time spends a base run per comparison and sees each technique in one context only.
A two-level design sets every technique on or off in a balanced pattern (pyDOE's `fracfact_by_res`,
resolution IV or better: main effects are never mixed up with two-technique interactions), and an
ordinary least-squares fit (statsmodels) gives each technique's effect averaged over the others,
plus the interactions the design can tell apart, e.g. technique × epochs: "does this help only
when training is long?". Which interactions are mixed up (aliased) with which is reported with them.

Coding: each factor is −1 at its low level (the technique absent, or the smaller setting) and +1 at
its high level; a main effect is 2·β (high − low), and "A × B" is reported as how much A's effect
changes from B's low to B's high level, 4·β_AB.
"""

from __future__ import annotations

import itertools
import string
from dataclasses import replace
from typing import Any

import numpy as np

from core.ablation import techniques
from core.ablation.budget import epochs_words
from core.evaluation import stats
from core.models.config import TrainConfig
from core.models.rules import ConfigError

RESOLUTION = 4
MIN_RESIDUAL_DF = 4
MAX_FACTORS = 10
EPOCHS = "epochs"


def _diff(base: dict[str, Any], other: dict[str, Any]) -> dict[str, Any]:
    """The settings (top level, and `params.X` for a model parameter) where `other` differs from `base`."""
    out = {k: v for k, v in other.items() if k not in ("params", "seed") and base.get(k) != v}
    out.update({f"params.{k}": v for k, v in other["params"].items() if base["params"].get(k) != v})
    return out


def apply_levels(base: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    out = {**base, "params": dict(base["params"])}
    for name, value in settings.items():
        if name.startswith("params."):
            out["params"][name.split(".", 1)[1]] = value
        else:
            out[name] = value
    return out


def factors_for(base: TrainConfig, only: list[str] | None, epochs: tuple[int, int] | None) -> list[dict[str, Any]]:
    """The design's factors: epochs first when two lengths are given (so every technique × epochs
    interaction can be told apart in a resolution-IV design), then each technique, with the settings
    of its low (absent) and high (present) level."""
    base_dict = base.to_dict()
    out: list[dict[str, Any]] = []
    if epochs:
        low, high = sorted(epochs)
        if low == high:
            raise ConfigError("a factorial study over epochs needs two different lengths")
        out.append(
            {
                "key": EPOCHS,
                "name": "Training length (epochs)",
                "low_label": epochs_words(low),
                "high_label": epochs_words(high),
                "low": {"epochs": low},
                "high": {"epochs": high},
            }
        )
    for v in techniques.variants(base, only, skip=frozenset({EPOCHS})):
        variant = v.config.to_dict()
        absent, present = (variant, base_dict) if v.kind == "removes" else (base_dict, variant)
        on, off = _diff(absent, present), _diff(present, absent)
        if v.kind == "changes":
            before, _, after = v.change.partition(" → ")
            low_label, high_label = f"{before}", f"{after}"
        else:
            low_label, high_label = "off", "on"
        out.append(
            {
                "key": v.key,
                "name": v.technique,
                "low_label": low_label,
                "high_label": high_label,
                "low": off,
                "high": on,
            }
        )
    if not 2 <= len(out) <= MAX_FACTORS:
        raise ConfigError(f"a factorial study needs between 2 and {MAX_FACTORS} factors, got {len(out)}")
    return out


def design_matrix(n_factors: int) -> np.ndarray:
    """±1 design: the full factorial for up to 3 factors, otherwise pyDOE's smallest design of
    resolution IV or better (rows = runs, columns = factors in order)."""
    import pydoe

    if n_factors <= 3:
        return np.asarray(pydoe.ff2n(n_factors), dtype=int)
    return np.asarray(pydoe.fracfact_by_res(n_factors, RESOLUTION), dtype=int)


def resolution(matrix: np.ndarray) -> int | None:
    """The length of the shortest word of the defining relation (None for a full factorial)."""
    n = matrix.shape[1]
    for size in range(1, n + 1):
        for combo in itertools.combinations(range(n), size):
            if np.all(np.prod(matrix[:, combo], axis=1) == 1):
                return size
    return None


def _letter_names(factors: list[dict[str, Any]]) -> dict[str, str]:
    return {string.ascii_lowercase[i]: f["name"] for i, f in enumerate(factors)}


def aliases(matrix: np.ndarray, factors: list[dict[str, Any]]) -> list[list[str]]:
    """pyDOE's alias chains up to two-factor interactions, in the factors' names: each inner list
    is a set of effects the design cannot tell apart, e.g. ["Dropout × Label smoothing", "EMA × epochs"]."""
    import pydoe

    chains, _ = pydoe.fracfact_aliasing(matrix.astype(float))
    names = _letter_names(factors)
    out = []
    for chain in chains:
        short = [w.strip() for w in chain.split("=") if len(w.strip()) <= 2]
        if len(short) > 1:
            out.append([" × ".join(names[ch] for ch in w) for w in short])
    return out


def build(base: TrainConfig, only: list[str] | None, epochs: tuple[int, int] | None) -> dict[str, Any]:
    """The factors, the design matrix and one run recipe per row (key r01, r02, …)."""
    factors = factors_for(base, only, epochs)
    matrix = design_matrix(len(factors))
    base_dict = base.to_dict()
    rows = []
    for r, levels in enumerate(matrix, start=1):
        settings: dict[str, Any] = {}
        for f, level in zip(factors, levels, strict=True):
            settings.update(f["high"] if level > 0 else f["low"])
        config = TrainConfig.from_dict(apply_levels(base_dict, settings)).resolve()
        label = ", ".join(
            f"{f['key']} {f['high_label'] if lv > 0 else f['low_label']}" for f, lv in zip(factors, levels, strict=True)
        )
        rows.append(
            {
                "key": f"r{r:02d}",
                "technique": f"Design row {r}",
                "change": label,
                "kind": "design",
                "levels": [int(x) for x in levels],
                "config": replace(config, seed=base.seed).to_dict(),
            }
        )
    return {
        "factors": factors,
        "matrix": matrix.tolist(),
        "resolution": resolution(matrix),
        "aliases": aliases(matrix, factors),
        "rows": rows,
    }


def _terms(factors: list[dict[str, Any]], matrix: np.ndarray) -> list[tuple[int, ...]]:
    """The model's terms: every main effect, then one representative of each two-factor alias chain
    (interactions with epochs first), the chain's first pair in factor order."""
    n = len(factors)
    terms: list[tuple[int, ...]] = [(i,) for i in range(n)]
    seen: list[np.ndarray] = [matrix[:, i] for i in range(n)]
    pairs = sorted(itertools.combinations(range(n), 2), key=lambda p: (factors[p[0]]["key"] != EPOCHS, p))
    for pair in pairs:
        column = np.prod(matrix[:, pair], axis=1)
        if any(np.array_equal(column, s) or np.array_equal(column, -s) for s in seen):
            continue
        seen.append(column)
        terms.append(pair)
    return terms


def fit(factors: list[dict[str, Any]], levels: list[list[int]], y: list[float], alpha: float = 0.05) -> dict[str, Any]:
    """OLS of `y` on the ±1 levels: main effects and the separable interactions (as many as leave
    at least MIN_RESIDUAL_DF residual degrees of freedom, epochs' first). Effects with their 95 %
    intervals, p-values and Holm-adjusted p-values over every fitted effect."""
    import statsmodels.api as sm

    x = np.asarray(levels, dtype=float)
    values = np.asarray(y, dtype=float)
    n_runs = len(values)
    candidates = _terms(factors, x.astype(int)) if n_runs else []
    n_main = len(factors)
    room = n_runs - 1 - MIN_RESIDUAL_DF
    if room < n_main:
        return {"fitted": False, "runs": n_runs, "needed": n_main + 1 + MIN_RESIDUAL_DF}
    terms = candidates[: min(len(candidates), room)]
    columns = [np.prod(x[:, t], axis=1) for t in terms]
    exog = sm.add_constant(np.column_stack(columns), has_constant="add")
    if np.linalg.matrix_rank(exog) < exog.shape[1]:
        terms = terms[:n_main]
        exog = sm.add_constant(x, has_constant="add")
        if np.linalg.matrix_rank(exog) < exog.shape[1]:
            return {"fitted": False, "runs": n_runs, "needed": n_main + 1 + MIN_RESIDUAL_DF}
    model = sm.OLS(values, exog).fit()
    ci = model.conf_int(alpha)
    pvalues = np.asarray(model.pvalues[1:], dtype=float)
    holm = stats.holm(pvalues.tolist(), alpha)
    effects = []
    for j, term in enumerate(terms):
        scale = 2.0 if len(term) == 1 else 4.0
        effects.append(
            {
                "term": [factors[i]["key"] for i in term],
                "name": " × ".join(factors[i]["name"] for i in term),
                "aliased_with": _aliased(term, factors, x.astype(int)),
                "effect": scale * float(model.params[j + 1]),
                "effect_ci95": [scale * float(ci[j + 1][0]), scale * float(ci[j + 1][1])],
                "p_value": float(pvalues[j]),
                "p_holm": float(holm[1][j]),
                "measurable": bool(holm[0][j]),
                "measurable_unadjusted": bool(pvalues[j] < alpha),
            }
        )
    _simple_effects(model, terms, effects, alpha)
    return {
        "fitted": True,
        "runs": n_runs,
        "residual_df": int(model.df_resid),
        "residual_sd": float(np.sqrt(model.scale)),
        "comparisons": len(effects),
        "intercept": float(model.params[0]),
        "effects": effects,
    }


def _simple_effects(model, terms: list[tuple[int, ...]], effects: list[dict[str, Any]], alpha: float) -> None:
    """For each main effect whose interaction with another factor was fitted, its effect at that other
    factor's low and at its high level (2·β_A ∓ 2·β_AB, with the fit's own 95 % intervals): what a
    verdict "per budget" states when the interaction with the epochs is measurable. Each entry of
    `by_level` names the other factor (its key) and holds `low` and `high` (effect, effect_ci95)."""
    index = {t: j for j, t in enumerate(terms)}
    for term, j in index.items():
        if len(term) != 2:
            continue
        for mine, other in (term, term[::-1]):
            if (mine,) not in index:
                continue
            a = index[(mine,)]
            entry: dict[str, Any] = {"other": effects[j]["term"][term.index(other)], "interaction": effects[j]["term"]}
            for level, sign in (("low", -1.0), ("high", 1.0)):
                contrast = np.zeros(len(terms) + 1)
                contrast[a + 1], contrast[j + 1] = 2.0, 2.0 * sign
                test = model.t_test(contrast)
                low, high = np.asarray(test.conf_int(alpha)).ravel()[:2]
                entry[level] = {"effect": float(np.ravel(test.effect)[0]), "effect_ci95": [float(low), float(high)]}
            effects[a].setdefault("by_level", []).append(entry)


def _aliased(term: tuple[int, ...], factors: list[dict[str, Any]], x: np.ndarray) -> list[str]:
    """The other two-factor interactions this term's column cannot be told apart from."""
    if len(term) < 2:
        return []
    column = np.prod(x[:, term], axis=1)
    return [
        " × ".join(factors[i]["name"] for i in pair)
        for pair in itertools.combinations(range(len(factors)), 2)
        if pair != term and abs(int(np.prod(x[:, pair], axis=1) @ column)) == len(column)
    ]


def cell_means(levels: list[list[int]], y: list[float], i: int, j: int) -> dict[str, float | None]:
    """Mean of `y` at each of the four level pairs of factors i and j (for an interaction plot)."""
    out: dict[str, float | None] = {}
    x = np.asarray(levels)
    values = np.asarray(y, dtype=float)
    for a, b in itertools.product((-1, 1), repeat=2):
        mask = (x[:, i] == a) & (x[:, j] == b)
        out[f"{a:+d}{b:+d}"] = float(values[mask].mean()) if mask.any() else None
    return out
