"""Local response normalisation (AlexNet section 3.3; GoogLeNet's stem)."""

import contextlib
import threading

import numpy as np

import keras
from keras import ops

from keras_cnns.validation import check_float, check_int, check_positive_int


def band_matrix(channels, radius):
    """The ``[C, C]`` 0/1 matrix with ones where ``|i - j| <= radius``."""
    i = np.arange(channels)
    return (np.abs(i[:, None] - i[None, :]) <= radius).astype("float32")


def window_sum(squares, radius):
    """``sum_{c'=c-r}^{c+r} squares_{c'}`` over the last axis (zeros outside), as one
    matrix product with :func:`band_matrix`: oneDNN's matmul, whose gradient is another
    matmul, runs it faster than the 2r + 1 shifted adds (benchmarks/lrn.py,
    docs/performance.md); the sums are of the same non-negative terms."""
    if not radius:
        return squares
    channels = squares.shape[-1]
    band = ops.convert_to_tensor(band_matrix(channels, radius))
    flat = ops.reshape(squares, (-1, channels))
    return ops.reshape(ops.matmul(flat, band), ops.shape(squares))


def lrn_formula(x, radius, bias, alpha, beta, window=None):
    """``x * (bias + alpha * window_sum(x ** 2)) ** -beta`` in keras.ops (any backend);
    ``window`` is the window-sum function, :func:`window_sum` by default."""
    total = (window or window_sum)(ops.square(x), radius)
    return x * ops.power(bias + alpha * total, -beta)


_EXPORT = threading.local()


@contextlib.contextmanager
def decomposed(integer=False):
    """Inside this block, LRN layers traced build their graph from basic ops
    (:func:`lrn_decomposed`) instead of TensorFlow's LRN op, which TFLite runs on its
    slow reference kernel outside XNNPACK. The TFLite exports trace under it
    (``integer=True`` for int8 files); training graphs never do."""
    before = getattr(_EXPORT, "mode", None)
    _EXPORT.mode = "integer" if integer else "float"
    try:
        yield
    finally:
        _EXPORT.mode = before


def lrn_decomposed(x, radius, bias, alpha, beta, integer=False):
    """The same function as :func:`lrn_formula`, for TFLite: the window sum is a 1x1
    convolution with the 0/1 band kernel (CONV_2D; int8 in an int8 file). For a float
    file and ``beta`` a multiple of 1/4 (0.75 in AlexNet and GoogLeNet), ``t ** -beta``
    is a product of ``r = rsqrt(t) = t ** -0.5`` and ``r * rsqrt(r) = t ** -0.25``
    factors (MUL, RSQRT: XNNPACK runs them). ``integer=True`` keeps POW, left in float
    by the int8 converter: TFLite's int8 RSQRT / SQRT kernels measured 10-15x slower
    than that float POW here (docs/performance.md). Needs a 4-D channels-last input."""
    channels = x.shape[-1]
    squares = x * x
    if radius:
        kernel = ops.convert_to_tensor(band_matrix(channels, radius).reshape(1, 1, channels,
                                                                             channels))
        squares = ops.conv(squares, kernel, padding="same")
    t = bias + alpha * squares
    quarters = beta * 4
    if integer or quarters != round(quarters) or not 0 < quarters <= 8:
        return x * ops.power(t, -beta)
    quarters = int(round(quarters))
    r = ops.rsqrt(t)
    factors = [r] * (quarters // 2)
    if quarters % 2:
        factors.append(r * ops.rsqrt(r))
    y = x
    for f in factors:
        y = y * f
    return y


def window_sum_shifted(squares, radius):
    """The same sum as :func:`window_sum`, as the sum of 2r + 1 channel-shifted copies
    of the zero-padded squares (the layer's earlier implementation, kept as the
    reference of benchmarks/lrn.py and the tests)."""
    if not radius:
        return squares
    channels = squares.shape[-1]
    rank = len(squares.shape)
    padded = ops.pad(squares, [[0, 0]] * (rank - 1) + [[radius, radius]])
    total = padded[..., 0:channels]
    for d in range(1, 2 * radius + 1):
        total = total + padded[..., d:d + channels]
    return total


@keras.saving.register_keras_serializable(package="keras_cnns")
class LocalResponseNormalization(keras.layers.Layer):
    """Cross-channel LRN in TensorFlow's convention.

    ``b_c = a_c / (bias + alpha * sum_{c'=c-r}^{c+r} a_{c'}^2) ** beta`` with
    ``r = depth_radius`` (window ``2r + 1``). ``alpha`` is *not* divided by the window:
    this is the AlexNet paper's convention and ``tf.nn.local_response_normalization``'s.

    Caffe's LRN layer divides alpha by ``local_size``; convert a Caffe prototxt with
    :meth:`from_caffe` (``alpha_tf = alpha_caffe / local_size``). The sum runs in
    float32 even under a float16 policy, since squares overflow float16.

    One function, three graphs (all equal within float rounding): TensorFlow's LRN /
    LRNGrad kernels on the TensorFlow backend (the fastest there), the keras.ops
    band-matrix form (:func:`lrn_formula`) on jax and torch, and, inside
    :func:`decomposed` (the TFLite exports), :func:`lrn_decomposed`.
    """

    def __init__(self, depth_radius=2, bias=1.0, alpha=1e-4, beta=0.75, **kwargs):
        super().__init__(**kwargs)
        self.depth_radius = check_int("depth_radius", depth_radius, minimum=0)
        self.bias = check_float("bias", bias, minimum=0.0)
        self.alpha = check_float("alpha", alpha, minimum=0.0)
        self.beta = check_float("beta", beta, minimum=0.0)

    @classmethod
    def from_caffe(cls, local_size=5, alpha=1e-4, beta=0.75, k=1.0, **kwargs):
        """Build from Caffe's ``lrn_param`` (``ACROSS_CHANNELS``)."""
        if check_positive_int("local_size", local_size) % 2 == 0:
            raise ValueError(f"local_size must be a positive odd int, got {local_size!r}")
        return cls(depth_radius=(local_size - 1) // 2, bias=k, alpha=alpha / local_size,
                   beta=beta, **kwargs)

    def call(self, inputs):
        x = ops.cast(inputs, "float32")
        if x.shape[-1] is None:
            raise ValueError("LocalResponseNormalization needs a known channel count")
        mode = getattr(_EXPORT, "mode", None)
        if mode and len(x.shape) == 4:
            y = lrn_decomposed(x, self.depth_radius, self.bias, self.alpha, self.beta,
                               integer=mode == "integer")
        elif keras.backend.backend() == "tensorflow" and len(x.shape) == 4:
            # TensorFlow's own LRN / LRNGrad kernels, the same formula: faster still
            # than the band product here (benchmarks/lrn.py).
            import tensorflow as tf

            y = tf.nn.local_response_normalization(x, self.depth_radius, self.bias,
                                                   self.alpha, self.beta)
        else:
            y = lrn_formula(x, self.depth_radius, self.bias, self.alpha, self.beta)
        return ops.cast(y, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(depth_radius=self.depth_radius, bias=self.bias, alpha=self.alpha,
                      beta=self.beta)
        return config
