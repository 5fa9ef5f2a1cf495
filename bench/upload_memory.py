"""`python -m bench.upload_memory`: peak memory added by one and by six concurrent 40-megapixel uploads.

Each measurement runs in a fresh process (peak RSS reset through /proc/self/clear_refs, so the
figure is what preprocessing adds to a warm process, as in the server; the short-lived decoder
processes of large PNGs are reported apart): a 39.8-megapixel RGBA
PNG (a dark item on white, the issue's case) and a 39.8-megapixel JPEG, once alone and six at a
time from threads, through `core.data.upload.preprocess` under its decode slots like the API.
"""

from __future__ import annotations

import io
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.common import save
from core import paths

SIZE = (7300, 5450)
CHILD = """
import sys, threading, time
sys.path.insert(0, {root!r})
from core.data import upload
from PIL import Image, PngImagePlugin, JpegImagePlugin; import numpy
raw = open({path!r}, 'rb').read()

def kib(field):
    return next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith(field + ':'))

def one():
    with upload.slot(wait_s=120):
        upload.preprocess(raw)

one()  # warm: imports and first-use allocations, as in a running server
open('/proc/self/clear_refs', 'w').write('5')
before, began = kib('VmRSS'), time.perf_counter()
threads = [threading.Thread(target=one) for _ in range({n})]
for t in threads: t.start()
for t in threads: t.join()
import resource
print((kib('VmHWM') - before) / 1024, time.perf_counter() - began,
      resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024)
"""


def photo(fmt: str) -> bytes:
    from PIL import Image

    from core import data

    item = Image.fromarray(255 - data.load().x_test[7]).resize((SIZE[1] // 2, SIZE[1] // 2), Image.BILINEAR)
    mode = "RGBA" if fmt == "PNG" else "RGB"
    canvas = Image.new(mode, SIZE, "white")
    canvas.paste(item.convert(mode), (SIZE[0] // 3, SIZE[1] // 4))
    out = io.BytesIO()
    canvas.save(out, format=fmt, **({"quality": 80} if fmt == "JPEG" else {}))
    return out.getvalue()


def measure(path: Path, n: int) -> dict:
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", CHILD.format(root=str(paths.PROJECT_ROOT), path=str(path), n=n)],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=paths.PROJECT_ROOT,
        check=True,
    )
    added_mb, seconds, child_mb = (float(v) for v in done.stdout.split())
    return {
        "uploads": n,
        "peak_rss_added_mb": round(added_mb, 1),
        "seconds": round(seconds, 2),
        "decoder_process_peak_mb": round(child_mb, 1) if child_mb else None,
        "process_seconds": round(time.perf_counter() - began, 2),
    }


def main() -> dict:
    results = {"megapixels": round(SIZE[0] * SIZE[1] / 1e6, 1)}
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("PNG", "JPEG"):
            path = Path(tmp) / f"big.{fmt.lower()}"
            path.write_bytes(photo(fmt))
            results[fmt] = {"file_bytes": path.stat().st_size, "one": measure(path, 1), "six": measure(path, 6)}
    return save("upload_memory", results)


if __name__ == "__main__":
    main()
