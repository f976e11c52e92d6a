"""In-graph preprocessing: raw uint8 images of any size to a model's input."""

import keras
import tensorflow as tf

from keras_cnns.validation import check_positive_int

_INTERPOLATIONS = ("bilinear", "bicubic", "nearest", "area", "lanczos3", "lanczos5",
                   "gaussian", "mitchellcubic")


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
        images = tf.convert_to_tensor(images)
        if images.shape.rank != 4:
            raise ValueError(f"images must be a batch [N, H, W, 3], got shape {images.shape}")
        x = tf.cast(images, tf.float32)
        shape = tf.shape(x)
        h, w = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
        target_short = tf.round(min(self.height, self.width) / self.crop_fraction)
        ratio = target_short / tf.minimum(h, w)
        # Never smaller than the crop, whatever the rounding.
        new_h = tf.maximum(tf.cast(tf.round(h * ratio), tf.int32), self.height)
        new_w = tf.maximum(tf.cast(tf.round(w * ratio), tf.int32), self.width)
        x = tf.image.resize(x, tf.stack([new_h, new_w]), method=self.interpolation,
                            antialias=True)
        top = (new_h - self.height) // 2
        left = (new_w - self.width) // 2
        x = x[:, top:top + self.height, left:left + self.width, :]
        if self.grayscale:
            weights = tf.constant([0.299, 0.587, 0.114], tf.float32)
            x = tf.reduce_sum(x * weights, axis=-1, keepdims=True)
        elif self.color_order == "BGR":
            x = x[..., ::-1]
        x = (x * self.scale - tf.constant(self.mean, tf.float32)) / tf.constant(self.std, tf.float32)
        x = tf.ensure_shape(x, [None, self.height, self.width, 1 if self.grayscale else 3])
        return x

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.height, self.width, 1 if self.grayscale else 3)

    def get_config(self):
        config = super().get_config()
        config.update(height=self.height, width=self.width, mean=list(self.mean),
                      std=list(self.std), scale=self.scale, color_order=self.color_order,
                      crop_fraction=self.crop_fraction, interpolation=self.interpolation,
                      grayscale=self.grayscale)
        return config
