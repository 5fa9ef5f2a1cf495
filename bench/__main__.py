"""`python -m bench`: run every benchmark and write bench/results/*.json."""

from bench import browser_paint, gallery_latency, gradcam_latency, train_overhead

for module in (gallery_latency, gradcam_latency, train_overhead, browser_paint):
    print(f"== {module.__name__}", flush=True)
    module.main()
