"""SqueezeNet's fire module (Iandola et al. 2016, section 3.2 and Fig. 1)."""

from keras import layers

from keras_cnns.validation import check_positive_int


def fire(x, squeeze, expand1x1, expand3x3, *, name, kernel_initializer="he_uniform",
         bias_initializer="zeros", activation="relu"):
    """Squeeze 1x1 (``squeeze`` filters) -> ReLU, then expand with ``expand1x1`` 1x1 and
    ``expand3x3`` 3x3 (pad 1) filters, each -> ReLU, concatenated 1x1 first (torchvision
    and Caffe order). Layers ``{name}_squeeze``, ``{name}_expand1x1``,
    ``{name}_expand3x3``; the concatenation is ``name`` (the end point).
    Section 3.1 strategy 2: ``squeeze`` < ``expand1x1 + expand3x3`` cuts the 3x3 fan-in.
    """
    squeeze = check_positive_int(f"{name} squeeze", squeeze)
    expand1x1 = check_positive_int(f"{name} expand1x1", expand1x1)
    expand3x3 = check_positive_int(f"{name} expand3x3", expand3x3)
    kwargs = dict(activation=activation, kernel_initializer=kernel_initializer,
                  bias_initializer=bias_initializer)
    s = layers.Conv2D(squeeze, 1, name=f"{name}_squeeze", **kwargs)(x)
    e1 = layers.Conv2D(expand1x1, 1, name=f"{name}_expand1x1", **kwargs)(s)
    e3 = layers.Conv2D(expand3x3, 3, padding="same", name=f"{name}_expand3x3", **kwargs)(s)
    return layers.Concatenate(axis=-1, name=name)([e1, e3])
