"""Test-time evaluation: multi-crop averaging and VGG's dense (fully convolutional) mode.

:func:`evaluate_tta` reproduces the papers' comparisons: ``"center"`` (1 crop),
``"alexnet-10"`` (10), ``"googlenet-144"`` (144) and ``"vgg-dense"`` (whole images at
several scales, with flips). Softmax probabilities are averaged over each image's
views (the GoogLeNet paper found the max over crops worse).
"""

from __future__ import annotations

import time

import keras
import numpy as np
import tensorflow as tf

from keras_cnns import heads as aux_lib
from keras_cnns.data.augment import normalize, resolve_model
from keras_cnns.data.crops import (SCHEMES, check_crop_size, check_scheme, multi_crop,
                                   num_crops, scale_size)
from keras_cnns.validation import check_ints, check_positive_int

__all__ = ["evaluate_tta", "fully_convolutional", "dense_scales", "outputs_probabilities",
           "VGG_DENSE_SCALES"]

VGG_DENSE_SCALES = (256, 384, 512)
_ELEMENTWISE = (keras.layers.Dropout, keras.layers.Activation, keras.layers.Softmax,
                keras.layers.ReLU)


outputs_probabilities = aux_lib.is_softmax  # kept for its users; see heads.is_softmax


def _on_tensorflow():
    return keras.backend.backend() == "tensorflow"


def _predict_numpy(model, probs):
    """JAX / torch: the model cannot run inside a tf.function; numpy in, numpy out."""
    def predict(x):
        y = np.asarray(model.predict_on_batch(np.asarray(x)), np.float32)
        if probs:
            return y
        e = np.exp(y - y.max(axis=-1, keepdims=True))
        return e / e.sum(axis=-1, keepdims=True)

    return predict


def _predict_fn(model, probs):
    if not _on_tensorflow():
        return _predict_numpy(model, probs)

    @tf.function(reduce_retracing=True)
    def predict(x):
        y = tf.cast(model(x, training=False), tf.float32)
        return y if probs else tf.nn.softmax(y, axis=-1)

    return predict


def _topk(probs, labels, k):
    k = min(k, probs.shape[-1])
    top = np.argsort(-probs, axis=-1)[:, :k]
    return (top == labels[:, None]).any(axis=1)


def dense_scales(crop_size=224, scales=None):
    """VGG dense-evaluation shorter sides Q: ``scales`` as given, or 256/384/512 scaled
    by ``crop_size / 224``."""
    if scales is None:
        return tuple(scale_size(q, crop_size) for q in VGG_DENSE_SCALES)
    scales = check_ints("scales", tuple(scales) if isinstance(scales, list) else scales)
    if not scales:
        raise ValueError("scales must hold at least one shorter side, got ()")
    return scales


def fully_convolutional(model, name=None):
    """VGG's dense-evaluation network (section 3.2): the trunk up to the ``Flatten``
    runs on inputs of any size; the first ``Dense`` after it becomes an ``h x w``
    convolution (``h x w`` = the trunk's output grid at the model's input size, 7x7
    for VGG at 224) and the following ``Dense`` layers 1x1 convolutions, with the
    same activations. Output: class maps ``[N, H', W', classes]``.

    The trunk's layers are the original layer objects (shared weights). Keras cannot
    share one variable between a ``[h*w*c, u]`` and a ``[h, w, c, u]`` kernel, so the
    convolutions hold the Dense kernels reshaped (``Flatten`` is row-major over
    ``(h, w, c)``, so the reshape is exact): later changes to the Dense weights are
    not seen. Works for any functional model of the form ``trunk -> Flatten ->
    Dense [-> Dropout/Activation] -> Dense ...``; Dropout is dropped (inference).
    """
    model = aux_lib.inference_model(model)
    flattens = [layer for layer in model.layers if isinstance(layer, keras.layers.Flatten)]
    if len(flattens) != 1:
        raise ValueError(f"model {model.name!r} needs exactly one Flatten layer followed by "
                         f"Dense layers, found {len(flattens)} Flatten layers")
    flatten = flattens[0]
    head = model.layers[model.layers.index(flatten) + 1:]
    if not head or not isinstance(head[0], keras.layers.Dense):
        raise ValueError(f"model {model.name!r}: the Flatten must be followed by Dense layers")
    grid = tuple(flatten.input.shape[1:])
    if len(grid) != 3 or any(d is None for d in grid):
        raise ValueError(f"model {model.name!r}: the Flatten input must have a static "
                         f"[h, w, c] shape, got {grid}")
    # The head must be a chain ending at the model's output.
    prev = flatten.output
    for layer in head:
        if not isinstance(layer, (keras.layers.Dense,) + _ELEMENTWISE):
            raise ValueError(f"model {model.name!r}: layer {layer.name!r} "
                             f"({type(layer).__name__}) after Flatten is not Dense, Dropout "
                             "or an activation")
        if layer.input is not prev:
            raise ValueError(f"model {model.name!r}: the layers after Flatten must form a chain")
        prev = layer.output
    if prev is not model.outputs[0]:
        raise ValueError(f"model {model.name!r}: the Dense chain must end at the model output")
    channels = model.inputs[0].shape[-1]
    trunk = keras.Model(model.inputs, flatten.input)
    inputs = keras.Input((None, None, channels), name="image")
    trunk = keras.models.clone_model(trunk, input_tensors=[inputs], clone_function=lambda l: l)
    x = trunk.outputs[0]
    kernel_shape = grid[:2]
    fan_in = grid[2]
    for layer in head:
        if isinstance(layer, keras.layers.Dropout):
            continue
        if not isinstance(layer, keras.layers.Dense):
            x = layer(x)
            continue
        conv = keras.layers.Conv2D(layer.units, kernel_shape, padding="valid",
                                   activation=layer.activation, use_bias=layer.use_bias,
                                   name=layer.name, dtype=layer.dtype_policy)
        conv.build((None, None, None, fan_in))
        weights = layer.get_weights()
        weights[0] = weights[0].reshape(kernel_shape + (fan_in, layer.units))
        conv.set_weights(weights)
        x = conv(x)
        kernel_shape, fan_in = (1, 1), layer.units
    return keras.Model(inputs, x, name=name or f"{model.name}_dense")


def _progbar(verbose, target):
    if not verbose:
        return None
    return keras.utils.Progbar(target, unit_name="image", verbose=verbose)


def evaluate_tta(model, source, scheme, batch_size=144, crop_size=None, name=None,
                 preprocessing=None, scales=None, from_logits=None, max_images=None,
                 verbose=1, return_probabilities=False, labels_are_keys=False):
    """Top-1 / top-5 accuracy of ``model`` on ``source`` with test-time views.

    ``scheme``: ``"center"``, ``"alexnet-10"``, ``"googlenet-144"`` (see
    :mod:`keras_cnns.data.crops`) or ``"vgg-dense"`` (:func:`fully_convolutional` on
    whole images with shorter side Q in ``scales``, default 256/384/512 x crop/224, and
    their mirrors; class maps averaged spatially, then over scales and flips).

    The crops are normalised as the model's registry entry says (mean, std, scale,
    colour order; ``preprocessing=`` for a model outside the registry, ``name=`` for a
    renamed one), softmax is applied if the model outputs logits (``from_logits``
    overrides the detection), an aux model is evaluated on its main head, and the
    probabilities are averaged over each image's views. ``batch_size`` is the number
    of crops per forward pass, rounded down to whole images (at least one image).

    Returns ``{"top1", "top5", "images", "crops_per_image", "seconds"}`` (accuracies
    as fractions); with ``return_probabilities=True`` also ``"probabilities"`` and
    ``"labels"``. Labels outside the model's classes are refused (the dataset and the
    model do not match) unless ``labels_are_keys``: the source's second element then
    only identifies each image (``keras_cnns.predict``) and the accuracies mean nothing.
    """
    check_scheme(scheme, SCHEMES)
    check_crop_size(crop_size)
    check_positive_int("batch_size", batch_size)
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    model = aux_lib.inference_model(model)
    _, info, c, p, channels = resolve_model(model, name, crop_size, preprocessing)
    probs_out = outputs_probabilities(model) if from_logits is None else not from_logits
    ds = source if max_images is None else source.take(int(max_images))
    n_images = int(ds.cardinality().numpy())
    target = n_images if n_images >= 0 else None
    start = time.perf_counter()
    if scheme == "vgg-dense":
        if not _on_tensorflow():
            raise ValueError("the vgg-dense scheme runs on the tensorflow backend only (it "
                             f"traces the convolutionalised network), not {keras.backend.backend()}")
        small = [q for q in dense_scales(c, scales) if q < c]
        if small:
            raise ValueError(f"scales must be >= the crop size {c} (the fc layers need the "
                             f"trunk's full grid), got {small}")
        probs, labels = _dense(model, ds, c, p, channels, dense_scales(c, scales), probs_out,
                               verbose, target)
        n = 2 * len(dense_scales(c, scales))
    else:
        n = num_crops(scheme)
        per_step = max(1, int(batch_size) // n)

        def crops(image, label):
            x = multi_crop(image, scheme, c, crop_fraction=p.crop_fraction)
            return normalize(x, p, channels), label

        pipe = (ds.map(crops, num_parallel_calls=tf.data.AUTOTUNE)
                .batch(per_step, num_parallel_calls=tf.data.AUTOTUNE)
                .prefetch(tf.data.AUTOTUNE))
        predict = _predict_fn(model, probs_out)

        @tf.function(reduce_retracing=True)
        def tf_step(x):
            b = tf.shape(x)[0]
            y = predict(tf.reshape(x, tf.concat([[-1], tf.shape(x)[2:]], 0)))
            return tf.reduce_mean(tf.reshape(y, [b, n, -1]), axis=1)

        def step(x):
            if _on_tensorflow():
                return tf_step(x)
            x = np.asarray(x)
            y = predict(x.reshape((-1,) + x.shape[2:]))
            return y.reshape(x.shape[0], n, -1).mean(axis=1)

        bar = _progbar(verbose, target)
        probs, labels = [], []
        for x, y in pipe:
            probs.append(np.asarray(step(x)))
            labels.append(np.asarray(y))
            if bar is not None:
                bar.add(len(labels[-1]))
        probs = np.concatenate(probs) if probs else np.zeros((0, 0), np.float32)
        labels = np.concatenate(labels).astype(np.int64) if labels else np.zeros(0, np.int64)
    seconds = time.perf_counter() - start
    count = len(labels)
    if not count:
        raise ValueError("source is empty: no image to evaluate (top-1 would be undefined)")
    classes = probs.shape[-1]
    outside = labels[(labels < 0) | (labels >= classes)]
    if outside.size and not labels_are_keys:
        raise ValueError(f"source has labels outside the model's {classes} classes (0.."
                         f"{classes - 1}): {sorted(set(outside.tolist()))[:10]}; the dataset "
                         "and the model do not match")
    result = {
        "top1": float(_topk(probs, labels, 1).mean()) if count else float("nan"),
        "top5": float(_topk(probs, labels, 5).mean()) if count else float("nan"),
        "images": count,
        "crops_per_image": n,
        "seconds": seconds,
    }
    if return_probabilities:
        result["probabilities"] = probs
        result["labels"] = labels
    return result


def _is_fully_convolutional(model):
    shape = model.inputs[0].shape
    return shape[1] is None and shape[2] is None and len(model.outputs[0].shape) == 4


def _dense(model, ds, c, p, channels, scales, probs_out, verbose, target):
    net = model if _is_fully_convolutional(model) else fully_convolutional(model)

    def views(image, label):
        x = tf.cast(image, tf.float32)
        h, w = tf.cast(tf.shape(x)[0], tf.float32), tf.cast(tf.shape(x)[1], tf.float32)
        out = []
        for q in scales:
            ratio = q / tf.minimum(h, w)
            size = tf.cast(tf.round(tf.stack([h * ratio, w * ratio])), tf.int32)
            size = tf.maximum(size, q)
            r = tf.image.resize(x, size, method="bilinear", antialias=True)
            out.append(normalize(tf.stack([r, r[:, ::-1]]), p, channels))
        return tuple(out), label

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, channels], tf.float32)])
    def class_map(x):
        y = tf.cast(net(x, training=False), tf.float32)
        if not probs_out:
            y = tf.nn.softmax(y, axis=-1)
        return tf.reduce_mean(y, axis=[1, 2])  # spatial average -> [2, classes]

    pipe = ds.map(views, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    bar = _progbar(verbose, target)
    probs, labels = [], []
    for xs, y in pipe:
        per_view = [class_map(x) for x in xs]
        probs.append(tf.reduce_mean(tf.concat(per_view, 0), axis=0).numpy())
        labels.append(int(y))
        if bar is not None:
            bar.add(1)
    probs = np.stack(probs) if probs else np.zeros((0, 0), np.float32)
    return probs, np.asarray(labels, np.int64)
