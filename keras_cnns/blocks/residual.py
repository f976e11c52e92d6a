"""The residual block: one function for the basic and bottleneck blocks (He et al. 2015
"Deep Residual Learning", Figure 5), the pre-activation block (He et al. 2016 "Identity
Mappings", Figure 4e), the grouped block (Xie et al. 2016 "ResNeXt", Figure 3c) and the
wide block with dropout (Zagoruyko & Komodakis 2016 "Wide Residual Networks", Figure
1c-d). What varies is data: the branch's ``(kernel, filters)`` rows and ``groups`` (a
:class:`~keras_cnns.blocks.rows.ResidualStage`), and the wiring of the release
(a :class:`~keras_cnns.blocks.rows.ResidualLayout`).

Layer names follow keras.applications: ``{name}_0_conv`` / ``{name}_0_bn`` (projection
shortcut) or ``{name}_0_pool`` (subsampled identity), ``{name}_preact_bn`` /
``{name}_preact_relu``, ``{name}_1_conv`` ... ``{name}_3_bn`` (branch, with
``{name}_i_pad`` where padded explicitly), ``{name}_add`` and ``{name}_out``; so a
block-built network is weight-compatible with keras.applications when the layout is the
same. ``survival_probability`` replaces the add with
:class:`~keras_cnns.layers.StochasticDepth` (same name, no weights).
"""

from keras import layers

from keras_cnns.blocks.rows import ResidualLayout
from keras_cnns.layers.stochastic_depth import StochasticDepth
from keras_cnns.validation import check_choice

__all__ = ["residual_block", "residual_shortcut", "conv_unit", "bn_relu", "residual_add",
           "basic_block", "bottleneck_block", "preact_bottleneck_block", "preact_basic_block"]


def residual_add(shortcut, residual, *, name, survival_probability=None):
    """``shortcut + residual``; a :class:`StochasticDepth` add when a survival
    probability is given (Huang et al. 2016)."""
    if survival_probability is None:
        return layers.Add(name=name)([shortcut, residual])
    return StochasticDepth(survival_probability, name=name)([shortcut, residual])


def bn_relu(x, name, layout):
    """BN then ReLU: ``{name}_bn``, ``{name}_relu``."""
    x = layers.BatchNormalization(axis=-1, epsilon=layout.bn_epsilon, name=f"{name}_bn")(x)
    return layers.Activation("relu", name=f"{name}_relu")(x)


def conv_unit(x, filters, kernel, stride=1, *, name, layout, padding="same", groups=1,
              normalise=True, activate=True, kernel_initializer="he_normal"):
    """``{name}_pad`` (for an int ``padding``: explicit symmetric zeros, as torch and
    Caffe pad; TF's "same" pads (0, 1) at stride 2 on even sizes), ``{name}_conv``, then
    ``{name}_bn`` if ``normalise`` and ``{name}_relu`` if ``activate``. The conv's bias
    is the layout's (:meth:`ResidualLayout.use_bias`)."""
    if not isinstance(padding, str):
        x = layers.ZeroPadding2D(padding, name=f"{name}_pad")(x)
        padding = "valid"
    x = layers.Conv2D(filters, kernel, strides=stride, padding=padding, groups=groups,
                      use_bias=layout.use_bias(normalise),
                      kernel_initializer=kernel_initializer, name=f"{name}_conv")(x)
    if normalise:
        x = layers.BatchNormalization(axis=-1, epsilon=layout.bn_epsilon, name=f"{name}_bn")(x)
    if activate:
        x = layers.Activation("relu", name=f"{name}_relu")(x)
    return x


def residual_shortcut(x, branch_input, out_channels, stride=1, *, name, layout,
                      projection=None, kernel_initializer="he_normal"):
    """The one shortcut (He et al. 2015 section 3.3). Where the block changes the
    channels or the grid, the layout's ``widen`` / ``subsample`` decide: a 1x1 projection
    (option B; strided with the block; BN after it unless pre-activated) reading
    ``branch_input`` (the pre-activated input of a pre-activation block, as keras.applications
    and the WRN authors' code do), or the identity ``x`` subsampled by a 1x1/s max pool
    (``{name}_0_pool``) and zero-padded to ``out_channels`` (option A, ``{name}_0_pad``).
    ``projection`` (a bool) overrides the layout's choice."""
    widen = x.shape[-1] != out_channels
    if projection is None:
        projection = ((widen and layout.widen == "projection")
                      or (stride > 1 and layout.subsample == "projection"))
    if projection:
        return conv_unit(branch_input, out_channels, 1, stride, name=f"{name}_0",
                         layout=layout, normalise=not layout.preact, activate=False,
                         kernel_initializer=kernel_initializer)
    if stride > 1:
        x = layers.MaxPooling2D(1, strides=stride, name=f"{name}_0_pool")(x)
    if widen:
        extra = out_channels - x.shape[-1]
        if extra < 0:
            raise ValueError(f"{name}: a parameter-free shortcut cannot drop channels "
                             f"({x.shape[-1]} -> {out_channels}); use a projection")
        # Zeros after the channels: read channels-last as channels-first, the padded
        # "width" axis is the channel axis (a plain Keras layer, no Lambda).
        x = layers.ZeroPadding2D(((0, 0), (0, extra)), data_format="channels_first",
                                 name=f"{name}_0_pad")(x)
    return x


def residual_block(x, convs, *, stride=1, groups=1, name, layout=ResidualLayout(),
                   dropout=0.0, kernel_initializer="he_normal", survival_probability=None,
                   projection=None):
    """One residual block: the branch ``convs`` (``(kernel, filters)`` rows, e.g.
    ``((1, 64), (3, 64), (1, 256))`` for Figure 5's bottleneck) added to the shortcut.

    - ``layout.preact`` False (He et al. 2015): conv-BN-ReLU per row, no ReLU after the
      last BN, ``{name}_add``, then ReLU ``{name}_out``. True (He et al. 2016, WRN):
      BN-ReLU on the input (``{name}_preact``), then conv-BN-ReLU per row with the last
      row a bare convolution; the add is the output, ``{name}_out``.
    - ``stride`` sits on the first row or the first kxk row (``layout.stride_on``);
      ``groups`` splits the kxk rows into paths (ResNeXt, Figure 3c).
    - ``dropout`` (> 0) sits before the last row (WRN section 2.4: between the convolutions).
    - The shortcut is :func:`residual_shortcut`; ``projection`` overrides its choice.
    """
    out_channels = convs[-1][1]
    branch = bn_relu(x, f"{name}_preact", layout) if layout.preact else x
    shortcut = residual_shortcut(x, branch, out_channels, stride, name=name, layout=layout,
                                 projection=projection, kernel_initializer=kernel_initializer)
    strided = 0 if layout.stride_on == "first" else \
        next((i for i, (k, _) in enumerate(convs) if k > 1), 0)
    y = branch
    for i, (kernel, filters) in enumerate(convs):
        last = i == len(convs) - 1
        s = stride if i == strided else 1
        if last and dropout:
            y = layers.Dropout(dropout, name=f"{name}_dropout")(y)
        explicit = kernel > 1 and (s > 1 or layout.pad == "all")
        y = conv_unit(y, filters, kernel, s, name=f"{name}_{i + 1}", layout=layout,
                      padding=(kernel - 1) // 2 if explicit else "same",
                      groups=groups if kernel > 1 else 1,
                      normalise=not (last and layout.preact), activate=not last,
                      kernel_initializer=kernel_initializer)
    if layout.preact:
        return residual_add(shortcut, y, name=f"{name}_out",
                            survival_probability=survival_probability)
    y = residual_add(shortcut, y, name=f"{name}_add", survival_probability=survival_probability)
    return layers.Activation("relu", name=f"{name}_out")(y)


# --------------------------------------------------------------------------- named forms
# The four blocks by their figures' names, as this module exported them before the one
# block: each is residual_block with its rows and layout.

def basic_block(x, filters, *, stride=1, name, use_bias=True, bn_epsilon=1.001e-5,
                kernel_initializer="he_normal", survival_probability=None,
                conv_shortcut=None):
    """Two 3x3 convolutions (ResNet-18/34, He et al. 2015 Figure 5 left); the projection
    shortcut (option B) where the shape changes."""
    return residual_block(x, ((3, filters), (3, filters)), stride=stride, name=name,
                          layout=ResidualLayout(bias=use_bias, bn_epsilon=bn_epsilon),
                          kernel_initializer=kernel_initializer,
                          survival_probability=survival_probability, projection=conv_shortcut)


def bottleneck_block(x, filters, *, stride=1, name, expansion=4, width=None, groups=1,
                     stride_on="first", use_bias=True, bn_epsilon=1.001e-5,
                     kernel_initializer="he_normal", survival_probability=None,
                     conv_shortcut=None):
    """1x1 reduce -> 3x3 -> 1x1 expand to ``expansion * filters`` (He et al. 2015 Figure 5
    right). ``stride_on="first"`` strides the first 1x1 (the paper, keras.applications),
    ``"middle"`` the 3x3 (torchvision's "ResNet v1.5"); ``width`` (default ``filters``)
    and ``groups`` make the ResNeXt (Figure 3c) and wide bottlenecks."""
    check_choice("stride_on", stride_on, ("first", "middle"))
    width = width or filters
    layout = ResidualLayout(bias=use_bias, bn_epsilon=bn_epsilon,
                            stride_on="first" if stride_on == "first" else "spatial")
    return residual_block(x, ((1, width), (3, width), (1, expansion * filters)),
                          stride=stride, groups=groups, name=name, layout=layout,
                          kernel_initializer=kernel_initializer,
                          survival_probability=survival_probability, projection=conv_shortcut)


def preact_bottleneck_block(x, filters, *, stride=1, name, expansion=4, bn_epsilon=1.001e-5,
                            kernel_initializer="he_normal", survival_probability=None,
                            conv_shortcut=None):
    """Pre-activation bottleneck (He et al. 2016 Figure 4e) in keras.applications'
    ResNetV2 layout: biases only where no BN follows, the stride on the (always padded)
    3x3, a 1x1 max pool shortcut where a stride meets an identity shortcut."""
    layout = ResidualLayout(preact=True, bias="unnormalised", bn_epsilon=bn_epsilon,
                            stride_on="spatial", pad="all", subsample="pool")
    return residual_block(x, ((1, filters), (3, filters), (1, expansion * filters)),
                          stride=stride, name=name, layout=layout,
                          kernel_initializer=kernel_initializer,
                          survival_probability=survival_probability, projection=conv_shortcut)


def preact_basic_block(x, filters, *, stride=1, name, dropout=0.0, use_bias=False,
                       bn_epsilon=1e-5, kernel_initializer="he_normal",
                       survival_probability=None, conv_shortcut=None):
    """Wide-ResNet block B(3,3) (Zagoruyko & Komodakis 2016, Figure 1c/d): BN-ReLU-conv3x3
    -BN-ReLU-[dropout]-conv3x3; the 1x1 projection reads the pre-activated input."""
    return residual_block(x, ((3, filters), (3, filters)), stride=stride, name=name,
                          layout=ResidualLayout(preact=True, bias=use_bias,
                                                bn_epsilon=bn_epsilon),
                          dropout=dropout, kernel_initializer=kernel_initializer,
                          survival_probability=survival_probability, projection=conv_shortcut)
