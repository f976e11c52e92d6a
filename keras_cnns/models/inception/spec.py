"""Inception v2 (BN-Inception) and Inception v3: the module tables as data.

Naming. "Rethinking the Inception Architecture for Computer Vision" (Szegedy et al.
2015) and the course call that paper's factorised network "Inception-v2" (and, with its
training changes, "Inception-v3"). The Inception-v4 paper (Szegedy et al. 2016) and
TF-Slim call BN-Inception (Ioffe & Szegedy 2015) "Inception-v2". This package follows
the latter: ``inception_v2`` is BN-Inception, ``inception_v3`` the factorised network
as TF-Slim and keras.applications release it.

Every Inception module is a :class:`~keras_cnns.blocks.rows.Parallel` row: branches of
:class:`~keras_cnns.blocks.rows.Conv` (conv-BN-ReLU) and
:class:`~keras_cnns.blocks.rows.Pool` rows, concatenated on channels; :func:`module`
names every layer. So the registry entries, the grid sizes (one walker,
:func:`keras_cnns.blocks.rows.output_sizes`), the docs' paper table and the torchvision
mapping all read the same tables without TensorFlow; ``build.py`` builds them.
"""

from typing import NamedTuple

from keras_cnns.blocks.rows import Conv, Parallel, Pool, min_input_size as _min_size, output_sizes
from keras_cnns.metadata import (Check, Choice, Erratum, Family, ModelInfo, PaperRow, PaperTable,
                                 Probe, RecipeSpec, SearchSpace, TorchMap, TorchvisionArch,
                                 dropout_choice, keras_applications_weights, tf_preprocessing)

__all__ = ["Conv", "Pool", "Parallel", "Module", "conv", "split", "module", "BNInceptionSpec",
           "BN_INCEPTION_TABLE", "SLIM_V2_TABLE", "SLIM_V2_END_POINTS", "V2_STEM", "V2_VARIANTS",
           "V3_STEM", "figure5", "figure6", "figure7", "figure10", "figure10_factorised",
           "V3_MODULES", "V3_AUX_HEAD", "V3_VARIANTS", "v2_trunk", "v3_trunk", "v3_grid_sizes",
           "v3_min_input_size", "FAMILY"]


# --------------------------------------------------------------------------- vocabulary

def conv(filters, kernel, stride=1, padding="same"):
    """A conv-BN-ReLU row of a module (named by :func:`module`); ``filters`` before the
    depth multiplier, ``kernel`` an int or ``(kh, kw)`` (``(1, 7)``: "1x7")."""
    return Conv("", filters, kernel, stride, padding)


AVG = Pool("", "avg", 3, 1, "same")             # TF's "same" leaves the padding out of the mean
MAX = Pool("", "max", 3, 1, "same")
MAX_S2_SAME = Pool("", "max", 3, 2, "same")
MAX_S2_VALID = Pool("", "max", 3, 2, "valid")


def split(*convs):
    """Parallel convolutions on one input, concatenated ("Rethinking", Figure 7: 1x3 | 3x1)."""
    return Parallel("", tuple((c,) for c in convs))


def _kernel(kernel):
    kh, kw = (kernel, kernel) if isinstance(kernel, int) else kernel
    return f"{kh}x{kw}"


def module(name, *branches):
    """An Inception module: ``branches`` (tuples of rows) concatenated in order as
    ``name``. Layers are named ``{name}_branch{b}_{j}_{kh}x{kw}`` for row ``j`` of branch
    ``b`` (a conv), ``{name}_branch{b}_{j}_{kind}pool`` (a pool), and a split's
    convolutions ``{name}_branch{b}_{j}{a, b, ...}_{kh}x{kw}`` around its concatenation
    ``{name}_branch{b}_{j}``."""
    named = []
    for b, branch in enumerate(branches):
        rows = []
        for j, row in enumerate(branch):
            base = f"{name}_branch{b}_{j}"
            if isinstance(row, Conv):
                row = row._replace(name=f"{base}_{_kernel(row.kernel)}")
            elif isinstance(row, Pool):
                row = row._replace(name=f"{base}_{row.kind}pool")
            else:
                row = Parallel(base, tuple(
                    (c._replace(name=f"{base}{chr(ord('a') + i)}_{_kernel(c.kernel)}"),)
                    for i, (c,) in enumerate(row.branches)))
            rows.append(row)
        named.append(tuple(rows))
    return Parallel(name, tuple(named))


Module = Parallel  # the module row's former name


def convs(row):
    """The :class:`Conv` rows of a module, in branch order (a split's in order)."""
    out = []
    for branch in row.branches:
        for r in branch:
            if isinstance(r, Conv):
                out.append(r)
            elif isinstance(r, Parallel):
                out += convs(r)
    return tuple(out)


def _up_to(rows, name):
    return rows[:[r.name for r in rows].index(name) + 1]


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

    @property
    def out_channels(self):
        """The channels the row's columns sum to (``None``: the pool passes its input)."""
        if not self.pool_proj:
            return None
        return self.b1x1 + self.b3x3 + self.d3x3 + self.pool_proj

    def module(self):
        """The row as a :class:`Parallel` module: 1x1 | 1x1-3x3 | 1x1-3x3-3x3 | pool(-1x1)."""
        s = self.strides
        branches = [(conv(self.b1x1, 1),)] if self.b1x1 else []
        branches.append((conv(self.b3x3_reduce, 1), conv(self.b3x3, 3, s)))
        branches.append((conv(self.d3x3_reduce, 1), conv(self.d3x3, 3), conv(self.d3x3, 3, s)))
        pool = Pool("", self.pool, 3, s, "same")
        branches.append((pool, conv(self.pool_proj, 1)) if self.pool_proj else (pool,))
        return module(self.name, *branches)


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

# Figure 5's first rows: 7x7/2 conv (112), 3x3/2 max pool (56), a 1x1 64 -> 3x3 192
# second stage (56), 3x3/2 max pool (28). TF "same" padding, as TF-Slim's.
V2_STEM = (
    Conv("conv1", 64, 7, 2),
    Pool("pool1", "max", 3, 2, "same"),
    Conv("conv2_reduce", 64, 1),
    Conv("conv2", 192, 3),
    Pool("pool2", "max", 3, 2, "same"),
)

V2_VARIANTS = ("paper", "slim")
V2_VARIANT_CONFIG = {
    # The paper's BN (section 3) learns a scale gamma and a shift beta; section 4.2.1
    # removes dropout.
    "paper": dict(table=BN_INCEPTION_TABLE, separable_stem=False, bn_scale=True,
                  dropout=0.0),
    # TF-Slim inception_v2: separable 7x7 stem (bias and ReLU, no BN: the arg scope's BN
    # covers slim.conv2d only), inception_arg_scope's scale-free BN on every other conv,
    # dropout_keep_prob 0.8, 96 in the pool projections of 4c and 4d.
    "slim": dict(table=SLIM_V2_TABLE, separable_stem=True, bn_scale=False, dropout=0.2),
}
V2_END_POINTS = tuple(r.name for r in V2_STEM) + tuple(r.name for r in BN_INCEPTION_TABLE)
# TF-Slim's end-point names (nets/inception_v2.py, inception_v2_base) for ours, in order.
# Slim numbers its modules one letter on: its Mixed_3b is the paper's 3a, Mixed_4a the
# stride-2 3c, Mixed_5a the stride-2 4e, Mixed_5c the last module 5b.
SLIM_V2_END_POINTS = dict(zip(
    ("Conv2d_1a_7x7", "MaxPool_2a_3x3", "Conv2d_2b_1x1", "Conv2d_2c_3x3", "MaxPool_3a_3x3",
     "Mixed_3b", "Mixed_3c", "Mixed_4a", "Mixed_4b", "Mixed_4c", "Mixed_4d", "Mixed_4e",
     "Mixed_5a", "Mixed_5b", "Mixed_5c"), V2_END_POINTS))
V2_STAGE_OUTPUTS = ("conv1", "conv2", "inception_3b", "inception_4d", "inception_5b")
V2_MIN_INPUT_SIZE = 32  # TF-Slim: "any size greater 32x32"; five halvings reach 1x1


def v2_trunk(variant="paper"):
    """The stem and the modules of ``variant`` as rows."""
    return V2_STEM + tuple(r.module() for r in V2_VARIANT_CONFIG[variant]["table"])


# ---------------------------------------------------------------------- Inception v3

# "Rethinking", Table 1 (type, patch size / stride, input size), as TF-Slim and
# keras.applications release it; the names are TF-Slim's end points.
V3_STEM = (
    Conv("Conv2d_1a_3x3", 32, 3, 2, "valid"),       # conv 3x3/2          299x299x3
    Conv("Conv2d_2a_3x3", 32, 3, 1, "valid"),       # conv 3x3/1          149x149x32
    Conv("Conv2d_2b_3x3", 64, 3),                   # conv padded 3x3/1   147x147x32
    Pool("MaxPool_3a_3x3", "max", 3, 2, "valid"),   # pool 3x3/2          147x147x64
    Conv("Conv2d_3b_1x1", 80, 1, 1, "valid"),       # (release) 1x1 80    73x73x64
    Conv("Conv2d_4a_3x3", 192, 3, 1, "valid"),      # (release) 3x3 192   73x73x80
    Pool("MaxPool_5a_3x3", "max", 3, 2, "valid"),   # (release) pool 3x3/2 71x71x192
)


def figure5(name, pool_proj):
    """Figure 5, the 35x35 module, as released (TF-Slim Mixed_5b-d): 1x1 | 1x1-5x5 |
    1x1-3x3-3x3 | avg pool-1x1. The paper's figure has 3x3 where the release keeps one 5x5."""
    return module(name,
                  (conv(64, 1),),
                  (conv(48, 1), conv(64, 5)),
                  (conv(64, 1), conv(96, 3), conv(96, 3)),
                  (AVG, conv(pool_proj, 1)))


def figure6(name, n7):
    """Figure 6 with n = 7, the 17x17 module: 1x1 | 1x1-1x7-7x1 | 1x1-7x1-1x7-7x1-1x7 |
    avg pool-1x1; ``n7`` channels inside the factorised 7x7s."""
    return module(name,
                  (conv(192, 1),),
                  (conv(n7, 1), conv(n7, (1, 7)), conv(192, (7, 1))),
                  (conv(n7, 1), conv(n7, (7, 1)), conv(n7, (1, 7)), conv(n7, (7, 1)),
                   conv(192, (1, 7))),
                  (AVG, conv(192, 1)))


def figure7(name):
    """Figure 7, the 8x8 module with expanded filter banks: 1x1 | 1x1-(1x3 | 3x1) |
    1x1-3x3-(1x3 | 3x1) | avg pool-1x1."""
    return module(name,
                  (conv(320, 1),),
                  (conv(384, 1), split(conv(384, (1, 3)), conv(384, (3, 1)))),
                  (conv(448, 1), conv(384, 3), split(conv(384, (1, 3)), conv(384, (3, 1)))),
                  (AVG, conv(192, 1)))


def figure10(name):
    """Figure 10's grid reduction, 35 -> 17 (TF-Slim Mixed_6a): 3x3/2 | 1x1-3x3-3x3/2 |
    max pool 3x3/2, stride-2 convolution and pooling side by side."""
    return module(name,
                  (conv(384, 3, 2, "valid"),),
                  (conv(64, 1), conv(96, 3), conv(96, 3, 2, "valid")),
                  (MAX_S2_VALID,))


def figure10_factorised(name):
    """The 17 -> 8 reduction (TF-Slim Mixed_7a): Figure 10 with Figure 6's factorised 7x7
    in the deep branch: 1x1-3x3/2 | 1x1-1x7-7x1-3x3/2 | max pool 3x3/2."""
    return module(name,
                  (conv(192, 1), conv(320, 3, 2, "valid")),
                  (conv(192, 1), conv(192, (1, 7)), conv(192, (7, 1)), conv(192, 3, 2, "valid")),
                  (MAX_S2_VALID,))


# Table 1 below the stem: modules as in Figure 5 on the 35x35 grid, Figure 6 on the 17x17
# grid and Figure 7 on the 8x8 grid, each grid reduced as in Figure 10 (section 7).
V3_MODULES = (
    figure5("mixed0", pool_proj=32),   # 35x35x256
    figure5("mixed1", pool_proj=64),   # 35x35x288
    figure5("mixed2", pool_proj=64),   # 35x35x288
    figure10("mixed3"),                # 17x17x768
    figure6("mixed4", n7=128),         # 17x17x768
    figure6("mixed5", n7=160),         # 17x17x768
    figure6("mixed6", n7=160),         # 17x17x768
    figure6("mixed7", n7=192),         # 17x17x768; the aux head reads this
    figure10_factorised("mixed8"),     # 8x8x1280
    figure7("mixed9"),                 # 8x8x2048
    figure7("mixed10"),                # 8x8x2048
)
V3_END_POINTS = tuple(r.name for r in V3_STEM) + tuple(m.name for m in V3_MODULES)
V3_STAGE_OUTPUTS = ("Conv2d_2b_3x3", "Conv2d_4a_3x3", "mixed2", "mixed7", "mixed10")
V3_AUX_ON = "mixed7"
V3_AUX_LOSS_WEIGHT = 0.4  # TF-Slim train_image_classifier: aux logits weighted 0.4
# The aux head (TF-Slim's AuxLogits, torchvision's InceptionAux): avg pool 5x5/3 valid ->
# 1x1 conv 128 -> 5x5 conv 768 valid -> classifier.
V3_AUX_HEAD = (
    Pool("aux_pool", "avg", 5, 3, "valid"),
    Conv("aux_conv1", 128, 1),
    Conv("aux_conv2", 768, 5, 1, "valid"),
)

V3_VARIANTS = ("keras", "torchvision")
# What each variant changes. torchvision's BasicConv2d is conv (no bias) + BN with a
# learned scale (eps 1e-3, torch momentum 0.1 = Keras 0.9); its 3x3/1 average pools pad
# by 1 and count the padding (F.avg_pool2d's count_include_pad=True), where TF's "same"
# excludes it; its aux head keeps the 5x5 conv (TF-Slim shrinks it to the pooled grid)
# and pools adaptively to 1x1.
V3_VARIANT_CONFIG = {
    "keras": dict(bn_scale=False, bn_momentum=0.99, include_pad=False, dropout=0.2,
                  aux_kernel_fits_grid=True),
    "torchvision": dict(bn_scale=True, bn_momentum=0.9, include_pad=True, dropout=0.5,
                        aux_kernel_fits_grid=False),
}


def v3_trunk():
    """The stem and the modules as rows."""
    return V3_STEM + V3_MODULES


def v3_grid_sizes(size):
    """Grid side at the 35, 17 and 8 stages (mixed2, mixed7, mixed10) for input ``size``;
    ``None`` each where the network does not build."""
    sizes = output_sizes(size, v3_trunk())
    if sizes is None:
        return None, None, None
    return tuple(sizes[name][0] for name in V3_STAGE_OUTPUTS[2:])


def v3_min_input_size(aux=False, variant="keras"):
    """75 for the main path (mixed8 needs a 3x3 grid). With the aux head, its rows must
    fit on the mixed7 grid: the 5x5/3 pool alone where TF-Slim shrinks the 5x5 conv to
    the pooled grid (107 px, mixed7 5x5); torchvision keeps the 5x5 conv, so the pooled
    grid must be 5x5 (299 px, mixed7 17x17)."""
    main = _min_size(v3_trunk())
    if not aux:
        return main
    head = V3_AUX_HEAD[:1] if V3_VARIANT_CONFIG[variant]["aux_kernel_fits_grid"] else V3_AUX_HEAD
    return max(main, _min_size(_up_to(v3_trunk(), V3_AUX_ON) + head))


V3_MIN_INPUT_SIZE = v3_min_input_size()  # 75, keras.applications' minimum too


# --------------------------------------------------------------------------- entries

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
# conv weights 10,143,384. The separable stem (Conv2d_1a_7x7) has a bias and no BN
# (inception_arg_scope puts BN on slim.conv2d only): 64 biases. BN on the other convs:
# 9,952 - 64 = 9,888 channels x 3 (beta, moving mean and variance; no gamma) = 29,664.
# Trunk 10,143,384 + 64 + 29,664 = 10,173,112, TF-Slim's inception_v2_base count
# (inception_v2_test.py, testModelHasExpectedNumberOfParameters: get_model_variables(),
# moving statistics included); + classifier 1,025,000 = 11,198,112. Trainable
# 10,143,384 + 64 + 9,888 + 1,025,000 = 11,178,336. 1,934,857,216 multiply-adds
# (biases are not counted).
_BN = dict(paper="Batch Normalization: Accelerating Deep Network Training by Reducing "
                 "Internal Covariate Shift",
           authors="Ioffe, Szegedy", year=2015, arxiv="1502.03167", family="inception_v2",
           default_input_shape=(224, 224, 3), min_input_size=V2_MIN_INPUT_SIZE,
           params_with_aux=None, preprocessing=tf_preprocessing(),
           end_points=V2_END_POINTS, stage_outputs=V2_STAGE_OUTPUTS,
           builder="InceptionV2", augment="inception", last_channels=1024,
           # No recipe of its own here: GoogLeNet's (section 6 of Szegedy et al. 2014),
           # whose network BN-Inception modifies.
           recipe="googlenet")

_RETHINKING = dict(paper="Rethinking the Inception Architecture for Computer Vision",
                   authors="Szegedy, Vanhoucke, Ioffe, Shlens, Wojna", year=2015,
                   arxiv="1512.00567", family="inception_v3",
                   default_input_shape=(299, 299, 3), min_input_size=V3_MIN_INPUT_SIZE,
                   aux_loss_weights={"main": 1.0, "aux": V3_AUX_LOSS_WEIGHT},
                   end_points=V3_END_POINTS, stage_outputs=V3_STAGE_OUTPUTS,
                   builder="InceptionV3", augment="inception", recipe="inception_v3",
                   last_channels=2048)

MODELS = (
    ModelInfo(
        name="inception_v2", params=11_305_256, trainable_params=11_285_224,
        macs=2_032_600_064,
        # Table 2: single crop 25.2 / 7.82; 144 crops 21.99 / 5.82; ensemble 20.1 / 4.9
        # (4.82 on the test set).
        reported={"top1_1crop": 25.2, "top5_1crop": 7.82, "top1_144crop": 21.99,
                  "top5_144crop": 5.82, "top5_ensemble": 4.9, "top5_ensemble_test": 4.82},
        layout="paper Figure 5 (plain 7x7 stem, BN with scale, 4c/4d pool proj 128), TF "
               "'same' padding",
        build_kwargs={"variant": "paper"}, **_BN),
    ModelInfo(
        name="inception_v2_slim", params=11_198_112, trainable_params=11_178_336,
        macs=1_934_857_216,
        reported={},
        layout="TF-Slim inception_v2 (separable 7x7 stem with bias and no BN, scale-free BN "
               "elsewhere, 4c/4d pool proj 96)",
        build_kwargs={"variant": "slim"}, **_BN),
    ModelInfo(
        name="inception_v3",
        # keras.applications.InceptionV3(weights=None).count_params(); trainable excludes
        # the BN moving mean and variance of its 17,216 channels (2 x 17,216 = 34,432).
        params=23_851_784, params_with_aux=27_179_376, trainable_params=23_817_352,
        # Aux head at 299 (BN without gamma: 3 per channel): 768*128 + 3*128
        # + 5*5*128*768 + 3*768 + 768*1000 + 1000 = 3,327,592 -> 27,179,376.
        # torchvision's Inception_V3 weights list 5.713 GFLOPS (multiply-adds) at 299; the
        # aux head adds 2,457,600 + 2,457,600 + 768,000 = 5,683,200.
        macs=5_713_216_096,
        # Abstract / Table 3: single crop 21.2 / 5.6; 4-model ensemble, 144 crops 17.3 /
        # 3.5. keras.applications' published weights: 77.9 / 93.7 % accuracy.
        reported={"top1_1crop": 21.2, "top5_1crop": 5.6, "top1_ensemble": 17.3,
                  "top5_ensemble": 3.5, "keras_top1": 22.1, "keras_top5": 6.3},
        preprocessing=tf_preprocessing(),
        layout="keras.applications InceptionV3 = TF-Slim inception_v3 (aux head on mixed7)",
        # keras.applications' files: names and MD5s of keras/src/applications/inception_v3.py.
        imagenet_weights=keras_applications_weights(
            "inception_v3", "inception_v3", "9a0d58056eeedaa3f26cb7ebd46da564",
            "bcbd6486424b2319ff4ef7d526e38f63"),
        **_RETHINKING),
    # torchvision's inception_v3: trainable 23,834,568 = keras' 23,817,352 + the 17,216 BN
    # gammas; + 2 x 17,216 moving statistics = 23,869,000. With the aux head (conv0
    # 768*128 + 2*128, conv1 5*5*128*768 + 2*768, fc 768*1000 + 1000 = 3,326,696
    # trainable, 2 x 896 moving statistics): 27,161,264 trainable (torchvision's
    # num_params), 27,197,488 total. Multiply-adds: the same convolutions as
    # inception_v3, 5.713 G (torchvision's GFLOPS).
    ModelInfo(
        name="inception_v3_torchvision",
        params=23_869_000, params_with_aux=27_197_488, trainable_params=23_834_568,
        macs=5_713_216_096,
        # torchvision's published IMAGENET1K_V1 (ported from TensorFlow): acc@1 77.294,
        # acc@5 93.450.
        reported={"top1": 22.706, "top5": 6.550},
        # The published weights run with transform_input=True: torchvision maps its
        # ImageNet-normalised input back to (x / 255 - 0.5) / 0.5, so the network itself
        # sees "tf" inputs in [-1, 1]; resize 342, centre crop 299.
        preprocessing=tf_preprocessing(crop_fraction=299 / 342),
        layout="torchvision inception_v3 (BN with scale, avg pools counting padding, "
               "torchvision aux head)",
        build_kwargs={"variant": "torchvision"},
        notes="torchvision's published inception_v3 weights expect transform_input=True: "
              "the network sees RGB scaled to [-1, 1] (the preprocessing here), which is "
              "what torchvision computes from its ImageNet-normalised input.",
        torchvision=TorchvisionArch("inception_v3", "fc.weight", 1e-3, crop=299, resize=342,
                                    transform_input=True),
        **_RETHINKING),
)


# --------------------------------------------------------------------------- docs

_FIGURE5_COLUMNS = ("#1x1", "#3x3 reduce", "#3x3", "double #3x3 reduce", "double #3x3",
                    "pool + proj")


def _figure5_rows():
    """Ioffe & Szegedy's Figure 5 row by row, each width checked on the layer the build
    names for it (``BNInceptionSpec.module``)."""
    rows = []
    for spec in BN_INCEPTION_TABLE:
        branches = [list(b) for b in spec.module().branches]
        one = branches.pop(0)[0].name if spec.b1x1 else None
        reduce3, conv3 = (r.name for r in branches[0])
        reduce_d, _, conv_d = (r.name for r in branches[1])
        pool = branches[2]
        widths = {"#1x1": (spec.b1x1, one), "#3x3 reduce": (spec.b3x3_reduce, reduce3),
                  "#3x3": (spec.b3x3, conv3), "double #3x3 reduce": (spec.d3x3_reduce, reduce_d),
                  "double #3x3": (spec.d3x3, conv_d)}
        checks = [Check(Probe("channels", (layer,)), w, what)
                  for what, (w, layer) in widths.items() if layer]
        checks.append(Check(Probe("exists", (pool[0].name,)), 1, f"{spec.pool} pool"))
        if spec.pool_proj:
            checks.append(Check(Probe("channels", (pool[1].name,)), spec.pool_proj,
                                "pool proj"))
        if spec.out_channels:  # a pass-through pool adds its input's width instead
            checks.append(Check(Probe("channels", (spec.name,)), spec.out_channels,
                                "output width"))
        proj = f"{spec.pool} + {spec.pool_proj}" if spec.pool_proj else \
            f"{spec.pool} + pass through"
        cells = (spec.name.replace("inception_", ""),
                 str(spec.b1x1) if spec.b1x1 else "", str(spec.b3x3_reduce), str(spec.b3x3),
                 str(spec.d3x3_reduce), str(spec.d3x3), proj, str(spec.strides),
                 str(spec.out_channels or ""), Probe("channels", (spec.name,)),
                 Probe("grid", (spec.name,)))
        rows.append(PaperRow(cells, tuple(checks)))
    return tuple(rows)


def paper_table(info):
    """BN-Inception: the paper's Figure 5 (its appendix table) beside the build. Inception
    v3: none (Table 1 gives no widths; the modules are Figures 5-7 and 10, see the
    errata for where the release departs)."""
    if info.family != "inception_v2":
        return None
    return PaperTable("Paper Figure 5 (Ioffe & Szegedy 2015) against the build",
                      ("module", *_FIGURE5_COLUMNS, "stride", "out (rows' sum)", "built out",
                       "built grid"), _figure5_rows())


_V2 = ("inception_v2", "inception_v2_slim")

ERRATA = (
    Erratum("Names: this package's `inception_v2` is BN-Inception (Ioffe & Szegedy 2015), "
            "which the Inception-v4 paper calls \"Inception-v2\"; the course and "
            "\"Rethinking...\" call the factorised network \"Inception v2/v3\".", models=_V2),
    Erratum("Figure 5's rows 4c and 4d read \"avg + 128\", which sums to 608 channels, while "
            "its output column prints 576. `inception_v2` keeps the rows (as the Caffe "
            "BN-Inception release does: 4e reads 608 channels, 5a 1056); TF-Slim "
            "(`inception_v2_slim`) uses 96 to make 576.", models=_V2),
    Erratum("The course's Inception-v3 aux head (128 -> 1024 -> GAP) is the lecturer's "
            "invention; this build follows TF-Slim (avg pool 5x5/3 -> 1x1 conv 128 -> 5x5 "
            "conv 768 -> classifier, loss weight 0.4).", models=("inception_v3",)),
    Erratum("The course's Inception-v3 aux head (128 -> 1024 -> GAP) is the lecturer's "
            "invention; this build follows torchvision's InceptionAux (avg pool 5x5/3 -> 1x1 "
            "conv 128 -> 5x5 conv 768 -> global average pool -> classifier).",
            models=("inception_v3_torchvision",)),
    Erratum("Table 1's stem after the first pool (conv 3x3/1 on 73x73x64, conv 3x3/2 on "
            "71x71x80, conv 3x3/1 on 35x35x192) is not what TF-Slim released and "
            "keras.applications and torchvision reproduce: a 1x1 conv 80 (73x73), a valid "
            "3x3 conv 192 (71x71) and a 3x3/2 max pool (35x35). The build follows the "
            "release, which the published weights need.",
            models=("inception_v3", "inception_v3_torchvision")),
    Erratum("Figure 5 replaces every 5x5 by two 3x3 convolutions; the released 35x35 modules "
            "(mixed0-mixed2) keep a 1x1 -> 5x5 branch beside the 1x1 -> 3x3 -> 3x3 one, and "
            "the build follows the release.",
            models=("inception_v3", "inception_v3_torchvision")),
)


# --------------------------------------------------------------------------- training

RECIPES = (
    RecipeSpec(
        name="inception_v3",
        paper="Szegedy et al. 2015, Rethinking the Inception Architecture for Computer Vision",
        section="section 8 (Training Methodology), section 7 (label smoothing)",
        # Section 8: "RMSProp with decay of 0.9 and epsilon = 1.0 ... learning rate of
        # 0.045, decayed every two epoch using an exponential rate of 0.94 ... gradient
        # clipping with threshold 2.0".
        optimizer="rmsprop", learning_rate=0.045,
        optimizer_args={"rho": 0.9, "epsilon": 1.0, "momentum": 0.9, "global_clipnorm": 2.0},
        schedule="step", schedule_args={"rate": 0.94, "every_epochs": 2},
        weight_decay=4e-5, batch_size=32, epochs=100,
        initializer="TruncatedNormal", initializer_args={"stddev": 0.1},
        label_smoothing=0.1, aux_loss_weights={"main": 1.0, "aux": V3_AUX_LOSS_WEIGHT},
        augment="inception", eval_scheme="center",
        averaging="ema", ema_momentum=0.9999,
        notes="Batch 32 per replica on 50 replicas in the paper (global 1,600); 32 here. "
              "TF-Slim figures: weight decay 4e-5, RMSProp momentum 0.9, aux weight 0.4, "
              "moving-average decay 0.9999, truncated-normal(0.1) init. Keras' RMSprop adds "
              "epsilon outside the square root, TF1's inside."),
)


# --------------------------------------------------------------------------- tuning

DEPTH_MULTIPLIERS = (0.25, 0.5, 0.75, 1.0)


def _variant_dropout(info):
    """The dropout rate of the entry's variant: BN-Inception none (paper) or TF-Slim's
    keep_prob 0.8; Inception v3 TF-Slim's 0.2 or torchvision's 0.5."""
    variant = dict(info.build_kwargs).get("variant")
    if info.builder == "InceptionV2":
        return V2_VARIANT_CONFIG[variant or "paper"]["dropout"]
    return V3_VARIANT_CONFIG[variant or "keras"]["dropout"]


def _space_rows(info):
    # TF-Slim's depth_multiplier thins every convolution of the module tables.
    return (Choice("depth_filters_multiplier", DEPTH_MULTIPLIERS, 1.0, "depth_multiplier"),
            dropout_choice(_variant_dropout(info)))


def _space_kwargs(info, v):
    kwargs = {}
    if "depth_filters_multiplier" in v:
        kwargs["depth_multiplier"] = v["depth_filters_multiplier"]
    if "dropout" in v:
        kwargs["dropout"] = v["dropout"]
    return kwargs


SEARCH_SPACE = SearchSpace("TF-Slim depth multiplier (all widths), dropout", _space_rows,
                           _space_kwargs)


# --------------------------------------------------------------------------- torchvision

def _conv_bn(torch_prefix, keras_name):
    """torchvision's BasicConv2d (``.conv`` + ``.bn``) -> ``{name}_conv`` + ``{name}_bn``."""
    return (TorchMap(f"{torch_prefix}.conv", f"{keras_name}_conv", "conv"),
            TorchMap(f"{torch_prefix}.bn", f"{keras_name}_bn", "bn"))


# torchvision Inception3: each module's convolutions, in the order :func:`convs` lists
# the keras module's, are these BasicConv2d attributes.
_V3_A = ("branch1x1", "branch5x5_1", "branch5x5_2", "branch3x3dbl_1", "branch3x3dbl_2",
         "branch3x3dbl_3", "branch_pool")
_V3_B = ("branch3x3", "branch3x3dbl_1", "branch3x3dbl_2", "branch3x3dbl_3")
_V3_C = ("branch1x1", "branch7x7_1", "branch7x7_2", "branch7x7_3", "branch7x7dbl_1",
         "branch7x7dbl_2", "branch7x7dbl_3", "branch7x7dbl_4", "branch7x7dbl_5", "branch_pool")
_V3_D = ("branch3x3_1", "branch3x3_2", "branch7x7x3_1", "branch7x7x3_2", "branch7x7x3_3",
         "branch7x7x3_4")
_V3_E = ("branch1x1", "branch3x3_1", "branch3x3_2a", "branch3x3_2b", "branch3x3dbl_1",
         "branch3x3dbl_2", "branch3x3dbl_3a", "branch3x3dbl_3b", "branch_pool")
V3_TORCH_MODULES = (("Mixed_5b", _V3_A), ("Mixed_5c", _V3_A), ("Mixed_5d", _V3_A),
                    ("Mixed_6a", _V3_B), ("Mixed_6b", _V3_C), ("Mixed_6c", _V3_C),
                    ("Mixed_6d", _V3_C), ("Mixed_6e", _V3_C), ("Mixed_7a", _V3_D),
                    ("Mixed_7b", _V3_E), ("Mixed_7c", _V3_E))


def torchvision_mapping(model, info):
    """torchvision's ``Inception3`` module names for the ``inception_v3_torchvision``
    build: the stem's keras names are torchvision's attributes, each module's
    convolutions pair with :data:`V3_TORCH_MODULES` in order."""
    if len(V3_TORCH_MODULES) != len(V3_MODULES):  # pragma: no cover
        raise ValueError("inception_v3 mapping: module tables disagree")
    rows = tuple(m for row in V3_STEM if isinstance(row, Conv)
                 for m in _conv_bn(row.name, row.name))
    for keras_module, (torch_module, torch_convs) in zip(V3_MODULES, V3_TORCH_MODULES):
        keras_convs = convs(keras_module)
        if len(keras_convs) != len(torch_convs):  # pragma: no cover
            raise ValueError(f"inception_v3 mapping: {keras_module.name} has "
                             f"{len(keras_convs)} convolutions, torchvision's {torch_module} "
                             f"{len(torch_convs)}")
        for keras_conv, torch_conv in zip(keras_convs, torch_convs):
            rows += _conv_bn(f"{torch_module}.{torch_conv}", keras_conv.name)
    names = {layer.name for layer in model.layers}
    if "aux" in names:  # InceptionAux: conv0, conv1, fc
        rows += (_conv_bn("AuxLogits.conv0", "aux_conv1")
                 + _conv_bn("AuxLogits.conv1", "aux_conv2")
                 + (TorchMap("AuxLogits.fc", "aux", "dense"),))
    if "predictions" in names:
        rows += (TorchMap("fc", "predictions", "dense"),)
    return rows


FAMILY = Family(
    name="inception", title="Inception v2 (BN-Inception, Ioffe & Szegedy 2015) and Inception "
                            "v3 (Szegedy et al. 2015)",
    build_module="keras_cnns.models.inception.build", builders=("InceptionV2", "InceptionV3"),
    models=MODELS, paper_table=paper_table, errata=ERRATA, search_space=SEARCH_SPACE,
    torchvision_mapping=torchvision_mapping, recipes=RECIPES)
