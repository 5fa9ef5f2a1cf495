"""Class heatmaps for the Keras runs (CNN, CNN + Dropout, ResNet…): the Grad-CAM family here,
Score-CAM, SmoothGrad and occlusion in core.explain.perturbation.

`heatmaps(model, images, target, layer, method)` returns numpy arrays in [0, 1] at 28x28 and
never modifies the model: a separate `keras.Model` view shares its layers, and class scores are
the logits recomputed from the final Dense layer's weights (no activation swapping). A heatmap
whose gradients are all zero comes back as zeros, not NaN.
"""

from __future__ import annotations

import functools
import weakref
from typing import Any

import numpy as np

from core import data
from core.store import RunStore

# Grad-CAM (Selvaraju 2017), Grad-CAM++ (Chattopadhay 2018), HiResCAM (Draelos & Carin 2020: the
# element-wise gradient x activation, faithful to the model's own computation), LayerCAM (Jiang 2021:
# positive gradients x activation, sharper at early layers).
# Score-CAM, SmoothGrad and occlusion read no layer gradients (core.explain.perturbation); the last
# two explain at the input, so their layer is "input".
METHODS = ("gradcam", "gradcam++", "hirescam", "layercam", "scorecam", "smoothgrad", "occlusion")
INPUT_METHODS = ("smoothgrad", "occlusion")
INPUT = "input"
_EPS = 1e-12


def keras_model_of(run_id: str, store: RunStore | None = None) -> Any:
    """The Keras model of a CNN run (loaded once per process); ValueError for other runs."""
    from core.models.keras_model import KerasClassifier
    from core.models.loading import load_classifier

    clf = load_classifier(run_id, store)
    if not isinstance(clf, KerasClassifier):
        raise ValueError(f"run {run_id} is not a CNN; Grad-CAM needs a Keras (deep-learning) run")
    return clf.model_


def layers_of_run(run_id: str, store: RunStore | None = None) -> list[str]:
    """The layers Grad-CAM can look at in a CNN run's model, input side first."""
    return explainable_layers(keras_model_of(run_id, store))


def explainable_layers(model: Any) -> list[str]:
    """Layers whose 4-D outputs Grad-CAM can use (post-activation conv maps), input to output: the
    studio's own `*_relu` / `*_out` layers, and in a model from elsewhere any activation layer or
    convolution with its own non-linear activation (no layer names assumed)."""
    import keras

    names = []
    for layer in model.layers:
        output = getattr(layer, "output", None)
        if output is None or len(output.shape) != 4:
            continue
        own = layer.name.endswith(("_relu", "_out"))
        activation = isinstance(layer, keras.layers.Activation | keras.layers.ReLU | keras.layers.LeakyReLU)
        conv = isinstance(layer, keras.layers.Conv2D | keras.layers.DepthwiseConv2D | keras.layers.SeparableConv2D)
        if own or activation or (conv and getattr(layer.activation, "__name__", "linear") != "linear"):
            names.append(layer.name)
    return names


def _head(model: Any) -> Any:
    """The final Dense layer (its kernel turns the penultimate features into class scores), skipping a
    trailing Softmax or Activation layer."""
    for layer in reversed(model.layers):
        if getattr(layer, "kernel", None) is not None:
            return layer
        if layer.__class__.__name__ not in ("Softmax", "Activation"):
            break
    raise ValueError("this model does not end in a dense layer, so Grad-CAM cannot score its classes")


@functools.lru_cache(maxsize=32)
def _views(model_ref: weakref.ref, layer: str):
    """(feature+penultimate model, final Dense layer) for a model and layer; cached, model untouched."""
    import keras

    model = model_ref()
    if model is None:
        raise ValueError("the model was unloaded; explain it again")
    head = _head(model)
    view = keras.Model(model.inputs[0], [model.get_layer(layer).output, head.input], name=f"gradcam_view_{layer}")
    return view, head


def _weights_gradcam(grads, _features):
    return grads.mean(axis=(1, 2))


def _weights_gradcam_pp(grads, features):
    """Grad-CAM++ channel weights (Chattopadhay et al. 2018), with exp(score) folded into the gradients."""
    g2, g3 = grads**2, grads**3
    denom = 2 * g2 + features.sum(axis=(1, 2), keepdims=True) * g3
    alphas = g2 / np.where(np.abs(denom) > _EPS, denom, 1.0)
    return (alphas * np.maximum(grads, 0)).sum(axis=(1, 2))


def _cams(method: str, grads: np.ndarray, features: np.ndarray) -> np.ndarray:
    """(N, h, w) non-negative class activation maps at the layer's resolution."""
    if method == "hirescam":
        return np.maximum((grads * features).sum(axis=3), 0)
    if method == "layercam":
        return np.maximum((np.maximum(grads, 0) * features).sum(axis=3), 0)
    weights = (_weights_gradcam if method == "gradcam" else _weights_gradcam_pp)(grads, features)
    return np.maximum(np.einsum("nhwc,nc->nhw", features, weights), 0)


def heatmaps(
    model, images: np.ndarray, target: int | np.ndarray | None = None, layer: str | None = None, method: str = "gradcam"
) -> np.ndarray:
    """(N, 28, 28) float32 heatmaps in [0, 1] for (N, 28, 28, 1) float images.

    `target`: class per image (int or array); None = each image's predicted class.
    """
    import tensorflow as tf

    from core.explain import perturbation

    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    layers = explainable_layers(model)
    layer = layer_for(method, layer, layers)
    view, head = _views(weakref.ref(model), layers[-1] if layer == INPUT else layer)
    x_np = np.asarray(images, dtype=np.float32).reshape(-1, 28, 28, 1)
    x = tf.convert_to_tensor(x_np)

    def logits_of(inputs):
        return tf.matmul(view(inputs, training=False)[1], head.kernel) + head.bias

    if target is None:
        classes = np.argmax(logits_of(x).numpy(), axis=1)
    else:
        classes = np.broadcast_to(np.asarray(target, dtype=np.int64), (len(x_np),)).copy()
    if method == "smoothgrad":
        cams = perturbation.smoothgrad(logits_of, x_np, classes)
    elif method == "occlusion":
        cams = perturbation.occlusion(logits_of, x_np, classes)
    elif method == "scorecam":
        features = view(x, training=False)[0].numpy().astype(np.float32)  # bfloat16 models: float32 maps
        cams = perturbation.scorecam(model, features, x_np, classes)
    else:
        with tf.GradientTape() as tape:
            features, penultimate = view(x, training=False)
            tape.watch(features)
            logits = tf.matmul(penultimate, head.kernel) + head.bias
            scores = tf.gather(logits, tf.constant(classes), axis=1, batch_dims=1)
        grads = tape.gradient(scores, features).numpy().astype(np.float32)  # bfloat16 models: float32 maps
        cams = _cams(method, grads, features.numpy().astype(np.float32))
    if cams.shape[1:] != (28, 28):
        cams = tf.image.resize(cams[..., None], (28, 28), method="bilinear").numpy()[..., 0]
    peak = cams.reshape(len(cams), -1).max(axis=1).reshape(-1, 1, 1)
    return np.where(peak > _EPS, cams / np.maximum(peak, _EPS), 0.0).astype(np.float32)


def layer_for(method: str, layer: str | None, layers: list[str]) -> str:
    """The layer a method explains: "input" for pixel-level methods, else `layer` (default: the last
    conv layer), checked against the model's explainable layers."""
    if method in INPUT_METHODS:
        return INPUT
    if not layers:
        raise ValueError("this model has no convolution layer to explain (Grad-CAM needs one); try occlusion")
    layer = layer or layers[-1]
    if layer not in layers:
        raise ValueError(f"layer {layer!r} cannot be explained; choose one of: {', '.join(layers)}")
    return layer


def parse_target(target: Any, true_class: int, predicted: int) -> int:
    """'predicted' / 'true' / a class index / a class name -> class index (ValueError otherwise)."""
    if target in (None, "", "predicted"):
        return predicted
    if target == "true":
        return true_class
    text = str(target).strip()
    if text.isdigit() and 0 <= int(text) < data.NUM_CLASSES:
        return int(text)
    lowered = [name.lower() for name in data.CLASS_NAMES]
    if text.lower() in lowered:
        return lowered.index(text.lower())
    raise ValueError(f"unknown class {target!r}: use 0-9 or one of {', '.join(data.CLASS_NAMES)}")


def explain_image(
    run_id: str,
    image_uint8: np.ndarray,
    target: Any = None,
    layer: str | None = None,
    method: str = "gradcam",
    true_class: int | None = None,
    store: RunStore | None = None,
) -> dict:
    """Prediction and heatmap of one 28x28 uint8 image with a run's Keras model."""
    from core.models.loading import load_classifier

    model = keras_model_of(run_id, store)
    clf = load_classifier(run_id, store)
    x = clf.prepare(np.asarray(image_uint8, dtype=np.uint8).reshape(1, 28, 28))
    proba = clf.predict_proba(x)[0]
    predicted = int(proba.argmax())
    target_class = parse_target(target, true_class if true_class is not None else predicted, predicted)
    layers = explainable_layers(model)
    heat = heatmaps(model, x, target_class, layer, method)[0]
    return {
        "run_id": run_id,
        "predicted_class": data.CLASS_NAMES[predicted],
        "predicted_index": predicted,
        "true_class": None if true_class is None else data.CLASS_NAMES[true_class],
        "probabilities": {name: float(p) for name, p in zip(data.CLASS_NAMES, proba, strict=True)},
        "target_class": data.CLASS_NAMES[target_class],
        "target_index": target_class,
        "layer": layer_for(method, layer, layers),
        "layers": layers,
        "method": method,
        "heatmap": heat,
    }


def explain_test_image(
    run_id: str,
    index: int,
    target: Any = None,
    layer: str | None = None,
    method: str = "gradcam",
    store: RunStore | None = None,
) -> dict:
    """`explain_image` for test image `index` (0-9999), with its true label."""
    ds = data.load()
    if not isinstance(index, (int, np.integer)) or not 0 <= int(index) < len(ds.y_test):
        raise ValueError(f"test image index must be between 0 and {len(ds.y_test) - 1}, got {index!r}")
    result = explain_image(
        run_id, ds.x_test[int(index)], target, layer, method, true_class=int(ds.y_test[int(index)]), store=store
    )
    return {**result, "index": int(index)}
