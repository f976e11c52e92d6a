"""FractalNet: Larsson, Maire, Shakhnarovich, "FractalNet: Ultra-Deep Neural Networks
without Residuals" (2016), the CIFAR configuration of section 4.

Expansion rule (section 2): ``f_1(z) = conv(z)``,
``f_{C+1}(z) = join(f_C(f_C(z)), conv(z))``. Flattened, a block of ``C`` columns has depth
``2^(C-1)``; column ``c`` (0 = shallowest) has ``2^c`` convolutions, ending at the depths
that are multiples of ``2^(C-1-c)``, and the columns ending at the same depth are joined
(element-wise mean, :class:`~keras_cnns.layers.FractalJoin`) when there are two or more.

CIFAR network (section 4): B = 5 blocks, C = 4 columns (40 convolutional layers on the
deepest path), 64, 128, 256, 512, 512 channels, each convolution 3x3 -> BN -> ReLU, a 2x2
max pool after every block (32 -> 1), then the linear classifier. Regularisation as in
the paper's "+ drop-path + dropout" runs: dropout after every convolution at 0, 10, 20,
30, 40 % per block, local drop-path 15 % at every join, and global drop-path on 50 % of
the mini-batches (one column for the entire network, drawn per mini-batch by a
:class:`~keras_cnns.layers.DropPathSampler`). Local drop-path is drawn per sample here.

Conv layers are bias-free (each is followed by BN). The paper does not state its
initialiser; ``he_normal`` here, overridable with ``kernel_initializer=``.
"""

from keras import layers

from keras_cnns.blocks.conv import conv_bn_act
from keras_cnns.blocks.rows import FractalBlock
from keras_cnns.blocks.sequence import apply_rows
from keras_cnns.layers.fractal import DropPathSampler, FractalJoin
from keras_cnns.models import common
from keras_cnns.models.fractalnet.spec import (BN_EPSILON, CHANNELS, COLUMNS, GLOBAL_DROP,
                                               LOCAL_DROP, default_dropout, min_input_size,
                                               trunk)
from keras_cnns.validation import check_ints, check_positive_int, check_rate


def fractal_block(x, filters, columns, *, name, mask, local_drop=LOCAL_DROP, dropout=0.0,
                  kernel_initializer="he_normal"):
    """One fractal block ``f_C`` (Figure 1), flattened by depth. Layers:
    ``{name}_c{column}_d{depth}`` (conv-BN-ReLU, ``column`` 1 = shallowest) and
    ``{name}_join{depth}``. ``mask`` is the :class:`DropPathSampler` output."""
    depth = 2 ** (columns - 1)
    current = [x] * columns
    y = x
    for d in range(1, depth + 1):
        ending = [c for c in range(columns) if d % 2 ** (columns - 1 - c) == 0]
        outs = []
        for c in ending:
            unit = f"{name}_c{c + 1}_d{d}"
            out = conv_bn_act(current[c], filters, 3, padding="same", name=unit,
                              batch_norm=True, bn_epsilon=BN_EPSILON,
                              kernel_initializer=kernel_initializer)
            if dropout:
                out = layers.Dropout(dropout, name=f"{unit}_dropout")(out)
            outs.append(out)
        if len(outs) > 1:
            y = FractalJoin(ending, columns, drop_rate=local_drop,
                            name=f"{name}_join{d}")(outs + [mask])
        else:
            y = outs[0]
        for c in ending:
            current[c] = y
    return y


def FractalNet(include_top=True, weights=None, input_tensor=None, input_shape=None,
               pooling=None, classes=10, classifier_activation="softmax", columns=COLUMNS,
               channels=CHANNELS, dropout=None, local_drop=LOCAL_DROP,
               global_drop=GLOBAL_DROP, kernel_initializer="he_normal", name=None):
    """FractalNet for CIFAR (see the module docstring). ``columns`` is C, ``channels`` one
    width per block (the number of blocks B is its length; the input side must be at
    least ``2^B``), ``dropout`` one rate per block or one float for all (default: the
    paper's 0, 10, 20 ... % by block), ``local_drop``
    the per-join drop rate and ``global_drop`` the fraction of mini-batches trained on a
    single column. ``local_drop=0, global_drop=0`` gives plain mean joins."""
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes,
                                  classifier_activation=classifier_activation)
    columns = check_positive_int("columns", columns)
    channels = check_ints("channels", channels)
    if not channels:
        raise ValueError("channels must hold one width per block, got ()")
    if dropout is None:
        dropout = default_dropout(len(channels))
    if not isinstance(dropout, (tuple, list)):
        dropout = (check_rate("dropout", dropout),) * len(channels)
    if len(dropout) != len(channels):
        raise ValueError(f"dropout must be a float or one rate per block ({len(channels)}), "
                         f"got {tuple(dropout)!r}")
    dropout = tuple(check_rate("dropout", r) for r in dropout)
    local_drop = check_rate("local_drop", local_drop)
    global_drop = check_rate("global_drop", global_drop)
    rows = trunk(channels, columns, dropout)
    input_shape = common.resolve_input_shape(input_shape, input_tensor, (32, 32, 3),
                                             min_input_size(channels))

    inputs, x = common.make_input(input_shape, input_tensor)
    mask = DropPathSampler(columns, global_drop, name="drop_path")(x) if columns > 1 else None

    def block_row(x, row):
        return fractal_block(x, row.filters, row.columns, name=row.name, mask=mask,
                             local_drop=local_drop, dropout=row.dropout,
                             kernel_initializer=kernel_initializer)

    # Section 4: B blocks, each followed by a 2x2 max pool (spec.trunk).
    x, _ = apply_rows(x, rows, conv=None, handlers={FractalBlock: block_row})
    if include_top:
        # 1x1 after five pools at 32x32: the global average is the flatten.
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = common.classifier(x, classes, classifier_activation,
                              kernel_initializer=kernel_initializer)
    else:
        x = common.pool_features(x, pooling)
    return common.finish(inputs, x, name or "fractalnet", weights)
