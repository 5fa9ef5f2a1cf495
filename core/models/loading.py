"""Loading a run's fitted model and predicting with it: the one place that does either.

`ModelCache` keeps each loaded model once per run and model-file version (Keras files load with
safe mode, scikit-learn files after a checksum) and lets concurrent small predictions for one model
share a forward pass. A process uses `MODELS` unless it passes its own cache. Training (distillation
teachers, ensemble selection), explanations, uploads and the pages all load models through here: it
sits just above the model code and below training, so none of them reaches up for it.
"""

from __future__ import annotations

import hashlib
import threading

import numpy as np

from core import data, paths
from core.models.base import Classifier
from core.store import DamagedRun, RunStore

SHARED_BATCH_MAX = 8  # requests of at most this many photos share forward passes


def _reason(exc: BaseException) -> str:
    """One short line about a load failure, without the machine's paths."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    text = text.split(". ")[0][:200]
    words = [w if "/" not in w else "<file>" for w in text.split(" ")]
    return f"{exc.__class__.__name__}: {' '.join(words)}" if text else exc.__class__.__name__


class EnsembleClassifier:
    """Averages the probabilities of member Classifiers; each prepares its own input."""

    input_kind = "uint8"

    def __init__(self, members: list):
        self.members = members

    def prepare(self, images_uint8: np.ndarray) -> np.ndarray:
        return np.asarray(images_uint8)

    def predict_proba(self, images_uint8: np.ndarray) -> np.ndarray:
        return np.mean([m.predict_proba(m.prepare(images_uint8)) for m in self.members], axis=0).astype(np.float32)

    def predict(self, images_uint8: np.ndarray) -> np.ndarray:
        return self.predict_proba(images_uint8).argmax(axis=1)

    def param_count(self) -> int:
        return int(sum(m.param_count() for m in self.members))


class ModelCache:
    """Loaded models, one per run and model-file version, and the shared forward passes."""

    def __init__(self) -> None:
        self._models: dict[tuple, Classifier] = {}
        self._batchers: dict[str, _Batcher] = {}
        self._lock = threading.Lock()

    def clear(self) -> None:
        with self._lock:
            self._models.clear()
            self._batchers.clear()

    def load(self, run_id: str, store: RunStore) -> Classifier:
        """The fitted Classifier of a completed run; DamagedRun when its file does not load (garbage,
        truncated, or asking to run code), recorded on the store so pages say so."""
        record = store.get(run_id)
        if record.get("family") == "ensemble" and record.get("status") == "completed":
            members = (record.get("config") or {}).get("members") or []
            return EnsembleClassifier([self.load(member, store) for member in members])  # type: ignore[return-value]
        path, artifact = store.model_file(run_id)
        stat = path.stat()
        tta = bool(((record.get("config") or {}).get("params") or {}).get("tta"))
        key = (str(path), stat.st_mtime_ns, stat.st_size, tta)
        with self._lock:
            if key not in self._models:
                try:
                    if path.suffix == ".keras":
                        from core.models import keras_model

                        self._models[key] = keras_model.load(path, tta=tta)  # predict as the run was evaluated
                    else:
                        from core.models import sklearn_models

                        self._models[key] = sklearn_models.load(path, artifact.get("sha256"))
                except Exception as exc:
                    reason = f"its model file {path.name} cannot be loaded ({_reason(exc)})"
                    store.note_model_damage(run_id, reason)
                    raise DamagedRun(f"run {run_id} is damaged: {reason}") from None
            return self._models[key]

    def predict_images(self, run_id: str, images_uint8: np.ndarray, store: RunStore) -> np.ndarray:
        """(N, 10) probabilities for uint8 (N, 28, 28) images. A few photos (an upload) share one
        forward pass with whatever other requests for the same model are waiting (`_Batcher`)."""
        clf = self.load(run_id, store)
        if len(images_uint8) > SHARED_BATCH_MAX:
            return clf.predict_proba(clf.prepare(images_uint8))
        with self._lock:
            batcher = self._batchers.get(run_id)
            if batcher is None or batcher.clf is not clf:  # a new model file (or an ensemble, built per call)
                batcher = self._batchers[run_id] = _Batcher(clf)
        return batcher.predict(np.asarray(images_uint8, dtype=np.uint8))


MODELS = ModelCache()  # this process's cache


def load_classifier(run_id: str, store: RunStore | None = None, cache: ModelCache | None = None) -> Classifier:
    """The fitted Classifier of a completed run (Keras: safe_mode; scikit-learn: checksum-verified)."""
    return (cache or MODELS).load(run_id, store or RunStore())


def predict_images(
    run_id: str, images_uint8: np.ndarray, store: RunStore | None = None, cache: ModelCache | None = None
) -> np.ndarray:
    """(N, 10) probabilities for uint8 (N, 28, 28) images with a run's model."""
    return (cache or MODELS).predict_images(run_id, images_uint8, store or RunStore())


def training_photo_probabilities(run_id: str, rows: np.ndarray, store: RunStore, version: str, use: str) -> np.ndarray:
    """(len(rows), 10) probabilities of a run's model on these rows of the dataset's training file,
    computed once and cached in artifacts/cache per model `version` and row selection (`use` names the
    cache file's purpose: a distillation teacher, ensemble selection)."""
    rows = np.asarray(rows, dtype=np.int64)
    selection = hashlib.sha256(rows.tobytes()).hexdigest()[:16]
    cache = paths.cache_dir() / f"{use}-{run_id}-{str(version)[:16]}-{selection}.npy"
    if cache.exists():
        try:
            cached = np.load(cache, allow_pickle=False)
            if cached.shape == (len(rows), 10):
                return cached
        except (OSError, ValueError):
            pass
    clf = load_classifier(run_id, store)
    proba = np.asarray(clf.predict_proba(clf.prepare(data.load().x_train[rows])), dtype=np.float32)
    cache.parent.mkdir(parents=True, exist_ok=True)
    tmp = cache.with_suffix(f".{np.random.default_rng().integers(1 << 30)}.tmp.npy")
    np.save(tmp, proba, allow_pickle=False)
    tmp.replace(cache)
    return proba


class _Waiter:
    __slots__ = ("done", "error", "images", "lead", "result")

    def __init__(self, images: np.ndarray):
        self.images = images
        self.result: np.ndarray | None = None
        self.error: Exception | None = None
        self.lead = False
        self.done = threading.Event()


class _Batcher:
    """Concurrent predictions for one model share a forward pass (leader and followers, no extra thread).

    A request that finds the model idle computes at once; requests arriving meanwhile queue, and when
    the pass ends the first of them computes the whole queue in one batch. On two cores under 20
    clients this trades many small passes, each with its own fixed cost, for fewer larger ones.
    """

    def __init__(self, clf: Classifier):
        self.clf = clf
        self._lock = threading.Lock()
        self._queue: list[_Waiter] = []
        self._busy = False
        self.passes = 0  # forward passes run, and the requests they answered
        self.requests = 0

    def predict(self, images: np.ndarray) -> np.ndarray:
        me = _Waiter(images)
        with self._lock:
            self._queue.append(me)
            me.lead = not self._busy
            self._busy = True
        if not me.lead:
            me.done.wait()
        if me.lead:
            self._run_batch()
        if me.error is not None:
            raise me.error
        assert me.result is not None
        return me.result

    def _run_batch(self) -> None:
        with self._lock:
            batch, self._queue = self._queue, []
            self.passes, self.requests = self.passes + 1, self.requests + len(batch)
        try:
            x = np.concatenate([w.images for w in batch])
            proba = self.clf.predict_proba(self.clf.prepare(x))
            start = 0
            for waiter in batch:
                waiter.result = proba[start : start + len(waiter.images)]
                start += len(waiter.images)
        except Exception as exc:  # every request of the pass gets the failure
            for waiter in batch:
                waiter.error = exc
        with self._lock:
            following = self._queue[0] if self._queue else None
            if following is not None:
                following.lead = True  # it computes the next pass for everyone queued by then
            else:
                self._busy = False
        for waiter in batch:
            waiter.done.set()
        if following is not None:
            following.done.set()
