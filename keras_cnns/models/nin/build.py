"""Network in Network: Lin, Chen, Yan, "Network In Network" (ICLR 2014, arXiv 1312.4400).

An mlpconv layer (section 3.1) is a kxk convolution followed by two 1x1 convolutions
("cccp" layers in the Caffe releases), each with ReLU. The last mlpconv emits one map
per class; global average pooling (section 3.2) replaces the fully connected head.
The builder walks ``spec.CONFIGS``, rows of :mod:`keras_cnns.blocks.rows`.
"""

from keras import layers

from keras_cnns.blocks.conv import conv_bn_act
from keras_cnns.blocks.rows import Conv, Dropout
from keras_cnns.blocks.sequence import apply_rows
from keras_cnns.models import common
from keras_cnns.models.nin.spec import CONFIGS, DEFAULTS, min_input_size
from keras_cnns.validation import check_choice, check_positive_int


def _check_table(table, config):
    """``table`` must be ``CONFIGS[config]`` with other widths only: the same rows, the
    same kernels, strides and names, positive int filter counts."""
    rows = CONFIGS[config]
    if isinstance(table, (str, bytes)) or not isinstance(table, (tuple, list)):
        raise TypeError(f"table must be a tuple of rows like CONFIGS[{config!r}], got "
                        f"{type(table).__name__}")

    def shape(r):
        return r._replace(filters=r.filters is None) if isinstance(r, Conv) else r

    if len(table) != len(rows) or any(type(a) is not type(b) or shape(a) != shape(b)
                                      for a, b in zip(table, rows)):
        raise ValueError(f"table must have the rows of CONFIGS[{config!r}] (only widths "
                         "change)")
    return tuple(r._replace(filters=check_positive_int(f"table {r.name} filters", r.filters))
                 if isinstance(r, Conv) and r.filters is not None else r for r in table)


def NiN(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
        classes=None, classifier_activation="softmax", config="imagenet", dropout=0.5,
        name=None, kernel_initializer="he_normal", table=None):
    """Network in Network (Lin et al. 2014).

    ``config="imagenet"`` (default): the Caffe model zoo NIN-Imagenet release at 224:
    four mlpconvs, conv1 96@11x11/4 -> cccp1 96 -> cccp2 96 -> max 3x3/2; conv2
    256@5x5 pad 2 -> 256 -> 256 -> max; conv3 384@3x3 pad 1 -> 384 -> 384 -> max ->
    dropout 0.5; conv4 1024@3x3 pad 1 -> cccp7 1024 -> cccp8 ``classes`` -> ReLU ->
    global average pool -> softmax. 7,595,176 parameters at 1000 classes.

    ``config="cifar"``: the paper's CIFAR-10 net (section 4.2; 32x32, 10 classes by
    default): 192@5x5-160-96 -> max 3x3/2 -> dropout; 192@5x5-192-192 -> avg 3x3/2 ->
    dropout; 192@3x3-192-``classes`` -> global average pool. 966,986 parameters at 10
    classes. The paper's global contrast normalisation and ZCA whitening are not applied.

    All pools round up as Caffe's do. Every convolution (the class maps too) is followed
    by ReLU, as in the releases. ``include_top=False`` ends at the penultimate 1x1
    layer (``cccp7`` / ``cccp5``); the top is the class-map layer, the global average
    pool and the ``predictions`` activation (float32 under mixed precision).

    ``table`` (rows like ``CONFIGS[config]``) replaces the configuration's widths, e.g.
    for width searches; kernels, strides and layer names must stay the same.

    Default initialiser: He normal (``kernel_initializer=`` overrides it); the Caffe
    releases used hand-set Gaussians. Biases 0. ``classes`` defaults to 1000
    (imagenet) or 10 (cifar).
    """
    check_choice("config", config, tuple(CONFIGS))
    defaults = DEFAULTS[config]
    if classes is None:
        classes = defaults["classes"]
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes, classifier_activation=classifier_activation)
    dropout = common.check_dropout("dropout", dropout)
    input_shape = common.resolve_input_shape(input_shape, input_tensor, defaults["shape"],
                                             min_input_size(config))
    table = CONFIGS[config] if table is None else _check_table(table, config)
    inputs, x = common.make_input(input_shape, input_tensor)

    def conv(x, row):
        return conv_bn_act(x, row.filters, row.kernel, row.stride, row.padding,
                           name=row.name, kernel_initializer=kernel_initializer)

    def drop(x, row):
        return layers.Dropout(dropout, name=row.name)(x)  # every dropout takes ``dropout``

    # The mlpconvs, pools and dropouts as rows; the class-map layer (the last row,
    # filters None) is the top.
    x, _ = apply_rows(x, table[:-1], conv=conv, handlers={Dropout: drop})
    if include_top:
        x = conv(x, table[-1]._replace(filters=classes))  # cccp8 / cccp6: the class maps
        x = common.class_maps_head(x, classifier_activation)
    else:
        x = common.pool_features(x, pooling)
    return common.finish(inputs, x, name or defaults["name"], weights)

