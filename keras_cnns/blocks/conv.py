"""conv(-bn)-activation and pooling with the original releases' rounding."""

import math

from keras import layers


def conv_bn_act(x, filters, kernel_size, strides=1, padding="same", *, name,
                batch_norm=False, bn_epsilon=1e-3, bn_scale=True, bn_momentum=0.99,
                use_bias=None,
                activation="relu", groups=1, kernel_initializer="glorot_uniform",
                bias_initializer="zeros", kernel_regularizer=None):
    """Convolution, optional BatchNorm, activation; the block's output layer is ``name``.

    Without BN the activation is fused into the convolution (one layer named ``name``,
    as in Caffe and keras.applications' VGG). With BN the layers are ``{name}_conv``,
    ``{name}_bn`` and the activation ``{name}``, so ``name`` is always the end point.
    ``padding`` is ``"same"``, ``"valid"`` or an int / pair of explicit zero padding.
    """
    if use_bias is None:
        use_bias = not batch_norm
    if not isinstance(padding, str):
        x = layers.ZeroPadding2D(padding, name=f"{name}_pad")(x)
        padding = "valid"
    conv_kwargs = dict(strides=strides, padding=padding, use_bias=use_bias, groups=groups,
                       kernel_initializer=kernel_initializer,
                       bias_initializer=bias_initializer,
                       kernel_regularizer=kernel_regularizer)
    if not batch_norm:
        return layers.Conv2D(filters, kernel_size, activation=activation, name=name,
                             **conv_kwargs)(x)
    x = layers.Conv2D(filters, kernel_size, name=f"{name}_conv", **conv_kwargs)(x)
    x = layers.BatchNormalization(epsilon=bn_epsilon, scale=bn_scale, momentum=bn_momentum,
                                  name=f"{name}_bn")(x)
    if activation is None:
        return x
    return layers.Activation(activation, name=name)(x)


def same_or_ceil_padding(size, pool_size, strides):
    """Bottom/right padding that makes a valid pool round up, as Caffe and torch's
    ``ceil_mode=True`` do: ``out = ceil((size - k) / s) + 1``, the last window starting
    inside the input. ``None`` sizes give ``None`` (fall back to TF's "same")."""
    if size is None:
        return None
    out = max(math.ceil((size - pool_size) / strides), 0) + 1
    if (out - 1) * strides >= size:  # the last window must start inside the input
        out -= 1
    return max((out - 1) * strides + pool_size - size, 0)


def conv_output_size(size, kernel, stride=1, padding="valid"):
    """Spatial size after a convolution with symmetric ``padding`` pixels (or "valid"),
    or ``None`` when the window does not fit (the layer cannot be built)."""
    pad = 0 if padding == "valid" else 2 * padding
    if size + pad < kernel:
        return None
    return (size + pad - kernel) // stride + 1


def pool_output_size(size, pool_size=3, strides=2, ceil_mode=True):
    """Spatial size after :func:`max_pool` (Caffe / torch ``ceil_mode`` or floor), or
    ``None`` when a floor-mode window does not fit."""
    if ceil_mode:
        return (size + same_or_ceil_padding(size, pool_size, strides) - pool_size) // strides + 1
    return None if size < pool_size else (size - pool_size) // strides + 1


def max_pool(x, pool_size=3, strides=2, *, name, ceil_mode=True):
    """Max pooling; ``ceil_mode`` reproduces Caffe / torch rounding at every input size.

    The extra row and column are zeros, which cannot change a max over non-negative
    inputs (every use here follows a ReLU). At 224 it gives what TF's "same" gives.
    """
    if not ceil_mode:
        return layers.MaxPooling2D(pool_size, strides, padding="valid", name=name)(x)
    h, w = x.shape[1], x.shape[2]
    pad_h = same_or_ceil_padding(h, pool_size, strides)
    pad_w = same_or_ceil_padding(w, pool_size, strides)
    if pad_h is None or pad_w is None:
        return layers.MaxPooling2D(pool_size, strides, padding="same", name=name)(x)
    if pad_h or pad_w:
        x = layers.ZeroPadding2D(((0, pad_h), (0, pad_w)), name=f"{name}_pad")(x)
    return layers.MaxPooling2D(pool_size, strides, padding="valid", name=name)(x)
