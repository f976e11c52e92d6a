"""LRN three ways: TensorFlow's kernel, a band-matrix window sum, a shifted-copies sum.

    python benchmarks/lrn.py [--reps 7] [--batch 8] [--step-reps 5] [--no-step]

Side by side in one process, interleaved (order rotated each round), median of the
per-round ratio ``time(variant) / time(band)``. The variants: ``tf.nn.lrn``
(``tf.nn.local_response_normalization``, TensorFlow's LRN / LRNGrad kernels),
``band`` (keras.ops: window sum as a matmul with a 0/1 band matrix), ``shifted``
(keras.ops: sum of 2r + 1 channel-shifted copies). Measured on:

- the layer alone, forward + backward (``tf.GradientTape``, in a ``tf.function``), at the
  paper GoogLeNet's two LRN inputs (``[B, 56, 56, 64]`` and ``[B, 56, 56, 192]``), in
  float32 and with bfloat16 inputs (the ``mixed_bfloat16`` case: LRN computes in float32);
- the paper GoogLeNet's training step (benchmarks/training.py's ``keras_step``, 224 px,
  1000 classes, no aux heads): one model per implementation, the same weights.
"""

import argparse
import os
import statistics
import types

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras  # noqa: E402
import keras_cnns  # noqa: E402
from keras_cnns.layers import lrn as lrn_module  # noqa: E402
from keras_cnns.layers.lrn import LocalResponseNormalization  # noqa: E402
from training import interleave as training_interleave  # noqa: E402  (benchmarks/training.py)
from training import keras_step, paired  # noqa: E402


def variant(window):
    """The layer's call in keras.ops with ``window`` as the channel-window sum, or
    TensorFlow's LRN kernel (``window=None``)."""
    def call(self, inputs):
        x = keras.ops.cast(inputs, "float32")
        if window is None:
            y = tf.nn.local_response_normalization(x, self.depth_radius, self.bias,
                                                   self.alpha, self.beta)
        else:
            y = lrn_module.lrn_formula(x, self.depth_radius, self.bias, self.alpha,
                                       self.beta, window)
        return keras.ops.cast(y, self.compute_dtype)
    return call


VARIANTS = {"band": variant(lrn_module.window_sum),
            "shifted": variant(lrn_module.window_sum_shifted),
            "tf.nn.lrn": variant(None)}


def use(model, name):
    for layer in model._flatten_layers():
        if isinstance(layer, LocalResponseNormalization):
            layer.call = types.MethodType(VARIANTS[name], layer)
    return model


def interleave(sides, reps, desc):
    """training.py's interleaved rounds; times relative to the band form, paired."""
    times = training_interleave(sides, reps, desc)
    ratios = {label: paired(times, "band", label) for label in sides if label != "band"}
    print(f"{desc} ({reps} rounds): " + ", ".join(
        f"{label} {statistics.median(times[label]) * 1e3:.1f} ms" for label in sides)
        + "; paired time / band: " + ", ".join(f"{k} {v:.2f}" for k, v in ratios.items()),
        flush=True)
    return ratios


def layer_side(layer, x):
    @tf.function
    def run():
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = layer(x)
            loss = tf.reduce_sum(tf.cast(y, tf.float32) * w)
        return tape.gradient(loss, x)

    w = tf.constant(np.random.default_rng(1).standard_normal(x.shape), tf.float32)
    return lambda: run().numpy()


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=15, help="rounds for the layer alone")
    p.add_argument("--step-reps", type=int, default=5, help="rounds for the training step")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--no-step", action="store_true", help="skip the training step")
    args = p.parse_args(argv)
    print(f"load average at start: {os.getloadavg()}", flush=True)
    rng = np.random.default_rng(0)
    for channels in (64, 192):
        for dtype in ("float32", "bfloat16"):
            x = tf.constant(np.abs(rng.standard_normal((args.batch, 56, 56, channels))) * 30,
                            dtype)
            sides = {}
            for name in VARIANTS:
                layer = LocalResponseNormalization(2, 1.0, 1e-4, 0.75, dtype=(
                    "mixed_bfloat16" if dtype == "bfloat16" else "float32"))
                layer.call = types.MethodType(VARIANTS[name], layer)
                sides[name] = layer_side(layer, x)
            interleave(sides,
                       args.reps, f"LRN fwd+bwd [{args.batch},56,56,{channels}] {dtype}")
    if not args.no_step:
        x = rng.integers(0, 256, (args.batch, 224, 224, 3)).astype("float32")
        y = rng.integers(0, 1000, (args.batch,))
        models = {}
        for label in VARIANTS:
            keras.utils.set_random_seed(0)
            models[label] = use(keras_cnns.build("googlenet", input_shape=(224, 224, 3),
                                                 classes=1000, aux=False), label)
        interleave({label: keras_step(m, x, y) for label, m in models.items()},
                   args.step_reps, f"paper GoogLeNet training step, batch {args.batch}")
    print(f"load average at end: {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
