"""Explanations: the Grad-CAM family (`gradcam`), Score-CAM, SmoothGrad and occlusion
(`perturbation`) of the models a run saved, loaded for inference by `inference`, and how faithful
each is (`faithfulness`). `core.explain.heatmaps(model, images, target, layer, method)` is the
public entry point benchmarks and tests call."""

from core.explain.gradcam import (
    INPUT,
    INPUT_METHODS,
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
    "INPUT",
    "INPUT_METHODS",
    "METHODS",
    "explain_image",
    "explain_test_image",
    "explainable_layers",
    "heatmaps",
    "keras_model_of",
    "layers_of_run",
    "parse_target",
]
