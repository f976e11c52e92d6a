"""What the visualisation methods share: argument checks (a clear TypeError or ValueError
naming the argument, before any work), the input pipeline a picture goes through, and
the figure helpers (matplotlib's Agg canvas, PNGs written atomically)."""

from __future__ import annotations

import os

import numpy as np

MAIN = "main"


def _check_image(image, arg="image"):
    """A uint8 ``[H, W, 3]`` numpy array, or a ValueError/TypeError naming ``arg``."""
    if hasattr(image, "numpy") and not isinstance(image, np.ndarray):
        image = image.numpy()
    if not isinstance(image, np.ndarray):
        raise TypeError(f"{arg} must be a uint8 numpy array [H, W, 3], got "
                        f"{type(image).__name__}")
    if image.ndim != 3:
        hint = " (one picture, not a batch: pass images[0])" if image.ndim == 4 else ""
        raise ValueError(f"{arg} must have rank 3 [H, W, 3], got shape {image.shape}{hint}")
    if image.shape[-1] != 3:
        raise ValueError(f"{arg} must be RGB [H, W, 3] (channels last), got shape {image.shape}")
    if image.dtype != np.uint8:
        raise ValueError(f"{arg} must have dtype uint8 (pixels 0-255), got {image.dtype}; "
                         "convert with np.clip(x, 0, 255).astype('uint8')")
    if image.shape[0] < 1 or image.shape[1] < 1:
        raise ValueError(f"{arg} is empty: shape {image.shape}")
    return image


def _check_model(model, arg="model"):
    import keras

    if not isinstance(model, keras.Model):
        raise TypeError(f"{arg} must be a keras.Model, got {type(model).__name__}")
    return model


def _check_out_path(path, arg="path"):
    """An absolute path whose directory exists and is writable, or a ValueError naming
    ``arg``. Checked before any work is done."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{arg} must be a file path, got {type(path).__name__}")
    path = os.path.abspath(os.fspath(path))
    parent = os.path.dirname(path)
    if os.path.isdir(path):
        raise ValueError(f"{arg} {path!r} is a directory; give a file name such as "
                         f"{os.path.join(path, 'figure.png')!r}")
    if not os.path.isdir(parent):
        raise ValueError(f"{arg} {path!r} cannot be written: directory {parent!r} does not exist")
    if not os.access(parent, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise ValueError(f"{arg} {path!r} cannot be written: no write permission")
    return path


def _title_note(model):
    """`` (untrained weights)`` for a model the CLI built without weights, else ``""``."""
    note = getattr(model, "untrained_note", None)
    return f" ({note})" if note else ""


def _registry_info(model):
    from keras_cnns import registry

    try:
        return registry.model_info(model)
    except (ValueError, TypeError):
        return None


def _valid_layer_names(model, info):
    names = [layer.name for layer in model.layers]
    if info is not None and info.end_points:
        present = set(names)
        return [e for e in info.end_points if e in present]
    return [n for n in names if not n.startswith("input")]


def _check_layers(model, layers, arg="layers"):
    info = _registry_info(model)
    if layers is None:
        if info is None or not info.stage_outputs:
            raise ValueError(f"{arg}: model {model.name!r} has no registry entry to take "
                             f"default end points from; pass {arg}=[layer names]. Valid "
                             f"layers: {', '.join(_valid_layer_names(model, info))}")
        # A 1x1 map (LeNet-5's C5) shows nothing: the defaults are the spatial ones.
        layers = [n for n in info.stage_outputs if _spatial(model, n)] or \
            list(info.stage_outputs)
    if isinstance(layers, str):
        layers = [layers]
    layers = list(layers)
    if not layers:
        raise ValueError(f"{arg} must name at least one layer")
    present = {layer.name for layer in model.layers}
    missing = [n for n in layers if n not in present]
    if missing:
        raise ValueError(f"{arg}: no layer named {', '.join(map(repr, missing))} in model "
                         f"{model.name!r}; valid end points: "
                         f"{', '.join(_valid_layer_names(model, info))}")
    for n in layers:
        shape = model.get_layer(n).output.shape
        if len(shape) != 4:
            raise ValueError(f"{arg}: layer {n!r} outputs shape {tuple(shape)}, not a "
                             "[N, H, W, C] feature map; choose a convolutional end point: "
                             f"{', '.join(_valid_layer_names(model, info))}")
    return layers


def _spatial(model, name):
    """Whether layer ``name`` of ``model`` outputs a feature map larger than 1x1 (or of
    unknown size)."""
    try:
        shape = model.get_layer(name).output.shape
    except (ValueError, AttributeError):
        return False
    return len(shape) == 4 and not (shape[1] == 1 and shape[2] == 1)


def _default_layer(model, arg="layer"):
    """The last stage output of a registered model that is larger than 1x1 (a heat map
    of a 1x1 map, LeNet-5's C5, is one flat colour), else the last 4-D layer output."""
    info = _registry_info(model)
    if info is not None and info.stage_outputs:
        present = {layer.name for layer in model.layers}
        for name in reversed(info.stage_outputs):
            if name in present and _spatial(model, name):
                return name
    for layer in reversed(model.layers):
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError):
            continue
        if len(shape) == 4 and not layer.name.startswith("input"):
            return layer.name
    raise ValueError(f"{arg}: model {model.name!r} has no 4-D (convolutional) layer output")


def _input_size(model):
    shape = tuple(model.inputs[0].shape[1:])
    return shape


def _pipelines(model, preprocess=None):
    """``(to_input, to_view)``: uint8 batch -> model input, and -> the uint8 crop shown."""
    from keras_cnns.layers import Preprocess

    h, w, c = _input_size(model)
    info = _registry_info(model)
    if preprocess is not None:
        if not callable(preprocess):
            raise TypeError(f"preprocess must be callable, got {type(preprocess).__name__}")
        to_input = preprocess
        if h is None or w is None:
            raise ValueError("preprocess=: the model needs a static input size to align "
                             "the heat map")
        view = Preprocess(int(h), int(w), crop_fraction=1.0)
        return to_input, view
    if info is not None:
        from keras_cnns.preprocess import preprocessing

        to_input = preprocessing(model)
        size_h, size_w = to_input.height, to_input.width
        view = Preprocess(size_h, size_w, crop_fraction=info.preprocessing.crop_fraction,
                          interpolation=info.preprocessing.interpolation)
        return to_input, view
    if h is None or w is None:
        raise ValueError(f"model {model.name!r} is not in the registry and has no static input "
                         "size; pass preprocess= (a callable from a uint8 batch to its input)")
    grey = c == 1
    to_input = Preprocess(int(h), int(w), crop_fraction=1.0, mean=(0.0,) if grey else
                          (0.0, 0.0, 0.0), std=(1.0,) if grey else (1.0, 1.0, 1.0),
                          grayscale=grey)
    view = Preprocess(int(h), int(w), crop_fraction=1.0)
    return to_input, view


def _sub_model(model, outputs):
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return __import__("keras").Model(inputs, outputs)


def _model_input(model, image, preprocess=None):
    to_input, _ = _pipelines(model, preprocess)
    x = to_input(image[None])
    return np.asarray(x, dtype="float32")


def _normalise(a):
    a = np.asarray(a, dtype="float32")
    lo, hi = float(np.min(a)), float(np.max(a))
    if not np.isfinite(lo) or not np.isfinite(hi) or hi - lo <= 0:
        return np.zeros_like(a, dtype="float32")
    return ((a - lo) / (hi - lo)).astype("float32")


def _resize(a, size):
    """Bilinear resize of a 2-D map to ``size`` = (h, w)."""
    import tensorflow as tf

    out = tf.image.resize(np.asarray(a, "float32")[None, :, :, None], size, method="bilinear")
    return out.numpy()[0, :, :, 0]


def _figure(**kwargs):
    """A matplotlib Figure on the Agg canvas: no pyplot state, no GUI backend, whatever
    backend the user's session chose."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(**kwargs)
    FigureCanvasAgg(fig)
    return fig


def _save(fig, path, dpi=100):
    """Save ``fig`` as PNG at ``path`` atomically: a crash leaves the old file or the new."""
    from keras_cnns.atomic import atomic_path

    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, format="png", dpi=dpi)
