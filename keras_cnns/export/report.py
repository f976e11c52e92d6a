"""The checked export (``keras-cnns export``): write, check on held-out images, report,
and only then put the export in place.

The check runs the Keras model (the checkpoint as it is: not optimised, not quantised)
and the written export on the same uint8 images of the dataset's held-out part, and
writes what it found beside the export: ``OUT.json`` for a file (``model.tflite.json``)
or ``OUT/export.json`` inside a SavedModel folder. An export whose top-1 agreement with
the Keras model falls below ``min_agreement`` is refused (:class:`ExportRefused`) and
nothing is left at the output path: the export is written to a temp path beside it,
checked there, and renamed into place only when it passes.
"""

from __future__ import annotations

import json
import os
import time
import warnings

import numpy as np

__all__ = ["export", "ExportRefused", "EXPORT_FORMATS", "DEFAULT_MIN_AGREEMENT",
           "DEFAULT_CALIBRATION_IMAGES", "DEFAULT_CHECK_IMAGES", "data_parts",
           "fixed_size_images", "runner", "compare", "report_path", "tflite_interpreter"]

EXPORT_FORMATS = ("saved_model", "tflite", "onnx")
#: Top-1 agreement an export must reach: float arithmetic (none, float16 weights) 0.99,
#: int8 arithmetic (dynamic-range and full-integer quantisation) 0.97.
DEFAULT_MIN_AGREEMENT = {"none": 0.99, "float16": 0.99, "dynamic": 0.97, "int8": 0.97}
DEFAULT_CALIBRATION_IMAGES = 256
DEFAULT_CHECK_IMAGES = 1000
REPORT_FILE = "export.json"


class ExportRefused(ValueError):
    """The export disagrees with the Keras model more than ``min_agreement`` allows;
    ``report`` holds the figures. Nothing was written."""

    def __init__(self, message, report):
        super().__init__(message)
        self.report = report


def report_path(path, fmt):
    """Where the report of an export at ``path`` goes."""
    if fmt == "saved_model":
        return os.path.join(path, REPORT_FILE)
    return os.fspath(path) + ".json"


# --------------------------------------------------------------------------- data

def data_parts(dataset, data_dir, size):
    """``(training part, validation part, class names, description)`` of ``--dataset``:
    calibration images come from the first, the check from the second (the test part is
    left for the one final score; digits: the fixed 216 validation images). The one
    place that chooses the split."""
    from keras_cnns.training.run import resolve_dataset

    parts = resolve_dataset(dataset, data_dir, int(size))
    return parts.train, parts.val, parts.class_names, parts.description


def fixed_size_images(source, model, limit, name=None, shuffle_seed=None):
    """Up to ``limit`` images of ``source`` as the TFLite / ONNX exports take them:
    uint8 ``[N, s, s, 3]``, the shorter side resized to ``s / crop_fraction`` with the
    model's interpolation (antialiased), centre-cropped to ``s`` and rounded (the
    arithmetic of :class:`keras_cnns.layers.Preprocess`); and their labels.
    ``shuffle_seed`` draws them from a seeded shuffle of the source (calibration)."""
    import tensorflow as tf

    from keras_cnns import registry
    from keras_cnns.layers import Preprocess

    info = registry.model_info(model, name=name)
    p = info.preprocessing
    h, w = (int(d) for d in model.inputs[0].shape[1:3])
    crop = Preprocess(h, w, crop_fraction=p.crop_fraction, interpolation=p.interpolation)
    if shuffle_seed is not None:
        source = source.shuffle(max(8 * limit, 2048), seed=shuffle_seed,
                                reshuffle_each_iteration=False)

    def prep(image, label):
        x = crop(tf.expand_dims(image, 0))[0]
        return tf.cast(tf.clip_by_value(tf.round(x), 0.0, 255.0), tf.uint8), label

    ds = source.take(limit).map(prep, num_parallel_calls=tf.data.AUTOTUNE).batch(256)
    xs, ys = [], []
    for x, y in ds.as_numpy_iterator():
        xs.append(x)
        ys.append(y)
    if not xs:
        return np.zeros((0, h, w, 3), np.uint8), np.zeros((0,), np.int64)
    return np.concatenate(xs), np.concatenate(ys).astype(np.int64)


def _raw_batches(source, limit, batch_size):
    """Up to ``limit`` images of ``source`` at their own size, batched where
    consecutive images share a size: ``[(uint8 [n, H, W, 3], labels [n])]``."""
    batches, xs, ys = [], [], []
    for x, y in source.take(limit).as_numpy_iterator():
        if xs and (x.shape != xs[0].shape or len(xs) == batch_size):
            batches.append((np.stack(xs), np.asarray(ys, np.int64)))
            xs, ys = [], []
        xs.append(x)
        ys.append(y)
    if xs:
        batches.append((np.stack(xs), np.asarray(ys, np.int64)))
    return batches


def _split(images, labels, batch_size):
    return [(images[i:i + batch_size], labels[i:i + batch_size])
            for i in range(0, len(images), batch_size)]


# --------------------------------------------------------------------------- runtimes

def tflite_interpreter(path, num_threads=None):
    """A TFLite interpreter for the file at ``path``: LiteRT's (``ai_edge_litert``) when
    installed, else TensorFlow's ``tf.lite.Interpreter`` (its deprecation notice
    silenced)."""
    try:
        from ai_edge_litert.interpreter import Interpreter
    except ImportError:
        import tensorflow as tf

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return tf.lite.Interpreter(model_path=os.fspath(path), num_threads=num_threads)
    return Interpreter(model_path=os.fspath(path), num_threads=num_threads)


def runner(fmt, path, num_threads=None):
    """A function from a uint8 batch to the export's probabilities (numpy), running the
    export at ``path`` in its own runtime: TensorFlow's SavedModel loader, the TFLite
    interpreter, or ONNX Runtime."""
    path = os.fspath(path)
    if fmt == "saved_model":
        import tensorflow as tf

        signature = tf.saved_model.load(path).signatures["serving_default"]
        return lambda x: signature(images=tf.constant(x))["probabilities"].numpy()
    if fmt == "tflite":
        run = tflite_interpreter(path, num_threads).get_signature_runner("serving_default")
        return lambda x: np.asarray(run(images=np.ascontiguousarray(x))["probabilities"])
    if fmt == "onnx":
        import onnxruntime as ort

        options = ort.SessionOptions()
        if num_threads:
            options.intra_op_num_threads = int(num_threads)
        session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
        return lambda x: session.run(["probabilities"], {"images": x})[0]
    raise ValueError(f"format must be one of {EXPORT_FORMATS}, got {fmt!r}")


def _float_ops(path):
    """``{op name: count}`` of the ops of a TFLite file that compute in float (their
    inputs are float32), beside the casts and (de)quantisations at its ends."""
    interp = tflite_interpreter(path)
    dtypes = {t["index"]: t["dtype"] for t in interp.get_tensor_details()}
    counts = {}
    for op in interp._get_ops_details():
        if op["op_name"] in ("CAST", "QUANTIZE", "DEQUANTIZE"):
            continue
        if any(dtypes.get(int(i)) == np.float32 for i in op["inputs"] if int(i) >= 0):
            counts[op["op_name"]] = counts.get(op["op_name"], 0) + 1
    return dict(sorted(counts.items()))


# --------------------------------------------------------------------------- the check

def compare(reference, exported, batches):
    """Run ``reference`` and ``exported`` (uint8 batch -> probabilities) on ``batches``
    (``[(images, labels)]``) and return the figures of the report: images, top-1 of
    each, top-1 agreement, max absolute probability difference."""
    n = agree = ref_hits = exp_hits = 0
    max_diff = 0.0
    for x, y in batches:
        a = np.asarray(reference(x), np.float64)
        b = np.asarray(exported(x), np.float64)
        if a.shape != b.shape:
            raise ValueError(f"the export outputs {list(b.shape)}, the Keras model "
                             f"{list(a.shape)}")
        ta, tb = a.argmax(-1), b.argmax(-1)
        n += len(y)
        agree += int((ta == tb).sum())
        ref_hits += int((ta == y).sum())
        exp_hits += int((tb == y).sum())
        max_diff = max(max_diff, float(np.abs(a - b).max()))
    if n == 0:
        raise ValueError("the held-out part has no images to check the export on")
    return {"images": n, "keras_top1": ref_hits / n, "export_top1": exp_hits / n,
            "agreement": agree / n, "max_abs_prob_diff": max_diff}


def _size(path):
    if os.path.isdir(path):
        return sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path)
                   for f in fs)
    return os.path.getsize(path)


def _keras_fn(serving, key):
    import tensorflow as tf

    @tf.function(reduce_retracing=True)
    def run(x):
        return serving(x, training=False)[key]

    return lambda x: run(tf.constant(x)).numpy()


def export(model, path, format="saved_model", *, optimize=False, quantize="none",
           dataset="digits", data_dir=None, calibration_images=DEFAULT_CALIBRATION_IMAGES,
           check_images=DEFAULT_CHECK_IMAGES, min_agreement=None, overwrite=False,
           name=None, opset=None, batch_size=32, progress=None):
    """Export ``model`` (a classifier) at ``path`` as ``format`` (``"saved_model"``,
    ``"tflite"`` or ``"onnx"``), checked against the Keras model, with a report.

    - ``optimize``: serve :func:`~keras_cnns.export.optimize_model` (BN folded into the
      layer before it, dropout and aux heads dropped).
    - ``quantize`` (TFLite only): ``"none"``, ``"float16"``, ``"dynamic"`` or ``"int8"``;
      int8 is calibrated on ``calibration_images`` images of ``dataset``'s training
      part (see :func:`data_parts`).
    - The check runs the Keras model and the export on up to ``check_images`` images of
      the held-out part: at their own size for a SavedModel, resized and centre-cropped
      to the input size (:func:`fixed_size_images`) for TFLite / ONNX.
    - ``min_agreement`` (default :data:`DEFAULT_MIN_AGREEMENT`): the export is refused
      (:class:`ExportRefused`, nothing written) when its top-1 agreement with the Keras
      model is lower.

    Returns the report, also written as JSON beside the export (``OUT.json``) or inside
    it (``OUT/export.json``): format, quantize, optimize, size_bytes, images,
    keras_top1, export_top1, agreement, max_abs_prob_diff and how they were made.
    ``progress`` (a function of one string) hears about each step.
    """
    import keras

    from keras_cnns import __version__, registry
    from keras_cnns.atomic import atomic_dir, atomic_path, atomic_write
    import keras_cnns.export.serving as serving_lib
    from keras_cnns.export.optimize import optimize_model
    from keras_cnns.heads import inference_model
    from keras_cnns.validation import check_choice, check_float, check_positive_int

    say = progress or (lambda message: None)
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    check_choice("format", format, EXPORT_FORMATS)
    check_choice("quantize", quantize, serving_lib.QUANTIZE_MODES)
    if quantize != "none" and format != "tflite":
        raise ValueError(f"quantize={quantize!r} applies to format='tflite' only, not "
                         f"{format!r}")
    calibration_images = check_positive_int("calibration_images", calibration_images)
    check_images = check_positive_int("check_images", check_images)
    batch_size = check_positive_int("batch_size", batch_size)
    if min_agreement is None:
        min_agreement = DEFAULT_MIN_AGREEMENT[quantize]
    min_agreement = check_float("min_agreement", min_agreement, minimum=0.0, maximum=1.0)
    if format == "onnx":
        import importlib.util

        reason = serving_lib.onnx_available()
        if reason is None and importlib.util.find_spec("onnxruntime") is None:
            reason = "the check of an ONNX export needs onnxruntime: pip install onnxruntime"
        if reason:
            raise ImportError(reason)
    path = serving_lib._check_destination(path, overwrite)

    main = inference_model(model)
    info = registry.model_info(main, name=name)
    if len(main.outputs[0].shape) != 2:
        raise ValueError(f"model {main.name!r} is headless; the checked export needs a "
                         "classifier (export_saved_model writes a headless one unchecked)")
    size = main.inputs[0].shape[1] or info.default_input_shape[0]
    train, held_out, names, description = data_parts(dataset, data_dir, size)
    classes = main.outputs[0].shape[-1]
    if classes != len(names):
        raise ValueError(f"dataset {dataset!r} has {len(names)} classes but the model "
                         f"{main.name!r} has {classes} outputs")
    served = optimize_model(main) if optimize else main
    if optimize:
        say(f"optimised: {_count_bn(main)} -> {_count_bn(served)} BatchNormalization, "
            f"{len(main.layers)} -> {len(served.layers)} layers")

    fixed = format != "saved_model"
    if fixed:
        reference = _keras_fn(serving_lib.fixed_size_serving_model(main, name=name),
                              "probabilities")
        images, labels = fixed_size_images(held_out, main, check_images, name=name)
        batches = _split(images, labels, batch_size)
    else:
        reference_model, key = serving_lib.serving_model(main, name=name)
        if key != "probabilities":
            raise ValueError(f"model {main.name!r} has no classifier head to check")
        reference = _keras_fn(reference_model, key)
        batches = _raw_batches(held_out, check_images, batch_size)
    calibration = None
    if quantize == "int8":
        calibration, _ = fixed_size_images(train, main, calibration_images, name=name,
                                           shuffle_seed=0)
        say(f"calibrating int8 on {len(calibration)} training images of {description}")

    report = {"format": format, "quantize": quantize, "optimize": bool(optimize),
              "model": main.name, "input": {"dtype": "uint8",
                                            "shape": [None, None, None, 3] if not fixed
                                            else [None, *map(int, main.inputs[0].shape[1:3]), 3]},
              "output": "probabilities", "dataset": dataset, "check_part": description,
              "min_agreement": min_agreement,
              "calibration_images": None if calibration is None else int(len(calibration)),
              "keras_cnns": __version__, "created": time.strftime("%Y-%m-%dT%H:%M:%SZ",
                                                                   time.gmtime())}

    def check(tmp):
        report["size_bytes"] = _size(tmp)
        if format == "tflite" and quantize == "int8":
            report["float_ops"] = _float_ops(tmp)
        say(f"checking the {format} export against the Keras model on "
            f"{sum(len(y) for _, y in batches)} held-out images")
        report.update(compare(reference, runner(format, tmp), batches))
        if report["agreement"] < min_agreement:
            raise ExportRefused(
                f"export refused: top-1 agreement with the Keras model "
                f"{report['agreement']:.4f} < min_agreement {min_agreement:g} ({format}"
                f"{'' if quantize == 'none' else ', quantize ' + quantize}, "
                f"{report['images']} held-out images; Keras top-1 {report['keras_top1']:.4f}, "
                f"export {report['export_top1']:.4f}); nothing written to {path}", report)
        return json.dumps(report, indent=1) + "\n"

    say(f"writing {format} to a temp path beside {path}")
    if format == "saved_model":
        serving, key = serving_lib.serving_model(served, name=name)
        with atomic_dir(path) as tmp:
            serving_lib.write_saved_model(serving, key, tmp)
            text = check(tmp)
            with open(os.path.join(tmp, REPORT_FILE), "w") as f:
                f.write(text)
    else:
        serving = serving_lib.fixed_size_serving_model(served, name=name)
        with atomic_path(path, suffix=f".{format}") as tmp:
            if format == "tflite":
                serving_lib.write_tflite(serving, tmp, quantize, calibration)
            else:
                serving_lib.write_onnx(serving, tmp, opset)
            text = check(tmp)
            atomic_write(report_path(path, format), text)
    return report


def _count_bn(model):
    import keras

    return sum(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)
