"""``predict(model, images)``: top-k class names and probabilities for new images.

Images are read the way evaluation reads them (:func:`keras_cnns.data.evaluate_tta`:
the model's own resize, crop and normalisation, with an optional test-time scheme), so
a file's top-1 here is the argmax ``keras-cnns evaluate`` finds for the same picture.
Labels are the checkpoint's class names (:func:`keras_cnns.checkpoint.read_run_metadata`),
ImageNet's for a 1,000-class model without stored names, else the index as text.
"""

from __future__ import annotations

import os

import numpy as np

__all__ = ["predict", "predict_images", "collect_images", "ON_BAD_IMAGE"]

ON_BAD_IMAGE = ("raise", "skip")
_PLACEHOLDER = np.full((8, 8, 3), 128, np.uint8)  # stands in for a bad file; its row is dropped


def collect_images(paths):
    """Image files under ``paths`` (files as given; folders searched recursively for
    :data:`keras_cnns.data.sources.IMAGE_EXTENSIONS`, in sorted order). ValueError for a
    path that does not exist or a folder without images."""
    from keras_cnns.data.sources import IMAGE_EXTENSIONS

    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    files = []
    for p in paths:
        p = os.fspath(p)
        if os.path.isdir(p):
            found = []
            for root, dirs, names in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found += [os.path.join(root, f) for f in sorted(names)
                          if f.lower().endswith(IMAGE_EXTENSIONS) and not f.startswith(".")]
            if not found:
                raise ValueError(f"PATH {p!r}: no image files ({', '.join(IMAGE_EXTENSIONS)})")
            files += found
        elif os.path.isfile(p):
            files.append(p)
        else:
            raise ValueError(f"PATH {p!r}: no such file or folder")
    return files


def _as_rgb(image, i):
    a = np.asarray(image)
    if a.dtype != np.uint8:
        raise ValueError(f"images[{i}] must be uint8 (pixels 0-255), got {a.dtype}")
    if a.ndim == 2:
        a = a[..., None]
    if a.ndim != 3 or a.shape[-1] not in (1, 3, 4) or 0 in a.shape:
        raise ValueError(f"images[{i}] must be [H, W, 3] (or grey / RGBA), got {a.shape}")
    return np.repeat(a, 3, -1) if a.shape[-1] == 1 else a[..., :3]


def _source(images):
    """``(tf.data source of (uint8 image, row index), keys, bad: {key: error})``."""
    import tensorflow as tf

    from keras_cnns.data.sources import decode_file

    if isinstance(images, np.ndarray) and images.ndim == 4:
        images = list(images)
    elif isinstance(images, (str, os.PathLike)) or (
            isinstance(images, np.ndarray) and images.ndim in (2, 3)):
        images = [images]
    images = list(images)
    if not images:
        raise ValueError("images is empty")
    bad = {}
    if all(isinstance(x, (str, os.PathLike)) for x in images):
        keys = [os.fspath(x) for x in images]

        def read(i):
            i = int(i)
            try:
                return decode_file(keys[i])
            except ValueError as err:
                bad[keys[i]] = str(err.__cause__ or err)
                return _PLACEHOLDER

        def decode(i):
            image = tf.numpy_function(read, [i], tf.uint8, stateful=False)
            return tf.ensure_shape(image, [None, None, 3]), i

        ds = tf.data.Dataset.range(len(keys)).map(decode, num_parallel_calls=tf.data.AUTOTUNE)
        return ds, keys, bad
    if any(isinstance(x, (str, os.PathLike)) for x in images):
        raise TypeError("images must be all file paths or all uint8 arrays, not a mix")
    arrays = [_as_rgb(x, i) for i, x in enumerate(images)]

    def gen():
        for i, a in enumerate(arrays):
            yield a, i

    ds = tf.data.Dataset.from_generator(gen, output_signature=(
        tf.TensorSpec([None, None, 3], tf.uint8), tf.TensorSpec([], tf.int64)))
    ds = ds.apply(tf.data.experimental.assert_cardinality(len(arrays)))
    return ds, list(range(len(arrays))), bad


def predict_images(model, images, top_k=5, tta="center", batch_size=64, class_names=None,
                   name=None, preprocessing=None, verbose=0):
    """:func:`predict`'s work: ``(records, bad)`` where ``bad`` maps each file that could
    not be decoded to its error (those files have no record)."""
    import keras

    from keras_cnns.checkpoint import read_run_metadata
    from keras_cnns.data.tta import evaluate_tta
    from keras_cnns.validation import check_positive_int

    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    check_positive_int("top_k", top_k)
    check_positive_int("batch_size", batch_size)
    meta = read_run_metadata(model)
    if preprocessing is None and (name is None or name == meta["name"]):
        preprocessing = meta["preprocessing"]  # the stored one, else the registry's
    name = name if name is not None else meta["name"]
    if preprocessing is None and name is None:
        raise ValueError(f"model {model.name!r} carries no preprocessing and is not a registry "
                         "name: pass name= (its registry entry) or preprocessing=")
    names = list(class_names) if class_names is not None else meta["class_names"]
    ds, keys, bad = _source(images)
    result = evaluate_tta(model, ds, tta, batch_size=batch_size, name=name,
                          preprocessing=preprocessing, verbose=verbose,
                          return_probabilities=True, labels_are_keys=True)
    probs = result["probabilities"]
    classes = probs.shape[-1]
    if names is not None and len(names) != classes:
        raise ValueError(f"class_names has {len(names)} names but the model has {classes} "
                         "outputs")
    k = min(int(top_k), classes)
    records = []
    for row, key in zip(probs, keys):
        if isinstance(key, str) and key in bad:
            continue
        order = np.argsort(-row, kind="stable")[:k]
        records.append({"image": key, "predictions": [
            {"label": names[i] if names is not None else str(int(i)), "index": int(i),
             "probability": float(row[i])} for i in order]})
    return records, dict(sorted(bad.items()))


def predict(model, images, top_k=5, tta="center", batch_size=64, class_names=None, name=None,
            preprocessing=None, on_error="raise", verbose=0):
    """Top-``top_k`` predictions for each image, best first: a list of
    ``{"image": path or index, "predictions": [{"label", "index", "probability"}, ...]}``.

    ``images``: image file paths, or uint8 arrays ``[H, W, 3]`` (or one batch
    ``[N, H, W, 3]``) of any size. Each is resized, cropped and normalised as the model
    says (its stored preprocessing, else its registry entry's; ``name=`` /
    ``preprocessing=`` for a model the package does not know) and seen through the
    test-time scheme ``tta`` (``"center"``, ``"alexnet-10"``, ``"googlenet-144"``,
    ``"vgg-dense"``). Labels: ``class_names``, else the checkpoint's stored names, else
    ImageNet's for a 1,000-class model, else the index as text.

    A file that cannot be decoded raises one ValueError listing every such file
    (``on_error="raise"``), or is left out (``"skip"``).
    """
    if on_error not in ON_BAD_IMAGE:
        raise ValueError(f"on_error must be one of {ON_BAD_IMAGE}, got {on_error!r}")
    records, bad = predict_images(model, images, top_k=top_k, tta=tta, batch_size=batch_size,
                                  class_names=class_names, name=name,
                                  preprocessing=preprocessing, verbose=verbose)
    if bad and on_error == "raise":
        raise ValueError(bad_images_message(bad))
    return records


def bad_images_message(bad):
    """One line naming every undecodable file."""
    return (f"{len(bad)} bad image file(s) (corrupt, truncated or not an image): "
            + ", ".join(bad))
