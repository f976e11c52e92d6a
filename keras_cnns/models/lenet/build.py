"""LeNet-5: LeCun, Bottou, Bengio, Haffner, "Gradient-Based Learning Applied to Document
Recognition" (Proc. IEEE 1998), section II.B and Fig. 2.

C1 6@5x5 -> S2 2x2/2 -> C3 16@5x5 -> S4 2x2/2 -> C5 120@5x5 -> F6 84 -> output. The
builder walks ``spec.CONV_TABLE`` as rows of :mod:`keras_cnns.blocks.rows`.
"""

from keras import layers

from keras_cnns.blocks.sequence import apply_rows
from keras_cnns.models import common
from keras_cnns.models.lenet.spec import (CONV_TABLE, F6_UNITS, MIN_INPUT_SIZE, SUBSAMPLINGS,
                                          trunk)
from keras_cnns.validation import check_choice, check_positive_int, check_rate


def _check_table(table):
    """``table`` must be CONV_TABLE's rows (names, kernels, subsamplings) with positive
    int filter counts: only the widths may change."""
    if isinstance(table, (str, bytes)) or not isinstance(table, (tuple, list)):
        raise TypeError(f"table must be a tuple of rows like CONV_TABLE, got "
                        f"{type(table).__name__}")
    if ([(r[0], r[2], r[3]) if isinstance(r, (tuple, list)) and len(r) == 4 else r
         for r in table] != [(r[0], r[2], r[3]) for r in CONV_TABLE]):
        raise ValueError(f"table must be CONV_TABLE's rows with other filter counts only, "
                         f"got {table!r}")
    return tuple((name, check_positive_int(f"table {name} filters", f), k, pool)
                 for name, f, k, pool in table)


def LeNet5(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
           classes=10, classifier_activation="softmax", activation="tanh", subsampling="avg",
           name=None, kernel_initializer="glorot_uniform", table=CONV_TABLE, dropout=0.0):
    """LeNet-5 (LeCun et al. 1998, Fig. 2) on a 32x32x1 input.

    Layout: the paper's, with a *full* C3 connection table (every C3 map reads all six
    S2 maps; the paper's Table I uses a sparse table, 1,516 weights instead of 2,400)
    and parameter-free subsampling (the paper's S2/S4 have a trainable coefficient and
    bias per map), so 61,706 parameters at 10 classes. The output layer is a softmax
    Dense (``predictions``) instead of the paper's Euclidean RBF units, and the
    hidden activation is plain ``activation`` (default ``"tanh"``; the paper uses the
    scaled ``1.7159 * tanh(2a/3)``).

    ``subsampling``: ``"avg"`` (the paper's averaging) or ``"max"``. Default
    initialiser: Keras' ``glorot_uniform`` (the paper's uniform(+-2.4 / fan_in) is
    not used); ``kernel_initializer=`` overrides it. ``include_top=False`` ends at C5
    (the last convolution). Input: 32x32 (the paper centres 28x28 MNIST digits in a
    32x32 field); at least 32 px, since C5's 5x5 must fit in S4.

    ``dropout`` (default 0.0, the paper's network: it predates dropout) puts a Dropout
    layer of that rate before F6 (``C5_dropout``) and before the output
    (``F6_dropout``), for tuning and small data sets. At 0.0 neither layer is built, so
    the paper's network is unchanged layer for layer; dropout holds no weights, so the
    parameter count is 61,706 at any rate.
    """
    check_choice("subsampling", subsampling, SUBSAMPLINGS)
    dropout = check_rate("dropout", dropout)
    # ``table`` (rows like CONV_TABLE) changes the filter counts only, e.g. for width searches.
    table = _check_table(table)
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes, classifier_activation=classifier_activation)
    input_shape = common.resolve_input_shape(input_shape, input_tensor, (32, 32, 1),
                                             MIN_INPUT_SIZE, require_static=include_top)
    inputs, x = common.make_input(input_shape, input_tensor)

    def conv(x, row):
        return layers.Conv2D(row.filters, row.kernel, strides=row.stride, padding=row.padding,
                             activation=activation, kernel_initializer=kernel_initializer,
                             name=row.name)(x)

    # Fig. 2 as rows (spec.trunk): C1, S2, C3, S4, C5; the subsamplings hold no weights.
    x, _ = apply_rows(x, trunk(table, subsampling), conv=conv)
    if include_top:
        # C5 is 1x1x120 at 32 px; at larger inputs F6 reads the flattened C5 grid.
        x = common.flatten(x, F6_UNITS)
        if dropout:
            x = layers.Dropout(dropout, name="C5_dropout")(x)
        x = layers.Dense(F6_UNITS, activation=activation, kernel_initializer=kernel_initializer,
                         name="F6")(x)
        if dropout:
            x = layers.Dropout(dropout, name="F6_dropout")(x)
        x = common.classifier(x, classes, classifier_activation,
                              kernel_initializer=kernel_initializer)
    else:
        x = common.pool_features(x, pooling)
    return common.finish(inputs, x, name or "lenet5", weights)

