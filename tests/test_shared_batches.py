"""Concurrent predictions for one model share forward passes, and each request still gets its own
photos' answers; a failing pass fails every request in it, and the next pass works again."""

from __future__ import annotations

import threading

import numpy as np
import pytest

from core import data
from core.models import loading


def test_concurrent_uploads_share_passes_and_keep_their_own_answers(reference_store):
    photos = data.load().x_test[:24]
    clf = loading.load_classifier("ref-preset-fast", reference_store)  # a TTA model, as the default is
    expected = clf.predict_proba(clf.prepare(photos))
    start, answers = threading.Barrier(24), {}

    def ask(i: int) -> None:
        start.wait()
        answers[i] = loading.predict_images("ref-preset-fast", photos[i : i + 1], reference_store)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert sorted(answers) == list(range(24))
    for i, proba in answers.items():
        np.testing.assert_allclose(proba[0], expected[i], atol=1e-4)
        assert proba[0].argmax() == expected[i].argmax()
    batcher = loading.MODELS._batchers["ref-preset-fast"]
    assert batcher.requests >= 24 and batcher.passes < batcher.requests  # some passes answered several


def test_a_failing_pass_fails_its_requests_and_the_next_one_works(reference_store):
    loading.predict_images("ref-cnn", data.load().x_test[:1], reference_store)
    batcher = loading.MODELS._batchers["ref-cnn"]
    with pytest.raises(ValueError):
        batcher.predict(np.zeros((1, 5, 5), dtype=np.uint8))  # the wrong shape: the model refuses it
    assert not batcher._busy and not batcher._queue
    assert loading.predict_images("ref-cnn", data.load().x_test[:2], reference_store).shape == (2, 10)
