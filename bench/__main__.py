"""`python -m bench`: run every benchmark and write bench/results/*.json."""

from bench import browser_paint, epoch_cost, gallery_latency, gradcam_latency, train_overhead, upload_agreement

for module in (gallery_latency, gradcam_latency, train_overhead, browser_paint, upload_agreement, epoch_cost):
    print(f"== {module.__name__}", flush=True)
    module.main()
