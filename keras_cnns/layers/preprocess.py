"""In-graph preprocessing: raw uint8 images of any size to a model's input."""

import keras
import numpy as np
from keras import ops

from keras_cnns.validation import check_positive_int

_INTERPOLATIONS = ("bilinear", "bicubic", "nearest", "area", "lanczos3", "lanczos5",
                   "gaussian", "mitchellcubic")

#: The interpolations ``keras.ops.image.resize`` offers on each backend (Keras 3.15). The
#: layer asks for an antialiased resize; TensorFlow and JAX antialias every method but
#: "nearest" when shrinking, torch only "bilinear" and "bicubic". TensorFlow's "gaussian"
#: and "mitchellcubic" exist on TensorFlow only (tf.image.resize, called directly).
BACKEND_INTERPOLATIONS = {
    "tensorflow": ("bilinear", "bicubic", "nearest", "area", "lanczos3", "lanczos5"),
    "jax": ("bilinear", "bicubic", "nearest", "lanczos3", "lanczos5"),
    "torch": ("bilinear", "bicubic", "nearest"),
}


def _resized_side(side, target_short, short):
    """``round(side * (target_short / short))`` in float32, rounding half to even, as the
    layer's TensorFlow graph computes it (so every backend picks the same size)."""
    ratio = np.float32(target_short) / np.float32(short)
    return int(np.round(np.float32(side) * ratio))


@keras.saving.register_keras_serializable(package="keras_cnns")
class Preprocess(keras.layers.Layer):
    """Resize the shorter side, centre-crop, reorder channels, scale and normalise.

    Maps a batch ``[N, H, W, 3]`` (uint8 or float in 0-255) of any size to
    ``[N, height, width, C]`` float32:

    1. resize so that the shorter side is ``round(min(height, width) / crop_fraction)``
       (aspect ratio kept), with ``interpolation``;
    2. take the central ``height x width`` crop;
    3. ``grayscale``: average RGB to one channel (ITU-R 601 weights, as Pillow's "L");
       otherwise reorder to ``color_order``;
    4. ``(x * scale - mean) / std`` per channel.

    Written with ``keras.ops`` for every backend; the resize is antialiased where the
    backend's ``keras.ops.image.resize`` offers it (:data:`BACKEND_INTERPOLATIONS`,
    docs/backends.md). A TensorFlow graph of unknown image size (the SavedModel
    signature) and TF's "gaussian" / "mitchellcubic" call ``tf.image.resize`` directly.
    """

    def __init__(self, height, width, mean=(0.0, 0.0, 0.0), std=(1.0, 1.0, 1.0), scale=1.0,
                 color_order="RGB", crop_fraction=0.875, interpolation="bilinear",
                 grayscale=False, **kwargs):
        super().__init__(**kwargs)
        height, width = check_positive_int("height", height), check_positive_int("width", width)
        if color_order not in ("RGB", "BGR"):
            raise ValueError(f"color_order must be 'RGB' or 'BGR', got {color_order!r}")
        if not 0.0 < float(crop_fraction) <= 1.0:
            raise ValueError(f"crop_fraction must be in (0, 1], got {crop_fraction!r}")
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(f"interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}")
        channels = 1 if grayscale else 3
        mean, std = tuple(float(m) for m in mean), tuple(float(s) for s in std)
        if len(mean) not in (1, channels) or len(std) not in (1, channels):
            raise ValueError(f"mean and std need 1 or {channels} values, got {mean} and {std}")
        if any(s == 0 for s in std):
            raise ValueError(f"std must be non-zero, got {std}")
        self.height, self.width = height, width
        self.mean, self.std, self.scale = mean, std, float(scale)
        self.color_order = color_order
        self.crop_fraction = float(crop_fraction)
        self.interpolation = interpolation
        self.grayscale = bool(grayscale)

    def call(self, images):
        images = ops.convert_to_tensor(images)
        if len(images.shape) != 4:
            raise ValueError(f"images must be a batch [N, H, W, 3], got shape {images.shape}")
        x = ops.cast(images, "float32")
        h, w = ops.shape(x)[1], ops.shape(x)[2]
        target_short = round(min(self.height, self.width) / self.crop_fraction)
        if isinstance(h, int) and isinstance(w, int):
            # Every backend at run time (JAX traces with concrete shapes, torch is eager).
            new_h = max(_resized_side(h, target_short, min(h, w)), self.height)
            new_w = max(_resized_side(w, target_short, min(h, w)), self.width)
            x = self._resize(x, new_h, new_w)
            top, left = (new_h - self.height) // 2, (new_w - self.width) // 2
        else:
            # Only a TensorFlow graph of unknown image size (the SavedModel export's
            # [None, None, None, 3] signature) gets here: the size is a tensor.
            x, top, left = self._resize_dynamic(x, h, w, target_short)
        x = x[:, top:top + self.height, left:left + self.width, :]
        if self.grayscale:
            weights = ops.convert_to_tensor([0.299, 0.587, 0.114], "float32")
            x = ops.sum(x * weights, axis=-1, keepdims=True)
        elif self.color_order == "BGR":
            x = ops.flip(x, axis=-1)
        mean = ops.convert_to_tensor(self.mean, "float32")
        std = ops.convert_to_tensor(self.std, "float32")
        x = (x * self.scale - mean) / std
        return ops.reshape(x, (-1, self.height, self.width, 1 if self.grayscale else 3))

    def _resize(self, x, new_h, new_w):
        backend = keras.backend.backend()
        method = self.interpolation
        if method in BACKEND_INTERPOLATIONS.get(backend, ()):
            return ops.image.resize(x, (new_h, new_w), interpolation=method, antialias=True,
                                    data_format="channels_last")
        if backend == "tensorflow":  # gaussian, mitchellcubic: tf.image.resize only
            import tensorflow as tf

            return tf.image.resize(x, (new_h, new_w), method=method, antialias=True)
        raise ValueError(f"interpolation {method!r} is not available on the {backend} "
                         f"backend; use one of {BACKEND_INTERPOLATIONS.get(backend)}")

    def _resize_dynamic(self, x, h, w, target_short):
        import tensorflow as tf  # TensorFlow backend only: a graph with a tensor-valued size

        h, w = ops.cast(h, "float32"), ops.cast(w, "float32")
        ratio = ops.cast(target_short, "float32") / ops.minimum(h, w)
        new_h = ops.maximum(ops.cast(ops.round(h * ratio), "int32"), self.height)
        new_w = ops.maximum(ops.cast(ops.round(w * ratio), "int32"), self.width)
        x = tf.image.resize(x, tf.stack([new_h, new_w]), method=self.interpolation,
                            antialias=True)
        return x, (new_h - self.height) // 2, (new_w - self.width) // 2

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.height, self.width, 1 if self.grayscale else 3)

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width, mean=list(self.mean),
                      std=list(self.std), scale=self.scale, color_order=self.color_order,
                      crop_fraction=self.crop_fraction, interpolation=self.interpolation,
                      grayscale=self.grayscale)
        return config
