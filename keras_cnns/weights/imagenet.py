"""keras.applications' published ImageNet weights: one table, one loader.

The file names, URLs and MD5 hashes are those of keras-team/keras
``keras/src/applications/{vgg16,vgg19,resnet,resnet_v2,inception_v3,densenet}.py``.
Files go through ``keras.utils.get_file(..., cache_subdir="models")``, so they share
the Keras cache (``$KERAS_HOME/models``, default ``~/.keras/models``) with
keras.applications: a file either downloaded is found by the other.
"""

from __future__ import annotations

import os

import keras

from keras_cnns import registry
from keras_cnns.metadata import KerasWeights, WeightFile, keras_applications_weights

__all__ = ["WeightFile", "IMAGENET_WEIGHTS", "imagenet_weight_file", "load_imagenet_weights"]



def _pair(subdir, stem, top_hash, notop_hash):
    w = keras_applications_weights(subdir, stem, top_hash, notop_hash)
    return {True: w.top, False: w.notop}


# Families not yet declaring their entries' files (ModelInfo.imagenet_weights).
_LEGACY = {
    "vgg16": _pair("vgg16", "vgg16", "64373286793e3c8b2b4e3219cbf3544b",
                   "6d6bbae143d832006294945121d1f1fc"),
    "vgg19": _pair("vgg19", "vgg19", "cbe5617147190e668d6c5d5026f83318",
                   "253f8cb515780f3b799900260a226db6"),
    "resnet50": _pair("resnet", "resnet50", "2cb95161c43110f7111970584f804107",
                      "4d473c1dd8becc155b73f8504c6f6626"),
    "resnet101": _pair("resnet", "resnet101", "f1aeb4b969a6efcfb50fad2f0c20cfc5",
                       "88cf7a10940856eca736dc7b7e228a21"),
    "resnet152": _pair("resnet", "resnet152", "100835be76be38e30d865e96f2aaae62",
                       "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    "resnet50_v2": _pair("resnet", "resnet50v2", "3ef43a0b657b3be2300d5770ece849e0",
                         "fac2f116257151a9d068a22e544a4917"),
    "resnet101_v2": _pair("resnet", "resnet101v2", "6343647c601c52e1368623803854d971",
                          "c0ed64b8031c3730f411d2eb4eea35b5"),
    "resnet152_v2": _pair("resnet", "resnet152v2", "a49b44d1979771252814e80f8ec446f9",
                          "ed17cf2e0169df9d443503ef94b23b33"),
    "inception_v3": _pair("inception_v3", "inception_v3", "9a0d58056eeedaa3f26cb7ebd46da564",
                          "bcbd6486424b2319ff4ef7d526e38f63"),
    "densenet121": _pair("densenet", "densenet121", "9d60b8095a5708f2dcce2bca79d332c7",
                         "30ee3e1110167f948a6b9946edeeb738"),
    "densenet169": _pair("densenet", "densenet169", "d699b8f76981ab1b30698df4c175e90b",
                         "b8c4d4c20dd625c148057b9ff1c1176b"),
    "densenet201": _pair("densenet", "densenet201", "1ceb130c1ea1b78c3bf6114dbdfd8807",
                         "c13680b51ded0fb44dff2d8f86ac8bb1"),
}


def _collect():
    """registry name -> {include_top: WeightFile}: every entry's declared
    ``imagenet_weights``, and the families that do not declare theirs yet."""
    out = {}
    for name in registry.available_models():
        files = registry.model_info(name).imagenet_weights
        if files is not None:
            out[name] = {True: files.top, False: files.notop}
    return {**_LEGACY, **out}


IMAGENET_WEIGHTS = _collect()


def imagenet_weight_file(key, include_top):
    """The :class:`WeightFile` of ``key`` (a name in :data:`IMAGENET_WEIGHTS`)."""
    if key not in IMAGENET_WEIGHTS:
        raise ValueError(f"no published ImageNet weights for {key!r}; available: "
                         f"{', '.join(sorted(IMAGENET_WEIGHTS))}")
    if not isinstance(include_top, bool):
        raise TypeError(f"include_top must be a bool, got {type(include_top).__name__}")
    return IMAGENET_WEIGHTS[key][include_top]


def load_imagenet_weights(model, key, include_top):
    """Fetch (or find in the Keras cache) the published file for ``key`` (a registry name
    of :data:`IMAGENET_WEIGHTS`, or the entry's declared
    :class:`~keras_cnns.metadata.KerasWeights`) and load it
    into ``model``, whose weighted layers must be keras.applications' in order.

    The cache is ``$KERAS_HOME/models`` (``~/.keras/models`` by default), the
    directory keras.applications uses. Returns the file's path.
    """
    entry = key.file(include_top) if isinstance(key, KerasWeights) else \
        imagenet_weight_file(key, include_top)
    # Keras reads KERAS_HOME once, at import; read it per call so both agree.
    cache_dir = os.environ.get("KERAS_HOME") or None
    path = keras.utils.get_file(entry.fname, entry.origin, cache_subdir="models",
                                file_hash=entry.file_hash, cache_dir=cache_dir)
    # Legacy HDF5 (".h5"): Keras matches layers with weights in topological order.
    model.load_weights(path)
    return path
