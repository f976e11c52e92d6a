"""Pretrained weights and ImageNet labels: keras.applications' published files, and
torchvision checkpoints converted tensor for tensor (:func:`from_torchvision`)."""

from keras_cnns.weights.imagenet import (IMAGENET_WEIGHTS, WeightFile, imagenet_weight_file,
                                         load_imagenet_weights)
from keras_cnns.weights.labels import decode_predictions, imagenet_classes
from keras_cnns.weights.torchvision import (TORCHVISION_MODELS, ConversionReport,
                                            from_torchvision, load_state_dict,
                                            read_safetensors, torchvision_mapping,
                                            torchvision_preprocessing)

__all__ = ["IMAGENET_WEIGHTS", "WeightFile", "imagenet_weight_file", "load_imagenet_weights",
           "decode_predictions", "imagenet_classes", "TORCHVISION_MODELS", "ConversionReport",
           "from_torchvision", "load_state_dict", "read_safetensors", "torchvision_mapping",
           "torchvision_preprocessing"]
