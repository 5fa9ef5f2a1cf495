"""Served like a product: `make run`'s production server, Host/Origin checks, security headers,
a consistent JSON API, bounded memory per upload, and photos people actually upload."""

from __future__ import annotations

import concurrent.futures as futures
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request

import numpy as np
import pytest
from PIL import Image

from core import data
from core.data import upload
from dashboard.pagerequest import page_request
from tests.conftest import PROJECT_ROOT, wait_until
from tests.test_celery import _free_port

PAGES = ["/", "/data", "/train", "/leaderboard", "/errors", "/gradcam", "/tune"]


def _get(url: str, **kwargs) -> tuple[int, dict, bytes]:
    request = urllib.request.Request(url, **kwargs)
    try:
        with urllib.request.urlopen(request, timeout=60) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as err:
        return err.code, dict(err.headers), err.read()


def _render_over_http(url: str, deps: list, path: str) -> int:
    body = json.dumps(page_request(deps, path)).encode()
    return _get(
        url + "/_dash-update-component", data=body, method="POST", headers={"Content-Type": "application/json"}
    )[0]


def _many_runs(root, count: int) -> None:
    """`count` runs (hard links of one reference run's files, each with its own run.json)."""
    source = PROJECT_ROOT / "artifacts" / "runs" / "ref-logreg"
    record = json.loads((source / "run.json").read_text())
    for i in range(count):
        folder = root / "runs" / f"user-{i:04d}"
        folder.mkdir(parents=True)
        for name in ("predictions.npz", "model.skops", "history.jsonl"):
            if (source / name).exists():
                os.link(source / name, folder / name)
        (folder / "run.json").write_text(
            json.dumps(
                {
                    **record,
                    "run_id": folder.name,
                    "produced_by": {},
                    "created_at": f"2026-11-{1 + i % 28:02d}T00:00:00+00:00",
                }
            )
        )
    for run in ("ref-cnn", "ref-cnn_dropout"):
        shutil.copytree(
            PROJECT_ROOT / "artifacts" / "runs" / run,
            root / "runs" / run,
            ignore=shutil.ignore_patterns("logs", ".lock"),
        )


@pytest.fixture(scope="module")
def make_run_server(tmp_path_factory):
    """`make run` (its real command line) on a free port, with ~1 000 runs in a private store; one
    server for this module's tests, the first of which checks its very first requests."""
    tmp_path = tmp_path_factory.mktemp("make-run")
    _many_runs(tmp_path / "artifacts", 1000)
    port = _free_port()
    env = {**os.environ, "STUDIO_ARTIFACTS": str(tmp_path / "artifacts")}
    env.pop("REDIS_URL", None)
    log = open(tmp_path / "server.log", "w")  # noqa: SIM115 - closed at teardown
    proc = subprocess.Popen(
        ["make", "--no-print-directory", "run", f"PORT={port}"],
        cwd=PROJECT_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        stdin=subprocess.DEVNULL,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"

    def up():
        assert proc.poll() is None, (tmp_path / "server.log").read_text()[-2000:]
        try:
            return _get(url + "/")[0] == 200
        except OSError:
            return False

    wait_until(up, timeout=180, interval=0.05)
    yield url
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(30)
    log.close()


def test_make_run_serves_every_page_at_once_from_its_first_request(make_run_server):
    url = make_run_server
    status, headers, _ = _get(url + "/")
    assert status == 200 and "Server" not in headers and "Werkzeug" not in str(headers)
    assert headers["X-Content-Type-Options"] == "nosniff" and headers["X-Frame-Options"] == "DENY"
    assert (
        headers["Referrer-Policy"] == "no-referrer" and "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    )
    deps = json.loads(_get(url + "/_dash-dependencies")[2])
    with futures.ThreadPoolExecutor(12) as pool:  # every page, concurrently, several times, at once
        statuses = list(pool.map(lambda p: _render_over_http(url, deps, p), PAGES * 4))
    assert statuses == [200] * len(statuses)
    for path in PAGES:
        assert _get(url + path)[0] == 200
    status, headers, body = _get(url + "/api/runs")  # one page from the run index, with the total
    assert status == 200 and len(json.loads(body)) == 100 and headers["X-Total-Count"] == "1002"
    photo = data.load().x_test[5]  # predicted by the server's prediction worker once it is up, else in-process
    status, _, body = _get(
        url + "/api/predict", data=_multipart(_png(photo)), method="POST", headers={"Content-Type": MULTIPART}
    )
    assert status == 200 and json.loads(body)["predicted_class"] == data.CLASS_NAMES[data.load().y_test[5]]


@pytest.fixture()
def client(with_reference_runs):
    from dashboard.app import create_app

    return create_app().server.test_client()


def test_foreign_host_is_refused_and_loopback_names_are_served(client):
    for host in ("attacker.example", "attacker.example:8050", "192.0.2.7"):
        response = client.get("/api/runs", headers={"Host": host})
        assert response.status_code == 400 and "unknown Host" in response.get_json()["error"]
        assert client.get("/", headers={"Host": host}).status_code == 400
    for host in ("127.0.0.1:8050", "localhost", "[::1]:8050", "LOCALHOST:1"):
        assert client.get("/api/runs", headers={"Host": host}).status_code == 200


def test_allow_host_extends_the_list():
    from dashboard import security

    hosts = security.allowed_hosts("192.0.2.10", ["studio.lan"])
    assert {"127.0.0.1", "localhost", "::1", "192.0.2.10", "studio.lan"} <= hosts
    assert "0.0.0.0" not in security.allowed_hosts("0.0.0.0")


def test_cross_site_state_changes_are_refused(client):
    png = _png(data.load().x_test[0])
    for headers in (
        {"Origin": "http://evil.example"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
        {"Origin": "http://localhost:9999"},
    ):
        response = client.post("/api/predict", data={"image": (io.BytesIO(png), "a.png")}, headers=headers)
        assert response.status_code == 403 and "cross-site" in response.get_json()["error"], headers
        dash_call = client.post("/_dash-update-component", json={}, headers=headers)
        assert dash_call.status_code == 403
    same = client.post(
        "/api/predict",
        data={"image": (io.BytesIO(png), "a.png")},
        headers={"Origin": "http://localhost", "Sec-Fetch-Site": "same-origin"},
    )
    assert same.status_code == 200
    assert same.get_json()["looks_like_fashion_mnist"] is True  # a real test photo
    assert same.get_json()["familiarity"]["distance"] <= same.get_json()["familiarity"]["threshold"]
    assert client.get("/api/runs", headers={"Origin": "http://evil.example"}).status_code == 200  # reads stay open


MULTIPART = "multipart/form-data; boundary=studio-test"


def _multipart(png: bytes) -> bytes:
    head = '--studio-test\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\n'
    return head.encode() + png + b"\r\n--studio-test--\r\n"


def _png(array: np.ndarray) -> bytes:
    out = io.BytesIO()
    Image.fromarray(array).save(out, format="PNG")
    return out.getvalue()


def test_api_errors_are_json_with_the_right_status_and_no_paths(client, tmp_path, monkeypatch):
    cases = [
        (client.get("/api/nope"), 404, "no API endpoint"),
        (client.get("/api/"), 404, "no API endpoint"),
        (client.post("/api/runs"), 405, "use GET"),
        (client.get("/api/predict"), 405, "use POST"),
        (client.delete("/api/runs"), 405, "use GET"),
        (
            client.post("/api/predict", data={"run": "r" * 1_000_000, "image": (io.BytesIO(b"x"), "a.png")}),
            413,
            "256 KB",
        ),
        (
            client.post("/api/predict", data=b"\0" * (17 * 1024 * 1024), content_type="application/octet-stream"),
            413,
            "10 MB limit",
        ),
    ]
    for response, status, text in cases:
        assert response.status_code == status and response.is_json, (status, response.data[:200])
        assert text in response.get_json()["error"], response.get_json()
    assert client.post("/api/runs").headers["Allow"] == "GET"
    listed = client.get("/api/nope").get_json()["error"]
    assert "/api/runs" in listed and "/api/predict" in listed and "/api/compare" in listed  # routes are named
    one = client.get("/api/runs/ref-cnn")
    assert one.status_code == 200 and one.get_json()["metrics"]["test_accuracy_ci95"][0] > 0.8
    assert client.get("/api/runs/no-such-run").status_code == 404
    assert client.get("/api/runs/bad id!").status_code == 400
    summary = next(r for r in client.get("/api/runs?limit=1000").get_json() if r["run_id"] == "ref-cnn")
    assert {"val_accuracy", "n_train", "config", "train_seconds", "test_accuracy_ci95"} <= set(summary)
    assert summary["n_train"] == 48000 and summary["config"]["model"] == "cnn"
    body = _png(data.load().x_test[0])
    from core.store import RunStore
    from core.training import rebuild

    missing = [r for r in ("ref-random_forest",) if rebuild.needs_rebuild(r, RunStore())]  # as on a fresh clone
    for run in ("no-such-run", *missing):  # unknown run; a model not in this checkout
        response = client.post("/api/predict", data={"image": (io.BytesIO(body), "a.png"), "run": run})
        message = response.get_json()
        assert response.status_code in (404, 409) and "/" not in message["error"].replace("/api", ""), message


def test_a_filename_that_is_not_utf8_is_still_predicted(client):
    boundary = b"studio-boundary"
    raw = (
        b"--" + boundary + b'\r\nContent-Disposition: form-data; name="image"; filename="\xff\xe9t\xe9.png"\r\n'
        b"Content-Type: image/png\r\n\r\n" + _png(data.load().x_test[5]) + b"\r\n--" + boundary + b"--\r\n"
    )
    response = client.post("/api/predict", data=raw, content_type="multipart/form-data; boundary=" + boundary.decode())
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["predicted_class"] == data.CLASS_NAMES[data.load().y_test[5]]


def test_an_overloaded_server_answers_503_with_retry_after(client, monkeypatch):
    monkeypatch.setattr(upload, "SLOT_WAIT_S", 0.05)
    held = [upload._slots.acquire() for _ in range(upload.SLOTS)]
    try:
        large = io.BytesIO()  # over a megapixel: photos that small need no slot
        _photo((1300, 1000), "RGB").save(large, format="PNG")
        response = client.post("/api/predict", data={"image": (io.BytesIO(large.getvalue()), "a.png")})
        assert response.status_code == 503 and response.headers["Retry-After"] == "2"
        assert "busy" in response.get_json()["error"]
    finally:
        for _ in held:
            upload._slots.release()


def _photo(size: tuple[int, int], mode: str = "RGBA") -> Image.Image:
    """A large photo of a dark item on white (a test-set shirt, upscaled)."""
    item = Image.fromarray(255 - data.load().x_test[7]).resize((size[1] // 2, size[1] // 2), Image.BILINEAR)
    canvas = Image.new(mode, size, "white")
    canvas.paste(item.convert(mode), (size[0] // 3, size[1] // 4))
    return canvas


MEASURE = """
import sys
sys.path.insert(0, {root!r})
from core.data import upload
from PIL import Image, PngImagePlugin, JpegImagePlugin; import numpy
raw = open({path!r}, 'rb').read()
from core.data import familiar
familiar.warm()  # the one-off calibration (cached on disk) is not part of an upload's cost

def kib(field):
    return next(int(line.split()[1]) for line in open('/proc/self/status') if line.startswith(field + ':'))

open('/proc/self/clear_refs', 'w').write('5')  # reset the peak (it starts at the forking parent's size)
before = kib('VmRSS')
out = upload.preprocess(raw)
print((kib('VmHWM') - before) / 1024, out['image'].shape, out['format'])
"""


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_40_megapixel_upload_stays_within_the_memory_budget(tmp_path, fmt):
    img = _photo((7300, 5450), "RGBA" if fmt == "PNG" else "RGB")  # 39.8 megapixels
    path = tmp_path / f"big.{fmt.lower()}"
    img.save(path, format=fmt, **({"quality": 80} if fmt == "JPEG" else {}))
    assert path.stat().st_size < upload.MAX_BYTES
    done = subprocess.run(
        [sys.executable, "-c", MEASURE.format(root=str(PROJECT_ROOT), path=str(path))],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=PROJECT_ROOT,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    added_mb = float(done.stdout.split()[0])
    print(f"{fmt} 39.8 MP upload: peak RSS +{added_mb:.0f} MB")
    assert added_mb <= 150 and "(28, 28)" in done.stdout


def test_16_bit_png_and_mpo_jpeg_are_predicted_like_their_8_bit_originals(reference_store):
    from core.models import loading

    ds = data.load()
    indices = [0, 1, 2, 3, 8]
    eight = [upload.preprocess(_png(ds.x_test[i]))["image"] for i in indices]
    sixteen = []
    for i in indices:
        out = io.BytesIO()
        Image.fromarray(ds.x_test[i].astype(np.uint16) * 257).save(out, format="PNG")
        assert Image.open(io.BytesIO(out.getvalue())).mode.startswith("I")
        sixteen.append(upload.preprocess(out.getvalue())["image"])
    np.testing.assert_array_equal(np.stack(sixteen), np.stack(eight))
    base = Image.fromarray(ds.x_test[1]).resize((280, 280)).convert("RGB")
    out = io.BytesIO()
    base.save(out, format="MPO", save_all=True, append_images=[base.transpose(Image.FLIP_LEFT_RIGHT)], quality=95)
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    mpo = upload.preprocess(out.getvalue())
    assert mpo["format"] == "MPO"
    jpeg = io.BytesIO()
    base.save(jpeg, format="JPEG", quality=95)
    proba = loading.predict_images(
        "ref-cnn", np.stack([mpo["image"], upload.preprocess(jpeg.getvalue())["image"]]), reference_store
    )
    assert proba[0].argmax() == proba[1].argmax() == ds.y_test[1]


def test_concurrent_decodes_are_bounded(monkeypatch):
    inside, peak = [0], [0]
    lock = threading.Lock()
    real = upload.open_reduced

    def counting(raw):
        with lock:
            inside[0] += 1
            peak[0] = max(peak[0], inside[0])
        try:
            return real(raw)
        finally:
            with lock:
                inside[0] -= 1

    monkeypatch.setattr(upload, "open_reduced", counting)
    raw = _png(np.asarray(_photo((1200, 900), "L")))

    def one(_):
        try:
            with upload.slot(wait_s=30):
                return upload.preprocess(raw)["image"].shape
        except upload.UploadBusy:
            return None

    with futures.ThreadPoolExecutor(8) as pool:
        shapes = list(pool.map(one, range(16)))
    assert shapes == [(28, 28)] * 16 and peak[0] <= upload.SLOTS


def test_a_chunked_oversized_upload_gets_the_apis_json_413(make_run_server):
    """70 MB sent chunked (no Content-Length): the API's JSON error, not the server's plain text."""
    import http.client
    from urllib.parse import urlsplit

    url = urlsplit(make_run_server)
    connection = http.client.HTTPConnection(url.hostname, url.port, timeout=120)
    boundary = "studio-chunks"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="big.png"\r\n'
        "Content-Type: image/png\r\n\r\n"
    ).encode()

    def body():
        yield head
        block = b"\0" * (1024 * 1024)
        for _ in range(70):
            yield block
        yield f"\r\n--{boundary}--\r\n".encode()

    connection.request(
        "POST",
        "/api/predict",
        body=body(),
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}", "Transfer-Encoding": "chunked"},
        encode_chunked=True,
    )
    response = connection.getresponse()
    payload = response.read()
    assert response.status == 413 and response.getheader("Content-Type", "").startswith("application/json")
    assert "limit" in json.loads(payload)["error"]
