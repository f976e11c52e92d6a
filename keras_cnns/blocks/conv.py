"""conv(-bn)-activation and pooling with the original releases' rounding."""

from keras import layers

from keras_cnns.blocks.rows import (ceil_padding, conv_output_size, pool_output_size,  # noqa: F401
                                    same_or_ceil_padding)
from keras_cnns.layers import CeilModePooling2D


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


def max_pool(x, pool_size=3, strides=2, *, name, ceil_mode=True):
    """Max pooling; ``ceil_mode`` reproduces Caffe / torch rounding at every input size.

    With a known input size, the extra rows and columns are an explicit ``{name}_pad``
    (zeros, which cannot change a max over non-negative inputs: every use here follows
    a ReLU) before a valid pool; at 224 that gives what TF's "same" gives. With an
    unknown size (``input_shape=(None, None, 3)``), one
    :class:`~keras_cnns.layers.CeilModePooling2D` named ``name`` works the padding out
    from the runtime shape: the same grid, never TF's "same" one (which differs at odd
    sides: 250x300 gives torchvision GoogLeNet an 8x9 last grid, "same" 8x10).
    """
    if not ceil_mode:
        return layers.MaxPooling2D(pool_size, strides, padding="valid", name=name)(x)
    h, w = x.shape[1], x.shape[2]
    pad_h = same_or_ceil_padding(h, pool_size, strides)
    pad_w = same_or_ceil_padding(w, pool_size, strides)
    if pad_h is None or pad_w is None:
        return CeilModePooling2D(pool_size, strides, "max", name=name)(x)
    if pad_h or pad_w:
        x = layers.ZeroPadding2D(((0, pad_h), (0, pad_w)), name=f"{name}_pad")(x)
    return layers.MaxPooling2D(pool_size, strides, padding="valid", name=name)(x)


def _same_is_ceil(size, pool_size, strides):
    """Whether TF's "same" padding gives the ceil-mode windows on an axis of ``size``:
    the same count, and at most one padded cell, after the input (TF puts the odd one
    there), which an average pool leaves out of the mean as Caffe does."""
    out = -(-size // strides)
    total = max((out - 1) * strides + pool_size - size, 0)
    return out == pool_output_size(size, pool_size, strides, padding="ceil") and total <= 1


def pool(x, row):
    """A :class:`~keras_cnns.blocks.rows.Pool` row as layers (its name is the end point).

    Ceil-mode max pools go through :func:`max_pool`. A ceil-mode average pool clips its
    windows to the input and averages what they cover (Caffe). With a known size that
    is a Keras pool: "valid" where no window overhangs, TF's "same" where it gives the
    same windows on both axes (the 3x3/2 pools the papers use, at even sides); otherwise,
    and whenever the size is unknown, a :class:`~keras_cnns.layers.CeilModePooling2D`.
    """
    if row.kind == "max" and row.padding == "ceil":
        return max_pool(x, row.size, row.stride, name=row.name, ceil_mode=True)
    cls = layers.MaxPooling2D if row.kind == "max" else layers.AveragePooling2D
    padding = row.padding
    if not isinstance(padding, str):  # explicit zero padding (an int), then valid windows
        x = layers.ZeroPadding2D(padding, name=f"{row.name}_pad")(x)
        padding = "valid"
    if padding == "ceil":
        sides = (x.shape[1], x.shape[2])
        if any(n is None for n in sides):
            return CeilModePooling2D(row.size, row.stride, row.kind, name=row.name)(x)
        if not any(ceil_padding(n, row.size, row.stride) for n in sides):
            padding = "valid"
        elif all(_same_is_ceil(n, row.size, row.stride) for n in sides):
            padding = "same"
        else:
            return CeilModePooling2D(row.size, row.stride, row.kind, name=row.name)(x)
    return cls(row.size, row.stride, padding=padding, name=row.name)(x)
