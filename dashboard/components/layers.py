"""Plain labels for the layer names Grad-CAM can look at (shown in the Grad-CAM page's picker)."""

from __future__ import annotations

import re


def layer_label(name: str, position: int, count: int) -> str:
    """A plain label for a layer name: "conv2_relu" -> "convolution 2 of 3 (conv2_relu)"."""
    depth = "last, most abstract" if position == count - 1 else ("first, finest detail" if position == 0 else "")
    match = re.fullmatch(r"conv(\d+)_relu", name) or re.fullmatch(r"block(\d+)_(\d+)_out", name)
    if name == "stem_relu":
        plain = "input convolution"
    elif match and name.startswith("conv"):
        plain = f"convolution {match.group(1)}"
    elif match:
        plain = f"residual block {match.group(1)}.{match.group(2)} output"
    elif m := re.fullmatch(r"block(\d+)_(\d+)_conv(\d+)_relu", name):
        plain = f"residual block {m.group(1)}.{m.group(2)}, inner convolution"
    else:
        plain = name
    return f"{plain}{' — ' + depth if depth else ''} ({name})"
