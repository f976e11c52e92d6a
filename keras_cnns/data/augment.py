"""The papers' training augmentation and the train / eval ``tf.data`` pipelines.

Presets (``augment=``), each scaled to the model's crop size ``s`` (every pixel figure
below is for ``s = 224`` and grows by ``s / 224``):

- ``"alexnet"`` (Krizhevsky et al. 2012, section 4.1): shorter side 256, random
  ``s x s`` crop, horizontal flip, PCA lighting (alpha ~ N(0, 0.1), the published
  ImageNet eigenpairs, RGB in [0, 1]).
- ``"vgg"`` (Simonyan & Zisserman 2014, section 3.1): scale jitter, shorter side S
  uniform in [256, 512], random crop, flip, and the "random RGB colour shift" of
  Krizhevsky et al. (PCA lighting) that section 3.1 also names.
- ``"inception"`` (Szegedy et al. 2014, section 6; TF-Slim's inception
  preprocessing): a random crop covering 8-100 % of the area with aspect ratio
  3/4-4/3, resized with a random interpolation (bilinear, nearest, bicubic, area),
  flip, photometric distortions (brightness 32/255, saturation 0.5-1.5, hue 0.2,
  contrast 0.5-1.5, in one of Slim's two orders).
- ``"resnet"`` (He et al. 2015, section 3.4; fb.resnet.torch): shorter side uniform in
  [256, 480], random crop, flip, colour: brightness / contrast / saturation jitter 0.4
  in random order (fb.resnet.torch) and PCA lighting 0.1 (the paper's "standard colour
  augmentation").
- ``"lenet"`` (LeCun et al. 1998, section III.C: "distortions" of the training set,
  planar affine maps): the image padded with its background (zeros) by 1/8 of its
  shorter side, then a random box of 88-112 % of the original side per axis (scaling
  and squeezing) at a random position (translation), resized to ``s``. No flip: digits
  and characters are not mirror-symmetric.
- ``"cifar"`` (the standard CIFAR augmentation: He et al. 2015, section 4.2, after Lee
  et al. 2015; Huang et al. 2016; Zagoruyko & Komodakis 2016): 4 pixels of zeros padded
  on each side of a 32x32 image, a random 32x32 crop of the padded image (a translation
  by -4..4 pixels on each axis), horizontal flip. No colour change, no scaling. On other
  sizes the pad is 1/8 of the shorter side and the crop that side's centred square,
  shifted, resized to ``s``.
- ``"none"``: the evaluation geometry (shorter side ``s / crop_fraction``, centre crop).

The crop box is chosen in the original image's pixels and only that region is
resized (antialiased) to ``s``: the same as resizing the whole image then cropping, up
to rounding, at a fraction of the cost. Every random draw is a stateless op seeded by
``fold_in(seed, element index)``, so a pipeline is deterministic for a given ``seed``
at any parallelism.
"""

from __future__ import annotations

import itertools

import keras
import numpy as np
import tensorflow as tf

from keras_cnns import heads as aux_lib
from keras_cnns import registry
from keras_cnns.data.crops import check_crop_size, scale_size

__all__ = ["PRESETS", "augment_image", "train_pipeline", "eval_pipeline", "normalize",
           "resolve_model", "PCA_EIGVAL", "PCA_EIGVEC", "default_preset"]

PRESETS = ("alexnet", "vgg", "inception", "resnet", "lenet", "cifar", "none")


def default_preset(info):
    """The preset ``augment="auto"`` picks: the entry's own (``ModelInfo.augment``, which
    its family declares); ``"resnet"`` for a model without a registry entry."""
    return "resnet" if info is None else info.augment

# AlexNet's PCA lighting (fb.resnet.torch's figures, RGB in [0, 1]); the eigenvectors
# are the COLUMNS of PCA_EIGVEC.
PCA_EIGVAL = np.array([0.2175, 0.0188, 0.0045], np.float32)
PCA_EIGVEC = np.array([[-0.5675, 0.7192, 0.4009],
                       [-0.5808, -0.0045, -0.8140],
                       [-0.5836, -0.6948, 0.4203]], np.float32)
PCA_STD = 0.1
SCALE_RANGE = {"alexnet": (256, 256), "vgg": (256, 512), "resnet": (256, 480)}
INCEPTION_AREA = (0.08, 1.0)
INCEPTION_ASPECT = (3.0 / 4.0, 4.0 / 3.0)
_INTERPOLATIONS = ("bilinear", "nearest", "bicubic", "area")
_N_SEEDS = 12


def check_preset(preset):
    if preset not in PRESETS:
        raise ValueError(f"augment must be one of {PRESETS} (or 'auto'), got {preset!r}")
    return preset


def _uniform_int(seed, low, high):
    """An int32 uniform in [low, high] (inclusive), ``low``/``high`` scalar tensors."""
    return tf.random.stateless_uniform([], seed, minval=low, maxval=high + 1, dtype=tf.int32)


def _scale_box(shape, seed, preset, c):
    """Random crop of ``c`` pixels from the image resized to shorter side S, as a box
    ``(y0, x0, h, w)`` of the ORIGINAL image."""
    lo, hi = (scale_size(v, c) for v in SCALE_RANGE[preset])
    s1, s2, s3 = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    S = tf.cast(_uniform_int(s1, lo, hi), tf.float32) if hi > lo else tf.constant(float(lo))
    h, w = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    side = c * tf.minimum(h, w) / S
    size = tf.maximum(tf.cast(tf.round(side), tf.int32), 1)
    size_h, size_w = tf.minimum(size, shape[0]), tf.minimum(size, shape[1])
    y0 = _uniform_int(s2, 0, shape[0] - size_h)
    x0 = _uniform_int(s3, 0, shape[1] - size_w)
    return y0, x0, size_h, size_w


def _inception_box(shape, seed):
    begin, size, _ = tf.image.stateless_sample_distorted_bounding_box(
        tf.stack([shape[0], shape[1], 3]), tf.constant([[[0.0, 0.0, 1.0, 1.0]]]), seed=seed,
        min_object_covered=0.1, aspect_ratio_range=INCEPTION_ASPECT, area_range=INCEPTION_AREA,
        max_attempts=100, use_image_if_no_bounding_boxes=True)
    return begin[0], begin[1], size[0], size[1]


LENET_PAD = 0.0625
LENET_SIDE = (0.92, 1.08)


def _lenet_box(shape, seed):
    """(y0, x0, h, w) in the image padded by ``LENET_PAD`` of its shorter side."""
    pad = tf.cast(tf.round(LENET_PAD * tf.cast(tf.minimum(shape[0], shape[1]), tf.float32)),
                  tf.int32)
    s1, s2, s3 = tf.unstack(tf.random.experimental.stateless_split(seed, 3))
    frac = tf.random.stateless_uniform([2], s1, *LENET_SIDE)
    size = tf.cast(tf.round(frac * tf.cast(shape[:2], tf.float32)), tf.int32)
    size = tf.clip_by_value(size, 1, shape[:2] + 2 * pad)
    y0 = _uniform_int(s2, 0, shape[0] + 2 * pad - size[0])
    x0 = _uniform_int(s3, 0, shape[1] + 2 * pad - size[1])
    return pad, y0, x0, size[0], size[1]


CIFAR_PAD = 4 / 32  # 4 pixels on a 32x32 image


def _cifar_box(shape, seed):
    """``(pad, y0, x0, side, side)``: the image's centred square of the shorter side,
    shifted by -pad..pad pixels on each axis (uniform, independent), in the image padded
    by ``pad`` = 1/8 of the shorter side (4 at 32)."""
    side = tf.minimum(shape[0], shape[1])
    pad = tf.cast(tf.round(CIFAR_PAD * tf.cast(side, tf.float32)), tf.int32)
    s1, s2 = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
    y0 = (shape[0] - side) // 2 + pad + _uniform_int(s1, -pad, pad)
    x0 = (shape[1] - side) // 2 + pad + _uniform_int(s2, -pad, pad)
    return pad, y0, x0, side, side


def _center_box(shape, c, crop_fraction):
    h, w = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    side = c * tf.minimum(h, w) / (c / crop_fraction)
    size = tf.maximum(tf.cast(tf.round(side), tf.int32), 1)
    size_h, size_w = tf.minimum(size, shape[0]), tf.minimum(size, shape[1])
    return (shape[0] - size_h) // 2, (shape[1] - size_w) // 2, size_h, size_w


def pca_lighting(x, seed, std=PCA_STD):
    """AlexNet's lighting noise on RGB in [0, 1]: add ``V @ (alpha * eigval)`` to each
    pixel, ``alpha ~ N(0, std)`` drawn once per image."""
    alpha = tf.random.stateless_normal([3], seed, stddev=std)
    delta = tf.linalg.matvec(tf.constant(PCA_EIGVEC), alpha * tf.constant(PCA_EIGVAL))
    return x + delta


def _grey(x):
    return tf.reduce_sum(x * tf.constant([0.299, 0.587, 0.114]), -1, keepdims=True)


def _colour_jitter(x, seeds, strength=0.4):
    """fb.resnet.torch's ColorJitter: brightness, contrast, saturation blends with
    factors uniform in [1 - strength, 1 + strength], in a random order."""
    f = tf.random.stateless_uniform([3], seeds[0], 1.0 - strength, 1.0 + strength)

    def brightness(v):
        return v * f[0]

    def contrast(v):
        return (v - tf.reduce_mean(_grey(v))) * f[1] + tf.reduce_mean(_grey(v))

    def saturation(v):
        g = _grey(v)
        return (v - g) * f[2] + g

    ops = (brightness, contrast, saturation)
    orders = list(itertools.permutations(range(3)))

    def branch(order):
        def run():
            v = x
            for i in order:
                v = ops[i](v)
            return v
        return run

    k = tf.random.stateless_uniform([], seeds[1], 0, len(orders), dtype=tf.int32)
    return tf.switch_case(k, [branch(o) for o in orders])


def _distort_color(x, seeds):
    """TF-Slim's inception ``distort_color`` (not fast mode), orders 0 and 1."""
    def order0():
        v = tf.image.stateless_random_brightness(x, 32.0 / 255.0, seeds[0])
        v = tf.image.stateless_random_saturation(v, 0.5, 1.5, seeds[1])
        v = tf.image.stateless_random_hue(v, 0.2, seeds[2])
        return tf.image.stateless_random_contrast(v, 0.5, 1.5, seeds[3])

    def order1():
        v = tf.image.stateless_random_saturation(x, 0.5, 1.5, seeds[1])
        v = tf.image.stateless_random_brightness(v, 32.0 / 255.0, seeds[0])
        v = tf.image.stateless_random_contrast(v, 0.5, 1.5, seeds[3])
        return tf.image.stateless_random_hue(v, 0.2, seeds[2])

    k = tf.random.stateless_uniform([], seeds[4], 0, 2, dtype=tf.int32)
    return tf.clip_by_value(tf.switch_case(k, [order0, order1]), 0.0, 1.0)


def augment_image(image, preset, seed, crop_size=224, crop_fraction=0.875):
    """One training view: uint8 ``[H, W, 3]`` -> float32 ``[s, s, 3]`` in 0-255
    (unnormalised). ``seed`` is a stateless seed (shape ``[2]`` int); the same seed
    gives the same view."""
    check_preset(preset)
    c = check_crop_size(crop_size)
    image = tf.convert_to_tensor(image)
    seed = tf.cast(tf.convert_to_tensor(seed), tf.int64)
    seeds = tf.unstack(tf.random.experimental.stateless_split(seed, _N_SEEDS))
    shape = tf.shape(image)
    if preset == "none":
        y0, x0, bh, bw = _center_box(shape, c, crop_fraction)
    elif preset in ("lenet", "cifar"):
        box = _lenet_box if preset == "lenet" else _cifar_box
        pad, y0, x0, bh, bw = box(shape, seeds[0])
        image = tf.pad(image, [[pad, pad], [pad, pad], [0, 0]])
    elif preset == "inception":
        y0, x0, bh, bw = _inception_box(shape, seeds[0])
    else:
        y0, x0, bh, bw = _scale_box(shape, seeds[0], preset, c)
    crop = tf.cast(tf.slice(image, tf.stack([y0, x0, 0]), tf.stack([bh, bw, 3])), tf.float32)
    if preset == "inception":
        k = tf.random.stateless_uniform([], seeds[1], 0, 4, dtype=tf.int32)
        x = tf.switch_case(k, [
            (lambda m=m: tf.image.resize(crop, [c, c], method=m, antialias=True))
            for m in _INTERPOLATIONS])
    elif preset == "cifar":  # at the crop's own size (CIFAR at 32): no resampling
        x = tf.cond(tf.logical_and(tf.equal(bh, c), tf.equal(bw, c)), lambda: crop,
                    lambda: tf.clip_by_value(tf.image.resize(crop, [c, c], method="bilinear",
                                                             antialias=True), 0.0, 255.0))
    else:
        x = tf.image.resize(crop, [c, c], method="bilinear", antialias=True)
    if preset not in ("none", "lenet"):
        flip = tf.random.stateless_uniform([], seeds[2]) < 0.5
        x = tf.cond(flip, lambda: x[:, ::-1, :], lambda: x)
    if preset == "cifar":  # geometry only: the pixels are the image's, exactly
        return tf.ensure_shape(x, [c, c, 3])
    x = x / 255.0
    if preset in ("alexnet", "vgg"):
        x = pca_lighting(x, seeds[3])
    elif preset == "resnet":
        x = _colour_jitter(x, seeds[4:6])
        x = pca_lighting(x, seeds[3])
    elif preset == "inception":
        x = _distort_color(tf.clip_by_value(x, 0.0, 1.0), seeds[6:11])
    x = tf.clip_by_value(x * 255.0, 0.0, 255.0)
    return tf.ensure_shape(x, [c, c, 3])


# --------------------------------------------------------------------------- models

def resolve_model(model_or_name, name=None, crop_size=None, preprocessing=None):
    """``(model or None, ModelInfo or None, crop size, Preprocessing, channels)`` for a
    keras_cnns model, a registry name, or any model with ``preprocessing=`` given."""
    model, info = None, None
    if isinstance(model_or_name, str):
        info = registry.model_info(model_or_name)
    elif isinstance(model_or_name, keras.Model):
        model = model_or_name
        try:
            info = registry.model_info(model, name=name)
        except ValueError:
            if preprocessing is None:
                raise ValueError(f"model {model.name!r} is not a registry name: pass name= "
                                 "(its registry entry) or preprocessing= (a "
                                 "keras_cnns.registry.Preprocessing)") from None
    else:
        raise TypeError("model_or_name must be a keras.Model or a registry name, got "
                        f"{type(model_or_name).__name__}")
    p = preprocessing if preprocessing is not None else info.preprocessing
    channels = 3 if info is None else int(info.default_input_shape[-1])
    size = None if info is None else info.crop_size
    if model is not None:
        shape = tuple(model.inputs[0].shape[1:])
        channels = shape[-1] or channels
        if shape[0] is not None:
            if shape[1] is not None and shape[0] != shape[1]:
                raise ValueError(f"crops are square; model input is {shape[:2]}. Pass crop_size=")
            size = int(shape[0])
    c = check_crop_size(crop_size, default=size or 224)
    return model, info, c, p, channels


def normalize(x, preprocessing, channels=3):
    """0-255 float ``[..., 3]`` -> the model's input: colour order, ``x * scale - mean``
    over ``std`` (same arithmetic as :class:`keras_cnns.layers.Preprocess`, no resize)."""
    p = preprocessing
    x = tf.cast(x, tf.float32)
    mean, std = p.mean, p.std
    if p.grayscale or channels == 1:
        x = _grey(x)
        if len(mean) == 3:
            mean, std = (sum(mean) / 3.0,), (sum(std) / 3.0,)
    elif p.color_order == "BGR":
        x = x[..., ::-1]
    return (x * p.scale - tf.constant(mean, tf.float32)) / tf.constant(std, tf.float32)


def _output_keys(model, outputs):
    if outputs is not None:
        return tuple(outputs)
    if model is not None and aux_lib.has_aux(model):
        return tuple(aux_lib.output_keys(model))
    return ()


def train_pipeline(source, model_or_name, batch_size, augment="auto", seed=0,
                   shuffle_buffer=1024, repeat=False, drop_remainder=True, crop_size=None,
                   name=None, preprocessing=None, outputs=None):
    """Training batches ``(x, y)`` for ``model.fit``: shuffle (seeded), augment with
    ``augment`` (a preset, or ``"auto"`` = the model family's own), normalise as the
    model's :class:`~keras_cnns.registry.Preprocessing` says, batch, prefetch.

    For an aux model (``aux=True``) ``y`` becomes ``{"main": y, "aux1": y, "aux2": y}``
    (:func:`keras_cnns.fan_out_labels`); with a registry name, pass ``outputs=`` to get
    the dict. Deterministic for a given ``seed``: element ``i`` of the shuffled stream
    (counted across repeats) is augmented with seed ``fold_in(seed, i)``.
    """
    model, info, c, p, channels = resolve_model(model_or_name, name, crop_size, preprocessing)
    if augment == "auto":
        augment = default_preset(info)
    check_preset(augment)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")
    fraction = p.crop_fraction
    base = tf.constant([int(seed), 0], tf.int64)
    ds = source
    if shuffle_buffer:
        ds = ds.shuffle(int(shuffle_buffer), seed=int(seed), reshuffle_each_iteration=True)
    if repeat:
        ds = ds.repeat()
    ds = ds.enumerate()

    def aug(i, element):
        image, label = element
        s = tf.random.experimental.stateless_fold_in(base, i)
        return augment_image(image, augment, s, c, fraction), label

    ds = ds.map(aug, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.batch(int(batch_size), drop_remainder=drop_remainder,
                  num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.map(lambda x, y: (normalize(x, p, channels), y), num_parallel_calls=tf.data.AUTOTUNE)
    keys = _output_keys(model, outputs)
    if keys:
        ds = ds.map(aux_lib.fan_out_labels(keys))
    return ds.prefetch(tf.data.AUTOTUNE)


def _resize_centre_crop(images, c, p):
    """:class:`keras_cnns.layers.Preprocess`'s resize and crop in TensorFlow ops, for
    ``tf.data`` maps on every Keras backend (a Keras layer inside ``tf.data`` would run
    the JAX / torch ops of its backend on TF tensors): the shorter side to
    ``round(c / crop_fraction)``, antialiased, then the central ``c x c``."""
    x = tf.cast(images, tf.float32)
    shape = tf.shape(x)
    h, w = tf.cast(shape[1], tf.float32), tf.cast(shape[2], tf.float32)
    ratio = tf.round(c / p.crop_fraction) / tf.minimum(h, w)
    new_h = tf.maximum(tf.cast(tf.round(h * ratio), tf.int32), c)
    new_w = tf.maximum(tf.cast(tf.round(w * ratio), tf.int32), c)
    x = tf.image.resize(x, tf.stack([new_h, new_w]), method=p.interpolation, antialias=True)
    top, left = (new_h - c) // 2, (new_w - c) // 2
    return tf.ensure_shape(x[:, top:top + c, left:left + c, :], [None, c, c, None])


def eval_pipeline(source, model_or_name, batch_size, crop_size=None, name=None,
                  preprocessing=None, outputs=None):
    """Evaluation batches ``(x, y)``: resize the shorter side to ``s / crop_fraction``
    with the model's interpolation (antialiased), centre-crop ``s``, normalise; the
    arithmetic of :func:`keras_cnns.preprocessing`. Aux models get the label dict."""
    model, info, c, p, channels = resolve_model(model_or_name, name, crop_size, preprocessing)
    if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive integer, got {batch_size!r}")

    def prep(image, label):
        return normalize(_resize_centre_crop(image[None], c, p), p, channels)[0], label

    ds = source.map(prep, num_parallel_calls=tf.data.AUTOTUNE)
    ds = ds.batch(int(batch_size), num_parallel_calls=tf.data.AUTOTUNE)
    keys = _output_keys(model, outputs)
    if keys:
        ds = ds.map(aux_lib.fan_out_labels(keys))
    return ds.prefetch(tf.data.AUTOTUNE)
