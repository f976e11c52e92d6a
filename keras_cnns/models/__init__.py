"""One module per family; importing this registers every variant."""

from keras_cnns.models.googlenet import GoogLeNet

__all__ = ["GoogLeNet"]
