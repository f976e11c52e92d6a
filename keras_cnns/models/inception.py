"""Inception v2 (BN-Inception) and Inception v3: module widths as tables, one block walker.

Naming. "Rethinking the Inception Architecture for Computer Vision" (Szegedy et al.
2015) and the course call that paper's factorised network "Inception-v2" (and, with its
training changes, "Inception-v3"). The Inception-v4 paper (Szegedy et al. 2016) and
TF-Slim call BN-Inception (Ioffe & Szegedy 2015) "Inception-v2". This package follows
the latter: ``inception_v2`` is BN-Inception, ``inception_v3`` the factorised network
as TF-Slim and keras.applications release it.

Every module is a :class:`Module`: parallel branches, each a sequence of :class:`Conv`,
:class:`Pool` and :class:`Split` ops, concatenated on channels. :func:`inception_block`
builds any of them; the tables below are the only place widths live.
"""

from typing import NamedTuple, Tuple

from keras import layers

from keras_cnns.blocks import conv_bn_act
from keras_cnns.models import common
from keras_cnns.registry import ModelInfo, register_model, tf_preprocessing

__all__ = ["Conv", "Pool", "Split", "Module", "BNInceptionSpec", "inception_block",
           "InceptionV2", "InceptionV3", "BN_INCEPTION_TABLE", "V3_STEM", "V3_MODULES",
           "V3_VARIANTS", "v3_grid_sizes", "v3_min_input_size"]


# ---------------------------------------------------------------------------- specs
class Conv(NamedTuple):
    """conv -> BN -> ReLU with ``filters`` before the depth multiplier."""

    filters: int
    kernel: Tuple[int, int]
    strides: int = 1
    padding: str = "same"


class Pool(NamedTuple):
    kind: str  # "avg" or "max"
    size: int = 3
    strides: int = 1
    padding: str = "same"


class Split(NamedTuple):
    """Parallel convs on one input, concatenated ("Rethinking", Figure 7: 1x3 | 3x1)."""

    convs: Tuple[Conv, ...]


class Module(NamedTuple):
    """An Inception module: ``branches`` (tuples of ops) concatenated in order."""

    name: str
    branches: tuple


def _c(filters, kernel, strides=1, padding="same"):
    kernel = (kernel, kernel) if isinstance(kernel, int) else tuple(kernel)
    return Conv(filters, kernel, strides, padding)


AVG = Pool("avg")                      # 3x3/1 same: TF excludes the padding from the mean
MAX = Pool("max")
MAX_S2_SAME = Pool("max", 3, 2, "same")
MAX_S2_VALID = Pool("max", 3, 2, "valid")


# ------------------------------------------------------- BN-Inception (Inception v2)
class BNInceptionSpec(NamedTuple):
    """One row of Ioffe & Szegedy 2015, Figure 5 (the appendix table).

    ``b1x1 = 0``: no 1x1 branch; ``pool_proj = 0``: the pool passes through ("max +
    pass through"); ``strides = 2`` puts the stride on the last 3x3 of both 3x3 branches
    and on the pool (TF-Slim's placement).
    """

    name: str
    b1x1: int
    b3x3_reduce: int
    b3x3: int
    d3x3_reduce: int
    d3x3: int
    pool: str
    pool_proj: int
    strides: int = 1

    def module(self):
        s = self.strides
        branches = []
        if self.b1x1:
            branches.append((_c(self.b1x1, 1),))
        branches.append((_c(self.b3x3_reduce, 1), _c(self.b3x3, 3, s)))
        branches.append((_c(self.d3x3_reduce, 1), _c(self.d3x3, 3), _c(self.d3x3, 3, s)))
        pool = Pool(self.pool, 3, s, "same")
        branches.append((pool, _c(self.pool_proj, 1)) if self.pool_proj else (pool,))
        return Module(self.name, tuple(branches))


# Figure 5: #1x1, #3x3 reduce, #3x3, double #3x3 reduce, double #3x3, pool + proj.
# Rows 4c and 4d say "avg + 128": each sums to 608 channels, although the table's output
# column prints 576. The Caffe BN-Inception release (as converted in Cadene's
# pretrainedmodels `bninception`: 4d and 4e read 608 channels, 5a reads 1056) keeps the
# rows; TF-Slim uses 96 in both to make 576.
BN_INCEPTION_TABLE = (
    BNInceptionSpec("inception_3a", 64, 64, 64, 64, 96, "avg", 32),
    BNInceptionSpec("inception_3b", 64, 64, 96, 64, 96, "avg", 64),
    BNInceptionSpec("inception_3c", 0, 128, 160, 64, 96, "max", 0, strides=2),
    BNInceptionSpec("inception_4a", 224, 64, 96, 96, 128, "avg", 128),
    BNInceptionSpec("inception_4b", 192, 96, 128, 96, 128, "avg", 128),
    BNInceptionSpec("inception_4c", 160, 128, 160, 128, 160, "avg", 128),
    BNInceptionSpec("inception_4d", 96, 128, 192, 160, 192, "avg", 128),
    BNInceptionSpec("inception_4e", 0, 128, 192, 192, 256, "max", 0, strides=2),
    BNInceptionSpec("inception_5a", 352, 192, 320, 160, 224, "avg", 128),
    BNInceptionSpec("inception_5b", 352, 192, 320, 192, 224, "max", 128),
)
SLIM_V2_TABLE = tuple(r._replace(pool_proj=96) if r.name in ("inception_4c", "inception_4d")
                      else r for r in BN_INCEPTION_TABLE)

V2_VARIANTS = ("paper", "slim")
_V2_VARIANT = {
    # The paper's BN (section 3) learns a scale gamma and a shift beta.
    "paper": dict(table=BN_INCEPTION_TABLE, separable_stem=False, bn_scale=True,
                  dropout=0.0),
    # TF-Slim inception_v2: separable 7x7 stem, inception_arg_scope's scale-free BN,
    # dropout_keep_prob 0.8, 96 in the pool projections of 4c and 4d.
    "slim": dict(table=SLIM_V2_TABLE, separable_stem=True, bn_scale=False, dropout=0.2),
}
V2_END_POINTS = ("conv1", "pool1", "conv2_reduce", "conv2", "pool2") + tuple(
    r.name for r in BN_INCEPTION_TABLE)
V2_STAGE_OUTPUTS = ("conv1", "conv2", "inception_3b", "inception_4d", "inception_5b")
V2_MIN_INPUT_SIZE = 32  # TF-Slim: "any size greater 32x32"; five halvings reach 1x1


# ---------------------------------------------------------------------- Inception v3
# keras.applications / TF-Slim inception_v3 ("Rethinking", Table 1 as released): stem.
V3_STEM = (
    ("Conv2d_1a_3x3", _c(32, 3, 2, "valid")),   # 299 -> 149
    ("Conv2d_2a_3x3", _c(32, 3, 1, "valid")),   # 147
    ("Conv2d_2b_3x3", _c(64, 3)),               # 147
    ("MaxPool_3a_3x3", MAX_S2_VALID),           # 73
    ("Conv2d_3b_1x1", _c(80, 1, 1, "valid")),   # 73
    ("Conv2d_4a_3x3", _c(192, 3, 1, "valid")),  # 71
    ("MaxPool_5a_3x3", MAX_S2_VALID),           # 35
)


def _grid35(name, pool_proj):
    # Figure 5 as released: 1x1 | 1x1-5x5 (TF-Slim keeps one 5x5) | 1x1-3x3-3x3 | avg-1x1.
    return Module(name, ((_c(64, 1),),
                         (_c(48, 1), _c(64, 5)),
                         (_c(64, 1), _c(96, 3), _c(96, 3)),
                         (AVG, _c(pool_proj, 1))))


def _grid17(name, c7):
    # Figure 6 with n = 7: 1x1 | 1x1-1x7-7x1 | 1x1-7x1-1x7-7x1-1x7 | avg-1x1.
    return Module(name, ((_c(192, 1),),
                         (_c(c7, 1), _c(c7, (1, 7)), _c(192, (7, 1))),
                         (_c(c7, 1), _c(c7, (7, 1)), _c(c7, (1, 7)), _c(c7, (7, 1)),
                          _c(192, (1, 7))),
                         (AVG, _c(192, 1))))


def _grid8(name):
    # Figure 7: 1x1 | 1x1-(1x3|3x1) | 1x1-3x3-(1x3|3x1) | avg-1x1.
    split = Split((_c(384, (1, 3)), _c(384, (3, 1))))
    return Module(name, ((_c(320, 1),),
                         (_c(384, 1), split),
                         (_c(448, 1), _c(384, 3), split),
                         (AVG, _c(192, 1))))


V3_MODULES = (
    _grid35("mixed0", 32),   # 35x35x256
    _grid35("mixed1", 64),   # 35x35x288
    _grid35("mixed2", 64),   # 35x35x288
    # Figure 10 grid reduction, 35 -> 17: 3x3/2 | 1x1-3x3-3x3/2 | max 3x3/2.
    Module("mixed3", ((_c(384, 3, 2, "valid"),),
                      (_c(64, 1), _c(96, 3), _c(96, 3, 2, "valid")),
                      (MAX_S2_VALID,))),  # 17x17x768
    _grid17("mixed4", 128),
    _grid17("mixed5", 160),
    _grid17("mixed6", 160),
    _grid17("mixed7", 192),  # 17x17x768; the aux head reads this
    # 17 -> 8: 1x1-3x3/2 | 1x1-1x7-7x1-3x3/2 | max 3x3/2.
    Module("mixed8", ((_c(192, 1), _c(320, 3, 2, "valid")),
                      (_c(192, 1), _c(192, (1, 7)), _c(192, (7, 1)), _c(192, 3, 2, "valid")),
                      (MAX_S2_VALID,))),  # 8x8x1280
    _grid8("mixed9"),        # 8x8x2048
    _grid8("mixed10"),       # 8x8x2048
)
V3_END_POINTS = tuple(n for n, _ in V3_STEM) + tuple(m.name for m in V3_MODULES)
V3_STAGE_OUTPUTS = ("Conv2d_2b_3x3", "Conv2d_4a_3x3", "mixed2", "mixed7", "mixed10")
V3_AUX_ON = "mixed7"
V3_AUX_LOSS_WEIGHT = 0.4  # TF-Slim train_image_classifier: aux logits weighted 0.4
V3_MIN_INPUT_SIZE = 75    # keras.applications; 74 leaves mixed8 no 3x3 window

V3_VARIANTS = ("keras", "torchvision")
# What each variant changes. torchvision's BasicConv2d is conv (no bias) + BN with a
# learned scale (eps 1e-3, torch momentum 0.1 = Keras 0.9); its 3x3/1 average pools pad
# by 1 and count the padding (F.avg_pool2d's count_include_pad=True), where TF's "same"
# excludes it; its aux head keeps the 5x5 conv and pools adaptively to 1x1.
_V3_VARIANT = {
    "keras": dict(bn_scale=False, bn_momentum=0.99, include_pad=False, dropout=0.2),
    "torchvision": dict(bn_scale=True, bn_momentum=0.9, include_pad=True, dropout=0.5),
}


def v3_grid_sizes(size):
    """Grid side at the 35, 17 and 8 stages (mixed2, mixed7, mixed10) for input ``size``."""
    s = (size - 3) // 2 + 1      # Conv2d_1a_3x3, valid /2
    s = s - 2                    # Conv2d_2a_3x3 valid (2b is same)
    s = (s - 3) // 2 + 1         # MaxPool_3a_3x3 valid /2
    s = s - 2                    # Conv2d_4a_3x3 valid (3b is 1x1)
    s35 = (s - 3) // 2 + 1       # MaxPool_5a_3x3
    s17 = (s35 - 3) // 2 + 1     # mixed3
    s8 = (s17 - 3) // 2 + 1      # mixed8
    return s35, s17, s8


def v3_min_input_size(aux=False, variant="keras"):
    """75 for the main path (mixed8 needs a 3x3 grid); with the aux head the mixed7
    grid must hold its 5x5 average pool (5x5 -> 1x1; TF-Slim then shrinks the 5x5
    conv to the pooled grid): 107. torchvision's aux head keeps the 5x5 conv, so the
    pooled grid must be 5x5 (mixed7 17x17): 299."""
    need = 17 if variant == "torchvision" else 5
    size = 1
    while True:
        s35, s17, s8 = v3_grid_sizes(size)
        if s8 >= 1 and (not aux or s17 >= need):
            return size
        size += 1


# ----------------------------------------------------------------------- the walker
def _depth_fn(depth_multiplier, min_depth):
    # TF-Slim: depth(d) = max(int(d * depth_multiplier), min_depth), min_depth active
    # only when thinning.
    if depth_multiplier == 1.0:
        return lambda d: d
    return lambda d: max(int(d * depth_multiplier), min_depth)


def _apply_op(x, op, name, conv, depth, include_pad=False):
    if isinstance(op, Pool):
        if include_pad and op.kind == "avg" and op.padding == "same" and op.strides == 1:
            # torch's avg_pool2d(k, 1, (k - 1) // 2) averages the zero padding in too.
            x = layers.ZeroPadding2D((op.size - 1) // 2, name=f"{name}_pad")(x)
            return layers.AveragePooling2D(op.size, strides=1, padding="valid", name=name)(x)
        cls = layers.AveragePooling2D if op.kind == "avg" else layers.MaxPooling2D
        return cls(op.size, strides=op.strides, padding=op.padding, name=name)(x)
    if isinstance(op, Conv):
        return conv(x, depth(op.filters), op.kernel, op.strides, op.padding, name=name)
    if isinstance(op, Split):
        parts = [conv(x, depth(c.filters), c.kernel, c.strides, c.padding,
                      name=f"{name}{'abcdefgh'[i]}_{c.kernel[0]}x{c.kernel[1]}")
                 for i, c in enumerate(op.convs)]
        return layers.Concatenate(axis=-1, name=name)(parts)
    raise TypeError(f"unknown op {op!r}")


def _op_suffix(op):
    if isinstance(op, Conv):
        return f"_{op.kernel[0]}x{op.kernel[1]}"
    if isinstance(op, Pool):
        return f"_{op.kind}pool"
    return ""


def inception_block(x, module, *, conv, depth=lambda d: d, include_pad=False):
    """Build ``module``: each branch's ops in sequence, the branches concatenated.

    ``conv(x, filters, kernel, strides, padding, name=...)`` is the family's
    conv-BN-ReLU; ``depth`` maps table widths to built widths (TF-Slim's multiplier).
    ``include_pad=True`` makes the 3x3/1 average pools count their zero padding
    (torch's default) through an explicit ``{name}_pad`` layer.
    Layers are named ``{module}_branch{b}_{op}_{kernel}``; the concatenation is
    ``module.name`` (the end point).
    """
    outputs = []
    for b, branch in enumerate(module.branches):
        y = x
        for j, op in enumerate(branch):
            y = _apply_op(y, op, f"{module.name}_branch{b}_{j}{_op_suffix(op)}", conv, depth,
                          include_pad)
        outputs.append(y)
    return layers.Concatenate(axis=-1, name=module.name)(outputs)


def _check_depth(depth_multiplier, min_depth):
    if isinstance(depth_multiplier, bool) or not isinstance(depth_multiplier, (int, float)):
        raise TypeError(f"depth_multiplier must be a positive float, got "
                        f"{type(depth_multiplier).__name__}")
    if not depth_multiplier > 0:
        raise ValueError(f"depth_multiplier must be > 0, got {depth_multiplier!r}")
    common.check_positive_int("min_depth", min_depth)
    return float(depth_multiplier)


def _make_conv(bn_scale, kinit, bn_momentum=0.99):
    def conv(x, filters, kernel, strides=1, padding="same", name=None):
        # BN after every conv, conv bias off (the BN shift replaces it), eps 1e-3.
        return conv_bn_act(x, filters, kernel, strides, padding, name=name, batch_norm=True,
                           bn_epsilon=1e-3, bn_scale=bn_scale, bn_momentum=bn_momentum,
                           use_bias=False, kernel_initializer=kinit)
    return conv


def _head(x, include_top, pooling, classes, classifier_activation, dropout, kinit):
    if not include_top:
        return common.pool_features(x, pooling)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    return common.classifier(x, classes, classifier_activation, kernel_initializer=kinit)


# -------------------------------------------------------------------- Inception v2
def InceptionV2(include_top=True, weights=None, input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax", variant="paper",
                dropout=None, depth_multiplier=1.0, min_depth=16, kernel_initializer=None,
                name=None):
    """BN-Inception (Ioffe & Szegedy 2015, Figure 5), which this package calls Inception v2.

    NOTE on names: "Rethinking the Inception Architecture" (and the course) call a
    DIFFERENT network "Inception v2": that paper's factorised network (its Table 1;
    Inception-v3 is the same network with the paper's training changes). This builder
    is BN-Inception, the network the Inception-v4 paper and TF-Slim call Inception-v2;
    for the factorised network use :func:`InceptionV3`.

    ``variant="paper"`` (default) follows the paper: GoogLeNet's layout with each 5x5
    replaced by two 3x3 convolutions, BN (scale and shift) after every convolution and no
    conv biases, a plain 7x7/2 first convolution, a 1x1 64 -> 3x3 192 second stage, the
    28x28 modules 3a, 3b and 3c (3c strides 2), 4a-4e (4e strides 2), 5a, 5b, average
    or max pooling in the pool branch as the table says, no LRN, and no dropout (section
    4.2.1 removes it). Rows 4c and 4d keep the table's "avg + 128" (608 channels each,
    as the Caffe BN-Inception release does; see ``BN_INCEPTION_TABLE``): 11,305,256
    parameters, 2.03 G multiply-adds at 224. Padding is TF "same" throughout, as
    TF-Slim's, which gives the paper's 112 / 56 / 28 / 14 / 7 grids at 224.

    ``variant="slim"`` is TF-Slim's ``inception_v2``: the first conv is depthwise-
    separable (7x7 depthwise with channel multiplier min(64 // 3, 8) = 8, then 1x1 to
    64), BN without scale, dropout 0.2 (keep_prob 0.8) and 96 channels in the pool
    projections of 4c and 4d (576 channels each, 4e 1024): 11,198,240 parameters.
    TF-Slim and this builder pad "same"; the Caffe release pads explicitly with ceil-
    mode pools: the same grid sizes at 224 (and any multiple of 32), different pad
    positions.

    ``dropout=None`` takes the variant's rate (paper 0, slim 0.2).
    ``depth_multiplier`` / ``min_depth`` thin every convolution as TF-Slim's do.
    Initialiser: He normal (TF-Slim's ``inception_arg_scope`` variance scaling);
    ``kernel_initializer=`` overrides it. Minimum input 32 (TF-Slim).
    """
    common.check_choice("variant", variant, V2_VARIANTS)
    cfg = _V2_VARIANT[variant]
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes)
    dropout = common.check_dropout("dropout", cfg["dropout"] if dropout is None else dropout)
    depth_multiplier = _check_depth(depth_multiplier, min_depth)
    input_shape = common.resolve_input_shape(input_shape, input_tensor, (224, 224, 3),
                                             V2_MIN_INPUT_SIZE)
    kinit = "he_normal" if kernel_initializer is None else kernel_initializer
    depth = _depth_fn(depth_multiplier, min_depth)
    conv = _make_conv(cfg["bn_scale"], kinit)

    inputs, x = common.make_input(input_shape, input_tensor)
    if cfg["separable_stem"]:
        dm = min(int(depth(64) / 3), 8)
        x = layers.SeparableConv2D(depth(64), 7, strides=2, padding="same", depth_multiplier=dm,
                                   use_bias=False, depthwise_initializer=kinit,
                                   pointwise_initializer=kinit, name="conv1_conv")(x)
        x = layers.BatchNormalization(epsilon=1e-3, scale=False, name="conv1_bn")(x)
        x = layers.Activation("relu", name="conv1")(x)
    else:
        x = conv(x, depth(64), 7, 2, name="conv1")                      # 112x112x64
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)  # 56
    x = conv(x, depth(64), 1, name="conv2_reduce")
    x = conv(x, depth(192), 3, name="conv2")                            # 56x56x192
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)  # 28
    for row in cfg["table"]:
        x = inception_block(x, row.module(), conv=conv, depth=depth)
    x = _head(x, include_top, pooling, classes, classifier_activation, dropout, kinit)
    default_name = "inception_v2" if variant == "paper" else f"inception_v2_{variant}"
    return common.finish(inputs, x, name or default_name, weights)


# -------------------------------------------------------------------- Inception v3
def _v3_aux_head(x, classes, classifier_activation, conv, depth, kinit):
    """TF-Slim's AuxLogits on mixed7: avg pool 5x5/3 valid -> 1x1 conv 128 (BN) ->
    5x5 conv 768 valid (BN; TF-Slim shrinks the kernel to the pooled grid below 299)
    -> classifier. Above 299 the grid after the 5x5 conv exceeds 1x1 and the dense
    layer's fan-in follows it."""
    x = layers.AveragePooling2D(5, strides=3, padding="valid", name="aux_pool")(x)
    x = conv(x, depth(128), 1, name="aux_conv1")
    kernel = (min(5, x.shape[1]), min(5, x.shape[2]))
    x = conv(x, depth(768), kernel, 1, "valid", name="aux_conv2")
    x = layers.Flatten(name="aux_flatten")(x)
    return common.classifier(x, classes, classifier_activation, name="aux",
                             kernel_initializer=kinit)


def _v3_aux_head_torchvision(x, classes, classifier_activation, conv, depth, kinit):
    """torchvision's InceptionAux on mixed7: avg pool 5x5/3 valid -> 1x1 conv 128 (BN)
    -> 5x5 conv 768 valid (BN) -> adaptive average pool to 1x1 -> classifier."""
    x = layers.AveragePooling2D(5, strides=3, padding="valid", name="aux_pool")(x)
    x = conv(x, depth(128), 1, name="aux_conv1")
    x = conv(x, depth(768), 5, 1, "valid", name="aux_conv2")
    x = layers.GlobalAveragePooling2D(name="aux_avg_pool")(x)
    return common.classifier(x, classes, classifier_activation, name="aux",
                             kernel_initializer=kinit)


def _copy_weights_by_name(source, target):
    for layer in source.layers:
        if layer.weights:
            target.get_layer(layer.name).set_weights(layer.get_weights())


def InceptionV3(include_top=True, weights=None, input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax", aux=False,
                dropout=None, depth_multiplier=1.0, min_depth=16, kernel_initializer=None,
                name=None, variant="keras"):
    """Inception v3 (Szegedy et al., "Rethinking the Inception Architecture", 2015).

    Layout: keras.applications' ``InceptionV3`` = TF-Slim's ``inception_v3`` (299x299,
    valid-padded stem, a 5x5 in the 35x35 modules, convs without bias, BN without scale,
    eps 1e-3). Weight-compatible with keras.applications: same graph, same branch order,
    so Keras orders the weights identically, ``ours.set_weights(theirs.get_weights())``
    works and ``weights="imagenet"`` loads its published file. 23,851,784 parameters,
    5.71 G multiply-adds at 299.

    ``aux=True`` adds TF-Slim's one auxiliary head on ``mixed7`` (see
    :func:`_v3_aux_head`), and the model's outputs become ``{"main", "aux"}``; compile
    with ``loss_weights=keras_cnns.aux_loss_weights(model)`` (aux 0.4, TF-Slim). With the
    head, graph order changes; main-path layers keep their names, so weights move by
    name (``weights="imagenet"`` does that). The aux model needs a static input of at
    least 107 px (:func:`v3_min_input_size`); without it the minimum is 75.

    ``dropout`` before the classifier is TF-Slim's (keep_prob 0.8); keras.applications
    has none (no weights, so compatibility is unaffected). ``depth_multiplier`` /
    ``min_depth`` thin every convolution as TF-Slim's do (no ImageNet weights then).
    Initialiser: Glorot uniform (keras.applications); ``kernel_initializer=`` overrides.

    ``variant="torchvision"`` is torchvision's ``inception_v3`` (``Inception3``), the
    same graph with: BN with a learned scale (gamma) after every convolution, the 3x3/1
    average pools of the pool branches counting their zero padding (an explicit
    ZeroPadding2D(1) before a valid pool, torch's ``count_include_pad=True``), dropout 0.5
    and, with ``aux=True``, torchvision's aux head (avg pool 5x5/3 -> 1x1 conv 128 -> 5x5
    conv 768 -> adaptive average pool -> classifier; input at least 299). 23,869,000
    parameters (27,161,264 trainable with the aux head, torchvision's count). Load
    torchvision checkpoints with :func:`keras_cnns.weights.from_torchvision`; no
    ``weights="imagenet"``. ``dropout=None`` takes the variant's rate (0.2 / 0.5).
    """
    common.check_choice("variant", variant, V3_VARIANTS)
    cfg = _V3_VARIANT[variant]
    if not isinstance(aux, bool):
        raise TypeError(f"aux must be a bool, got {type(aux).__name__}")
    if weights == "imagenet" and variant != "keras":
        raise ValueError(f"weights='imagenet' is keras.applications' file for "
                         f"variant='keras'; got variant={variant!r}. Convert torchvision's "
                         "checkpoint with keras_cnns.weights.from_torchvision instead.")
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes, allowed_weights=(None, "imagenet"))
    dropout = common.check_dropout("dropout", cfg["dropout"] if dropout is None else dropout)
    depth_multiplier = _check_depth(depth_multiplier, min_depth)
    if aux and not include_top:
        raise ValueError("aux=True needs include_top=True: the aux head is a classifier")
    if weights == "imagenet":
        if include_top and classes != 1000:
            raise ValueError(f"weights='imagenet' with include_top=True needs classes=1000, "
                             f"got classes={classes}")
        if depth_multiplier != 1.0:
            raise ValueError("weights='imagenet' needs depth_multiplier=1.0 (the published "
                             f"file is the full-width network), got {depth_multiplier}")
    input_shape = common.resolve_input_shape(input_shape, input_tensor, (299, 299, 3),
                                             v3_min_input_size(aux, variant),
                                             require_static=aux)
    if weights == "imagenet" and input_shape[-1] != 3:
        raise ValueError(f"weights='imagenet' needs 3 input channels, got input_shape "
                         f"{input_shape}")
    kinit = "glorot_uniform" if kernel_initializer is None else kernel_initializer
    depth = _depth_fn(depth_multiplier, min_depth)
    conv = _make_conv(cfg["bn_scale"], kinit, cfg["bn_momentum"])
    aux_head = _v3_aux_head_torchvision if variant == "torchvision" else _v3_aux_head

    inputs, x = common.make_input(input_shape, input_tensor)
    for layer_name, op in V3_STEM:
        x = _apply_op(x, op, layer_name, conv, depth)
    aux_out = None
    for module in V3_MODULES:
        x = inception_block(x, module, conv=conv, depth=depth, include_pad=cfg["include_pad"])
        if aux and module.name == V3_AUX_ON:
            aux_out = aux_head(x, classes, classifier_activation, conv, depth, kinit)
    x = _head(x, include_top, pooling, classes, classifier_activation, dropout, kinit)
    outputs = {"main": x, "aux": aux_out} if aux else x
    default_name = "inception_v3" if variant == "keras" else f"inception_v3_{variant}"
    model = common.finish(inputs, outputs, name or default_name,
                          None if weights == "imagenet" else weights)
    if weights == "imagenet":
        # Lazy: the weights table is only imported on request.
        from keras_cnns.weights.imagenet import load_imagenet_weights
        if aux:
            # The published file is in the main network's graph order: load it there,
            # then move every main-path layer by name.
            main = InceptionV3(include_top=True, weights=None, input_shape=input_shape,
                               classes=classes, dropout=dropout, name="inception_v3_main")
            load_imagenet_weights(main, "inception_v3", True)
            _copy_weights_by_name(main, model)
        else:
            load_imagenet_weights(model, "inception_v3", include_top)
    return model


# ---------------------------------------------------------------------- registry
# BN-Inception at 224, 1000 classes, derived from the table (no reference count exists;
# tests/models/test_inception.py recounts it from the table without Keras). Convs have
# no bias; each BN channel holds gamma, beta (trainable), moving mean and variance.
# Conv weights, k*k*c_in*c_out:
#   stem 7*7*3*64 + 64*64 + 9*64*192 = 9,408 + 4,096 + 110,592 = 124,096
#   3a 218,112  3b 259,072  3c 384,000  4a 608,256  4b 663,552  4c 912,384
#   4d 1,140,736  4e 1,447,936  5a 2,205,696  5b 2,276,352   (e.g. 3a, 192 in:
#   192*64 + 192*64 + 9*64*64 + 192*64 + 9*64*96 + 9*96*96 + 192*32 = 218,112)
#   sum 10,240,192
# BN: 10,016 channels x 4 = 40,064 (x 2 = 20,032 trainable); classifier 1024*1000 + 1000.
# Total 10,240,192 + 40,064 + 1,025,000 = 11,305,256; trainable 11,285,224.
# Multiply-adds: sum of k*k*c_in*c_out*H_out*W_out over the convs + 1024*1000
# = 2,032,600,064 (the paper gives no figure).
# TF-Slim variant: stem 7*7*3*8 (depthwise) + 3*8*64 (pointwise) + 4,096 + 110,592 =
# 117,400; 4c, 4d pool proj 96 -> 4c 893,952, 4d 1,105,920, 4e 1,437,696, 5a 2,179,072;
# conv 10,143,384 + BN 9,952 x 3 (no gamma) + 1,025,000 = 11,198,240, trainable
# 11,178,336; 1,934,857,216 multiply-adds.
_BN = dict(paper="Batch Normalization: Accelerating Deep Network Training by Reducing "
                 "Internal Covariate Shift",
           authors="Ioffe, Szegedy", year=2015, arxiv="1502.03167", family="inception_v2",
           default_input_shape=(224, 224, 3), min_input_size=V2_MIN_INPUT_SIZE,
           params_with_aux=None, preprocessing=tf_preprocessing(),
           end_points=V2_END_POINTS, stage_outputs=V2_STAGE_OUTPUTS)
register_model(ModelInfo(
    name="inception_v2", params=11_305_256, trainable_params=11_285_224,
    macs=2_032_600_064,
    # Table 2: single crop 25.2 / 7.82; 144 crops 21.99 / 5.82; ensemble 20.1 / 4.9
    # (4.82 on the test set).
    reported={"top1_1crop": 25.2, "top5_1crop": 7.82, "top1_144crop": 21.99,
              "top5_144crop": 5.82, "top5_ensemble": 4.9, "top5_ensemble_test": 4.82},
    layout="paper Figure 5 (plain 7x7 stem, BN with scale, 4c/4d pool proj 128), TF "
           "'same' padding",
    build_kwargs={"variant": "paper"}, **_BN), InceptionV2)
register_model(ModelInfo(
    name="inception_v2_slim", params=11_198_240, trainable_params=11_178_336,
    macs=1_934_857_216,
    reported={},
    layout="TF-Slim inception_v2 (separable 7x7 stem, scale-free BN, 4c/4d pool proj 96)",
    build_kwargs={"variant": "slim"}, **_BN), InceptionV2)

register_model(ModelInfo(
    name="inception_v3",
    paper="Rethinking the Inception Architecture for Computer Vision",
    authors="Szegedy, Vanhoucke, Ioffe, Shlens, Wojna", year=2015, arxiv="1512.00567",
    family="inception_v3", default_input_shape=(299, 299, 3),
    min_input_size=V3_MIN_INPUT_SIZE,
    # keras.applications.InceptionV3(weights=None).count_params(); trainable excludes the
    # BN moving mean and variance of its 17,216 channels (2 x 17,216 = 34,432).
    params=23_851_784, params_with_aux=27_179_376, trainable_params=23_817_352,
    # Aux head at 299 (BN without gamma: 3 per channel): 768*128 + 3*128
    # + 5*5*128*768 + 3*768 + 768*1000 + 1000 = 3,327,592 -> 27,179,376.
    # torchvision's Inception_V3 weights list 5.713 GFLOPS (multiply-adds) at 299; the
    # aux head adds 2,457,600 + 2,457,600 + 768,000 = 5,683,200.
    macs=5_713_216_096,
    # Abstract / Table 3: single crop 21.2 / 5.6; 4-model ensemble, 144 crops 17.3 / 3.5.
    # keras.applications' published weights: 77.9 / 93.7 % accuracy.
    reported={"top1_1crop": 21.2, "top5_1crop": 5.6, "top1_ensemble": 17.3,
              "top5_ensemble": 3.5, "keras_top1": 22.1, "keras_top5": 6.3},
    preprocessing=tf_preprocessing(),
    aux_loss_weights={"main": 1.0, "aux": V3_AUX_LOSS_WEIGHT},
    layout="keras.applications InceptionV3 = TF-Slim inception_v3 (aux head on mixed7)",
    end_points=V3_END_POINTS, stage_outputs=V3_STAGE_OUTPUTS), InceptionV3)

# torchvision's inception_v3: trainable 23,834,568 = keras' 23,817,352 + the 17,216 BN
# gammas; + 2 x 17,216 moving statistics = 23,869,000. With the aux head (conv0 768*128
# + 2*128, conv1 5*5*128*768 + 2*768, fc 768*1000 + 1000 = 3,326,696 trainable, 2 x 896
# moving statistics): 27,161,264 trainable (torchvision's num_params), 27,197,488 total.
# Multiply-adds: the same convolutions as inception_v3, 5.713 G (torchvision's GFLOPS).
register_model(ModelInfo(
    name="inception_v3_torchvision",
    paper="Rethinking the Inception Architecture for Computer Vision",
    authors="Szegedy, Vanhoucke, Ioffe, Shlens, Wojna", year=2015, arxiv="1512.00567",
    family="inception_v3", default_input_shape=(299, 299, 3),
    min_input_size=V3_MIN_INPUT_SIZE,
    params=23_869_000, params_with_aux=27_197_488, trainable_params=23_834_568,
    macs=5_713_216_096,
    # torchvision's published IMAGENET1K_V1 (ported from TensorFlow): acc@1 77.294,
    # acc@5 93.450.
    reported={"top1": 22.706, "top5": 6.550},
    # The published weights run with transform_input=True: torchvision maps its
    # ImageNet-normalised input back to (x / 255 - 0.5) / 0.5, so the network itself sees
    # "tf" inputs in [-1, 1]; resize 342, centre crop 299.
    preprocessing=tf_preprocessing(crop_fraction=299 / 342),
    aux_loss_weights={"main": 1.0, "aux": V3_AUX_LOSS_WEIGHT},
    layout="torchvision inception_v3 (BN with scale, avg pools counting padding, "
           "torchvision aux head)",
    end_points=V3_END_POINTS, stage_outputs=V3_STAGE_OUTPUTS,
    build_kwargs={"variant": "torchvision"},
    notes="torchvision's published inception_v3 weights expect transform_input=True: the "
          "network sees RGB scaled to [-1, 1] (the preprocessing here), which is what "
          "torchvision computes from its ImageNet-normalised input."), InceptionV3)
