"""The real Fashion-MNIST data: loading and verifying it (`dataset`), statistics and maps
(`explore`), thumbnails (`images`) and turning uploaded photos into dataset-like images (`upload`,
with `decode` as its child process). `core.data.load()` and friends are the dataset's API.
"""

from core.data.dataset import (
    CLASS_NAMES,
    DEFAULT_SEED,
    FILES,
    IMAGE_SHAPE,
    INSTALL_HINT,
    NUM_CLASSES,
    VAL_FRACTION,
    DataError,
    FashionMNIST,
    _load_from,
    find_data_dir,
    load,
    split_class_counts,
    split_indices,
    subset_indices,
    to_flat,
    to_images,
)

__all__ = [
    "CLASS_NAMES",
    "DEFAULT_SEED",
    "FILES",
    "IMAGE_SHAPE",
    "INSTALL_HINT",
    "NUM_CLASSES",
    "VAL_FRACTION",
    "DataError",
    "FashionMNIST",
    "_load_from",
    "find_data_dir",
    "load",
    "split_class_counts",
    "split_indices",
    "subset_indices",
    "to_flat",
    "to_images",
]
