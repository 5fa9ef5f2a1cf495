"""Uploads beyond the decode slots wait in a short bounded queue before a 503 (real threads); photos
of at most a megapixel need no slot."""

from __future__ import annotations

import threading
import time

import pytest

from core.data import upload


def test_uploads_beyond_the_slots_wait_in_a_short_queue(monkeypatch):
    monkeypatch.setattr(upload, "SLOT_WAIT_S", 5.0)
    held = [upload._slots.acquire() for _ in range(upload.SLOTS)]
    results = []

    def wait_for_a_slot():
        try:
            with upload.slot():
                results.append("served")
        except upload.UploadBusy:
            results.append("busy")

    waiters = [threading.Thread(target=wait_for_a_slot) for _ in range(3)]
    for w in waiters:
        w.start()
    time.sleep(0.5)
    for _slot in held:  # the busy slots free up after half a second: the queued uploads are served
        upload._slots.release()
    for w in waiters:
        w.join(10)
    assert results == ["served"] * 3
    monkeypatch.setattr(upload, "MAX_WAITING", 0)  # a full queue answers at once
    held = [upload._slots.acquire() for _ in range(upload.SLOTS)]
    try:
        started = time.perf_counter()
        with pytest.raises(upload.UploadBusy), upload.slot():
            pass
        assert time.perf_counter() - started < 1
    finally:
        for _slot in held:
            upload._slots.release()


def _png(side: int) -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.new("L", (side, side), 255).save(out, format="PNG")
    return out.getvalue()


def test_a_small_photo_needs_no_slot_and_a_large_one_waits_for_one(monkeypatch):
    monkeypatch.setattr(upload, "MAX_WAITING", 0)  # no queue: a photo that needs a slot is refused at once
    held = [upload._slots.acquire() for _ in range(upload.SLOTS)]
    try:
        with upload.slot_for(_png(224)):  # a shop photo or a thumbnail: served while the slots are busy
            pass
        side = int(upload.SLOT_FREE_PIXELS**0.5) + 1
        with pytest.raises(upload.UploadBusy), upload.slot_for(_png(side)):  # just over a megapixel
            pass
        with pytest.raises(upload.UploadBusy), upload.slot_for(b"not an image"):  # unreadable: a slot too
            pass
    finally:
        for _slot in held:
            upload._slots.release()
