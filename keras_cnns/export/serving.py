"""The serving graphs and their writers: SavedModel (preprocessing in the graph), TFLite
(with post-training quantisation) and ONNX; aux heads stripped, named outputs.

The checked export with its report (``keras-cnns export``) is
:func:`keras_cnns.export.export`; the writers here do no check."""

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


def _prepared(model, optimize):
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    if optimize:
        from keras_cnns.export.optimize import optimize_model

        return optimize_model(model)
    return inference_model(model)


def write_saved_model(serving, key, directory):
    """Write the :func:`serving_model` ``serving`` (output ``key``) as a SavedModel into
    ``directory`` (no check, not atomic: the callers write into a temp folder)."""

    @tf.function(input_signature=[tf.TensorSpec([None, None, None, 3], tf.uint8, name="images")])
    def serve(images):
        return {key: serving(images, training=False)[key]}

    archive = keras.export.ExportArchive()
    archive.track(serving)
    archive.add_endpoint("serving_default", serve)
    archive.write_out(directory, verbose=False)


def export_saved_model(model, path, overwrite=False, name=None, optimize=False):
    """Write ``model`` as a TensorFlow SavedModel at ``path``, atomically.

    The ``serving_default`` signature takes ``images``, a uint8 batch ``[N, H, W, 3]`` of
    any size, and returns ``{"probabilities": [N, classes]}`` (softmax applied when the
    model outputs logits), or ``{"features": ...}`` for a headless model. It computes
    ``inference_model(model)(preprocessing(model)(images))``; ``optimize=True`` serves
    :func:`~keras_cnns.export.optimize_model` instead (BN folded, dropout dropped).

    The SavedModel is written beside ``path`` and renamed into place, so an interrupted
    export leaves either nothing or the complete directory. An existing ``path`` raises
    ``FileExistsError`` unless ``overwrite=True``. No check, no report: see
    :func:`keras_cnns.export.export` for those.
    """
    main = _prepared(model, optimize)
    path = _check_destination(path, overwrite)
    serving, key = serving_model(main, name=name)
    with atomic_dir(path) as tmp:
        write_saved_model(serving, key, tmp)
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


#: ``--quantize``: TFLite post-training quantisation.
QUANTIZE_MODES = ("none", "float16", "dynamic", "int8")


def _tflite_options(quantize, calibration_images, input_shape):
    """The TFLite converter settings of a ``quantize`` mode (Keras' LiteRT export passes
    them to ``tf.lite.TFLiteConverter``). Builtin ops only, so the file runs in any
    TFLite runtime, no Flex delegate needed."""
    import numpy as np

    from keras_cnns.validation import check_choice

    check_choice("quantize", quantize, QUANTIZE_MODES)
    builtins = [tf.lite.OpsSet.TFLITE_BUILTINS]
    if quantize == "none":
        return {"target_spec": {"supported_ops": builtins}}
    if quantize == "float16":  # weights stored as float16, computed in float32
        return {"optimizations": [tf.lite.Optimize.DEFAULT],
                "target_spec": {"supported_ops": builtins, "supported_types": [tf.float16]}}
    if quantize == "dynamic":  # int8 weights, activations quantised on the fly
        return {"optimizations": [tf.lite.Optimize.DEFAULT],
                "target_spec": {"supported_ops": builtins}}
    # int8: weights and activations in int8, ranges calibrated on real images. The uint8
    # input is cast and quantised in the graph; an op without an int8 kernel falls back
    # to float, which the export report lists (LRN's POW).
    if calibration_images is None or len(calibration_images) == 0:
        raise ValueError("quantize='int8' needs calibration_images: uint8 images [N, s, s, 3] "
                         "at the model's input size (a few hundred training images)")
    images = np.asarray(calibration_images)
    if images.dtype != np.uint8 or images.shape[1:] != tuple(input_shape):
        raise ValueError(f"calibration_images must be uint8 [N, {', '.join(map(str, input_shape))}]"
                         f", got {images.dtype} {list(images.shape)}")

    def representative():
        for i in range(len(images)):
            yield [images[i:i + 1]]

    return {"optimizations": [tf.lite.Optimize.DEFAULT],
            "representative_dataset": representative,
            "target_spec": {"supported_ops": [tf.lite.OpsSet.TFLITE_BUILTINS_INT8] + builtins}}


def write_tflite(serving, path, quantize="none", calibration_images=None):
    """Convert the :func:`fixed_size_serving_model` ``serving`` to a TFLite file at
    ``path`` (no check, not atomic), quantised as ``quantize`` says
    (:data:`QUANTIZE_MODES`)."""
    from keras_cnns.layers.lrn import decomposed

    shape = tuple(serving.inputs[0].shape[1:])
    options = _tflite_options(quantize, calibration_images, shape)
    # LRN traced from basic ops (the same function): TFLite's LRN op runs on its
    # reference kernel, outside XNNPACK, and has no int8 kernel (see lrn_decomposed).
    with decomposed(integer=quantize == "int8"):
        serving.export(path, format="litert", verbose=False, **options)


def export_tflite(model, path, overwrite=False, name=None, optimize=False, quantize="none",
                  calibration_images=None):
    """Write ``model`` as a TFLite flatbuffer at ``path`` (atomically), via Keras'
    LiteRT export (TensorFlow's converter). Signature ``serving_default``: input
    ``images`` uint8 ``[N, s, s, 3]`` at the model's input size (resized and centre-
    cropped by the caller), output ``probabilities``. See
    :func:`fixed_size_serving_model`.

    ``quantize``: ``"none"`` (float32), ``"float16"`` (float16 weights), ``"dynamic"``
    (int8 weights) or ``"int8"`` (full-integer post-training quantisation, calibrated on
    ``calibration_images``, uint8 ``[N, s, s, 3]``). ``optimize=True`` folds BN first
    (:func:`~keras_cnns.export.optimize_model`). No check, no report: see
    :func:`keras_cnns.export.export` for those."""
    main = _prepared(model, optimize)
    path = _check_destination(path, overwrite)
    serving = fixed_size_serving_model(main, name=name)
    with atomic_path(path, suffix=".tflite") as tmp:
        write_tflite(serving, tmp, quantize, calibration_images)
    return path


def onnx_available():
    """``None`` if ONNX export can run here, else the reason (a missing package)."""
    import importlib.util

    missing = [m for m in ("tf2onnx", "onnx") if importlib.util.find_spec(m) is None]
    if missing:
        return (f"ONNX export needs {' and '.join(missing)}: pip install "
                "'keras-cnns[export]' (tf2onnx, onnx, onnxruntime)")
    return None


def write_onnx(serving, path, opset=None):
    """Convert the :func:`fixed_size_serving_model` ``serving`` to an ONNX file at
    ``path`` (no check, not atomic)."""
    reason = onnx_available()
    if reason:
        raise ImportError(reason)
    serving.export(path, format="onnx", verbose=False, opset_version=opset)


def export_onnx(model, path, overwrite=False, name=None, opset=None, optimize=False):
    """Write ``model`` as an ONNX file at ``path`` (atomically), via Keras' ONNX export
    (tf2onnx). Input ``images`` uint8 ``[N, s, s, 3]`` at the model's input size,
    output ``probabilities`` (see :func:`fixed_size_serving_model`). Needs the
    ``export`` extra (tf2onnx, onnx; onnxruntime to run it). ``optimize=True`` folds BN
    first. No check, no report: see :func:`keras_cnns.export.export` for those."""
    main = _prepared(model, optimize)
    reason = onnx_available()
    if reason:
        raise ImportError(reason)
    path = _check_destination(path, overwrite)
    serving = fixed_size_serving_model(main, name=name)
    with atomic_path(path, suffix=".onnx") as tmp:
        write_onnx(serving, tmp, opset)
    return path
