"""Explanations: Grad-CAM and Grad-CAM++ heatmaps (`gradcam`) of the models a run saved, loaded
for inference by `inference`. `core.explain.heatmaps(model, images, target, layer, method)` is the
public entry point benchmarks and tests call."""

from core.explain.gradcam import (
    METHODS,
    explain_image,
    explain_test_image,
    explainable_layers,
    heatmaps,
    keras_model_of,
    layers_of_run,
    parse_target,
)

__all__ = [
    "METHODS",
    "explain_image",
    "explain_test_image",
    "explainable_layers",
    "heatmaps",
    "keras_model_of",
    "layers_of_run",
    "parse_target",
]
