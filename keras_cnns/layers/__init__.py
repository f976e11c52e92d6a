"""Registered, serialisable layers (load back with ``safe_mode=True``)."""

from keras_cnns.layers.lrn import LocalResponseNormalization
from keras_cnns.layers.pooling import AdaptiveAveragePooling2D, CeilModePooling2D
from keras_cnns.layers.preprocess import Preprocess
from keras_cnns.layers.stochastic_depth import StochasticDepth
from keras_cnns.layers.fractal import DropPathSampler, FractalJoin
from keras_cnns.layers.run_model import MetadataModel

LRN = LocalResponseNormalization

__all__ = ["LocalResponseNormalization", "LRN", "AdaptiveAveragePooling2D", "CeilModePooling2D",
           "Preprocess"]
__all__ += ["StochasticDepth", "DropPathSampler", "FractalJoin", "MetadataModel"]
