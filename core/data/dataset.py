"""The real Fashion-MNIST dataset: find, verify, load once, split and normalise.

Search order for the four IDX `.gz` files: `$FASHION_MNIST_DIR` (when set, only there),
`artifacts/data/`, `/usr/share/datasets/fashion-mnist` (Debian `dataset-fashion-mnist`),
`~/.keras/datasets/fashion-mnist`; only then Keras' downloader. Every file is checked against
the sha256 of its decompressed bytes, so a truncated or altered copy is refused with a message
that says what to install or set. There is never a synthetic stand-in.
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import os
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from core import paths

CLASS_NAMES: tuple[str, ...] = (
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
)
NUM_CLASSES = len(CLASS_NAMES)
IMAGE_SHAPE = (28, 28, 1)
DEFAULT_SEED = 42
VAL_FRACTION = 0.2
N_ALL_TRAIN = 60_000  # the official training file
N_VAL = round(N_ALL_TRAIN * VAL_FRACTION)  # 12 000 validation photos
N_TRAIN = N_ALL_TRAIN - N_VAL  # 48 000 photos to learn from (the full training split)
N_TEST = 10_000  # the official test file: the final score only


def spaced(n: int) -> str:
    """A count as sentences write it, thousands apart by a space: 48000 -> "48 000". Sentences take
    the dataset's sizes from the constants above, never from literals."""
    return f"{n:,}".replace(",", " ")


# name -> (file, sha256 of the decompressed bytes, shape of the payload)
FILES: dict[str, tuple[str, str, tuple[int, ...]]] = {
    "train_images": (
        "train-images-idx3-ubyte.gz",
        "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        (60000, 28, 28),
    ),
    "train_labels": (
        "train-labels-idx1-ubyte.gz",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        (60000,),
    ),
    "test_images": (
        "t10k-images-idx3-ubyte.gz",
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        (10000, 28, 28),
    ),
    "test_labels": (
        "t10k-labels-idx1-ubyte.gz",
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34",
        (10000,),
    ),
}

INSTALL_HINT = (
    "Install Debian's package (sudo apt-get install dataset-fashion-mnist), "
    "or set FASHION_MNIST_DIR to a folder holding the four files "
    + ", ".join(name for name, _, _ in FILES.values())
    + " (also looked for in artifacts/data/)."
)


class DataError(RuntimeError):
    """The dataset is missing or damaged; the message says what to do."""


@dataclass(frozen=True)
class FashionMNIST:
    """The verified dataset as uint8 arrays (images (N, 28, 28), labels (N,))."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: Path
    class_names: tuple[str, ...] = CLASS_NAMES


def candidate_dirs() -> list[Path]:
    """Folders searched for the dataset, in order."""
    explicit = os.environ.get("FASHION_MNIST_DIR")
    if explicit:
        return [Path(explicit).expanduser()]
    return [
        paths.artifacts_dir() / "data",
        Path("/usr/share/datasets/fashion-mnist"),
        Path.home() / ".keras" / "datasets" / "fashion-mnist",
    ]


def find_data_dir() -> Path:
    """The first folder holding all four files; a clear DataError when there is none."""
    dirs = candidate_dirs()
    for folder in dirs:
        if all((folder / name).is_file() for name, _, _ in FILES.values()):
            return folder
    if os.environ.get("FASHION_MNIST_DIR"):
        missing = [n for n, _, _ in FILES.values() if not (dirs[0] / n).is_file()]
        raise DataError(f"FASHION_MNIST_DIR={dirs[0]} lacks {', '.join(missing)}. {INSTALL_HINT}")
    downloaded = _try_keras_download()
    if downloaded is not None:
        return downloaded
    raise DataError("Fashion-MNIST was not found in " + ", ".join(map(str, dirs)) + ". " + INSTALL_HINT)


def _try_keras_download() -> Path | None:
    """Last resort: Keras' downloader (needs internet). None when it fails or is disabled."""
    if os.environ.get("FASHION_MNIST_NO_DOWNLOAD"):
        return None
    try:  # pragma: no cover - needs a network this project's machines do not have
        from keras.datasets import fashion_mnist

        fashion_mnist.load_data()
    except Exception:
        return None
    folder = Path.home() / ".keras" / "datasets" / "fashion-mnist"  # pragma: no cover
    return folder if (folder / FILES["train_images"][0]).is_file() else None  # pragma: no cover


def _read_idx(path: Path, expected_sha: str, shape: tuple[int, ...]) -> np.ndarray:
    """Decompress, verify and parse one IDX file."""
    try:
        raw = gzip.decompress(path.read_bytes())
    except (OSError, EOFError, zlib.error) as exc:
        raise DataError(f"{path} is damaged ({exc.__class__.__name__}: {exc}). {INSTALL_HINT}") from None
    digest = hashlib.sha256(raw).hexdigest()
    if digest != expected_sha:
        raise DataError(
            f"{path} is not the expected Fashion-MNIST file (sha256 {digest[:16]}…, "
            f"expected {expected_sha[:16]}…). {INSTALL_HINT}"
        )
    header = 4 * (1 + len(shape))
    return np.frombuffer(raw, dtype=np.uint8, offset=header).reshape(shape)


@functools.lru_cache(maxsize=2)
def _load_from(folder: Path) -> FashionMNIST:
    arrays = {key: _read_idx(folder / name, sha, shape) for key, (name, sha, shape) in FILES.items()}
    return FashionMNIST(
        x_train=arrays["train_images"],
        y_train=arrays["train_labels"],
        x_test=arrays["test_images"],
        y_test=arrays["test_labels"],
        source=folder,
    )


def load() -> FashionMNIST:
    """Load the verified dataset (cached per process and per folder)."""
    return _load_from(find_data_dir().resolve())


@functools.lru_cache(maxsize=8)
def split_indices(seed: int = DEFAULT_SEED, val_fraction: float = VAL_FRACTION) -> tuple[np.ndarray, np.ndarray]:
    """Seeded, stratified (train, validation) index arrays into the 60 000 training images."""
    from sklearn.model_selection import train_test_split

    labels = load().y_train
    train_idx, val_idx = train_test_split(
        np.arange(len(labels)),
        test_size=val_fraction,
        stratify=labels,
        random_state=seed,
    )
    train_idx.setflags(write=False)
    val_idx.setflags(write=False)
    return np.sort(train_idx), np.sort(val_idx)


def subset_indices(indices: np.ndarray, labels: np.ndarray, size: int | None, seed: int) -> np.ndarray:
    """A stratified subset of `indices` of `size` (all of them when size is None or too large)."""
    if size is None or size >= len(indices):
        return indices
    from sklearn.model_selection import train_test_split

    chosen, _ = train_test_split(indices, train_size=size, stratify=labels[indices], random_state=seed)
    return np.sort(chosen)


def to_images(x: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) -> float32 (N, 28, 28, 1) in [0, 1] (the Keras input format)."""
    return (np.asarray(x, dtype=np.float32) / 255.0).reshape((-1, *IMAGE_SHAPE))


def to_flat(x: np.ndarray) -> np.ndarray:
    """uint8 (N, 28, 28) or float images -> float32 (N, 784) in [0, 1] (classic models)."""
    x = np.asarray(x)
    scaled = x.astype(np.float32) / 255.0 if x.dtype == np.uint8 else x.astype(np.float32)
    return scaled.reshape(len(x), -1)


def class_counts(labels: np.ndarray) -> dict[str, int]:
    """Class name -> count for an array of labels."""
    counts = np.bincount(labels, minlength=NUM_CLASSES)
    return {name: int(n) for name, n in zip(CLASS_NAMES, counts, strict=True)}


def split_class_counts(seed: int = DEFAULT_SEED) -> dict[str, dict[str, int]]:
    """{"train": {...}, "val": {...}, "test": {...}} class counts for the 80/20 split."""
    ds = load()
    train_idx, val_idx = split_indices(seed)
    return {
        "train": class_counts(ds.y_train[train_idx]),
        "val": class_counts(ds.y_train[val_idx]),
        "test": class_counts(ds.y_test),
    }
