"""Why bfloat16 doubles the speed of wide nets here and not of narrow ones: each layer of the studio's
CNNs timed alone, forward and backward (input and weight gradients), float32 against bfloat16.

Layers are the convolutions of the CNN family at width 32 (the fast preset) and 64 (the best preset),
at the sizes the network sees them (28x28, then 14x14 and 7x7 after pooling), a batch of 128, plus
the max-pooling and the casts the mixed policy adds. GFLOP/s counts 2 x 3 x the forward multiply-adds.

    python -m bench.bf16_layers [--repeat 20]
"""

from __future__ import annotations

import argparse
import time

from bench.common import machine, save

BATCH = 128
# (name, input side, input channels, output channels, kernel)
CONVS = [
    ("first conv 1->32, 28x28", 28, 1, 32, 3),
    ("conv 32->32, 28x28", 28, 32, 32, 3),
    ("conv 32->64, 14x14", 14, 32, 64, 3),
    ("conv 64->128, 7x7", 7, 64, 128, 3),
    ("first conv 1->64, 28x28", 28, 1, 64, 3),
    ("conv 64->64, 28x28", 28, 64, 64, 3),
    ("conv 64->128, 14x14", 14, 64, 128, 3),
    ("conv 128->256, 7x7", 7, 128, 256, 3),
]


def _time(fn, repeat: int) -> float:
    for _ in range(3):
        fn()
    started = time.perf_counter()
    for _ in range(repeat):
        fn()
    return (time.perf_counter() - started) / repeat * 1000


def conv_step(side: int, c_in: int, c_out: int, k: int, dtype):
    import tensorflow as tf

    x = tf.Variable(tf.random.normal([BATCH, side, side, c_in], dtype=tf.float32))
    w = tf.Variable(tf.random.normal([k, k, c_in, c_out], dtype=tf.float32) * 0.05)

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            y = tf.nn.relu(tf.nn.conv2d(tf.cast(x, dtype), tf.cast(w, dtype), 1, "SAME"))
            loss = tf.reduce_sum(tf.cast(y, tf.float32))
        return tape.gradient(loss, [x, w])

    return step


def pool_step(side: int, channels: int, dtype):
    import tensorflow as tf

    x = tf.Variable(tf.random.normal([BATCH, side, side, channels], dtype=tf.float32))

    @tf.function
    def step():
        with tf.GradientTape() as tape:
            y = tf.nn.max_pool2d(tf.cast(x, dtype), 2, 2, "VALID")
            loss = tf.reduce_sum(tf.cast(y, tf.float32))
        return tape.gradient(loss, x)

    return step


def main(repeat: int = 20) -> dict:
    import tensorflow as tf

    rows = []
    for name, side, c_in, c_out, k in CONVS:
        macs = BATCH * side * side * c_in * c_out * k * k
        f32 = _time(conv_step(side, c_in, c_out, k, tf.float32), repeat)
        b16 = _time(conv_step(side, c_in, c_out, k, tf.bfloat16), repeat)
        rows.append(
            {
                "layer": name,
                "fp32_ms": round(f32, 2),
                "bf16_ms": round(b16, 2),
                "speedup": round(f32 / b16, 2),
                "fp32_gflops": round(6 * macs / f32 / 1e6, 1),
                "bf16_gflops": round(6 * macs / b16 / 1e6, 1),
            }
        )
    for side, channels in ((28, 32), (28, 64)):
        f32 = _time(pool_step(side, channels, tf.float32), repeat)
        b16 = _time(pool_step(side, channels, tf.bfloat16), repeat)
        rows.append(
            {
                "layer": f"max-pool 2x2 of {channels} channels, {side}x{side} (incl. casts)",
                "fp32_ms": round(f32, 2),
                "bf16_ms": round(b16, 2),
                "speedup": round(f32 / b16, 2),
            }
        )
    for row in rows:
        print(
            f"{row['layer']:48s} fp32 {row['fp32_ms']:7.2f} ms  bf16 {row['bf16_ms']:7.2f} ms  x{row['speedup']:.2f}"
            + (f"  ({row['fp32_gflops']} -> {row['bf16_gflops']} GFLOP/s)" if "fp32_gflops" in row else ""),
            flush=True,
        )
    result = {"batch": BATCH, "repeat": repeat, "layers": rows}
    save("bf16_layers", {"machine": machine(), **result})
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m bench.bf16_layers", description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=20)
    main(parser.parse_args().repeat)
