"""keras_cnns: the classic convolutional networks, as their papers built them, in Keras 3."""

__version__ = "0.1.0"

from keras_cnns import layers  # noqa: E402  (registers the custom layers)
from keras_cnns.aux import aux_loss_weights, fan_out_labels, inference_model  # noqa: E402
from keras_cnns.models import GoogLeNet  # noqa: E402
from keras_cnns.models import InceptionV2, InceptionV3  # noqa: E402
from keras_cnns.models import (LeNet5, AlexNet, ZFNet, VGG, VGG11, VGG13, VGG16,  # noqa: E402
                               VGG19, NiN, SqueezeNet)
from keras_cnns.weights import decode_predictions  # noqa: E402
from keras_cnns.models import (ResNet, ResNet18, ResNet34, ResNet50, ResNet101,  # noqa: E402
                               ResNet152, ResNet50V2, ResNet101V2, ResNet152V2, ResNeXt,
                               ResNeXt50, ResNeXt101, WideResNet, DenseNet, DenseNet121,
                               DenseNet169, DenseNet201, FractalNet)
from keras_cnns.preprocess import preprocessing  # noqa: E402
from keras_cnns.profile import profile  # noqa: E402
from keras_cnns.features import feature_extractor, freeze_batch_norm, replace_classifier  # noqa: E402
from keras_cnns.registry import ModelInfo, available_models, build, model_info  # noqa: E402
from keras_cnns.export import export_saved_model  # noqa: E402
from keras_cnns import data  # noqa: E402  (tf.data pipelines, test-time crops)
from keras_cnns import recipes  # noqa: E402  (the papers' training recipes)

__all__ = [
    "__version__", "layers", "GoogLeNet", "available_models", "build", "model_info",
    "ModelInfo", "profile", "preprocessing", "aux_loss_weights", "inference_model",
    "fan_out_labels", "export_saved_model", "feature_extractor", "freeze_batch_norm",
    "replace_classifier",
    "data",
]
__all__ += ["ResNet", "ResNet18", "ResNet34", "ResNet50", "ResNet101", "ResNet152",
            "ResNet50V2", "ResNet101V2", "ResNet152V2", "ResNeXt", "ResNeXt50",
            "ResNeXt101", "WideResNet", "DenseNet", "DenseNet121", "DenseNet169",
            "DenseNet201", "FractalNet"]
__all__ += ["LeNet5", "AlexNet", "ZFNet", "VGG", "VGG11", "VGG13", "VGG16", "VGG19", "NiN",
            "SqueezeNet", "decode_predictions"]
__all__ += ["InceptionV2", "InceptionV3"]
__all__ += ["recipes"]
