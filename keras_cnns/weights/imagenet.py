"""keras.applications' published ImageNet weights: one table, one loader.

The file names, URLs and MD5 hashes (each family declares its entries' files,
``ModelInfo.imagenet_weights``) are those of keras-team/keras ``keras/src/applications/``.
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


def _collect():
    """registry name -> {include_top: WeightFile}: every entry's declared
    ``imagenet_weights``."""
    out = {}
    for name in registry.available_models():
        files = registry.model_info(name).imagenet_weights
        if files is not None:
            out[name] = {True: files.top, False: files.notop}
    return out


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
    channels = model.inputs[0].shape[-1]
    if channels != 3:  # before any download
        raise ValueError(f"weights='imagenet' needs 3 input channels (the published file "
                         f"was trained on RGB images), got input_shape with {channels}; "
                         "pass weights=None or an RGB input_shape")
    # Keras reads KERAS_HOME once, at import; read it per call so both agree.
    cache_dir = os.environ.get("KERAS_HOME") or None
    where = os.path.join(cache_dir or os.path.join(os.path.expanduser("~"), ".keras"),
                         "models", entry.fname)
    try:
        path = keras.utils.get_file(entry.fname, entry.origin, cache_subdir="models",
                                    file_hash=entry.file_hash, cache_dir=cache_dir)
    except Exception as err:  # urllib's URLError / HTTPError, wrapped by Keras
        first = (str(err).strip().splitlines() or [type(err).__name__])[0][:200]
        raise ValueError(f"weights='imagenet' needs the download of {entry.origin} into "
                         f"{where}, which failed ({first}); download it there by hand "
                         "when offline, or pass weights=None") from None
    # Legacy HDF5 (".h5"): Keras matches layers with weights in topological order.
    model.load_weights(path)
    return path
