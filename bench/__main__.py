"""`python -m bench`: run every benchmark and write bench/results/*.json."""

from bench import gallery_latency, gradcam_latency, train_overhead

for module in (gallery_latency, gradcam_latency, train_overhead):
    print(f"== {module.__name__}", flush=True)
    module.main()
