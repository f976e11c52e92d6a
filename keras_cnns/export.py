"""SavedModel export: preprocessing in the graph, aux heads stripped, named outputs."""

import os
import shutil
import tempfile

import keras
import tensorflow as tf

from keras_cnns.aux import inference_model
from keras_cnns.preprocess import preprocessing


def _outputs_logits(model):
    """True when the model's last layer has no softmax (``classifier_activation=None``)."""
    last = model.layers[-1]
    act = getattr(last, "activation", None)
    if act is None:
        return False
    return keras.activations.serialize(act) in ("linear", None) or getattr(act, "__name__", "") == "linear"


def serving_model(model, name=None):
    """``inference_model(model)`` behind its own preprocessing, softmax added for logits:
    a Keras model from uint8 images ``[N, H, W, 3]`` of any size to probabilities
    (or, headless, features)."""
    main = inference_model(model)
    pre = preprocessing(model, name=name)
    images = keras.Input(shape=(None, None, 3), dtype="uint8", name="images")
    x = pre(images)
    y = main(x)
    headless = len(main.outputs[0].shape) != 2 or main.layers[-1].name != "predictions"
    if not headless and _outputs_logits(main):
        y = keras.layers.Softmax(name="softmax", dtype="float32")(y)
    key = "features" if headless else "probabilities"
    return keras.Model(images, {key: y}, name=f"{main.name}_serving"), key


def _write_archive(archive, directory):
    archive.write_out(directory, verbose=False)


def export_saved_model(model, path, overwrite=False, name=None):
    """Write ``model`` as a TensorFlow SavedModel at ``path``, atomically.

    The ``serving_default`` signature takes ``images``, a uint8 batch ``[N, H, W, 3]`` of
    any size, and returns ``{"probabilities": [N, classes]}`` (softmax applied when the
    model outputs logits), or ``{"features": ...}`` for a headless model. It computes
    ``inference_model(model)(preprocessing(model)(images))``.

    The SavedModel is written beside ``path`` and renamed into place, so an interrupted
    export leaves either nothing or the complete directory. An existing ``path`` raises
    ``FileExistsError`` unless ``overwrite=True``.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    parent = os.path.dirname(path)
    os.makedirs(parent, exist_ok=True)
    serving, key = serving_model(model, name=name)

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")])
    def serve(images):
        return {key: serving(images, training=False)[key]}

    archive = keras.export.ExportArchive()
    archive.track(serving)
    archive.add_endpoint("serving_default", serve)
    tmp = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.", dir=parent)
    try:
        _write_archive(archive, tmp)
        if os.path.exists(path):
            old = tempfile.mkdtemp(prefix=f".{os.path.basename(path)}.old.", dir=parent)
            os.rename(path, os.path.join(old, "export"))
            os.rename(tmp, path)
            shutil.rmtree(old, ignore_errors=True)
        else:
            os.rename(tmp, path)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return path
