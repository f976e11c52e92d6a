"""Grad-CAM (Selvaraju et al. 2017): where a layer supports one class's score."""

from __future__ import annotations

import numpy as np

from keras_cnns.visualize._common import (MAIN, _check_image, _check_layers, _check_model,
                                          _check_out_path, _default_layer, _model_input,
                                          _resize, _sub_model, _title_note)
from keras_cnns.visualize.maps import model_view, save_overlay

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
                     title=f"{model.name}{_title_note(model)}: Grad-CAM of class {class_index} ({head}) at {layer}")
    return cam
