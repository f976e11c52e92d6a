"""Registered, serialisable layers (load back with ``safe_mode=True``)."""

from keras_cnns.layers.lrn import LocalResponseNormalization
from keras_cnns.layers.pooling import AdaptiveAveragePooling2D
from keras_cnns.layers.preprocess import Preprocess

LRN = LocalResponseNormalization

__all__ = ["LocalResponseNormalization", "LRN", "AdaptiveAveragePooling2D", "Preprocess"]
