"""Keras network architectures (functional API, no I/O): CNN, CNN + Dropout, small ResNet.

Inputs are (N, 28, 28, 1) float32 in [0, 1]; standardisation and (optional) augmentation are
layers inside the model, so a saved `.keras` file alone is enough for inference. Convolution
layers carry readable names (`conv1`, `block2_conv2`…) that the Grad-CAM layer picker shows.
"""

from __future__ import annotations

import keras
from keras import layers

PIXEL_MEAN = 72.9404 / 255.0  # training-set statistics (python -m core data stats)
PIXEL_STD = 90.0212 / 255.0
# Keras' default 0.99 needs hundreds of steps before the moving statistics are usable, which
# makes quick demo runs on a few hundred images predict at chance level; 0.9 settles in ~20 steps.
BN_MOMENTUM = 0.9


def _stem(
    augment: bool, seed: int, shift: float = 0.1, erasing: float = 0.0
) -> tuple[keras.KerasTensor, keras.KerasTensor]:
    """Input, optional augmentation (mirror + shifts of up to `shift` of the size + random erasing
    of one patch in a share `erasing` of the photos), standardisation."""
    inputs = keras.Input(shape=(28, 28, 1), name="image")
    x = inputs
    if augment:  # active only while training
        x = layers.RandomFlip("horizontal", seed=seed, name="augment_flip")(x)
        if shift > 0:
            x = layers.RandomTranslation(shift, shift, fill_mode="constant", seed=seed, name="augment_shift")(x)
    if erasing > 0:  # Zhong et al. 2017: a rectangle of 2-33 % of the photo filled with noise
        x = layers.RandomErasing(
            (erasing, erasing), scale=(0.02, 0.33), value_range=(0.0, 1.0), seed=seed, name="augment_erase"
        )(x)
    x = layers.Normalization(mean=PIXEL_MEAN, variance=PIXEL_STD**2, name="standardise")(x)
    return inputs, x


def _conv(x, filters: int, name: str, batchnorm: bool, padding: str = "valid", strides: int = 1, kernel: int = 3):
    x = layers.Conv2D(filters, kernel, strides=strides, padding=padding, use_bias=not batchnorm, name=name)(x)
    if batchnorm:
        x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def build_cnn(
    dropout: float = 0.0,
    batchnorm: bool = False,
    augment: bool = False,
    seed: int = 42,
    padding: str = "valid",
    width: int = 32,
    kernel_size: int = 3,
    shift: float = 0.1,
    erasing: float = 0.0,
) -> keras.Model:
    """The baseline CNN (Conv 32-64-128, max-pool after the first two, Dense 128, softmax).

    `width` scales the filters (width, 2x, 4x); `kernel_size` is 3 or 5. With dropout > 0:
    Dropout of `dropout / 2` after each conv block and of `dropout` before each dense layer (the
    classic 0.25 / 0.5 recipe at dropout=0.5).
    """
    inputs, x = _stem(augment, seed, shift, erasing)
    for i, filters in enumerate((width, 2 * width, 4 * width), start=1):
        x = _conv(x, filters, f"conv{i}", batchnorm, padding=padding, kernel=kernel_size)
        if i < 3:
            x = layers.MaxPooling2D(2, name=f"pool{i}")(x)
        if dropout > 0:
            x = layers.Dropout(dropout / 2, seed=seed + i, name=f"dropout{i}")(x)
    x = layers.Flatten(name="flatten")(x)
    if dropout > 0:
        x = layers.Dropout(dropout, seed=seed + 5, name="dropout_flat")(x)
    x = layers.Dense(128, activation="relu", name="dense")(x)
    if dropout > 0:
        x = layers.Dropout(dropout, seed=seed + 4, name="dropout_dense")(x)
    outputs = layers.Dense(10, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="cnn_dropout" if dropout > 0 else "cnn")


def _residual_block(x, filters: int, stride: int, name: str, batchnorm: bool):
    """Two 3x3 convs plus a shortcut: identity, or a 1x1 projection when the shape changes."""
    shortcut = x
    y = _conv(x, filters, f"{name}_conv1", batchnorm, padding="same", strides=stride)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=not batchnorm, name=f"{name}_conv2")(y)
    if batchnorm:
        y = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_conv2_bn")(y)
    if stride != 1 or x.shape[-1] != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=not batchnorm, name=f"{name}_proj")(x)
        if batchnorm:
            shortcut = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_proj_bn")(shortcut)
    y = layers.Add(name=f"{name}_add")([y, shortcut])
    return layers.Activation("relu", name=f"{name}_out")(y)


def build_resnet(
    width: int = 32,
    blocks: int = 1,
    batchnorm: bool = True,
    dropout: float = 0.0,
    augment: bool = False,
    seed: int = 42,
    shift: float = 0.1,
    erasing: float = 0.0,
) -> keras.Model:
    """A small ResNet: stem conv, three stages (width, 2x, 4x; stride 2 between), GAP, softmax."""
    inputs, x = _stem(augment, seed, shift, erasing)
    x = _conv(x, width, "stem", batchnorm, padding="same")
    for stage, mult in enumerate((1, 2, 4), start=1):
        for block in range(1, blocks + 1):
            stride = 2 if stage > 1 and block == 1 else 1
            x = _residual_block(x, width * mult, stride, f"block{stage}_{block}", batchnorm)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    if dropout > 0:
        x = layers.Dropout(dropout, seed=seed, name="dropout_head")(x)
    outputs = layers.Dense(10, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="resnet")


def _separable(x, filters: int, stride: int, name: str, kernel: int):
    """MobileNet's block: a depthwise 3x3 (one filter per channel), then a pointwise 1x1 mixing
    channels, each with BatchNorm and ReLU6: about 8-9x fewer multiply-adds than a full conv."""
    x = layers.DepthwiseConv2D(kernel, strides=stride, padding="same", use_bias=False, name=f"{name}_dw")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_dw_bn")(x)
    x = layers.ReLU(6.0, name=f"{name}_dw_relu")(x)
    x = layers.Conv2D(filters, 1, use_bias=False, name=f"{name}_pw")(x)
    x = layers.BatchNormalization(momentum=BN_MOMENTUM, name=f"{name}_pw_bn")(x)
    return layers.ReLU(6.0, name=f"{name}_out")(x)


def build_mobilenet(
    width: int = 32,
    dropout: float = 0.2,
    augment: bool = False,
    seed: int = 42,
    kernel_size: int = 3,
    shift: float = 0.1,
    erasing: float = 0.0,
) -> keras.Model:
    """A MobileNet-style network for 28x28: a full stem conv, then depthwise-separable blocks
    (width -> 2x -> 4x, stride 2 at each widening), global average pooling, softmax."""
    inputs, x = _stem(augment, seed, shift, erasing)
    x = _conv(x, width, "stem", True, padding="same", kernel=3)
    plan = [(width, 1), (2 * width, 2), (2 * width, 1), (4 * width, 2), (4 * width, 1), (4 * width, 1)]
    for i, (filters, stride) in enumerate(plan, start=1):
        x = _separable(x, filters, stride, f"sep{i}", kernel_size)
    x = layers.GlobalAveragePooling2D(name="gap")(x)
    if dropout > 0:
        x = layers.Dropout(dropout, seed=seed, name="dropout_head")(x)
    outputs = layers.Dense(10, activation="softmax", dtype="float32", name="probabilities")(x)
    return keras.Model(inputs, outputs, name="mobilenet")


def conv_layer_names(model: keras.Model) -> list[str]:
    """Names of layers producing 4-D feature maps usable for Grad-CAM, input to output."""
    names = []
    for layer in model.layers:
        shape = getattr(layer, "output", None)
        if (
            isinstance(layer, (layers.Conv2D, layers.DepthwiseConv2D, layers.Activation, layers.Add, layers.ReLU))
            and shape is not None
            and len(layer.output.shape) == 4
        ):
            names.append(layer.name)
    return names
