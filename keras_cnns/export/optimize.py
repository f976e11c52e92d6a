"""``--optimize``: the inference graph with every BatchNormalization folded into the
convolution or dense layer right before it, and dropout dropped.

At inference a BatchNormalization is an affine map per channel,
``y = gamma * (x - mean) / sqrt(var + eps) + beta`` (Ioffe & Szegedy 2015, Alg. 2), so
after a linear layer ``x = W * u + b`` it folds into that layer:
``W' = W * s``, ``b' = (b - mean) * s + beta`` with ``s = gamma / sqrt(var + eps)``
over the output channels. Only a direct ``conv -> BN`` pair folds: a BN after a
concatenation, a pooling, an addition or an activation (DenseNet's and ResNet v2's
pre-activation BNs) is not affine in one layer's weights and stays as it is.

The result is a new functional model (the graph cloned layer by layer, weights copied)
made of Keras' own and the package's registered layers only, so it saves and loads with
``safe_mode=True``; the original model is not changed.
"""

from __future__ import annotations

import numpy as np

import keras

from keras_cnns.heads import inference_model

__all__ = ["optimize_model", "foldable_pairs"]

# The layers a following BN folds into, and where their output channels are.
_CONVS = (keras.layers.Conv1D, keras.layers.Conv2D, keras.layers.Conv3D)
_FOLDABLE = _CONVS + (keras.layers.DepthwiseConv2D, keras.layers.SeparableConv2D,
                      keras.layers.Dense)

# Identity at inference: dropped from the serving graph.
_INFERENCE_IDENTITY = (keras.layers.Dropout, keras.layers.SpatialDropout1D,
                       keras.layers.SpatialDropout2D, keras.layers.SpatialDropout3D,
                       keras.layers.GaussianDropout, keras.layers.GaussianNoise,
                       keras.layers.AlphaDropout, keras.layers.ActivityRegularization)


def _nodes(model):
    """The model's call nodes in execution order (inputs first)."""
    by_depth = model._nodes_by_depth
    return [n for d in sorted(by_depth, reverse=True) for n in by_depth[d]]


def _is_linear(layer):
    act = getattr(layer, "activation", None)
    return act is None or getattr(act, "__name__", "") == "linear"


def _can_fold(layer, bn, tensor):
    # Exact classes: a subclass may change what call() computes.
    if type(layer) not in _FOLDABLE or type(bn) is not keras.layers.BatchNormalization:
        return False
    if not _is_linear(layer) or getattr(layer, "data_format", "channels_last") != "channels_last":
        return False
    if getattr(layer, "lora_enabled", False) or getattr(layer, "quantization_mode", None):
        return False
    rank = len(tensor.shape)
    return int(bn.axis) % rank == rank - 1


def foldable_pairs(model):
    """``{id(layer): bn}`` for each BatchNormalization of ``model`` (a functional model)
    that folds into the layer before it: a conv / depthwise / separable / dense layer
    with no activation, each called once in the model, whose output feeds that BN
    alone and is not a model output."""
    nodes = _nodes(model)
    uses, consumers = {}, {}
    for node in nodes:
        if node.is_input:
            continue
        uses[id(node.operation)] = uses.get(id(node.operation), 0) + 1
        for t in node.input_tensors:
            consumers[id(t)] = consumers.get(id(t), 0) + 1
    outputs = {id(t) for t in model.outputs}
    pairs = {}
    for node in nodes:
        bn = node.operation
        if node.is_input or not isinstance(bn, keras.layers.BatchNormalization):
            continue
        if uses[id(bn)] != 1 or len(node.input_tensors) != 1:
            continue
        t = node.input_tensors[0]
        producer = t._keras_history.operation
        if (uses.get(id(producer)) == 1 and consumers[id(t)] == 1 and id(t) not in outputs
                and _can_fold(producer, bn, t)):
            pairs[id(producer)] = bn
    return pairs


def _folded_weights(layer, bn):
    """The weights of ``layer`` with ``bn`` folded in: kernel(s) and a bias."""
    weights = [np.asarray(w, np.float64) for w in layer.get_weights()]
    n_kernels = 2 if isinstance(layer, keras.layers.SeparableConv2D) else 1
    kernels, bias = weights[:n_kernels], weights[n_kernels:]
    mean = np.asarray(bn.moving_mean, np.float64)
    var = np.asarray(bn.moving_variance, np.float64)
    gamma = np.asarray(bn.gamma, np.float64) if bn.scale else np.ones_like(mean)
    beta = np.asarray(bn.beta, np.float64) if bn.center else np.zeros_like(mean)
    s = gamma / np.sqrt(var + float(bn.epsilon))
    k = kernels[-1]  # the separable conv's pointwise kernel
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        # kernel [kh, kw, in, multiplier]; output channel i * multiplier + m
        k = k * s.reshape(k.shape[-2], k.shape[-1])
    else:
        k = k * s  # output channels on the last axis
    b = bias[0] if bias else np.zeros_like(mean)
    dtype = layer.get_weights()[0].dtype
    return [w.astype(dtype) for w in kernels[:-1]] + [k.astype(dtype),
                                                      ((b - mean) * s + beta).astype(dtype)]


def _folded_layer(layer):
    config = layer.get_config()
    config.update(use_bias=True, bias_initializer="zeros")
    return type(layer).from_config(config)


def _clone(layer):
    return type(layer).from_config(layer.get_config())


def _rebuild(model, fold, drop):
    import keras_cnns.layers  # noqa: F401  (the package's layers, for from_config)

    if isinstance(model, keras.Sequential):
        model = keras.Model(model.inputs, model.outputs, name=model.name)
    pairs = foldable_pairs(model) if fold else {}
    folded_bns = {id(bn) for bn in pairs.values()}
    tensors, new_inputs = {}, []
    for t in model.inputs:
        source = t._keras_history.operation
        x = keras.Input(batch_shape=tuple(t.shape), dtype=t.dtype, name=source.name)
        tensors[id(t)] = x
        new_inputs.append(x)
    made = {}  # id(original layer) -> (new layer, weights to set or None once set)
    for node in _nodes(model):
        if node.is_input:
            continue
        op = node.operation
        args, kwargs = node.arguments.fill_in(tensors)
        if id(op) in folded_bns or (drop and isinstance(op, _INFERENCE_IDENTITY)):
            out = args[0]
        else:
            if id(op) not in made:
                if id(op) in pairs:
                    made[id(op)] = [_folded_layer(op), _folded_weights(op, pairs[id(op)])]
                elif isinstance(op, keras.Model) and hasattr(op, "_nodes_by_depth"):
                    made[id(op)] = [_rebuild(op, fold, drop), None]
                else:
                    made[id(op)] = [_clone(op), op.get_weights()]
            layer, weights = made[id(op)]
            out = layer(*args, **kwargs)
            if weights is not None:
                layer.set_weights(weights)
                made[id(op)][1] = None
        for x, y in zip(node.outputs, keras.tree.flatten(out)):
            tensors[id(x)] = y
    outputs = keras.tree.map_structure(lambda t: tensors[id(t)], model._outputs_struct)
    inputs = new_inputs[0] if len(new_inputs) == 1 else new_inputs
    return keras.Model(inputs, outputs, name=model.name)


def optimize_model(model, fold_batch_norm=True, drop_dropout=True):
    """The serving graph of ``model``: the main head only (aux heads dropped, see
    :func:`keras_cnns.inference_model`), each BatchNormalization folded into the
    convolution or dense layer right before it (see :func:`foldable_pairs`), and
    dropout-like layers (identity at inference) dropped.

    Returns a new functional model with the same name, input and output; at inference
    it computes the same function up to float rounding. ``model`` is not changed.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    main = inference_model(model)
    if not hasattr(main, "_nodes_by_depth") and not isinstance(main, keras.Sequential):
        raise ValueError(f"model {main.name!r} is a subclassed model; --optimize needs a "
                         "functional or Sequential model")
    return _rebuild(main, bool(fold_batch_norm), bool(drop_dropout))
