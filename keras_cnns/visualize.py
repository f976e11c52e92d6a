"""See inside the networks: feature maps, heat maps, Grad-CAM, training curves and
stage diagrams, drawn with matplotlib (no graphviz, no system packages).

Every function taking an ``image`` wants one uint8 RGB picture ``[H, W, 3]`` of any
size. A registered model gets its own input pipeline (:func:`keras_cnns.preprocessing`:
resize the shorter side, centre-crop, normalise); a model outside the registry gets the
picture resized to its input size, pixels left in 0-255 (pass ``preprocess=`` to say
otherwise). Heat maps come back at the model's input resolution, aligned with the
centre crop the model saw (:func:`model_view` returns that crop).
"""

from __future__ import annotations

import csv
import math
import os
import re

import numpy as np

__all__ = [
    "feature_maps",
    "channel_sum_heatmap",
    "grad_cam",
    "overlay",
    "save_overlay",
    "model_view",
    "plot_history",
    "plot_architecture",
    "architecture_items",
    "draw_architecture",
]

MAIN = "main"


# --------------------------------------------------------------------------- argument checks


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
        layers = list(info.stage_outputs)
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


def _default_layer(model, arg="layer"):
    """The last stage output of a registered model, else the last 4-D layer output."""
    info = _registry_info(model)
    if info is not None and info.stage_outputs:
        present = {layer.name for layer in model.layers}
        for name in reversed(info.stage_outputs):
            if name in present:
                return name
    for layer in reversed(model.layers):
        try:
            shape = layer.output.shape
        except (AttributeError, ValueError):
            continue
        if len(shape) == 4 and not layer.name.startswith("input"):
            return layer.name
    raise ValueError(f"{arg}: model {model.name!r} has no 4-D (convolutional) layer output")


# --------------------------------------------------------------------------- input pipeline


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


def model_view(model, image, preprocess=None):
    """The uint8 ``[h, w, 3]`` crop of ``image`` the model sees (heat maps align with it)."""
    _check_model(model)
    image = _check_image(image)
    _, view = _pipelines(model, preprocess)
    out = np.asarray(view(image[None])[0])
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def _sub_model(model, outputs):
    inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
    return __import__("keras").Model(inputs, outputs)


def _model_input(model, image, preprocess=None):
    to_input, _ = _pipelines(model, preprocess)
    x = to_input(image[None])
    return np.asarray(x, dtype="float32")


# --------------------------------------------------------------------------- feature maps


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
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def _save(fig, path, dpi=100):
    fig.savefig(path, format="png", dpi=dpi)


def _mosaic(fmap, channels, rows, cols, pad=1):
    """Channels of ``fmap`` tiled ``rows x cols``, each scaled to [0, 1]; NaN padding."""
    h, w = fmap.shape[:2]
    th, tw = h + pad, w + pad
    mosaic = np.full((rows * th - pad, cols * tw - pad), np.nan, dtype="float32")
    for i, ch in enumerate(channels):
        r, c = divmod(i, cols)
        mosaic[r * th:r * th + h, c * tw:c * tw + w] = _normalise(fmap[:, :, int(ch)])
    return mosaic, (th, tw)


def feature_maps(model, image, layers=None, max_channels=64, path=None, preprocess=None):
    """A matplotlib figure with a grid of feature maps for each layer in ``layers``.

    ``layers`` defaults to the registry entry's ``stage_outputs`` (each resolution
    stage's last output). For each layer the ``max_channels`` most active channels
    (highest mean activation on this image) are shown in channel order, each scaled
    to its own range, labelled with its channel index. With ``path`` the figure is
    also saved as PNG.
    """
    import keras

    _check_model(model)
    image = _check_image(image)
    if isinstance(max_channels, bool) or not isinstance(max_channels, (int, np.integer)) \
            or max_channels < 1:
        raise ValueError(f"max_channels must be a positive int, got {max_channels!r}")
    if path is not None:
        path = _check_out_path(path)
    layers = _check_layers(model, layers)
    x = _model_input(model, image, preprocess)
    extractor = _sub_model(model, [model.get_layer(n).output for n in layers])
    outs = extractor(x, training=False)
    if not isinstance(outs, (list, tuple)):
        outs = [outs]
    cols = 16 if max_channels > 16 else int(max_channels)
    blocks = []
    for name, out in zip(layers, outs):
        fmap = np.asarray(keras.ops.convert_to_numpy(out), dtype="float32")[0]
        n = fmap.shape[-1]
        k = min(int(max_channels), n)
        order = np.argsort(-fmap.reshape(-1, n).mean(axis=0), kind="stable")[:k]
        blocks.append((name, fmap, np.sort(order)))
    rows_per = [math.ceil(len(ch) / cols) for _, _, ch in blocks]
    cell = 0.7
    fig = _figure(figsize=(cols * cell + 0.3, sum(rows_per) * cell + 0.4 * len(blocks)),
                  layout="constrained")
    axes = fig.subplots(len(blocks), 1, squeeze=False,
                        height_ratios=[r * cell + 0.4 for r in rows_per])[:, 0]
    for ax, (name, fmap, channels), rows in zip(axes, blocks, rows_per):
        mosaic, (th, tw) = _mosaic(fmap, channels, rows, cols)
        h, w, n = fmap.shape
        ax.imshow(mosaic, cmap="viridis", vmin=0, vmax=1, interpolation="nearest")
        ax.set_title(f"{name}: {h}x{w}x{n} ({len(channels)} of {n} channels)", fontsize=9)
        ax.set_axis_off()
        for i, ch in enumerate(channels):
            r, c = divmod(i, cols)
            ax.text(c * tw + 1, r * th + 1, str(int(ch)), fontsize=5, color="white",
                    va="top", ha="left")
    if path is not None:
        _save(fig, path)
    return fig


# --------------------------------------------------------------------------- heat maps


def overlay(image, heatmap, alpha=0.45, cmap="jet"):
    """``image`` (uint8 [h, w, 3]) blended with ``heatmap`` (in [0, 1], any size, resized
    to the image) through a colour map: uint8 [h, w, 3]."""
    from matplotlib import colormaps

    image = _check_image(image)
    heatmap = np.asarray(heatmap, dtype="float32")
    if heatmap.ndim != 2:
        raise ValueError(f"heatmap must be 2-D [h, w], got shape {heatmap.shape}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha!r}")
    if heatmap.shape != image.shape[:2]:
        heatmap = np.clip(_resize(heatmap, image.shape[:2]), 0.0, 1.0)
    colour = colormaps[cmap](heatmap)[..., :3] * 255.0
    out = (1.0 - alpha) * image.astype("float32") + alpha * colour
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def save_overlay(image, heatmap, path, title=None, alpha=0.45):
    """Save the input, the heat map and their overlay side by side as a PNG."""
    path = _check_out_path(path)
    image = _check_image(image)
    fig = _figure(figsize=(9, 3.4), layout="constrained")
    axes = fig.subplots(1, 3)
    axes[0].imshow(image)
    axes[0].set_title("input (model's crop)", fontsize=9)
    im = axes[1].imshow(heatmap, cmap="jet", vmin=0, vmax=1)
    axes[1].set_title("heat map", fontsize=9)
    fig.colorbar(im, ax=axes[1], fraction=0.046)
    axes[2].imshow(overlay(image, heatmap, alpha))
    axes[2].set_title("overlay", fontsize=9)
    for ax in axes:
        ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=10)
    _save(fig, path)
    return fig


def channel_sum_heatmap(model, image, layer=None, path=None, preprocess=None):
    """The course's heat map: the sum of ALL channels of ``layer``'s output (a late
    block; default the last stage output), scaled to [0, 1], upsampled to the model's
    input size. Returns float32 ``[h, w]``; ``path`` saves input / map / overlay as PNG.

    This is neither CAM nor Grad-CAM: no class enters the sum, so it shows where the
    layer is active overall, not what supports any prediction. CAM (Zhou et al. 2016)
    weights the channels by one class's classifier weights after global average
    pooling; Grad-CAM (Selvaraju et al. 2017, :func:`grad_cam`) by the class score's
    gradient.
    """
    import keras

    _check_model(model)
    image = _check_image(image)
    if path is not None:
        path = _check_out_path(path)
    layer = _default_layer(model) if layer is None else layer
    if not isinstance(layer, str):
        raise TypeError(f"layer must be a layer name (str), got {type(layer).__name__}")
    (layer,) = _check_layers(model, [layer], arg="layer")
    x = _model_input(model, image, preprocess)
    sub = _sub_model(model, model.get_layer(layer).output)
    fmap = np.asarray(keras.ops.convert_to_numpy(sub(x, training=False)), "float32")[0]
    heat = _normalise(fmap.sum(axis=-1))
    h, w = x.shape[1:3]
    heat = np.clip(_resize(heat, (h, w)), 0.0, 1.0).astype("float32")
    if path is not None:
        save_overlay(model_view(model, image, preprocess), heat, path,
                     title=f"{model.name}: sum of the {fmap.shape[-1]} channels of {layer} "
                           "(not CAM / Grad-CAM)")
    return heat


def _head_tensor(model, head):
    """The output tensor of ``head`` and whether it is a softmax (with its logits)."""
    outputs = model.output
    if isinstance(outputs, dict):
        if head not in outputs:
            raise ValueError(f"head must be one of {sorted(outputs)} for model {model.name!r}, "
                             f"got {head!r}")
        return outputs[head]
    if isinstance(outputs, (list, tuple)):
        raise ValueError(f"model {model.name!r} has a list of outputs; grad_cam needs a single "
                         "output or a dict of named heads")
    if head not in (MAIN, None):
        raise ValueError(f"head must be 'main' for the single-output model {model.name!r}, "
                         f"got {head!r}")
    return outputs


def _logits_of(tensor):
    """Pre-softmax scores for ``tensor`` where the graph has them (Grad-CAM uses the
    class score before the softmax), else the tensor itself."""
    import keras

    layer = getattr(getattr(tensor, "_keras_history", None), "operation", None)
    if isinstance(layer, keras.layers.Softmax) or (
            isinstance(layer, keras.layers.Activation)
            and getattr(layer.activation, "__name__", "") == "softmax"):
        return layer.input, None
    if isinstance(layer, keras.layers.Dense) and \
            getattr(layer.activation, "__name__", "") == "softmax":
        return layer.input, layer
    return tensor, None


def grad_cam(model, image, class_index=None, layer=None, head="main", path=None,
             preprocess=None):
    """Grad-CAM (Selvaraju et al. 2017): the heat map of where ``layer`` supports the
    score of ``class_index`` on ``head``. Returns float32 ``[h, w]`` in [0, 1] at the
    model's input size (aligned with :func:`model_view`).

    ``relu(sum_k alpha_k A_k)`` with ``A_k`` the channels of ``layer``'s output (default
    the last stage output) and ``alpha_k`` the spatial mean of the gradient of the
    class's pre-softmax score with respect to ``A_k``, normalised by its maximum
    (all zeros when nothing supports the class). ``class_index`` defaults to the
    head's top prediction. ``head`` picks the output of an aux model (``"main"``,
    ``"aux1"``, ...). ``path`` saves input / map / overlay as PNG.
    """
    import tensorflow as tf

    _check_model(model)
    image = _check_image(image)
    if path is not None:
        path = _check_out_path(path)
    out = _head_tensor(model, head)
    if len(out.shape) != 2:
        raise ValueError(f"head {head!r} of model {model.name!r} outputs shape {tuple(out.shape)}"
                         "; Grad-CAM needs class scores [N, classes] (build with include_top=True)")
    classes = int(out.shape[-1])
    if class_index is not None:
        if isinstance(class_index, bool) or not isinstance(class_index, (int, np.integer)):
            raise TypeError(f"class_index must be an int or None, got {type(class_index).__name__}")
        if not 0 <= int(class_index) < classes:
            raise ValueError(f"class_index must be in [0, {classes - 1}] (the model has "
                             f"{classes} classes), got {class_index}")
    layer = _default_layer(model) if layer is None else layer
    if not isinstance(layer, str):
        raise TypeError(f"layer must be a layer name (str), got {type(layer).__name__}")
    (layer,) = _check_layers(model, [layer], arg="layer")
    score_tensor, dense = _logits_of(out)
    grad_model = _sub_model(model, [model.get_layer(layer).output, score_tensor])
    x = tf.constant(_model_input(model, image, preprocess))
    with tf.GradientTape() as tape:
        fmap, scores = grad_model(x, training=False)
        fmap = tf.cast(fmap, tf.float32)
        tape.watch(fmap)
        scores = tf.cast(scores, tf.float32)
        if dense is not None:
            scores = tf.matmul(scores, tf.cast(dense.kernel, tf.float32))
            if dense.use_bias:
                scores = scores + tf.cast(dense.bias, tf.float32)
        if class_index is None:
            class_index = int(tf.argmax(scores[0]).numpy())
        score = scores[0, int(class_index)]
    grads = tape.gradient(score, fmap)
    if grads is None:
        raise ValueError(f"layer {layer!r} does not feed head {head!r}: no gradient path; "
                         "choose a layer before that head")
    weights = tf.reduce_mean(grads[0], axis=(0, 1))
    cam = tf.nn.relu(tf.reduce_sum(fmap[0] * weights, axis=-1)).numpy()
    top = float(cam.max())
    cam = cam / top if top > 0 and np.isfinite(top) else np.zeros_like(cam)
    h, w = x.shape[1:3]
    cam = np.clip(_resize(cam, (int(h), int(w))), 0.0, 1.0).astype("float32")
    if path is not None:
        save_overlay(model_view(model, image, preprocess), cam, path,
                     title=f"{model.name}: Grad-CAM of class {class_index} ({head}) at {layer}")
    return cam


# --------------------------------------------------------------------------- training curves


def _read_history(history_or_csv):
    import keras

    if isinstance(history_or_csv, keras.callbacks.History):
        data = dict(history_or_csv.history)
        epochs = list(getattr(history_or_csv, "epoch", []) or [])
    elif isinstance(history_or_csv, dict):
        data = dict(history_or_csv)
        epochs = list(data.pop("epoch", []))
    elif isinstance(history_or_csv, (str, os.PathLike)):
        csv_path = os.fspath(history_or_csv)
        if not os.path.isfile(csv_path):
            raise ValueError(f"history_or_csv: no such CSV file {csv_path!r}")
        with open(csv_path, newline="") as f:
            reader = csv.DictReader(f)
            fields = reader.fieldnames or []
            if "epoch" not in fields:
                raise ValueError(f"history_or_csv: CSV {csv_path!r} has no 'epoch' column "
                                 f"(columns: {fields}); write it with keras.callbacks.CSVLogger")
            rows = list(reader)
        epochs = [int(float(r["epoch"])) for r in rows]
        data = {}
        for k in fields:
            if k == "epoch":
                continue
            data[k] = [float(r[k]) if r[k] not in ("", None) else float("nan") for r in rows]
    else:
        raise TypeError("history_or_csv must be a keras History, a dict of lists or a CSV "
                        f"path, got {type(history_or_csv).__name__}")
    data = {k: [float(v) for v in np.ravel(np.asarray(vals, dtype="float64"))]
            for k, vals in data.items()}
    if not data or not any(len(v) for v in data.values()):
        raise ValueError("history_or_csv holds no metrics")
    n = max(len(v) for v in data.values())
    if len(epochs) != n:
        epochs = list(range(n))
    return epochs, data


_HEAD_RE = re.compile(r"^(main|aux\d*)_(.+)$")


def _panel_and_line(key):
    base = key[4:] if key.startswith("val_") else key
    split = "val" if key.startswith("val_") else "train"
    if base in ("learning_rate", "lr"):
        return "learning rate", base, split
    m = _HEAD_RE.match(base)
    head, metric = (m.group(1), m.group(2)) if m else ("all", base)
    if metric == "loss":
        return "loss", ("total" if head == "all" else head), split
    return metric, head, split


def plot_history(history_or_csv, path=None):
    """Plot training curves: one panel per quantity (loss, then each metric), a line per
    head (``main``, ``aux1``, ...; ``total`` for the weighted sum), solid for training,
    dashed for validation. Accepts a ``keras.callbacks.History``, its ``.history``
    dict, or a CSV path with an ``epoch`` column (``keras.callbacks.CSVLogger``).
    Returns the figure; ``path`` saves it as PNG."""
    if path is not None:
        path = _check_out_path(path)
    epochs, data = _read_history(history_or_csv)
    panels = {}
    for key, values in data.items():
        panel, line, split = _panel_and_line(key)
        panels.setdefault(panel, []).append((line, split, values))
    order = sorted(panels, key=lambda p: (p != "loss", p == "learning rate", p))
    cols = min(3, len(order))
    rows = math.ceil(len(order) / cols)
    fig = _figure(figsize=(4.2 * cols, 3.2 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    colours = {}
    palette = ["C0", "C1", "C2", "C3", "C4", "C5", "C6", "C7"]
    for ax, panel in zip(axes, order):
        for line, split, values in sorted(panels[panel], key=lambda t: (t[0], t[1] != "train")):
            colour = colours.setdefault(line, palette[len(colours) % len(palette)])
            xs = [epochs[i] + 1 if i < len(epochs) else i + 1 for i in range(len(values))]
            ax.plot(xs, values, color=colour, linestyle="-" if split == "train" else "--",
                    marker="o", markersize=3, label=f"{line} ({split})")
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in axes[len(order):]:
        ax.set_axis_off()
    if path is not None:
        _save(fig, path)
    return fig


# --------------------------------------------------------------------------- architecture


def _history_layer(tensor):
    return getattr(getattr(tensor, "_keras_history", None), "operation", None)


def _inputs_of(layer):
    inp = layer.input
    return list(inp) if isinstance(inp, (list, tuple)) else [inp]


def _describe(layer):
    """A short text for the layers a stage diagram shows; None for the others."""
    import keras

    from keras_cnns.layers import LocalResponseNormalization

    def ks(k):
        return f"{k[0]}x{k[1]}"

    if isinstance(layer, keras.layers.DepthwiseConv2D):
        s = layer.strides[0]
        return f"{ks(layer.kernel_size)}{'/' + str(s) if s > 1 else ''} depthwise conv"
    if isinstance(layer, keras.layers.Conv2D):
        s = layer.strides[0]
        g = f", {layer.groups} groups" if layer.groups > 1 else ""
        return f"{ks(layer.kernel_size)}{'/' + str(s) if s > 1 else ''} conv {layer.filters}{g}"
    if isinstance(layer, (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D)):
        kind = "max" if isinstance(layer, keras.layers.MaxPooling2D) else "avg"
        s = layer.strides[0]
        return f"{ks(layer.pool_size)}{'/' + str(s) if s > 1 else ''} {kind} pool"
    if isinstance(layer, (keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D)):
        kind = "max" if isinstance(layer, keras.layers.GlobalMaxPooling2D) else "avg"
        return f"global {kind} pool"
    if type(layer).__name__ == "AdaptiveAveragePooling2D":
        return "adaptive avg pool"
    if isinstance(layer, keras.layers.Dense):
        return f"fc {layer.units}"
    if isinstance(layer, LocalResponseNormalization):
        return "LRN"
    if isinstance(layer, keras.layers.Dropout) and layer.rate > 0:
        return f"dropout {layer.rate:g}"
    return None


def _run_length(texts):
    out = []
    for t in texts:
        if out and out[-1][0] == t:
            out[-1][1] += 1
        else:
            out.append([t, 1])
    return [t if n == 1 else f"{t} x{n}" for t, n in out]


_STAGE_RE = re.compile(r"^(conv\d+)_block(\d+)_")
_BLOCK_RE = re.compile(r"^(block\d+)_")


def _leaf_layers(model):
    import keras

    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model):
            yield from _leaf_layers(layer)
            continue
        yield layer


def architecture_items(model):
    """The stage diagram's boxes, read off a built model: a list of JSON-serialisable
    dicts with ``name``, ``kind`` (``layer``, ``module``, ``residual``, ``dense``,
    ``block``), ``lines`` (what is inside), ``branches`` (a module's parallel branches,
    each a list of layer texts, with ``shared`` texts before them), ``output_shape``,
    ``params``, ``macs`` and ``activations`` (summed over the box's layers).

    Grouping rules, from the layer names every family uses: ``convN_blockM_*`` layers
    form one box per stage (``residual`` blocks, or ``dense`` blocks when they end in
    ``_concat``); a concatenation ``X`` with layers named ``X_*`` is a ``module``
    (Inception modules, fire modules), its branches traced back from the concatenation;
    ``blockN_*`` layers form a ``block`` (VGG blocks, fractal blocks); other layers
    sharing the prefix before the first ``_`` and adjacent in the graph form one box.
    """
    import keras

    from keras_cnns.profiler import profile

    prof = {r.name: r for r in profile(model).layers}
    leaves = list(_leaf_layers(model))
    names = [layer.name for layer in leaves]
    modules = set()
    for layer in leaves:
        if isinstance(layer, keras.layers.Concatenate) and not _STAGE_RE.match(layer.name):
            prefix = layer.name + "_"
            if any(n.startswith(prefix) for n in names):
                modules.add(layer.name)

    def key_of(name):
        m = _STAGE_RE.match(name)
        if m:
            return ("stage", m.group(1))
        for mod in modules:
            if name == mod or name.startswith(mod + "_"):
                return ("module", mod)
        m = _BLOCK_RE.match(name)
        if m:
            return ("block", m.group(1))
        return ("group", name.split("_")[0])

    # Group by key over the whole graph (aux heads interleave with the trunk in
    # topological order), each group placed where its last layer is.
    members, last = {}, {}
    for index, layer in enumerate(leaves):
        key = key_of(layer.name)
        members.setdefault(key, []).append(layer)
        last[key] = index
    groups = [(key, members[key]) for key in sorted(members, key=last.get)]

    items = []
    for (kind, gname), group in groups:
        shape = prof[group[-1].name].output_shape
        item = {
            "name": gname, "kind": kind, "lines": [], "branches": [], "shared": [],
            "output_shape": [None if d is None else int(d) for d in shape[1:]],
            "params": int(sum(prof[layer.name].params for layer in group)),
            "macs": int(sum(prof[layer.name].macs for layer in group)),
            "activations": int(sum(prof[layer.name].activations for layer in group)),
            "layers": [layer.name for layer in group],
        }
        if kind == "stage":
            _describe_stage(item, group)
        elif kind == "module":
            _describe_module(item, group)
        else:
            texts = [t for t in (_describe(layer) for layer in group) if t]
            joins = sum(isinstance(layer, (keras.layers.Add, keras.layers.Average))
                        for layer in group)
            item["lines"] = _run_length(texts)
            if joins and kind == "block":
                item["lines"].append(f"{joins} joins")
            if kind == "group":
                item["kind"] = "layer"
        if item["lines"] or item["branches"]:
            items.append(item)
    return items


def _describe_stage(item, group):
    import keras

    blocks = {}
    for layer in group:
        m = _STAGE_RE.match(layer.name)
        blocks.setdefault(int(m.group(2)), []).append(layer)
    dense = any(layer.name.endswith("_concat") for layer in group)
    item["kind"] = "dense" if dense else "residual"
    item["blocks"] = len(blocks)
    first = blocks[min(blocks)]
    typical = blocks[min(blocks) + 1] if len(blocks) > 1 else first

    def body(layers_):
        return [t for t in (_describe(layer) for layer in layers_
                            if not re.search(r"_block\d+_0_conv$", layer.name)) if t]

    if dense:
        convs = [layer for layer in typical if isinstance(layer, keras.layers.Conv2D)]
        growth = convs[-1].filters if convs else 0
        item["lines"] = [f"{len(blocks)} x [{', '.join(body(typical))}]",
                         f"growth rate {growth}: {item['output_shape'][-1]} channels out"]
        return
    item["lines"] = [f"{len(blocks)} x [{', '.join(body(typical))}]"]
    shortcut = [layer for layer in first if re.search(r"_block\d+_0_conv$", layer.name)]
    if shortcut:
        item["lines"].append(f"block 1 shortcut: {_describe(shortcut[0])} projection")
    strided = [layer for layer in first if isinstance(layer, keras.layers.Conv2D)
               and layer.strides[0] > 1 and layer not in shortcut]
    if strided:
        item["lines"].append(f"block 1 strides on its {_describe(strided[0])}")


def _describe_module(item, group):
    concat = group[-1]
    for layer in group:
        if layer.name == item["name"]:
            concat = layer
    prefix = item["name"] + "_"
    chains = []
    for tensor in _inputs_of(concat):
        chain = []
        layer = _history_layer(tensor)
        while layer is not None and layer.name.startswith(prefix):
            chain.append(layer)
            inputs = _inputs_of(layer)
            layer = _history_layer(inputs[0]) if len(inputs) == 1 else None
        chains.append(list(reversed(chain)))
    shared_ids = set.intersection(*[set(id(layer) for layer in c) for c in chains]) \
        if len(chains) > 1 else set()
    item["shared"] = [t for t in (_describe(layer) for layer in chains[0]
                                  if id(layer) in shared_ids) if t]
    item["branches"] = []
    for chain, tensor in zip(chains, _inputs_of(concat)):
        texts = [t for t in (_describe(layer) for layer in chain if id(layer) not in shared_ids)
                 if t]
        item["branches"].append(texts or ["identity"])
    item["branch_widths"] = [int(t.shape[-1]) for t in _inputs_of(concat)]
    item["lines"] = [" | ".join(f"{w}" for w in item["branch_widths"])
                     + f" -> {item['output_shape'][-1]}"]


_COLOURS = {"layer": "#e8e8e8", "module": "#cfe2f3", "residual": "#d9ead3",
            "dense": "#fce5cd", "block": "#fff2cc"}


def _fmt_shape(shape):
    return "x".join("?" if d is None else str(d) for d in shape)


def _short(n):
    for unit, div in (("G", 1e9), ("M", 1e6), ("k", 1e3)):
        if n >= div:
            return f"{n / div:.3g}{unit}"
    return str(n)


def draw_architecture(items, title="", path=None):
    """Draw :func:`architecture_items` as a top-to-bottom stage diagram: one box per
    item (modules with a column per branch and its widths, residual and dense stages
    with their block counts), the output shape, parameters and multiply-adds on the
    right. Returns the figure; ``path`` saves it as PNG."""
    from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

    if path is not None:
        path = _check_out_path(path)
    line_h = 0.2

    def height(item):
        if item["kind"] == "module":
            depth = max(len(b) for b in item["branches"]) + (1 if item["shared"] else 0)
            return 0.32 + line_h * (depth + 0.6)
        return 0.3 + line_h * max(1, len(item["lines"]))

    heights = [height(it) for it in items]
    gap = 0.18
    total = sum(heights) + gap * max(0, len(items) - 1) + 0.5
    width = 9.0
    fig = _figure(figsize=(width, max(2.0, total + 0.3)))
    ax = fig.add_axes([0, 0, 1, 1])
    ax.set_xlim(0, width)
    ax.set_ylim(0, total + 0.3)
    ax.set_axis_off()
    if title:
        ax.text(0.15, total + 0.1, title, fontsize=10, fontweight="bold", va="top")
    y = total - 0.35
    box_x, box_w = 0.15, 6.2
    prev_bottom = None
    for item, h in zip(items, heights):
        top = y
        bottom = y - h
        if prev_bottom is not None:
            ax.add_patch(FancyArrowPatch((box_x + box_w / 2, prev_bottom),
                                         (box_x + box_w / 2, top), arrowstyle="-|>",
                                         mutation_scale=8, color="#555555", lw=0.8))
        ax.add_patch(FancyBboxPatch((box_x, bottom), box_w, h,
                                    boxstyle="round,pad=0,rounding_size=0.06",
                                    facecolor=_COLOURS.get(item["kind"], "#eeeeee"),
                                    edgecolor="#444444", lw=0.7))
        label = item["name"]
        if item["kind"] in ("residual", "dense"):
            label += f"  ({item['kind']}, {item.get('blocks', '?')} blocks)"
        ax.text(box_x + 0.08, top - 0.05, label, fontsize=7.5, fontweight="bold", va="top")
        if item["kind"] == "module":
            _draw_branches(ax, item, box_x, box_w, top - 0.27, line_h)
        else:
            for i, line in enumerate(item["lines"]):
                ax.text(box_x + 0.25, top - 0.27 - i * line_h, line, fontsize=7, va="top",
                        family="monospace")
        ax.text(box_x + box_w + 0.12, top - 0.05, _fmt_shape(item["output_shape"]),
                fontsize=7.5, va="top", family="monospace")
        ax.text(box_x + box_w + 0.12, top - 0.05 - line_h,
                f"{_short(item['params'])} params", fontsize=6.5, va="top", color="#333333")
        ax.text(box_x + box_w + 0.12, top - 0.05 - 2 * line_h,
                f"{_short(item['macs'])} MACs", fontsize=6.5, va="top", color="#333333")
        prev_bottom = bottom
        y = bottom - gap
    if path is not None:
        _save(fig, path)
    return fig


def _draw_branches(ax, item, box_x, box_w, top, line_h):
    from matplotlib.patches import Rectangle

    y = top
    if item["shared"]:
        ax.text(box_x + 0.25, y, "shared: " + ", ".join(item["shared"]), fontsize=6.5,
                va="top", family="monospace")
        y -= line_h
    n = len(item["branches"])
    inner_x, inner_w = box_x + 0.2, box_w - 0.4
    col_w = inner_w / n
    depth = max(len(b) for b in item["branches"])
    for j, (branch, width) in enumerate(zip(item["branches"], item.get("branch_widths", []))):
        x0 = inner_x + j * col_w
        ax.add_patch(Rectangle((x0 + 0.03, y - line_h * (depth + 0.4)), col_w - 0.06,
                               line_h * (depth + 0.4), facecolor="white", edgecolor="#7a9cc6",
                               lw=0.5))
        for i, text in enumerate(branch):
            ax.text(x0 + 0.08, y - 0.03 - i * line_h, text, fontsize=6.2, va="top",
                    family="monospace")
        ax.text(x0 + col_w - 0.08, y - 0.03 - (depth - 0.6) * line_h, f"-> {width}",
                fontsize=6.2, va="top", ha="right", color="#1f4e79")


def plot_architecture(name, path=None, **build_kwargs):
    """Draw the network's stage diagram (registry name, or a built model) with
    matplotlib: Inception and fire modules with their branch widths, residual stages
    with block counts, dense blocks with layer counts and growth rate, VGG and
    fractal blocks, from the registry entry and the built model at its default input.
    Returns the figure; ``path`` saves it as PNG."""
    import keras

    from keras_cnns import registry

    if path is not None:
        path = _check_out_path(path)
    if isinstance(name, keras.Model):
        model = name
        info = _registry_info(model)
    elif isinstance(name, str):
        info = registry.model_info(name)
        model = registry.build(name, **build_kwargs)
    else:
        raise TypeError(f"name must be a registry name or a keras.Model, got {type(name).__name__}")
    title = model.name
    if info is not None:
        title = f"{info.name}: {info.paper} ({info.year}), {info.layout}"
    return draw_architecture(architecture_items(model), title=title, path=path)
