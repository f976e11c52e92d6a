"""Feature maps, the channel-sum heat map, and the overlay of a heat map on its picture."""

from __future__ import annotations

import math

import numpy as np

from keras_cnns.visualize._common import (_check_image, _check_layers, _check_model,
                                          _check_out_path, _default_layer, _figure,
                                          _model_input, _normalise, _pipelines, _resize,
                                          _save, _sub_model, _title_note)

def model_view(model, image, preprocess=None):
    """The uint8 ``[h, w, 3]`` crop of ``image`` the model sees (heat maps align with it)."""
    _check_model(model)
    image = _check_image(image)
    _, view = _pipelines(model, preprocess)
    out = np.asarray(view(image[None])[0])
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


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
    if _title_note(model):
        fig.suptitle(f"{model.name}{_title_note(model)}", fontsize=10)
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
                     title=f"{model.name}{_title_note(model)}: sum of the {fmap.shape[-1]} "
                           f"channels of {layer} "
                           "(not CAM / Grad-CAM)")
    return heat
