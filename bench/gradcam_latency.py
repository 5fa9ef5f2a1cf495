"""Grad-CAM and prediction-API latency on the committed reference CNN (target: Grad-CAM <= 100 ms warm).

Measures, after warm-up: Grad-CAM heatmaps for one image (model cached in the process), the full
explain path for one test image (prediction + heatmap), and POST /api/predict with a PNG through
Flask's test client (upload validation, conversion, prediction, JSON).
"""

from __future__ import annotations

import io
import os

from PIL import Image

from bench.common import save, timings_ms
from core import data, explain
from core.models import loading
from core.paths import PROJECT_ROOT
from core.store import RunStore

RUN = "ref-cnn_dropout"


def main() -> dict:
    os.environ["STUDIO_ARTIFACTS"] = str(PROJECT_ROOT / "artifacts")
    store = RunStore()
    model = loading.load_classifier(RUN, store).model_
    ds = data.load()
    one = data.to_images(ds.x_test[:1])
    results = {"run": RUN}
    for method in explain.METHODS:
        results[f"heatmap_one_image_{method}"] = timings_ms(
            lambda m=method: explain.heatmaps(model, one, method=m), repeat=100, warmup=5
        )
    results["explain_test_image"] = timings_ms(
        lambda: explain.explain_test_image(RUN, 7, store=store), repeat=50, warmup=3
    )
    from dashboard.app import create_app

    client = create_app().server.test_client()
    buffer = io.BytesIO()
    Image.fromarray(ds.x_test[7]).resize((224, 224)).save(buffer, format="PNG")
    png = buffer.getvalue()

    def post():
        response = client.post(
            "/api/predict", data={"image": (io.BytesIO(png), "x.png"), "run": RUN}, content_type="multipart/form-data"
        )
        assert response.status_code == 200

    results["api_predict_224px_png"] = timings_ms(post, repeat=50, warmup=3)
    results["target_heatmap_ms"] = 100
    return save("gradcam_latency", results)


if __name__ == "__main__":
    main()
