"""One module per family; importing this registers every variant."""

from keras_cnns.models.googlenet import GoogLeNet
from keras_cnns.models.lenet import LeNet5
from keras_cnns.models.alexnet import AlexNet, ZFNet
from keras_cnns.models.vgg import VGG, VGG11, VGG13, VGG16, VGG19
from keras_cnns.models.nin import NiN
from keras_cnns.models.squeezenet import SqueezeNet
from keras_cnns.models.resnet import (ResNet, ResNet18, ResNet34, ResNet50, ResNet101,
                                      ResNet152, ResNet50V2, ResNet101V2, ResNet152V2,
                                      ResNeXt, ResNeXt50, ResNeXt101, WideResNet)
from keras_cnns.models.densenet import DenseNet, DenseNet121, DenseNet169, DenseNet201
from keras_cnns.models.fractalnet import FractalNet
from keras_cnns.models.inception import InceptionV2, InceptionV3

__all__ = ["GoogLeNet"]
__all__ += ["ResNet", "ResNet18", "ResNet34", "ResNet50", "ResNet101", "ResNet152",
            "ResNet50V2", "ResNet101V2", "ResNet152V2", "ResNeXt", "ResNeXt50",
            "ResNeXt101", "WideResNet", "DenseNet", "DenseNet121", "DenseNet169",
            "DenseNet201", "FractalNet"]
__all__ += ["LeNet5", "AlexNet", "ZFNet", "VGG", "VGG11", "VGG13", "VGG16", "VGG19", "NiN",
            "SqueezeNet"]
__all__ += ["InceptionV2", "InceptionV3"]
