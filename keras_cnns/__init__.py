"""keras_cnns: the classic convolutional networks, as their papers built them, in Keras 3.

``import keras_cnns`` is cheap: the public names below load their modules on first use
(PEP 562), so reading the registry (``available_models``, ``model_info``, the command
line's ``list`` and ``info``) never loads TensorFlow. The package's layers, schedules,
losses and regularisers are registered with Keras as soon as Keras itself is imported, so
``keras.saving.load_model(path, safe_mode=True)`` finds them after ``import keras_cnns``,
whichever of the two was imported first.
"""

import importlib
import importlib.abc
import importlib.util
import sys

from keras_cnns._lazy import lazy_exports

__version__ = "0.1.0"

_EXPORTS = {
    # the registry and the networks
    "available_models": "keras_cnns.registry", "build": "keras_cnns.registry",
    "model_info": "keras_cnns.registry", "register_model": "keras_cnns.registry",
    "ModelInfo": "keras_cnns.metadata", "Preprocessing": "keras_cnns.metadata",
    # heads, features, profile, preprocessing, export, labels
    "aux_loss_weights": "keras_cnns.heads", "fan_out_labels": "keras_cnns.heads",
    "inference_model": "keras_cnns.heads",
    "feature_extractor": "keras_cnns.features", "freeze_batch_norm": "keras_cnns.features",
    "replace_classifier": "keras_cnns.features",
    "profile": "keras_cnns.profiler",
    "preprocessing": "keras_cnns.preprocess",
    "export_saved_model": "keras_cnns.export",
    "decode_predictions": "keras_cnns.weights.labels",
    "predict": "keras_cnns.inference",
    "attach_run_metadata": "keras_cnns.checkpoint", "read_run_metadata": "keras_cnns.checkpoint",
    # subpackages and modules
    "layers": "keras_cnns.layers:", "blocks": "keras_cnns.blocks:",
    "models": "keras_cnns.models:", "registry": "keras_cnns.registry:",
    "metadata": "keras_cnns.metadata:", "data": "keras_cnns.data:",
    "training": "keras_cnns.training:", "recipes": "keras_cnns.training.recipes:",
    "weights": "keras_cnns.weights:", "heads": "keras_cnns.heads:",
    "aux": "keras_cnns.heads:",  # the module's former name (aux.py is reserved on Windows)
    "profiler": "keras_cnns.profiler:", "features": "keras_cnns.features:",
    "export": "keras_cnns.export:", "atomic": "keras_cnns.atomic:",
    "validation": "keras_cnns.validation:",
    "inference": "keras_cnns.inference:", "checkpoint": "keras_cnns.checkpoint:",
}
_getattr, _dir = lazy_exports(__name__, _EXPORTS)


def __getattr__(name):
    """The lazy exports above, then every family's public builders (``GoogLeNet``,
    ``ResNet50``, ...) as the families declare them (``Family.builders``)."""
    if name in _EXPORTS or name.startswith("__"):
        return _getattr(name)
    models = importlib.import_module("keras_cnns.models")
    if name in models.builder_modules():
        value = getattr(models, name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__():
    return sorted(set(_dir()) | set(importlib.import_module("keras_cnns.models").builder_modules()))


__all__ = ["__version__"] + sorted(_EXPORTS)


class _RegisterLayersAfterKeras(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    """Imports ``keras_cnns.layers`` (which registers the custom layers for safe-mode
    loading) right after the ``keras`` package finishes importing."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "keras":
            return None
        sys.meta_path.remove(self)
        spec = importlib.util.find_spec("keras")
        if spec is None or spec.loader is None:
            return spec
        self._loader = spec.loader
        spec.loader = self
        return spec

    def create_module(self, spec):
        return self._loader.create_module(spec)

    def exec_module(self, module):
        self._loader.exec_module(module)
        _register()


#: The modules whose classes a saved model names: the layers, and the schedules, losses
#: and regularisers a train checkpoint's compiled optimiser and loss carry.
_REGISTERING = ("keras_cnns.layers", "keras_cnns.training.schedules",
                "keras_cnns.training.losses", "keras_cnns.training.regularizers")


def _register():
    for name in _REGISTERING:
        importlib.import_module(name)


if "keras" in sys.modules:
    _register()
elif not any(isinstance(f, _RegisterLayersAfterKeras) for f in sys.meta_path):
    sys.meta_path.insert(0, _RegisterLayersAfterKeras())
