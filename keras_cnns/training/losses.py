"""Losses the recipes need and Keras lacks: sparse cross-entropy with label smoothing."""

from __future__ import annotations

import keras

__all__ = ["SparseCategoricalCrossentropyLS"]


@keras.saving.register_keras_serializable(package="keras_cnns")
class SparseCategoricalCrossentropyLS(keras.losses.Loss):
    """Cross-entropy for integer labels with label smoothing ("Rethinking the Inception
    Architecture", section 7): the target is ``(1 - eps) * one_hot + eps / K``.

    Keras' ``SparseCategoricalCrossentropy`` has no ``label_smoothing``; this one-hots
    the labels against the prediction's last axis and calls
    ``keras.losses.categorical_crossentropy``.
    """

    def __init__(self, label_smoothing=0.0, from_logits=False, reduction="sum_over_batch_size",
                 name="sparse_categorical_crossentropy_ls", dtype=None):
        super().__init__(name=name, reduction=reduction, dtype=dtype)
        if not 0.0 <= float(label_smoothing) < 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}")
        self.label_smoothing = float(label_smoothing)
        self.from_logits = bool(from_logits)

    def call(self, y_true, y_pred):
        ops = keras.ops
        classes = ops.shape(y_pred)[-1]
        y_true = ops.cast(ops.reshape(y_true, (-1,)), "int32")
        one_hot = ops.one_hot(y_true, classes, dtype=y_pred.dtype)
        return keras.losses.categorical_crossentropy(
            one_hot, y_pred, from_logits=self.from_logits, label_smoothing=self.label_smoothing)

    def get_config(self):
        config = super().get_config()
        config.update(label_smoothing=self.label_smoothing, from_logits=self.from_logits)
        return config
