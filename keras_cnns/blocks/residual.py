"""Residual blocks (He et al. 2015 "Deep Residual Learning", Figure 5; He et al. 2016
"Identity Mappings", Figure 4e; Xie et al. 2016 "ResNeXt", Figure 3c; Zagoruyko &
Komodakis 2016 "Wide Residual Networks", Figure 1c-d).

Layer names follow keras.applications: ``{name}_0_conv`` / ``{name}_0_bn`` (projection
shortcut), ``{name}_1_conv`` ... ``{name}_3_bn`` (branch), ``{name}_add`` and
``{name}_out``; so a block-built network is weight-compatible with keras.applications
when the layout is the same. ``survival_probability`` replaces the add with
:class:`~keras_cnns.layers.StochasticDepth` (same name, no weights).
"""

from keras import layers

from keras_cnns.layers.stochastic_depth import StochasticDepth


def residual_add(shortcut, residual, *, name, survival_probability=None):
    """``shortcut + residual``; a :class:`StochasticDepth` add when a survival
    probability is given (Huang et al. 2016)."""
    if survival_probability is None:
        return layers.Add(name=name)([shortcut, residual])
    return StochasticDepth(survival_probability, name=name)([shortcut, residual])


def _conv(x, filters, kernel_size, strides=1, *, name, use_bias, kernel_initializer,
          groups=1, explicit_pad=False):
    """A kxk convolution with torch's symmetric padding ``(k - 1) // 2``. TF "same" pads
    (0, 1) at stride 2 on even sizes, so strided (or ``explicit_pad``) convolutions get
    an explicit ``{name}_pad`` layer instead; the output shapes are the papers' either way."""
    if kernel_size > 1 and (strides > 1 or explicit_pad):
        x = layers.ZeroPadding2D((kernel_size - 1) // 2, name=name.replace("_conv", "_pad"))(x)
        padding = "valid"
    else:
        padding = "same"
    return layers.Conv2D(filters, kernel_size, strides=strides, padding=padding,
                         use_bias=use_bias, groups=groups,
                         kernel_initializer=kernel_initializer, name=name)(x)


def _bn(x, name, epsilon):
    return layers.BatchNormalization(axis=-1, epsilon=epsilon, name=name)(x)


def basic_block(x, filters, *, stride=1, name, use_bias=True, bn_epsilon=1.001e-5,
                kernel_initializer="he_normal", survival_probability=None,
                conv_shortcut=None):
    """Two 3x3 convolutions (ResNet-18/34, He et al. 2015 Figure 5 left).

    The projection shortcut (option B, 1x1 conv + BN) is used where the shape changes.
    """
    if conv_shortcut is None:
        conv_shortcut = stride != 1 or x.shape[-1] != filters
    if conv_shortcut:
        shortcut = _conv(x, filters, 1, stride, name=f"{name}_0_conv", use_bias=use_bias,
                         kernel_initializer=kernel_initializer)
        shortcut = _bn(shortcut, f"{name}_0_bn", bn_epsilon)
    else:
        shortcut = x
    y = _conv(x, filters, 3, stride, name=f"{name}_1_conv", use_bias=use_bias,
              kernel_initializer=kernel_initializer)
    y = _bn(y, f"{name}_1_bn", bn_epsilon)
    y = layers.Activation("relu", name=f"{name}_1_relu")(y)
    y = _conv(y, filters, 3, 1, name=f"{name}_2_conv", use_bias=use_bias,
              kernel_initializer=kernel_initializer)
    y = _bn(y, f"{name}_2_bn", bn_epsilon)
    y = residual_add(shortcut, y, name=f"{name}_add", survival_probability=survival_probability)
    return layers.Activation("relu", name=f"{name}_out")(y)


def bottleneck_block(x, filters, *, stride=1, name, expansion=4, width=None, groups=1,
                     stride_on="first", use_bias=True, bn_epsilon=1.001e-5,
                     kernel_initializer="he_normal", survival_probability=None,
                     conv_shortcut=None):
    """1x1 reduce -> 3x3 -> 1x1 expand to ``expansion * filters`` (He et al. 2015 Figure 5
    right).

    ``stride_on="first"`` strides the first 1x1 (the paper and keras.applications);
    ``"middle"`` strides the 3x3 (torchvision's "ResNet v1.5", ResNeXt, WRN-50-2).
    ``width`` (default ``filters``) and ``groups`` make the ResNeXt block (Figure 3c:
    a grouped 3x3 of ``groups`` paths) and the wide bottleneck.
    """
    out_channels = expansion * filters
    width = width or filters
    if stride_on not in ("first", "middle"):
        raise ValueError(f"stride_on must be 'first' or 'middle', got {stride_on!r}")
    if conv_shortcut is None:
        conv_shortcut = stride != 1 or x.shape[-1] != out_channels
    if conv_shortcut:
        shortcut = _conv(x, out_channels, 1, stride, name=f"{name}_0_conv", use_bias=use_bias,
                         kernel_initializer=kernel_initializer)
        shortcut = _bn(shortcut, f"{name}_0_bn", bn_epsilon)
    else:
        shortcut = x
    s1, s3 = (stride, 1) if stride_on == "first" else (1, stride)
    y = _conv(x, width, 1, s1, name=f"{name}_1_conv", use_bias=use_bias,
              kernel_initializer=kernel_initializer)
    y = _bn(y, f"{name}_1_bn", bn_epsilon)
    y = layers.Activation("relu", name=f"{name}_1_relu")(y)
    y = _conv(y, width, 3, s3, name=f"{name}_2_conv", use_bias=use_bias, groups=groups,
              kernel_initializer=kernel_initializer)
    y = _bn(y, f"{name}_2_bn", bn_epsilon)
    y = layers.Activation("relu", name=f"{name}_2_relu")(y)
    y = _conv(y, out_channels, 1, 1, name=f"{name}_3_conv", use_bias=use_bias,
              kernel_initializer=kernel_initializer)
    y = _bn(y, f"{name}_3_bn", bn_epsilon)
    y = residual_add(shortcut, y, name=f"{name}_add", survival_probability=survival_probability)
    return layers.Activation("relu", name=f"{name}_out")(y)


def preact_bottleneck_block(x, filters, *, stride=1, name, expansion=4, bn_epsilon=1.001e-5,
                            kernel_initializer="he_normal", survival_probability=None,
                            conv_shortcut=None):
    """Pre-activation bottleneck (He et al. 2016 "Identity Mappings", Figure 4e), in
    keras.applications' ResNetV2 layout: BN-ReLU shared by branch and projection, bias-free
    first two convolutions, the stride on the 3x3 (explicitly padded), a 1x1 max pool
    "shortcut" where a stride meets an identity shortcut. The block ends at the add
    (``{name}_out``), with no activation.
    """
    out_channels = expansion * filters
    if conv_shortcut is None:
        conv_shortcut = x.shape[-1] != out_channels
    preact = _bn(x, f"{name}_preact_bn", bn_epsilon)
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)
    if conv_shortcut:
        shortcut = _conv(preact, out_channels, 1, stride, name=f"{name}_0_conv", use_bias=True,
                         kernel_initializer=kernel_initializer)
    elif stride > 1:
        shortcut = layers.MaxPooling2D(1, strides=stride, name=f"{name}_0_pool")(x)
    else:
        shortcut = x
    y = _conv(preact, filters, 1, 1, name=f"{name}_1_conv", use_bias=False,
              kernel_initializer=kernel_initializer)
    y = _bn(y, f"{name}_1_bn", bn_epsilon)
    y = layers.Activation("relu", name=f"{name}_1_relu")(y)
    y = _conv(y, filters, 3, stride, name=f"{name}_2_conv", use_bias=False, explicit_pad=True,
              kernel_initializer=kernel_initializer)
    y = _bn(y, f"{name}_2_bn", bn_epsilon)
    y = layers.Activation("relu", name=f"{name}_2_relu")(y)
    y = _conv(y, out_channels, 1, 1, name=f"{name}_3_conv", use_bias=True,
              kernel_initializer=kernel_initializer)
    return residual_add(shortcut, y, name=f"{name}_out",
                        survival_probability=survival_probability)


def preact_basic_block(x, filters, *, stride=1, name, dropout=0.0, use_bias=False,
                       bn_epsilon=1e-5, kernel_initializer="he_normal",
                       survival_probability=None, conv_shortcut=None):
    """Wide-ResNet block B(3,3) (Zagoruyko & Komodakis 2016, Figure 1c/d): BN-ReLU-conv3x3
    -BN-ReLU-[dropout]-conv3x3, pre-activation. Where the shape changes, the 1x1 projection
    reads the pre-activated input (as the authors' code does). Bias-free convolutions.
    """
    if conv_shortcut is None:
        conv_shortcut = stride != 1 or x.shape[-1] != filters
    preact = _bn(x, f"{name}_preact_bn", bn_epsilon)
    preact = layers.Activation("relu", name=f"{name}_preact_relu")(preact)
    if conv_shortcut:
        shortcut = _conv(preact, filters, 1, stride, name=f"{name}_0_conv", use_bias=use_bias,
                         kernel_initializer=kernel_initializer)
    else:
        shortcut = x
    y = _conv(preact, filters, 3, stride, name=f"{name}_1_conv", use_bias=use_bias,
              kernel_initializer=kernel_initializer)
    y = _bn(y, f"{name}_1_bn", bn_epsilon)
    y = layers.Activation("relu", name=f"{name}_1_relu")(y)
    if dropout:
        y = layers.Dropout(dropout, name=f"{name}_dropout")(y)
    y = _conv(y, filters, 3, 1, name=f"{name}_2_conv", use_bias=use_bias,
              kernel_initializer=kernel_initializer)
    return residual_add(shortcut, y, name=f"{name}_out",
                        survival_probability=survival_probability)
