"""SavedModel export: preprocessing in the graph, aux heads stripped, named outputs."""

import os

import keras
import tensorflow as tf

from keras_cnns.atomic import atomic_dir, atomic_path
from keras_cnns.heads import inference_model
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
    path = _check_destination(path, overwrite)
    serving, key = serving_model(model, name=name)

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")])
    def serve(images):
        return {key: serving(images, training=False)[key]}

    archive = keras.export.ExportArchive()
    archive.track(serving)
    archive.add_endpoint("serving_default", serve)
    with atomic_dir(path) as tmp:
        archive.write_out(tmp, verbose=False)
    return path


# --------------------------------------------------------------------------- TFLite / ONNX
#
# Neither TFLite nor ONNX has TensorFlow's antialiased resize (``ScaleAndTranslate``,
# used by the Preprocess layer: TFLite "neither a custom op nor a flex op", ONNX "No Op
# registered for ScaleAndTranslate"), so these exports take images ALREADY at the
# model's input size: uint8 ``[N, s, s, 3]``. The caller resizes the shorter side to
# ``s / crop_fraction`` and centre-crops ``s`` (the registry's Preprocessing); the graph
# does the rest (grey / BGR, scale, mean, std), the main head, and softmax for logits.


class _Normalize(keras.layers.Layer):
    """uint8 ``[N, s, s, 3]`` -> the model's input (no resize); export graphs only."""

    def __init__(self, preprocessing, channels, **kwargs):
        super().__init__(**kwargs)
        self.preprocessing = preprocessing
        self.channels = channels

    def call(self, images):
        from keras_cnns.data.augment import normalize

        return normalize(images, self.preprocessing, self.channels)

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.channels,)


def fixed_size_serving_model(model, name=None):
    """``inference_model(model)`` behind its normalisation, softmax added for logits:
    a Keras model from uint8 images ``[N, s, s, 3]`` AT the model's input size to
    ``{"probabilities": [N, classes]}``. What the TFLite and ONNX exports hold."""
    from keras_cnns import registry

    main = inference_model(model)
    info = registry.model_info(main, name=name)
    shape = tuple(main.inputs[0].shape[1:])
    if shape[0] is None or shape[1] is None:
        raise ValueError(f"model {main.name!r} has no static input size {shape}; TFLite and "
                         "ONNX exports need one")
    images = keras.Input(shape=(shape[0], shape[1], 3), dtype="uint8", name="images")
    y = main(_Normalize(info.preprocessing, shape[-1], name="normalize")(images))
    if len(main.outputs[0].shape) != 2:
        raise ValueError(f"model {main.name!r} is headless; export a classifier")
    if _outputs_logits(main):
        y = keras.layers.Softmax(name="softmax", dtype="float32")(y)
    serving = keras.Model(images, {"probabilities": y}, name=f"{main.name}_fixed_serving")
    # Keras' ONNX export refuses a model that has never been called.
    serving(tf.zeros((1, shape[0], shape[1], 3), tf.uint8), training=False)
    return serving


def _check_destination(path, overwrite):
    path = os.path.abspath(os.fspath(path))
    if os.path.exists(path) and not overwrite:
        raise FileExistsError(f"{path} exists; pass overwrite=True to replace it")
    return path


def export_tflite(model, path, overwrite=False, name=None):
    """Write ``model`` as a TFLite flatbuffer at ``path`` (atomically), via Keras'
    LiteRT export (TensorFlow's converter). Signature ``serving_default``: input
    ``images`` uint8 ``[N, s, s, 3]`` at the model's input size (resized and centre-
    cropped by the caller), output ``probabilities``. See
    :func:`fixed_size_serving_model`."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    path = _check_destination(path, overwrite)
    serving = fixed_size_serving_model(model, name=name)
    with atomic_path(path, suffix=".tflite") as tmp:
        serving.export(tmp, format="litert", verbose=False)
    return path


def onnx_available():
    """``None`` if ONNX export can run here, else the reason (a missing package)."""
    import importlib.util

    missing = [m for m in ("tf2onnx", "onnx") if importlib.util.find_spec(m) is None]
    if missing:
        return (f"ONNX export needs {' and '.join(missing)}: pip install "
                "'keras-cnns[export]' (tf2onnx, onnx, onnxruntime)")
    return None


def export_onnx(model, path, overwrite=False, name=None, opset=None):
    """Write ``model`` as an ONNX file at ``path`` (atomically), via Keras' ONNX export
    (tf2onnx). Input ``images`` uint8 ``[N, s, s, 3]`` at the model's input size,
    output ``probabilities`` (see :func:`fixed_size_serving_model`). Needs the
    ``export`` extra (tf2onnx, onnx; onnxruntime to run it)."""
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    reason = onnx_available()
    if reason:
        raise ImportError(reason)
    path = _check_destination(path, overwrite)
    serving = fixed_size_serving_model(model, name=name)
    with atomic_path(path, suffix=".onnx") as tmp:
        serving.export(tmp, format="onnx", verbose=False, opset_version=opset)
    return path
