"""Weight decay as the papers meant it, and Keras' decoupled form.

The papers (Caffe, cuda-convnet, TF-Slim) add ``wd * W`` to the gradient of every
weight matrix: the loss gains ``0.5 * wd * ||W||^2`` per convolution / dense kernel;
biases and BatchNormalization parameters are not decayed (Caffe's ``decay_mult: 0`` on
biases; Slim's ``weights_regularizer`` only). :func:`apply_l2_weight_decay` does exactly
that by giving each kernel a ``keras.regularizers.L2(0.5 * wd)``: the term is in
``model.losses``, Keras adds it to the loss once per kernel, and it is part of the layer
config, so it survives ``.keras`` save / load (``safe_mode=True``).

Keras 3 optimisers' ``weight_decay=`` is *decoupled* (Loshchilov & Hutter):
``W <- W - lr * wd * W`` after the update, outside the gradient, so momentum never sees
it and it scales with the learning rate, not ``1 / (1 - momentum)``. With SGD momentum
0.9 the coupled L2 term is in effect ~10x stronger. :func:`decoupled_weight_decay`
offers that form by name (``weight_decay_mode="decoupled"``), restricted to kernels too.
"""

from __future__ import annotations

import keras

from keras_cnns.metadata import WEIGHT_DECAY_MODES

__all__ = ["KERNEL_ATTRIBUTES", "kernel_variables", "apply_l2_weight_decay",
           "l2_penalty", "decoupled_weight_decay", "WEIGHT_DECAY_MODES"]

# (weight attribute, constructor / config attribute) pairs that hold a weight matrix.
KERNEL_ATTRIBUTES = (("kernel", "kernel_regularizer"),
                     ("depthwise_kernel", "depthwise_regularizer"),
                     ("pointwise_kernel", "pointwise_regularizer"),
                     ("embeddings", "embeddings_regularizer"))


def _layers(model):
    seen = set()
    for layer in model._flatten_layers(include_self=False, recursive=True):
        if id(layer) not in seen:
            seen.add(id(layer))
            yield layer


def kernel_variables(model):
    """``[(layer, attribute, variable)]`` for every weight matrix of ``model`` (each
    variable once): conv / dense / depthwise / pointwise kernels; never biases, BN
    gamma / beta / moving statistics."""
    out, seen = [], set()
    for layer in _layers(model):
        for attr, _ in KERNEL_ATTRIBUTES:
            var = getattr(layer, "_" + attr, None) if attr == "kernel" else None
            var = var if var is not None else getattr(layer, attr, None)
            if isinstance(var, keras.Variable) and id(var) not in seen and var.trainable:
                seen.add(id(var))
                out.append((layer, attr, var))
    return out


def apply_l2_weight_decay(model, weight_decay):
    """Give every kernel of ``model`` the papers' weight decay ``wd``: an
    ``L2(0.5 * wd)`` regulariser (gradient ``wd * W``). Replaces any kernel regulariser
    the layers had; ``weight_decay=0`` removes them. Returns the number of kernels.

    Works on a built model: both the variable's regulariser (what ``model.losses``
    reads) and the layer attribute (what ``get_config`` serialises) are set.
    """
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)) \
            or weight_decay < 0:
        raise ValueError(f"weight_decay must be a float >= 0, got {weight_decay!r}")
    reg = keras.regularizers.L2(0.5 * float(weight_decay)) if weight_decay else None
    count = 0
    for layer, attr, var in kernel_variables(model):
        config_attr = dict(KERNEL_ATTRIBUTES)[attr]
        setattr(layer, config_attr, reg)
        var.regularizer = reg
        count += 1
    return count


def l2_penalty(model, weight_decay):
    """``0.5 * wd * sum ||W||^2`` over the kernels, by hand (for checks)."""
    import numpy as np

    return 0.5 * float(weight_decay) * sum(float(np.sum(np.square(np.asarray(v))))
                                           for _, _, v in kernel_variables(model))


def decoupled_weight_decay(optimizer, model, weight_decay):
    """Switch ``optimizer`` to Keras' decoupled decay ``wd`` on the kernels only (its
    default would decay every variable, biases and BN included)."""
    optimizer.weight_decay = float(weight_decay)
    kernels = {id(v) for _, _, v in kernel_variables(model)}
    others = [v for v in model.trainable_variables if id(v) not in kernels]
    if others:
        optimizer.exclude_from_weight_decay(var_list=others)
    return optimizer
