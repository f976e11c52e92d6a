"""SqueezeNet: Iandola, Han, Moskewicz, Ashraf, Dally, Keutzer, "SqueezeNet: AlexNet-level
accuracy with 50x fewer parameters and <0.5MB model size" (2016, arXiv 1602.07360).

Layouts are torchvision's ``squeezenet1_0`` (paper Table 1) and ``squeezenet1_1`` (the
v1.1 release: 3x3/2 64-filter conv1, pools moved earlier, 2.4x fewer MACs). The builder
walks ``spec.VERSIONS`` and ``spec.HEAD``, rows of :mod:`keras_cnns.blocks.rows`.
"""

from keras import initializers, layers

from keras_cnns.blocks.conv import conv_bn_act
from keras_cnns.blocks.fire import fire
from keras_cnns.blocks.rows import Conv, Fire
from keras_cnns.blocks.sequence import apply_rows
from keras_cnns.models import common
from keras_cnns.models.squeezenet.spec import HEAD, VERSIONS, min_input_size
from keras_cnns.validation import check_choice


def _check_table(table, version):
    """``table`` must be ``VERSIONS[version]`` with other fire widths only (the rows after
    conv1 alone, the older form, are accepted too)."""
    rows = VERSIONS[version]
    if isinstance(table, (str, bytes)) or not isinstance(table, (tuple, list)):
        raise TypeError(f"table must be a tuple of rows like VERSIONS[{version!r}], got "
                        f"{type(table).__name__}")
    table = tuple(table)
    if table and not isinstance(table[0], Conv):
        table = rows[:1] + table
    if len(table) != len(rows) or any(
            type(a) is not type(b) or a.name != b.name or (not isinstance(a, Fire) and a != b)
            for a, b in zip(table, rows)):
        raise ValueError(f"table must have the rows of VERSIONS[{version!r}] (only fire "
                         "widths change)")
    return table  # fire() checks the widths


def SqueezeNet(include_top=True, weights=None, input_tensor=None, input_shape=None,
               pooling=None, classes=1000, classifier_activation="softmax", version="1_0",
               dropout=0.5, name=None, kernel_initializer=None, table=None):
    """SqueezeNet v1.0 or v1.1 (``version="1_0"`` / ``"1_1"``), torchvision's layout.

    conv1 (valid) -> ReLU -> max 3x3/2 (ceil mode) -> fire modules (no BN) with two more
    ceil-mode pools -> dropout 0.5 -> conv10 1x1 ``classes`` -> ReLU -> global average
    pool -> ``predictions`` activation (float32 under mixed precision). At 224:
    v1.0 109 -> 54 -> 27 -> 13; v1.1 111 -> 55 -> 27 -> 13. 1,248,424 (v1.0) and
    1,235,496 (v1.1) parameters at 1000 classes, torchvision's counts.
    ``include_top=False`` ends at fire9.

    Default initialiser: torchvision's, He uniform (``kaiming_uniform_``) for every
    convolution except conv10, Gaussian std 0.01 for conv10; biases 0.
    ``kernel_initializer=`` overrides the He uniform part.

    ``table`` (rows like ``VERSIONS[version]``) replaces the fire modules' widths, e.g.
    for width searches; conv1, the pools and the names must stay where they are.
    """
    check_choice("version", version, tuple(VERSIONS))
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes, classifier_activation=classifier_activation)
    dropout = common.check_dropout("dropout", dropout)
    input_shape = common.resolve_input_shape(input_shape, input_tensor, (224, 224, 3),
                                             min_input_size(version))
    if kernel_initializer is None:
        kernel_initializer = initializers.HeUniform()
    rows = VERSIONS[version] if table is None else _check_table(table, version)

    def conv(x, row, init=kernel_initializer):
        return conv_bn_act(x, row.filters, row.kernel, row.stride, row.padding, name=row.name,
                           kernel_initializer=init)

    def fire_row(x, row):
        return fire(x, row.squeeze, row.expand1x1, row.expand3x3, name=row.name,
                    kernel_initializer=kernel_initializer)

    inputs, x = common.make_input(input_shape, input_tensor)
    x, _ = apply_rows(x, rows, conv=conv, handlers={Fire: fire_row})
    if include_top:
        drop9, conv10 = HEAD
        x = layers.Dropout(dropout, name=drop9.name)(x)
        x = conv(x, conv10._replace(filters=classes),
                 init=initializers.RandomNormal(stddev=0.01))
        x = common.class_maps_head(x, classifier_activation)
    else:
        x = common.pool_features(x, pooling)
    return common.finish(inputs, x, name or f"squeezenet{version}", weights)
