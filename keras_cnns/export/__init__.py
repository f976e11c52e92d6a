"""Serving exports: SavedModel, TFLite (quantised or not) and ONNX, optimised or not,
checked against the Keras model with a report.

- :func:`export`: the checked export of ``keras-cnns export`` (write to a temp path,
  check on held-out images, report, then put in place; refuse below ``min_agreement``).
- :func:`export_saved_model`, :func:`export_tflite`, :func:`export_onnx`: the writers
  alone, no check.
- :func:`optimize_model`: BatchNormalization folded, dropout and aux heads dropped.
"""

from keras_cnns.export.optimize import foldable_pairs, optimize_model
from keras_cnns.export.report import (DEFAULT_CALIBRATION_IMAGES, DEFAULT_CHECK_IMAGES,
                                      DEFAULT_MIN_AGREEMENT, EXPORT_FORMATS, ExportRefused,
                                      compare, data_parts, export, fixed_size_images,
                                      report_path, runner, tflite_interpreter)
from keras_cnns.export.serving import (QUANTIZE_MODES, export_onnx, export_saved_model,
                                       export_tflite, fixed_size_serving_model,
                                       onnx_available, serving_model, write_onnx,
                                       write_saved_model, write_tflite)

__all__ = [
    "export", "ExportRefused", "EXPORT_FORMATS", "QUANTIZE_MODES", "DEFAULT_MIN_AGREEMENT",
    "DEFAULT_CALIBRATION_IMAGES", "DEFAULT_CHECK_IMAGES",
    "export_saved_model", "export_tflite", "export_onnx", "serving_model",
    "fixed_size_serving_model", "onnx_available", "write_saved_model", "write_tflite",
    "write_onnx", "optimize_model", "foldable_pairs", "data_parts", "fixed_size_images",
    "runner", "compare", "report_path", "tflite_interpreter",
]
