"""AlexNet (Krizhevsky, Sutskever, Hinton, NIPS 2012) and ZFNet (Zeiler & Fergus, ECCV 2014).

Both are five convolutions, three max pools and three fully connected layers; the
layouts are rows in ``spec.py``, walked by one builder.
"""

from keras import initializers, layers

from keras_cnns.blocks.conv import conv_bn_act
from keras_cnns.blocks.sequence import apply_rows
from keras_cnns.layers import AdaptiveAveragePooling2D, LocalResponseNormalization
from keras_cnns.models import common
from keras_cnns.models.alexnet.spec import (ALEXNET_VARIANTS, CAFFE_LAYOUT, LRN_CHOICES,
                                            TORCHVISION_LAYOUT, ZF_FILTERS, Conv,
                                            min_input_size, with_towers, with_widths,
                                            zf_layout)
from keras_cnns.validation import check_choice, check_ints, check_rate


def _lrn_layer(lrn, name):
    if lrn == "caffe":
        # bvlc_alexnet: local_size 5, alpha 1e-4 (Caffe divides by local_size), k 1.
        return LocalResponseNormalization.from_caffe(local_size=5, alpha=1e-4, beta=0.75,
                                                     k=1.0, name=name)
    # AlexNet paper section 3.3: k 2, n 5, alpha 1e-4 (not divided), beta 0.75.
    return LocalResponseNormalization(depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, name=name)


def _check_widths(layout, widths):
    """``layout`` with ``widths`` (5 ints, conv1..conv5; ``None``: unchanged); a split
    convolution's width must divide into its towers."""
    if widths is None:
        return layout
    convs = [row for row in layout if isinstance(row, Conv)]
    widths = check_ints("widths", widths, length=len(convs))
    for row, w in zip(convs, widths):
        if w % row.groups:
            raise ValueError(f"widths: {row.name} is split into {row.groups} groups, so its "
                             f"width must be a multiple of {row.groups}; got {w}")
    return with_widths(layout, widths)


def _build(layout, *, include_top, weights, input_tensor, input_shape, pooling, classes,
           classifier_activation, dropout, lrn, head, default_shape, name,
           kernel_initializer, fc_bias):
    """Walk ``layout``; ``head`` is "caffe" (fc6-ReLU-drop-fc7-ReLU-drop-fc8) or
    "torchvision" (adaptive 6x6 avg pool, drop-fc6-ReLU-drop-fc7-ReLU-fc8); ``fc_bias``
    the initial bias of fc6 and fc7."""
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes, classifier_activation=classifier_activation)
    dropout = check_rate("dropout", dropout)
    check_choice("lrn", lrn, LRN_CHOICES)
    input_shape = common.resolve_input_shape(input_shape, input_tensor, default_shape,
                                             min_input_size(layout),
                                             require_static=include_top)
    zero = initializers.Zeros()

    def conv_row(x, row):
        # Section 5: some layers start with a bias of 1 (the row says which).
        bias = zero if row.bias_init is None else initializers.Constant(row.bias_init)
        return conv_bn_act(x, row.filters, row.kernel, row.stride, row.padding, name=row.name,
                           groups=row.groups, kernel_initializer=kernel_initializer,
                           bias_initializer=bias)

    def lrn_row(x, row):
        return _lrn_layer(lrn, row.name)(x)

    inputs, x = common.make_input(input_shape, input_tensor)
    x, _ = apply_rows(x, layout, conv=conv_row, lrn=None if lrn == "none" else lrn_row)
    if not include_top:
        x = common.pool_features(x, pooling)
        return common.finish(inputs, x, name, weights)

    bias = zero if not fc_bias else initializers.Constant(fc_bias)

    def fc(x, units, layer_name):
        return layers.Dense(units, activation="relu", kernel_initializer=kernel_initializer,
                            bias_initializer=bias, name=layer_name)(x)

    if head == "torchvision":
        x = AdaptiveAveragePooling2D(6, name="avg_pool")(x)
        x = common.flatten(x, 4096)
        x = layers.Dropout(dropout, name="drop5")(x)
        x = fc(x, 4096, "fc6")
        x = layers.Dropout(dropout, name="drop6")(x)
        x = fc(x, 4096, "fc7")
    else:
        # fc6 reads the flattened pool5 grid (6x6x256 at the default input).
        x = common.flatten(x, 4096)
        x = fc(x, 4096, "fc6")
        x = layers.Dropout(dropout, name="drop6")(x)
        x = fc(x, 4096, "fc7")
        x = layers.Dropout(dropout, name="drop7")(x)
    x = common.classifier(x, classes, classifier_activation, kernel_initializer=kernel_initializer)
    return common.finish(inputs, x, name, weights)


def AlexNet(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
            classes=1000, classifier_activation="softmax", variant="caffe", groups=None,
            lrn=None, dropout=0.5, name=None, kernel_initializer=None, widths=None):
    """AlexNet, Krizhevsky et al. 2012 (section 3 and Fig. 2).

    ``variant="caffe"`` (default) follows Caffe's ``bvlc_alexnet`` release at 227x227:
    conv1 96@11x11/4 valid -> ReLU -> LRN -> max 3x3/2 -> conv2 256@5x5 pad 2 (2 groups)
    -> ReLU -> LRN -> max 3x3/2 -> conv3 384@3x3 -> conv4 384@3x3 (2 groups) -> conv5
    256@3x3 (2 groups) -> max 3x3/2 -> fc6 4096 -> dropout -> fc7 4096 -> dropout -> fc8.
    Pools round up as Caffe's do. ``groups=2`` (default) keeps the paper's two-GPU
    split of conv2, conv4 and conv5 (60,965,224 parameters); ``groups=1`` is the
    one-tower net (62,378,344).

    ``lrn``: ``"caffe"`` (the default for this layout: ``bvlc_alexnet``'s local_size 5,
    alpha 1e-4 in Caffe's convention, i.e. 2e-5 per square in TF's, k 1, beta 0.75),
    ``"paper"`` (section 3.3: k 2, n 5, alpha 1e-4, beta 0.75) or ``"none"``.

    ``variant="torchvision"`` is torchvision's ``alexnet`` at 224: one tower,
    64-192-384-256-256 filters, conv1 padded by 2, no LRN (``lrn`` defaults to
    ``"none"``), floor-mode pools, a 6x6 adaptive average pool before fc6 and dropout
    before fc6 and fc7; 61,100,840 parameters. Its default initialiser is torch's
    default (uniform +-1/sqrt(fan_in), ``VarianceScaling(1/3, "fan_in", "uniform")``),
    biases 0.

    Default initialiser of the Caffe layout: the paper's (section 5) Gaussian, std 0.01;
    biases 1 in conv2, conv4, conv5, fc6 and fc7, 0 elsewhere. ``kernel_initializer=``
    overrides the kernels' initialiser. fc6 reads the flattened pool5 grid, so with
    ``include_top`` the input size must be static and fc6's fan-in follows it.

    ``widths`` (5 ints) replaces the filters of conv1..conv5, e.g. for width searches.
    """
    check_choice("variant", variant, ALEXNET_VARIANTS)
    tv = variant == "torchvision"
    if groups is None:
        groups = 1 if tv else 2
    check_choice("groups", groups, (1, 2))
    if lrn is None:
        lrn = "none" if tv else "caffe"
    if kernel_initializer is None:
        kernel_initializer = (initializers.VarianceScaling(1.0 / 3.0, "fan_in", "uniform") if tv
                              else initializers.RandomNormal(stddev=0.01))
    if name is None:
        name = "alexnet_torchvision" if tv else ("alexnet" if groups == 2 else "alexnet_1tower")
    layout = TORCHVISION_LAYOUT if tv else with_towers(CAFFE_LAYOUT, int(groups))
    return _build(_check_widths(layout, widths), include_top=include_top, weights=weights,
                  input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                  classes=classes, classifier_activation=classifier_activation,
                  dropout=dropout, lrn=lrn, head="torchvision" if tv else "caffe",
                  default_shape=(224, 224, 3) if tv else (227, 227, 3), name=name,
                  kernel_initializer=kernel_initializer, fc_bias=0.0 if tv else 1.0)


def ZFNet(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes=1000, classifier_activation="softmax", filters="paper", lrn="paper",
          dropout=0.5, name=None, kernel_initializer=None, widths=None):
    """ZFNet, Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks"
    (2014), Fig. 3: AlexNet with conv1 96@7x7/2 and conv2 256@5x5/2, one tower.

    At 224: conv1 (pad 1) 110 -> max 3x3/2 55 -> LRN -> conv2 26 -> max 13 -> LRN ->
    conv3, conv4, conv5 13 -> max 6 -> fc6 4096 -> fc7 4096 -> fc8 (dropout 0.5 on fc6
    and fc7). Pools round up (this is what makes 110 -> 55 and 26 -> 13).

    ``filters``: ``"paper"`` (conv3-5 = 384/384/256, Fig. 3) or ``"cs231n"``
    (512/1024/512, the CS231n lecture's "ZFNet" slide). ``lrn``: the figure's
    "contrast normalisation across feature maps" with the AlexNet paper's constants
    (``"paper"``, default), ``"caffe"`` or ``"none"``.

    Default initialiser: the paper's (section 3) weights ~ Gaussian std 1e-2, biases 0;
    ``kernel_initializer=`` overrides it. The paper's renormalisation of filters whose
    RMS exceeds 0.1 is a training rule, not part of the model. ``widths`` (5 ints)
    replaces the filters of conv1..conv5, e.g. for width searches.
    """
    check_choice("filters", filters, tuple(ZF_FILTERS))
    if kernel_initializer is None:
        kernel_initializer = initializers.RandomNormal(stddev=0.01)
    if name is None:
        name = "zfnet" if filters == "paper" else "zfnet_cs231n"
    return _build(_check_widths(zf_layout(filters), widths), include_top=include_top,
                  weights=weights, input_tensor=input_tensor, input_shape=input_shape,
                  pooling=pooling, classes=classes, classifier_activation=classifier_activation,
                  dropout=dropout, lrn=lrn, head="caffe", default_shape=(224, 224, 3),
                  name=name, kernel_initializer=kernel_initializer, fc_bias=0.0)
