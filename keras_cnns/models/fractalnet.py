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
from keras_cnns.layers.fractal import DropPathSampler, FractalJoin
from keras_cnns.models import common
from keras_cnns.registry import ModelInfo, Preprocessing, register_model

CHANNELS = (64, 128, 256, 512, 512)  # per block, section 4
BLOCK_DROPOUT = (0.0, 0.1, 0.2, 0.3, 0.4)  # per block, section 4 ("+ dropout")
COLUMNS = 4
LOCAL_DROP = 0.15
GLOBAL_DROP = 0.5
BN_EPSILON = 1e-5


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
                                  classes=classes)
    common.check_positive_int("columns", columns)
    if (not isinstance(channels, (tuple, list)) or not channels
            or any(isinstance(c, bool) or not isinstance(c, int) or c < 1 for c in channels)):
        raise ValueError(f"channels must be a non-empty sequence of positive ints (one per "
                         f"block), got {channels!r}")
    channels = tuple(channels)
    if dropout is None:
        dropout = tuple(round(min(0.1 * b, 0.9), 2) for b in range(len(channels)))
    if isinstance(dropout, (int, float)) and not isinstance(dropout, bool):
        dropout = (dropout,) * len(channels)
    if not isinstance(dropout, (tuple, list)) or len(dropout) != len(channels):
        raise ValueError(f"dropout must be a float or one rate per block ({len(channels)}), "
                         f"got {dropout!r}")
    dropout = tuple(common.check_dropout("dropout", r) for r in dropout)
    local_drop = common.check_dropout("local_drop", local_drop)
    global_drop = common.check_dropout("global_drop", global_drop)
    input_shape = common.resolve_input_shape(input_shape, input_tensor, (32, 32, 3),
                                             2 ** len(channels))

    inputs, x = common.make_input(input_shape, input_tensor)
    mask = DropPathSampler(columns, global_drop, name="drop_path")(x) if columns > 1 else None
    for b, (filters, rate) in enumerate(zip(channels, dropout)):
        x = fractal_block(x, filters, columns, name=f"block{b + 1}", mask=mask,
                          local_drop=local_drop, dropout=rate,
                          kernel_initializer=kernel_initializer)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{b + 1}_pool")(x)
    if include_top:
        # 1x1 after five pools at 32x32: the global average is the flatten.
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = common.classifier(x, classes, classifier_activation,
                              kernel_initializer=kernel_initializer)
    else:
        x = common.pool_features(x, pooling)
    return common.finish(inputs, x, name or "fractalnet", weights)


# Parameter count at the default (C = 4, 32x32x3, 10 classes). A block has 2^C - 1 = 15
# convolutions: C = 4 read the block input (c_in -> w), 11 read a w-channel tensor.
# Each conv: 9 * c_in * w weights (no bias); its BN: 2w trainable + 2w moving statistics.
#   block 1 (3 -> 64):    4 * 9*3*64    + 11 * 9*64*64    =     6,912 +    405,504 =    412,416
#   block 2 (64 -> 128):  4 * 9*64*128  + 11 * 9*128*128  =   294,912 +  1,622,016 =  1,916,928
#   block 3 (128 -> 256): 4 * 9*128*256 + 11 * 9*256*256  = 1,179,648 +  6,488,064 =  7,667,712
#   block 4 (256 -> 512): 4 * 9*256*512 + 11 * 9*512*512  = 4,718,592 + 25,952,256 = 30,670,848
#   block 5 (512 -> 512): 15 * 9*512*512                                            = 35,389,440
#   conv weights 76,057,344; BN channels 15 * (64+128+256+512+512) = 22,080, so 44,160
#   trainable and 44,160 moving; classifier 512*10 + 10 = 5,130.
#   trainable 76,057,344 + 44,160 + 5,130 = 76,106,634; total 76,150,794.
# The paper's Table 1 quotes 22.9 M parameters for its 40-layer net and 38.6 M for the
# 20-layer (C = 3) one; neither follows from these channel widths (block 5 alone has
# 35.4 M at C = 4), so the paper's 40-layer net must have used narrower layers than it
# states. This is the configuration as written in section 4.
# Multiply-adds at 32x32 (conv only, + 5,120 dense): per block 9 * HW * w * (4 c_in + 11 w)
#   at HW = 1024, 256, 64, 16, 4 (w = 64, 128, 256, 512, 512):
#   422,313,984 + 3 x 490,733,568 + 141,557,760 + 5,120 = 2,036,077,568.
register_model(ModelInfo(
    name="fractalnet", paper="FractalNet: Ultra-Deep Neural Networks without Residuals",
    authors="Larsson, Maire, Shakhnarovich", year=2016, arxiv="1605.07648",
    family="fractalnet", default_input_shape=(32, 32, 3), min_input_size=32,
    params=76_150_794, params_with_aux=None, trainable_params=76_106_634, macs=2_036_077_568,
    default_classes=10,
    reported={"cifar100_plusplus_20layers": 22.85},  # Table 1, C=3 with drop-path + dropout
    preprocessing=Preprocessing(mode="unit", scale=1 / 255, crop_fraction=1.0),
    layout="paper section 4 (B=5, C=4, 64-128-256-512-512, mean joins, drop-path)",
    end_points=tuple(f"block{b}_{k}" for b in range(1, 6) for k in ("join8", "pool")),
    stage_outputs=tuple(f"block{b}_join8" for b in range(1, 6)),
    build_kwargs={}), FractalNet)
