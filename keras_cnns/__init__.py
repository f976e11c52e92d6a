"""keras_cnns: the classic convolutional networks, as their papers built them, in Keras 3."""

__version__ = "0.1.0"

from keras_cnns import layers  # noqa: E402  (registers the custom layers)
from keras_cnns.aux import aux_loss_weights, fan_out_labels, inference_model  # noqa: E402
from keras_cnns.models import GoogLeNet  # noqa: E402
from keras_cnns.preprocess import preprocessing  # noqa: E402
from keras_cnns.profile import profile  # noqa: E402
from keras_cnns.registry import ModelInfo, available_models, build, model_info  # noqa: E402
from keras_cnns.export import export_saved_model  # noqa: E402

__all__ = [
    "__version__", "layers", "GoogLeNet", "available_models", "build", "model_info",
    "ModelInfo", "profile", "preprocessing", "aux_loss_weights", "inference_model",
    "fan_out_labels", "export_saved_model",
]
