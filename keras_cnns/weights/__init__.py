"""Pretrained weights and ImageNet labels: keras.applications' published files."""

from keras_cnns.weights.imagenet import (IMAGENET_WEIGHTS, WeightFile, imagenet_weight_file,
                                         load_imagenet_weights)
from keras_cnns.weights.labels import decode_predictions, imagenet_classes

__all__ = ["IMAGENET_WEIGHTS", "WeightFile", "imagenet_weight_file", "load_imagenet_weights",
           "decode_predictions", "imagenet_classes"]
