"""Local response normalisation (AlexNet section 3.3; GoogLeNet's stem)."""

import keras
from keras import ops

from keras_cnns.validation import check_float, check_int, check_positive_int


@keras.saving.register_keras_serializable(package="keras_cnns")
class LocalResponseNormalization(keras.layers.Layer):
    """Cross-channel LRN in TensorFlow's convention.

    ``b_c = a_c / (bias + alpha * sum_{c'=c-r}^{c+r} a_{c'}^2) ** beta`` with
    ``r = depth_radius`` (window ``2r + 1``). ``alpha`` is *not* divided by the window:
    this is the AlexNet paper's convention and ``tf.nn.local_response_normalization``'s.

    Caffe's LRN layer divides alpha by ``local_size``; convert a Caffe prototxt with
    :meth:`from_caffe` (``alpha_tf = alpha_caffe / local_size``). The sum runs in
    float32 even under a float16 policy, since squares overflow float16.
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
        # Written with keras.ops for every backend: the windowed sum of squares is the sum
        # of 2r + 1 channel-shifted copies of the zero-padded squares, as exact as
        # TensorFlow's kernel (a band-matrix product) and cheaper.
        x = ops.cast(inputs, "float32")
        channels = x.shape[-1]
        if channels is None:
            raise ValueError("LocalResponseNormalization needs a known channel count")
        r = self.depth_radius
        squares = ops.square(x)
        if r:
            rank = len(x.shape)
            padded = ops.pad(squares, [[0, 0]] * (rank - 1) + [[r, r]])
            total = padded[..., 0:channels]
            for d in range(1, 2 * r + 1):
                total = total + padded[..., d:d + channels]
        else:
            total = squares
        y = x * ops.power(self.bias + self.alpha * total, -self.beta)
        return ops.cast(y, self.compute_dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        config = super().get_config()
        config.update(depth_radius=self.depth_radius, bias=self.bias, alpha=self.alpha,
                      beta=self.beta)
        return config
