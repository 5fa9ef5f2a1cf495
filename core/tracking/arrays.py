"""Reading and checking the arrays a run from elsewhere brings: its test probabilities (or logits),
its validation probabilities and its training history. Everything is checked before anything is
written, and each problem is one line a person can act on.

Files are read with numpy (`.npy`, `.npz`: never with pickle) or pandas (`.csv`), after a size check.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from core.data.dataset import spaced
from core.models.rules import ConfigError

MAX_BYTES = 64 * 1024 * 1024  # a 10 000 x 10 float64 array is 0.8 MB; its CSV about 2 MB
SUM_TOLERANCE = 1e-3
CHANCE_MARGIN = 0.05  # an accuracy below 10 % + this suggests the rows are not in the test set's order
N_CLASSES = 10


class ImportRefused(ConfigError):
    """A file or array that cannot become a run: nothing was written."""


def read_array(path: str | Path, what: str = "predictions") -> np.ndarray:
    """A 2-D float array from `.npy`, `.npz` (its only array, or `proba`/`probabilities`/`logits`) or
    `.csv` (numbers only, an optional header row)."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        raise ImportRefused(f"{what}: {path.name} cannot be read (no such file)") from None
    if not path.is_file():
        raise ImportRefused(f"{what}: {path.name} is not a file")
    if size == 0:
        raise ImportRefused(f"{what}: {path.name} is empty")
    if size > MAX_BYTES:
        raise ImportRefused(f"{what}: {path.name} is {size / 1e6:.0f} MB; the limit is {MAX_BYTES / 1e6:.0f} MB")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            found = np.load(path, allow_pickle=False)
        elif suffix == ".npz":
            with np.load(path, allow_pickle=False) as archive:
                names = list(archive.files)
                pick = next((n for n in ("proba", "probabilities", "logits") if n in names), None)
                if pick is None and len(names) != 1:
                    raise ImportRefused(
                        f"{what}: {path.name} holds {len(names)} arrays ({', '.join(names[:5])}); name one "
                        "'proba', 'probabilities' or 'logits', or save just one"
                    )
                found = archive[pick or names[0]]
        elif suffix == ".csv":
            import pandas as pd

            table = pd.read_csv(path, header=None)
            if len(table) and not _numeric(table.iloc[0]):  # a header row
                table = table.iloc[1:]
            found = table.apply(pd.to_numeric, errors="raise").to_numpy(dtype=np.float64)
        else:
            raise ImportRefused(f"{what}: {path.name} must be .npy, .npz or .csv")
    except ImportRefused:
        raise
    except (ValueError, OSError, EOFError, KeyError) as exc:
        raise ImportRefused(f"{what}: {path.name} is not a numeric array ({type(exc).__name__})") from None
    arr = np.asarray(found)
    if arr.dtype.kind not in "fiu":
        raise ImportRefused(f"{what}: {path.name} holds {arr.dtype} values, not numbers")
    return arr.astype(np.float64)


def _numeric(row) -> bool:
    try:
        [float(v) for v in row]
    except (TypeError, ValueError):
        return False
    return True


def softmax(logits: np.ndarray) -> np.ndarray:
    z = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def probabilities(arr: Any, n_rows: int, logits: bool = False, what: str = "predictions") -> np.ndarray:
    """(n_rows, 10) probabilities from probabilities or logits; ImportRefused when the shape is wrong,
    a value is not finite, a probability is negative or a row does not sum to 1."""
    arr = np.asarray(arr, dtype=np.float64)
    if arr.ndim != 2 or arr.shape != (n_rows, N_CLASSES):
        got = " x ".join(map(str, arr.shape)) or "a single number"
        raise ImportRefused(f"{what} must be {spaced(n_rows)} rows x {N_CLASSES} classes, got {got}")
    if not np.isfinite(arr).all():
        bad = int((~np.isfinite(arr)).any(axis=1).sum())
        raise ImportRefused(f"{what}: {bad} row(s) hold NaN or infinite values")
    if logits:
        return softmax(arr)
    if (arr < 0).any():
        raise ImportRefused(f"{what}: negative probabilities (are these logits? then add --logits)")
    sums = arr.sum(axis=1)
    off = np.abs(sums - 1.0) > SUM_TOLERANCE
    if off.any():
        first = int(np.flatnonzero(off)[0])
        raise ImportRefused(
            f"{what}: {int(off.sum())} row(s) do not sum to 1 (row {first} sums to {sums[first]:.4f}; "
            "are these logits? then add --logits)"
        )
    return arr / sums[:, None]


def order_problem(proba: np.ndarray, y_true: np.ndarray, what: str = "test photos") -> str | None:
    """A sentence when the accuracy is near chance: the rows are probably not in the set's order."""
    accuracy = float((proba.argmax(axis=1) == y_true).mean())
    if accuracy < 1 / N_CLASSES + CHANCE_MARGIN:
        return (
            f"only {100 * accuracy:.1f} % of the {what} are right, about chance: the rows are probably not in "
            "the dataset's order (keep its order, or pass --force to import it anyway)"
        )
    return None


HISTORY_KEYS = ("loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds")


def history_rows(path: str | Path) -> list[dict[str, Any]]:
    """Epoch rows from a CSV with an `epoch` column (Keras' CSVLogger writes one) and any of loss,
    accuracy, val_loss, val_accuracy, lr, seconds; other numeric columns are kept too."""
    import pandas as pd

    path = Path(path)
    if not path.is_file():
        raise ImportRefused(f"history: {path.name} cannot be read (no such file)")
    if path.stat().st_size > MAX_BYTES:
        raise ImportRefused(f"history: {path.name} is larger than {MAX_BYTES / 1e6:.0f} MB")
    try:
        table = pd.read_csv(path)
    except (ValueError, OSError, pd.errors.ParserError) as exc:
        raise ImportRefused(f"history: {path.name} is not a CSV table ({type(exc).__name__})") from None
    if "epoch" not in table.columns:
        raise ImportRefused(f"history: {path.name} needs an 'epoch' column")
    rows = []
    for i, raw in enumerate(table.to_dict("records")):
        row: dict[str, Any] = {}
        for key, value in raw.items():
            if not isinstance(value, int | float) or not np.isfinite(value):
                raise ImportRefused(f"history: row {i + 1}, column {key!r} is not a finite number")
            row[str(key)] = int(value) if key == "epoch" else float(value)
        rows.append(row)
    epochs = [r["epoch"] for r in rows]
    if epochs != sorted(set(epochs)) or (epochs and epochs[0] < 0):
        raise ImportRefused(f"history: {path.name}'s epochs must rise one row at a time")
    if epochs and epochs[0] == 0:  # Keras' CSVLogger counts from 0; the studio from 1
        for r in rows:
            r["epoch"] += 1
    return rows
