"""The one-change variants of an ablation study: each turns one technique of a base recipe off or on,
or changes one setting, and leaves everything else as it is.

`variants(base)` lists the variants that apply to the base's model (a CNN has no dropout option, for
example); `plain_sentence` turns a measured effect into one plain sentence for the page.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from core.models import get_spec
from core.models.config import TrainConfig
from core.models.rules import ConfigError


@dataclass(frozen=True)
class Variant:
    key: str  # run-id safe: letters, digits and '-'
    technique: str  # what is studied, in plain words ("Mirror and shift augmentation")
    change: str  # what this variant does to the base ("on → off")
    kind: str  # "removes", "adds" or "changes": how to read the effect's sign
    config: TrainConfig


def _toggle(base: TrainConfig, name: str, on_value: Any = True, off_value: Any = False):
    """(kind, change, new config) turning a common option or model parameter off when on, on when off."""
    in_params = name in base.params
    current = base.params.get(name) if in_params else getattr(base, name)
    turned_on = bool(current)
    new = off_value if turned_on else on_value
    config = replace(base, params={**base.params, name: new}) if in_params else replace(base, **{name: new})
    if isinstance(current, bool):
        change = "on → off" if turned_on else "off → on"
    else:
        change = f"{current:g} → {new:g}"
    return ("removes" if turned_on else "adds"), change, config


def _dropout(base):
    return _toggle(base, "dropout", 0.25, 0.0)


def _batchnorm(base):
    return _toggle(base, "batchnorm")


def _augment(base):
    return _toggle(base, "augment")


def _augment_and_tta(base):
    """Mirror TTA averages each photo with its mirror image, which only makes sense for a model that
    saw mirror images in training: this variant turns both off (None unless the base has both on)."""
    if not (base.augment and base.params.get("tta")):
        return None
    return "removes", "both on → off", replace(base, augment=False, params={**base.params, "tta": False})


def _label_smoothing(base):
    return _toggle(base, "label_smoothing", 0.1, 0.0)


def _tta(base):
    return _toggle(base, "tta")


def _choice(base: TrainConfig, name: str, alternative: Callable[[Any], Any]):
    current = base.params[name]
    new = alternative(current)
    return "changes", f"{current} → {new}", replace(base, params={**base.params, name: new})


def _optimizer(base):
    return _choice(base, "optimizer", lambda v: "adam" if v != "adam" else "adamw")


def _schedule(base):
    return _choice(base, "schedule", lambda v: "constant" if v != "constant" else "onecycle")


def _kernel(base):
    return _choice(base, "kernel_size", lambda v: 5 if v == 3 else 3)


def _width(base):
    return _choice(base, "width", lambda v: min(2 * int(v), 128))


def _epochs(base):
    return "changes", f"{base.epochs} → {2 * base.epochs}", replace(base, epochs=2 * base.epochs)


def _precision(base):
    return _choice(base, "precision", lambda v: "float32" if v != "float32" else "mixed_bfloat16")


def _shift(base):
    return _toggle(base, "shift", 0.1, 0.0)


def _erasing(base):
    return _toggle(base, "erasing", 0.25, 0.0)


def _ema(base):
    """Weight averaging: an exponential moving average of the weights (momentum 0.99, about the last
    hundred steps) replaces the final weights."""
    return _toggle(base, "ema", 0.99, 0.0)


DEFAULT_TEACHER = "ref-ensemble"  # the reference ensemble: the most accurate committed run


def _distill(base):
    """Learning from a teacher's probabilities too (core.training.distill): on with the reference
    ensemble as the teacher, or off when the base already has one."""
    teacher = base.params.get("teacher") or ""
    new = "" if teacher else DEFAULT_TEACHER
    change = f"teacher {teacher} → none" if teacher else f"none → teacher {new}"
    return ("removes" if teacher else "adds"), change, replace(base, params={**base.params, "teacher": new})


# key -> (the technique in plain words, the setting it needs, how to build the variant)
TECHNIQUES: dict[str, tuple[str, str, Callable]] = {
    "dropout": ("Dropout", "dropout", _dropout),
    "batchnorm": ("BatchNorm", "batchnorm", _batchnorm),
    "augment": ("Mirror augmentation", "augment", _augment),
    "augment-tta": ("Mirror augmentation with its test-time mirror", "augment", _augment_and_tta),
    "label-smoothing": ("Label smoothing", "label_smoothing", _label_smoothing),
    "tta": ("Test-time augmentation (mirror)", "tta", _tta),
    "optimizer": ("Optimizer", "optimizer", _optimizer),
    "schedule": ("Learning-rate schedule", "schedule", _schedule),
    "kernel": ("Kernel size", "kernel_size", _kernel),
    "width": ("Network width", "width", _width),
    "epochs": ("Training length (epochs)", "epochs", _epochs),
    "precision": ("Compute precision (bfloat16)", "precision", _precision),
    "shift": ("Random shifts (augmentation)", "shift", _shift),
    "erasing": ("Random erasing (augmentation)", "erasing", _erasing),
    "ema": ("Weight averaging (EMA)", "ema", _ema),
    "distill": ("Knowledge distillation", "teacher", _distill),
}


# studied only when asked for (`--only`): distillation needs its teacher run in the store
OPT_IN = frozenset({"distill"})


def mismatch(config: dict[str, Any] | TrainConfig) -> str | None:
    """Why a variant's recipe measures a mismatch rather than a technique, or None. Test-time mirror
    averaging (TTA) is only meaningful for a model trained on mirror images: turning augmentation off
    while TTA stays on (or TTA on without augmentation) shows the mismatch's cost, not augmentation's."""
    raw = config.to_dict() if isinstance(config, TrainConfig) else config
    params = raw.get("params") or {}
    if params.get("tta") and raw.get("augment") is False:
        return "test-time mirror averaging stays on for a model that never saw mirror images"
    return None


def technique_name(key: str, base: dict[str, Any] | TrainConfig) -> str:
    """The technique in plain words, true of this base: "Mirror augmentation" says "and shift" only
    when the base's augmentation also shifts the photos."""
    name = TECHNIQUES[key][0] if key in TECHNIQUES else key
    raw = base.to_dict() if isinstance(base, TrainConfig) else base
    shift = (raw.get("params") or {}).get("shift", 0.1)
    if key in ("augment", "augment-tta") and shift:
        name = name.replace("Mirror augmentation", "Mirror and shift augmentation")
    return name


def applies(base: TrainConfig, setting: str) -> bool:
    spec = get_spec(base.model)
    return setting in spec.options or setting in spec.params


def variants(base: TrainConfig, only: list[str] | None = None, skip: frozenset[str] = frozenset()) -> list[Variant]:
    """The variants of a resolved base config (every technique that applies, or just `only`), leaving
    out those in `skip` and any whose recipe would measure a mismatch (see `mismatch`)."""
    unknown = sorted(set(only or []) - set(TECHNIQUES))
    if unknown:
        raise ConfigError(f"unknown technique(s): {', '.join(unknown)}; choose from {', '.join(TECHNIQUES)}")
    out, mismatched = [], []
    for key, (_technique, setting, build) in TECHNIQUES.items():
        if (only is not None and key not in only) or (only is None and key in OPT_IN) or key in skip:
            continue
        technique = technique_name(key, base)
        if not applies(base, setting):
            if only is not None:
                raise ConfigError(f"{technique} does not apply to model {base.model}")
            continue
        built = build(base)
        if built is None:  # does not apply to this base (e.g. both parts of a pair must be on)
            continue
        kind, change, config = built
        if mismatch(config) and mismatch(base) is None:
            mismatched.append(f"{technique} ({change}) would measure a mismatch: {mismatch(config)}")
            continue
        out.append(Variant(key, technique, change, kind, config.resolve()))
    if not out:
        raise ConfigError("; ".join(mismatched) or f"no technique to study for model {base.model}")
    return out


def _points(v: float) -> str:
    return f"{100 * v:+.2f}".replace("-", "−")


def plain_sentence(
    technique: str,
    change: str,
    kind: str,
    effect: dict[str, Any],
    extra_seconds: float | None,
    base_seconds: float | None = None,
) -> str:
    """e.g. "Mirror and shift augmentation helps: turning it off (on → off) costs −0.62 points (−0.90 to
    −0.31) over 3 seeds; it costs 4 s more per run." — or "no measurable effect" when the interval
    crosses zero, or "one seed: no interval" with a single seed."""
    mean, ci = effect.get("mean"), effect.get("ci95")
    if mean is None:
        return f"{technique} ({change}): no finished pair of runs yet."
    cost = _cost(extra_seconds, base_seconds)
    if ci is None:
        return f"{technique} ({change}): {_points(mean)} points with one seed; no interval without repeats.{cost}"
    span = f"{_points(mean)} points ({_points(ci[0])} to {_points(ci[1])})"
    if ci[0] <= 0 <= ci[1]:
        return f"{technique} ({change}): no measurable effect, {span} over {effect['seeds']} seeds.{cost}"
    better = ci[0] > 0
    if kind == "removes":
        verdict = "hurts here" if better else "helps"
        return f"{technique} {verdict}: turning it off changes validation accuracy by {span}.{cost}"
    if kind == "adds":
        verdict = "helps" if better else "hurts here"
        return f"{technique} {verdict}: turning it on changes validation accuracy by {span}.{cost}"
    verdict = "better" if better else "worse"
    return f"{technique} {change} is {verdict}: {span}.{cost}"


def _cost(extra_seconds: float | None, base_seconds: float | None = None) -> str:
    """The training-time cost against the base: nothing extra within 10 % (timing noise here)."""
    if extra_seconds is None:
        return ""
    share = extra_seconds / base_seconds if base_seconds else None
    if abs(extra_seconds) < 2 or (share is not None and abs(share) < 0.10):
        return " It costs nothing extra in training time."
    more = "more" if extra_seconds > 0 else "less"
    ratio = f" ({100 * share:+.0f} %)".replace("-", "−") if share is not None else ""
    return f" It takes {abs(extra_seconds):.0f} s {more} training time per run{ratio}."
