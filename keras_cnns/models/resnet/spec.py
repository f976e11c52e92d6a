"""The ResNet family: ResNet v1 (He, Zhang, Ren, Sun 2015) for ImageNet and for CIFAR-10
(section 4.2), pre-activation ResNet v2 (He et al. 2016, "Identity Mappings"), ResNeXt
(Xie et al. 2016), Wide ResNet (Zagoruyko & Komodakis 2016) and stochastic depth (Huang
et al. 2016).

Everything about the family that needs no TensorFlow: the papers' stage tables as data
(He et al. Table 1 and section 4.2, Zagoruyko & Komodakis Table 1; ResNeXt and WRN-50-2
derived from the first), how each release wires its blocks, the registry entries with their
keras.applications files and torchvision layouts, the paper tables for the docs,
errata, the recipes (He et al. sections 3.4 and 4.2, Huang et al. section 4), the tuning
space and the torchvision tensor mapping.
``build.py`` walks the same tables with one stem, one stage loop and one head.
"""

import re

from keras_cnns.blocks.rows import Conv, Pool, ResidualLayout, min_input_size, output_sizes
from keras_cnns.blocks.rows import ResidualStage as Stage
from keras_cnns.metadata import (Check, Choice, Erratum, Family, ModelInfo, PaperRow,
                                 PaperTable, Probe, RecipeSpec, SearchSpace, TorchMap,
                                 TorchvisionArch, caffe_preprocessing, cifar10_preprocessing,
                                 dropout_choice, keras_applications_weights, tf_preprocessing,
                                 torch_preprocessing, width_choices)

# --------------------------------------------------------------------------- tables

# He et al. 2015, Table 1: conv1 is 7x7, 64, stride 2, and conv2_x opens with a 3x3 max
# pool, stride 2; both padded explicitly (3 and 1) as Caffe and torch pad.
STEM = (Conv("conv1", 64, 7, 2, 3), Pool("pool1", "max", 3, 2, 1))

# He et al. 2015, Table 1, column by column: each stage is its block's [kernel, filters]
# rows times the number of blocks. "Downsampling is performed by conv3_1, conv4_1, and
# conv5_1 with a stride of 2" (conv2_x follows the stem's pool).
STAGES = {
    18: (Stage("conv2", ((3, 64), (3, 64)), 2),
         Stage("conv3", ((3, 128), (3, 128)), 2, stride=2),
         Stage("conv4", ((3, 256), (3, 256)), 2, stride=2),
         Stage("conv5", ((3, 512), (3, 512)), 2, stride=2)),
    34: (Stage("conv2", ((3, 64), (3, 64)), 3),
         Stage("conv3", ((3, 128), (3, 128)), 4, stride=2),
         Stage("conv4", ((3, 256), (3, 256)), 6, stride=2),
         Stage("conv5", ((3, 512), (3, 512)), 3, stride=2)),
    50: (Stage("conv2", ((1, 64), (3, 64), (1, 256)), 3),
         Stage("conv3", ((1, 128), (3, 128), (1, 512)), 4, stride=2),
         Stage("conv4", ((1, 256), (3, 256), (1, 1024)), 6, stride=2),
         Stage("conv5", ((1, 512), (3, 512), (1, 2048)), 3, stride=2)),
    101: (Stage("conv2", ((1, 64), (3, 64), (1, 256)), 3),
          Stage("conv3", ((1, 128), (3, 128), (1, 512)), 4, stride=2),
          Stage("conv4", ((1, 256), (3, 256), (1, 1024)), 23, stride=2),
          Stage("conv5", ((1, 512), (3, 512), (1, 2048)), 3, stride=2)),
    152: (Stage("conv2", ((1, 64), (3, 64), (1, 256)), 3),
          Stage("conv3", ((1, 128), (3, 128), (1, 512)), 8, stride=2),
          Stage("conv4", ((1, 256), (3, 256), (1, 1024)), 36, stride=2),
          Stage("conv5", ((1, 512), (3, 512), (1, 2048)), 3, stride=2)),
}
STAGE_NAMES = tuple(stage.name for stage in STAGES[50])
STAGE_FILTERS = tuple(stage.convs[0][1] for stage in STAGES[50])  # base widths 64 ... 512

# Zagoruyko & Komodakis 2016, Table 1 (CIFAR): conv1 [3x3, 16] at 32x32.
WRN_CIFAR_STEM = (Conv("conv1", 16, 3),)


def wrn_cifar_stages(depth, k):
    """Zagoruyko & Komodakis 2016, Table 1: conv2, conv3, conv4 of N = (depth - 4) / 6
    blocks B(3,3) of 16k, 32k and 64k channels; conv3 and conv4 halve the grid (32, 16, 8)."""
    n = (depth - 4) // 6
    return (Stage("conv2", ((3, 16 * k), (3, 16 * k)), n),
            Stage("conv3", ((3, 32 * k), (3, 32 * k)), n, stride=2),
            Stage("conv4", ((3, 64 * k), (3, 64 * k)), n, stride=2))


# He et al. 2015, section 4.2 (CIFAR-10): a 3x3 convolution, then 6n layers of 3x3
# convolutions, 2n on each of the maps of 32, 16 and 8 pixels with 16, 32 and 64 filters
# (n basic blocks per map size; the first convolution of the 16 and 8 maps has stride 2),
# a global average pool and a 10-way fully connected layer: 6n + 2 weighted layers.
# The section's table, one column per map size:
#   output map size   32x32   16x16   8x8
#   # layers          1+2n    2n      2n
#   # filters         16      32      64
CIFAR_STAGE_NAMES = ("conv2", "conv3", "conv4")
CIFAR_FILTERS = (16, 32, 64)
CIFAR_MAP_SIZES = (32, 16, 8)
# Table 6: n = 3, 5, 7, 9, 18 and 200.
CIFAR_DEPTHS = (20, 32, 44, 56, 110, 1202)


def cifar_blocks(depth):
    """n, the basic blocks per map size of the 6n+2-layer CIFAR ResNet."""
    return (depth - 2) // 6


def cifar_stem(filters=CIFAR_FILTERS[0]):
    """Section 4.2's first layer: 3x3 convolutions with as many filters as the first
    map size's layers (16)."""
    return (Conv("conv1", filters, 3),)


def cifar_stages(depth, stage_filters=CIFAR_FILTERS):
    """Section 4.2's three map sizes as stages: n = (depth - 2) / 6 blocks of two 3x3
    convolutions each, 16 / 32 / 64 filters; the second and third halve the map."""
    n = cifar_blocks(depth)
    return tuple(Stage(name, ((3, f), (3, f)), n, stride=1 if i == 0 else 2)
                 for i, (name, f) in enumerate(zip(CIFAR_STAGE_NAMES, stage_filters)))


def resnet_stages(depth, stages=None, stage_filters=STAGE_FILTERS, groups=1,
                  width_per_group=64, width_factor=1):
    """Table 1's column for ``depth`` with ``stages`` blocks per stage (default the
    paper's) and base widths ``stage_filters`` (64-128-256-512: a bottleneck's 1x1 expands
    to 4x). A bottleneck's inner rows get the width ``groups x (base x width_per_group /
    64) x width_factor``: ResNeXt's C paths of d channels (Xie et al. 2016, Table 1:
    conv2 of ResNeXt-50 32x4d is [1x1, 128; 3x3, 128, C=32; 1x1, 256]) and the wide
    bottleneck (Zagoruyko & Komodakis 2016, section 4.3)."""
    counts = stages or tuple(stage.blocks for stage in STAGES[depth])
    out = []
    for stage, blocks, base in zip(STAGES[depth], counts, stage_filters):
        paper = stage.convs[0][1]
        convs = tuple((k, f * base // paper) for k, f in stage.convs)
        if len(convs) == 3:  # bottleneck: every row but the expanding 1x1
            width = (base * width_per_group // 64) * groups * width_factor
            convs = tuple((k, width) for k, _ in convs[:-1]) + convs[-1:]
        out.append(stage._replace(convs=convs, blocks=blocks, groups=groups))
    return tuple(out)


# How each release wires the blocks (keras_cnns.blocks.rows.ResidualLayout), by the
# builder's ``layout=``:
LAYOUTS = {
    # keras.applications' ResNet50/101/152 (the paper's Caffe release): conv biases, BN
    # epsilon 1.001e-5, the stride on the first 1x1 of a stage's first block.
    "keras": ResidualLayout(bias=True, bn_epsilon=1.001e-5, stride_on="first"),
    # torchvision's resnet50 "v1.5", resnext50_32x4d and wide_resnet50_2: bias-free,
    # BN epsilon 1e-5, the stride on the 3x3.
    "torchvision": ResidualLayout(bias=False, bn_epsilon=1e-5, stride_on="spatial"),
}
# keras.applications' ResNet50V2/101V2/152V2 (He et al. 2016, Figure 4e): BN-ReLU before
# each convolution, biases where no BN follows (stem, projection, last 1x1), the stride on
# the padded 3x3 of the *last* block of conv2-conv4 (conv2 ends at 28x28 at 224), a 1x1
# max pool where a stride meets an identity shortcut; BN-ReLU after the last stage.
V2_LAYOUT = ResidualLayout(preact=True, bias="unnormalised", bn_epsilon=1.001e-5,
                           stride_on="spatial", downsample="before", pad="all",
                           subsample="pool")
# The WRN authors' CIFAR code: pre-activation, bias-free, BN epsilon 1e-5, the 1x1
# projection (reading the pre-activated input) where the shape changes.
WRN_CIFAR_LAYOUT = ResidualLayout(preact=True, bias=False, bn_epsilon=1e-5)
# He et al. 2015's CIFAR ResNets (section 4.2): "we use identity shortcuts in all cases
# (i.e., option A)": where the map halves, the shortcut takes every second pixel (a 1x1/2
# max pool) and zero-pads the new channels, so the model has no projection parameters.
# Bias-free convolutions (BN follows) and BN epsilon 1e-5, as fb.resnet.torch; the
# strided 3x3 padded by one pixel on each side, as torch pads.
CIFAR_LAYOUT = ResidualLayout(bias=False, bn_epsilon=1e-5, widen="zeros", subsample="pool")

MIN_INPUT_SIZE = 32  # keras.applications' minimum: five halvings leave a 1x1 grid
WRN_CIFAR_MIN_INPUT_SIZE = 8  # two halvings: a 2x2 grid before the global pool
# Every 3x3 is padded and the halvings round up: the CIFAR ResNets build from 1 pixel.
CIFAR_MIN_INPUT_SIZE = min_input_size(cifar_stem() + cifar_stages(CIFAR_DEPTHS[0]))

# Published keras.applications files (names and MD5s of keras/src/applications/resnet.py).
_KERAS_FILES = {
    (False, 50): keras_applications_weights("resnet", "resnet50",
                                            "2cb95161c43110f7111970584f804107",
                                            "4d473c1dd8becc155b73f8504c6f6626"),
    (False, 101): keras_applications_weights("resnet", "resnet101",
                                             "f1aeb4b969a6efcfb50fad2f0c20cfc5",
                                             "88cf7a10940856eca736dc7b7e228a21"),
    (False, 152): keras_applications_weights("resnet", "resnet152",
                                             "100835be76be38e30d865e96f2aaae62",
                                             "ee4c566cf9a93f14d82f913c2dc6dd0c"),
    (True, 50): keras_applications_weights("resnet", "resnet50v2",
                                           "3ef43a0b657b3be2300d5770ece849e0",
                                           "fac2f116257151a9d068a22e544a4917"),
    (True, 101): keras_applications_weights("resnet", "resnet101v2",
                                            "6343647c601c52e1368623803854d971",
                                            "c0ed64b8031c3730f411d2eb4eea35b5"),
    (True, 152): keras_applications_weights("resnet", "resnet152v2",
                                            "a49b44d1979771252814e80f8ec446f9",
                                            "ed17cf2e0169df9d443503ef94b23b33"),
}


# --------------------------------------------------------------------------- entries

def _end_points(stages, preact=False):
    """keras.applications names: the stem, and each stage's last block (for v2 also the
    next-to-last blocks of conv2-conv4, the last outputs at their resolution)."""
    if not preact:
        return ("conv1_relu", "pool1_pool") + tuple(
            f"{s}_block{n}_out" for s, n in zip(STAGE_NAMES, stages))
    blocks = tuple(name for s, n in zip(STAGE_NAMES, stages)
                   for name in ((f"{s}_block{n - 1}_out",) if s != STAGE_NAMES[-1] else ())
                   + (f"{s}_block{n}_out",))
    return ("conv1_conv", "pool1_pool") + blocks + ("post_relu",)


def _stage_outputs(stages, preact=False):
    """The last output at each resolution (112, 56, 28, 14, 7 at 224). ResNet v2 (keras
    layout) downsamples in the last block of conv2-conv4, so its 56/28/14 outputs are the
    next-to-last blocks of conv2/conv3/conv4."""
    if not preact:
        return ("conv1_relu",) + tuple(f"{s}_block{n}_out" for s, n in zip(STAGE_NAMES, stages))
    return (("conv1_conv",) + tuple(f"{s}_block{n - 1}_out"
                                    for s, n in zip(STAGE_NAMES[:3], stages[:3]))
            + ("post_relu",))


def _counts(depth):
    return tuple(stage.blocks for stage in STAGES[depth])


def _entry(name, depth, preact=False, **fields):
    """An entry of Table 1's ``depth`` column, its end points read off the column."""
    counts = _counts(depth)
    return ModelInfo(name=name, end_points=_end_points(counts, preact),
                     stage_outputs=_stage_outputs(counts, preact), **fields)


_COMMON = dict(family="resnet", recipe="resnet", augment="resnet", params_with_aux=None)
_IMAGENET = dict(default_input_shape=(224, 224, 3), min_input_size=MIN_INPUT_SIZE, **_COMMON)
_RESNET = dict(paper="Deep Residual Learning for Image Recognition",
               authors="He, Zhang, Ren, Sun", year=2015, arxiv="1512.03385")
_V1 = dict(builder="ResNet",
           # keras.applications' caffe preprocessing (BGR, ImageNet means).
           preprocessing=caffe_preprocessing(mean_bgr=(103.939, 116.779, 123.68)),
           layout="keras.applications ResNet v1 (stride on the first 1x1, conv biases)",
           **_RESNET, **_IMAGENET)
_V2 = dict(paper="Identity Mappings in Deep Residual Networks", authors="He, Zhang, Ren, Sun",
           year=2016, arxiv="1603.05027", builder="ResNet", preprocessing=tf_preprocessing(),
           layout="keras.applications ResNetV2 (pre-activation, stride in the last block)",
           **_IMAGENET)
# torchvision layouts: trainable = torchvision's num_params (bias-free), total adds the
# BN moving mean and variance (2 x BN channels).
_TV = dict(preprocessing=torch_preprocessing(), **_IMAGENET)
_XIE = dict(paper="Aggregated Residual Transformations for Deep Neural Networks",
            authors="Xie, Girshick, Dollar, Tu, He", year=2016, arxiv="1611.05431")
_WRN = dict(paper="Wide Residual Networks", authors="Zagoruyko, Komodakis", year=2016,
            arxiv="1605.07146", builder="WideResNet")


def _torchvision(name):
    # torchvision's ResNets: bias-free Conv2d, BN eps 1e-5, classifier "fc".
    return TorchvisionArch(name, "fc.weight", 1e-5)


# The paper subtracts the per-pixel mean image (section 4.2), which a per-channel
# Preprocessing cannot hold; fb.resnet.torch's per-channel normalisation stands in, and
# the BN after conv1 makes the input's scale immaterial.
CIFAR10_PREPROCESSING = cifar10_preprocessing()
_CIFAR = dict(family="resnet", builder="ResNetCIFAR", default_input_shape=(32, 32, 3),
              min_input_size=CIFAR_MIN_INPUT_SIZE, default_classes=10, params_with_aux=None,
              preprocessing=CIFAR10_PREPROCESSING, augment="cifar", last_channels=64,
              layout="He et al. 2015 section 4.2: basic blocks, option A shortcuts "
                     "(subsampled identity, zero-padded channels), bias-free convolutions")


def cifar_end_points(depth):
    """conv1 and the last block of each map size (32, 16, 8 at 32x32)."""
    n = cifar_blocks(depth)
    return ("conv1_relu",) + tuple(f"{s}_block{n}_out" for s in CIFAR_STAGE_NAMES)


def _cifar_entry(depth, name=None, **fields):
    ends = cifar_end_points(depth)
    fields.setdefault("build_kwargs", {"depth": depth})
    return ModelInfo(name=name or f"resnet{depth}_cifar", end_points=ends, stage_outputs=ends,
                     **fields, **_CIFAR)


# The CIFAR ResNets' counts by hand, n blocks per map size, 10 classes:
#   conv weights: conv1 3*9*16 = 432; 32x32: 2n x 9*16*16 = 2n x 2,304;
#     16x16: 9*16*32 = 4,608 + (2n - 1) x 9*32*32 = 9,216;
#     8x8: 9*32*64 = 18,432 + (2n - 1) x 9*64*64 = 36,864      -> 96,768 n - 22,608;
#   BN gamma and beta: 2 x (16 + 2n x (16 + 32 + 64))          -> 448 n + 32;
#   FC: 64 x 10 + 10 = 650 (option A: no shortcut weights)
#   trainable = 97,216 n - 21,926; total (+ BN moving mean and variance, 448 n + 32)
#   = 97,664 n - 21,894.
#   n = 3: 269,722 / 271,098;   n = 5: 464,154 / 466,426;   n = 7: 658,586 / 661,754;
#   n = 9: 853,018 / 857,082;   n = 18: 1,727,962 / 1,736,058;
#   n = 200 (ResNet-1202): 19,421,274 / 19,510,906.
#   Table 6: 0.27 M, 0.46 M, 0.66 M, 0.85 M, 1.7 M, 19.4 M.
# Multiply-adds at 32x32: conv1 32*32*16*27 = 442,368; every other 3x3 costs
#   32*32*16*144 = 16*16*32*288 = 8*8*64*576 = 2,359,296 but the two strided ones
#   (16*16*32*144 = 8*8*64*288 = 1,179,648 each); FC 640
#   -> 443,008 + (6n - 1) x 2,359,296: n = 3: 40,551,040; 5: 68,862,592; 7: 97,174,144;
#   9: 125,485,696; 18: 252,887,680; 200: 2,829,238,912.
# Reported: Table 6, CIFAR-10 test error (%) with the standard augmentation (ResNet-110:
# best of 5 runs; mean 6.61 +- 0.16).
CIFAR_MODELS = (
    _cifar_entry(20, params=271_098, trainable_params=269_722, macs=40_551_040,
                 reported={"cifar10": 8.75}, recipe="resnet_cifar", **_RESNET),
    _cifar_entry(32, params=466_426, trainable_params=464_154, macs=68_862_592,
                 reported={"cifar10": 7.51}, recipe="resnet_cifar", **_RESNET),
    _cifar_entry(44, params=661_754, trainable_params=658_586, macs=97_174_144,
                 reported={"cifar10": 7.17}, recipe="resnet_cifar", **_RESNET),
    _cifar_entry(56, params=857_082, trainable_params=853_018, macs=125_485_696,
                 reported={"cifar10": 6.97}, recipe="resnet_cifar", **_RESNET),
    _cifar_entry(110, params=1_736_058, trainable_params=1_727_962, macs=252_887_680,
                 reported={"cifar10": 6.43, "cifar10_mean_of_5": 6.61},
                 recipe="resnet110_cifar", **_RESNET),
    # Section 4.2: "an aggressively deep model of over 1000 layers", 7.93 %, worse than
    # ResNet-110 "because of overfitting"; "trained as described above" (no warm-up).
    _cifar_entry(1202, params=19_510_906, trainable_params=19_421_274, macs=2_829_238_912,
                 reported={"cifar10": 7.93}, recipe="resnet_cifar", **_RESNET),
    # Huang et al. 2016, Table 1 (CIFAR-10+, 110 layers): 5.25 % with stochastic depth
    # (linear decay to p_L = 0.5, section 4), 6.41 % with constant depth. StochasticDepth
    # adds no weights: the counts are ResNet-110's.
    _cifar_entry(110, name="resnet110_stochastic_depth_cifar", params=1_736_058,
                 trainable_params=1_727_962, macs=252_887_680,
                 reported={"cifar10": 5.25, "cifar10_constant_depth": 6.41},
                 build_kwargs={"depth": 110, "stochastic_depth": 0.5},
                 recipe="stochastic_depth_cifar", paper="Deep Networks with Stochastic Depth",
                 authors="Huang, Sun, Liu, Sedra, Weinberger", year=2016, arxiv="1603.09382"),
)


MODELS = (
    # ResNet-18/34: torchvision's bias-free counts plus one bias per conv output channel.
    # ResNet-18: conv1 64 + conv2 4x64 + conv3 (4x128 + 128 proj) + conv4 (4x256 + 256)
    #   + conv5 (4x512 + 512) = 64 + 256 + 640 + 1,280 + 2,560 = 4,800 biases;
    #   trainable 11,689,512 + 4,800 = 11,694,312; BN channels 64 + 256 + 640 + 1,280 +
    #   2,560 = 4,800, moving stats 2 x 4,800 = 9,600 -> total 11,703,912.
    # ResNet-34: conv1 64 + conv2 6x64 + conv3 (8x128 + 128) + conv4 (12x256 + 256)
    #   + conv5 (6x512 + 512) = 64 + 384 + 1,152 + 3,328 + 3,584 = 8,512 biases;
    #   trainable 21,797,672 + 8,512 = 21,806,184; moving stats 2 x 8,512 -> 21,823,208.
    # The keras layout is torchvision's but for the conv biases (set to zero when
    # converting) and BN epsilon (set to 1e-5), so torchvision's checkpoints load.
    _entry("resnet18", 18, params=11_703_912, trainable_params=11_694_312,
           macs=1_814_073_344, reported={"top1_10crop": 27.88},  # Table 2
           build_kwargs={"depth": 18}, last_channels=512,
           torchvision=_torchvision("resnet18"), **_V1),
    _entry("resnet34", 34, params=21_823_208, trainable_params=21_806_184,
           macs=3_663_761_408,
           reported={"top1_10crop": 24.52, "top5_10crop": 7.46},  # Table 3, option B
           build_kwargs={"depth": 34}, last_channels=512,
           torchvision=_torchvision("resnet34"), **_V1),
    # ResNet-50/101/152: keras.applications' count_params(); macs from keras_cnns.profile,
    # equal to profile(keras.applications.ResNetXX) (tested). MACs of 18/34: torchvision's
    # 1.81 / 3.66 GFLOPS (same strides). v1 strides the first 1x1, so ResNet-50 costs
    # 3.86 G against torchvision's v1.5 4.09 G.
    _entry("resnet50", 50, params=25_636_712, trainable_params=25_583_592,
           macs=3_857_973_248,
           reported={"top1_10crop": 22.85, "top5_10crop": 6.71},  # Table 3
           build_kwargs={"depth": 50}, last_channels=2048,
           imagenet_weights=_KERAS_FILES[(False, 50)], **_V1),
    _entry("resnet101", 101, params=44_707_176, trainable_params=44_601_832,
           macs=7_570_194_432, reported={"top1_10crop": 21.75, "top5_10crop": 6.05},
           build_kwargs={"depth": 101}, last_channels=2048,
           imagenet_weights=_KERAS_FILES[(False, 101)], **_V1),
    _entry("resnet152", 152, params=60_419_944, trainable_params=60_268_520,
           macs=11_282_415_616, reported={"top1_10crop": 21.43, "top5_10crop": 5.71},
           build_kwargs={"depth": 152}, last_channels=2048,
           imagenet_weights=_KERAS_FILES[(False, 152)], **_V1),
    # reported: keras.applications' published ImageNet accuracy (1 - top-1 / top-5), as
    # the v2 paper reports 320-crop figures for ResNet-152/200 only.
    _entry("resnet50_v2", 50, True, params=25_613_800, trainable_params=25_568_360,
           macs=3_482_255_360, reported={"keras_top1": 24.0, "keras_top5": 7.0},
           build_kwargs={"depth": 50, "preact": True}, last_channels=2048,
           imagenet_weights=_KERAS_FILES[(True, 50)], **_V2),
    _entry("resnet101_v2", 101, True, params=44_675_560, trainable_params=44_577_896,
           macs=7_194_476_544, reported={"keras_top1": 22.8, "keras_top5": 6.2},
           build_kwargs={"depth": 101, "preact": True}, last_channels=2048,
           imagenet_weights=_KERAS_FILES[(True, 101)], **_V2),
    _entry("resnet152_v2", 152, True, params=60_380_648, trainable_params=60_236_904,
           macs=10_906_697_728, reported={"keras_top1": 22.0, "keras_top5": 5.8},
           build_kwargs={"depth": 152, "preact": True}, last_channels=2048,
           imagenet_weights=_KERAS_FILES[(True, 152)], **_V2),
    # torchvision's resnet50/101/152 ("ResNet v1.5": stride on the 3x3, bias-free convs,
    # BN eps 1e-5): trainable = torchvision's num_params, total adds the BN moving mean
    # and variance (2 x 26,560 / 52,672 / 75,712 channels); MACs equal torchvision's
    # GFLOPS 4.089 / 7.801 / 11.514. reported: torchvision's published IMAGENET1K_V1
    # accuracy (acc@1 76.130 / 77.374 / 78.312, acc@5 92.862 / 93.546 / 94.046) as error;
    # its IMAGENET1K_V2 weights (same layout) reach 80.858 / 81.886 / 82.284 acc@1.
    _entry("resnet50_torchvision", 50, params=25_610_152, trainable_params=25_557_032,
           macs=4_089_184_256, reported={"top1": 23.870, "top5": 7.138},
           build_kwargs={"depth": 50, "layout": "torchvision"}, last_channels=2048,
           builder="ResNet", torchvision=_torchvision("resnet50"),
           layout="torchvision ResNet v1.5 (bias-free, stride on the 3x3, BN eps 1e-5)",
           **_RESNET, **_TV),
    _entry("resnet101_torchvision", 101, params=44_654_504, trainable_params=44_549_160,
           macs=7_801_405_440, reported={"top1": 22.626, "top5": 6.454},
           build_kwargs={"depth": 101, "layout": "torchvision"}, last_channels=2048,
           builder="ResNet", torchvision=_torchvision("resnet101"),
           layout="torchvision ResNet v1.5 (bias-free, stride on the 3x3, BN eps 1e-5)",
           **_RESNET, **_TV),
    _entry("resnet152_torchvision", 152, params=60_344_232, trainable_params=60_192_808,
           macs=11_513_626_624, reported={"top1": 21.688, "top5": 5.954},
           build_kwargs={"depth": 152, "layout": "torchvision"}, last_channels=2048,
           builder="ResNet", torchvision=_torchvision("resnet152"),
           layout="torchvision ResNet v1.5 (bias-free, stride on the 3x3, BN eps 1e-5)",
           **_RESNET, **_TV),
    # MACs match torchvision's GFLOPS 4.23 (resnext50_32x4d), 11.40 (wide_resnet50_2).
    # ResNeXt-101 32x4d has no torchvision release: 44,177,704 trainable as in Cadene's
    # pretrainedmodels port; the paper quotes 7.8 G FLOPs (7.97 G here).
    _entry("resnext50_32x4d", 50, params=25_097_128, trainable_params=25_028_904,
           macs=4_230_479_872, reported={"top1_1crop": 22.2},  # Table 3, 224 single crop
           layout="torchvision resnext50_32x4d (bias-free, stride on the grouped 3x3)",
           build_kwargs={"depth": 50, "layout": "torchvision", "groups": 32,
                         "width_per_group": 4},
           last_channels=2048, builder="ResNet", torchvision=_torchvision("resnext50_32x4d"),
           **_XIE, **_TV),
    _entry("resnext101_32x4d", 101, params=44_315_560, trainable_params=44_177_704,
           macs=7_969_996_800, reported={"top1_1crop": 21.2},  # Table 3
           layout="torchvision ResNeXt layout, 101 layers 32x4d (no torchvision release)",
           build_kwargs={"depth": 101, "layout": "torchvision", "groups": 32,
                         "width_per_group": 4},
           last_channels=2048, builder="ResNet", **_XIE, **_TV),
    _entry("wide_resnet50_2", 50, params=68_951_464, trainable_params=68_883_240,
           macs=11_398_021_120, reported={"top1_1crop": 21.9, "top5_1crop": 6.03},
           layout="torchvision wide_resnet50_2 (bias-free, stride on the 3x3)",
           build_kwargs={"depth": 50, "width": 2}, last_channels=2048,
           torchvision=_torchvision("wide_resnet50_2"), **_WRN, **_TV),
    # WRN-28-10: 36,479,194 trainable (the authors' 36.5 M), + 2 x 8,976 BN channels.
    ModelInfo(
        name="wrn28_10", default_input_shape=(32, 32, 3),
        min_input_size=WRN_CIFAR_MIN_INPUT_SIZE, params=36_497_146,
        trainable_params=36_479_194, macs=5_243_328_768, default_classes=10,
        reported={"cifar10": 4.17, "cifar100": 20.50, "cifar10_dropout": 3.89,
                  "cifar100_dropout": 18.85},  # Table 4 / 6, standard augmentation
        preprocessing=CIFAR10_PREPROCESSING,
        layout="Zagoruyko & Komodakis' CIFAR WRN (pre-activation basic blocks, bias-free)",
        end_points=("conv1_conv", "conv2_block4_out", "conv3_block4_out",
                    "conv4_block4_out", "post_relu"),
        stage_outputs=("conv2_block4_out", "conv3_block4_out", "post_relu"),
        build_kwargs={"depth": 28, "width": 10}, last_channels=640, **_WRN, **_COMMON),
) + CIFAR_MODELS

BUILDERS = ("ResNet", "ResNet18", "ResNet34", "ResNet50", "ResNet101", "ResNet152",
            "ResNet50V2", "ResNet101V2", "ResNet152V2", "ResNeXt", "ResNeXt50", "ResNeXt101",
            "WideResNet", "ResNetCIFAR")

# (preact, depth) -> the registry name whose published keras.applications file the
# builder loads for weights="imagenet" (the plain keras layout only).
IMAGENET_KEYS = {(bool(info.build_kwargs.get("preact", False)), info.build_kwargs["depth"]):
                 info.name for info in MODELS if info.imagenet_weights is not None}


# --------------------------------------------------------------------------- docs

def _network(info):
    """(title, stage label, stem, stages) of the network an entry builds, as its paper's
    table writes it."""
    kw = dict(info.build_kwargs)
    depth = kw.get("depth", 50)
    if info.builder == "WideResNet" and depth not in (50, 101):
        k = kw.get("width", 10)
        return (f"Zagoruyko & Komodakis 2016, Table 1 (WRN-{depth}-{k}: N = "
                f"{(depth - 4) // 6}, k = {k}) against the build", "{}",
                WRN_CIFAR_STEM, wrn_cifar_stages(depth, k))
    if info.builder == "WideResNet":
        k = kw.get("width", 2)
        return (f"He et al. 2015, Table 1 ({depth}-layer column), the bottlenecks' inner "
                f"width x{k} (Zagoruyko & Komodakis 2016, section 4.3), against the build",
                "{}_x", STEM, resnet_stages(depth, width_factor=k))
    groups, d = kw.get("groups", 1), kw.get("width_per_group", 64)
    if groups > 1 and depth == 50:
        title = f"Xie et al. 2016, Table 1 (ResNeXt-50, {groups}x{d}d) against the build"
    elif groups > 1:
        title = (f"Xie et al. 2016, Table 1's ResNeXt blocks ({groups}x{d}d) with the "
                 f"{depth}-layer block counts of He et al. 2015, Table 1, against the build")
    else:
        title = f"He et al. 2015, Table 1 ({depth}-layer column) against the build"
    return title, "{}_x", STEM, resnet_stages(depth, groups=groups, width_per_group=d)


def _cifar_paper_table(info):
    """He et al. 2015, section 4.2's table (output map size, # layers, # filters) beside
    the build: the blocks, grid and width of each map size, every convolution's kernel
    and width, no projection shortcut (option A), and the 10-way classifier."""
    depth = dict(info.build_kwargs)["depth"]
    n = cifar_blocks(depth)
    title = (f"He et al. 2015, section 4.2 (ResNet-{depth}: n = {n}, 6n+2 = {depth} layers)"
             + (" with stochastic depth (Huang et al. 2016)"
                if dict(info.build_kwargs).get("stochastic_depth") is not None else "")
             + " against the build")
    rows = []
    for i, (stage, size, filters) in enumerate(zip(CIFAR_STAGE_NAMES, CIFAR_MAP_SIZES,
                                                   CIFAR_FILTERS)):
        last = f"{stage}_block{n}_out"
        blocks = Probe("count", (rf"{stage}_block(\d+)_out",))
        grid, width = Probe("grid", (last,)), Probe("channels", (last,))
        checks = (Check(blocks, n, "blocks"), Check(grid, size, "grid"),
                  Check(width, filters, "filters"),
                  Check(Probe("exists", (f"{stage}_block1_0_conv",)), 0, "projection shortcut"))
        for b in range(1, n + 1):
            for j in (1, 2):
                conv = (f"{stage}_block{b}_{j}_conv",)
                checks += (Check(Probe("channels", conv), filters, f"block {b} conv {j} width"),
                           Check(Probe("kernel", conv), 3, f"block {b} conv {j} kernel"))
        layers = f"2n = {2 * n}"
        if i == 0:
            layers = f"1+2n = {1 + 2 * n}"
            stem = ("conv1_conv",)
            checks += (Check(Probe("grid", stem), size, "conv1 grid"),
                       Check(Probe("channels", stem), filters, "conv1 filters"),
                       Check(Probe("kernel", stem), 3, "conv1 kernel"))
        rows.append(PaperRow((f"{size}x{size}", layers, str(filters), blocks, grid, width),
                             checks))
    fc = Probe("units", ("predictions",))
    rows.append(PaperRow(("global average pool", "1 (fc)", f"{info.default_classes}-way",
                          "", "", fc), (Check(fc, info.default_classes, "classes"),)))
    return PaperTable(title, ("output map size", "# layers", "# filters", "blocks built",
                              "grid built", "filters built"), tuple(rows))


def paper_table(info):
    """The stage table the entry is built from (its paper's Table 1), beside the build:
    blocks per stage, every branch convolution's width and kernel, the output channels,
    and the grid after each stage's first block (where it downsamples in the paper).
    The CIFAR ResNets get section 4.2's table (:func:`_cifar_paper_table`)."""
    if info.builder == "ResNetCIFAR":
        return _cifar_paper_table(info)
    title, label, stem, stages = _network(info)
    sizes = output_sizes(info.default_input_shape[0], stem + stages)
    rows = []
    for row in stem:  # conv1 and (ImageNet) conv2_x's max pool
        size = sizes[row.name][0]
        layer = f"{row.name}_conv" if isinstance(row, Conv) else f"{row.name}_pool"
        grid = Probe("grid", (layer,))
        checks = (Check(grid, size, "grid"),)
        if isinstance(row, Conv):
            text = f"{row.kernel}x{row.kernel}, {row.filters}, stride {row.stride}"
            checks += (Check(Probe("channels", (layer,)), row.filters, "filters"),
                       Check(Probe("kernel", (layer,)), row.kernel, "kernel"))
        else:
            text = f"{row.size}x{row.size} {row.kind} pool, stride {row.stride}"
        rows.append(PaperRow((row.name, f"{size}x{size}", text, "", grid), checks))
    for stage in stages:
        first, last = f"{stage.name}_block1", f"{stage.name}_block{stage.blocks}"
        size = sizes[stage.name][0]
        blocks = Probe("count", (rf"{stage.name}_block(\d+)_out",))
        grid = Probe("grid", (f"{first}_out",))
        checks = (Check(blocks, stage.blocks, "blocks"),
                  Check(Probe("channels", (f"{last}_out",)), stage.out_channels,
                        "output channels"),
                  Check(grid, size, "grid"))
        for i, (kernel, filters) in enumerate(stage.convs, start=1):
            conv = (f"{first}_{i}_conv",)
            checks += (Check(Probe("channels", conv), filters, f"conv {i} width"),
                       Check(Probe("kernel", conv), kernel, f"conv {i} kernel"))
        rows.append(PaperRow((label.format(stage.name), f"{size}x{size}", stage.text(),
                              blocks, grid), checks))
    return PaperTable(title, ("stage", "output size", "paper", "blocks built", "grid built"),
                      tuple(rows))


_CIFAR_NAMES = tuple(info.name for info in CIFAR_MODELS)
ERRATA = (
    Erratum("Weight decay is 1e-4 in the paper (section 3.4); the course's slide says 1e-5."),
    Erratum("The deep network is ResNet-101, not \"ResNet-100\"; the CIFAR-10 experiment "
            "goes to 1202 layers (section 4.2)."),
    Erratum("Input: the paper subtracts the per-pixel mean image (section 4.2); the entry "
            "normalises per channel as fb.resnet.torch does (mean 125.3, 123.0, 113.9 and "
            "std 63.0, 62.1, 66.7 in 0-255). The \"cifar\" augmentation pads raw pixels "
            "with black; the Torch codes pad the normalised image, i.e. with the mean.",
            _CIFAR_NAMES),
    Erratum("Huang et al.'s code (yueatsprograms/Stochastic_Depth) drops a block for the "
            "whole mini-batch, gives its convolutions biases and subsamples the shortcut "
            "with a 2x2 average pool; here the block is dropped per sample "
            "(keras_cnns.layers.StochasticDepth), on ResNet-110 exactly as He et al. "
            "build it (bias-free, option A by taking every second pixel).",
            ("resnet110_stochastic_depth_cifar",)),
)


# --------------------------------------------------------------------------- training

RECIPES = (
    RecipeSpec(
        name="resnet",
        paper="He, Zhang, Ren, Sun 2015, Deep Residual Learning for Image Recognition",
        section="section 3.4 (Implementation), section 4.1 (10-crop testing)",
        optimizer="sgd", learning_rate=0.1, optimizer_args={"momentum": 0.9},
        # Section 3.4: "starts from 0.1 and is divided by 10 when the error plateaus".
        schedule="plateau",
        schedule_args={"factor": 0.1, "max_drops": 3, "patience": 5, "monitor": "val_loss"},
        weight_decay=1e-4, batch_size=256,
        epochs=120,  # section 3.4: "up to 60 x 10^4 iterations" of 256 = 120 epochs
        # Section 3.4: "initialize the weights as in [13]" (He et al. 2015).
        initializer="HeNormal",
        augment="resnet", eval_scheme="alexnet-10",
        notes="No dropout; BN after every convolution (in the model)."),
    # He et al. 2015, section 4.2: batch 128 on the 45k/5k train/validation split is
    # 45,000 / 128 = 351.6 iterations per epoch, so the /10 at 32k and 48k iterations
    # falls at epochs 32,000 / 351.6 = 91.0 and 48,000 / 351.6 = 136.5, the stop at 64k
    # iterations at epoch 182.0.
    RecipeSpec(
        name="resnet_cifar",
        paper="He, Zhang, Ren, Sun 2015, Deep Residual Learning for Image Recognition",
        section="section 4.2 (CIFAR-10 and Analysis)",
        optimizer="sgd", learning_rate=0.1, optimizer_args={"momentum": 0.9},
        schedule="multistep", schedule_args={"boundaries": (91, 136), "factor": 0.1},
        weight_decay=1e-4, batch_size=128, epochs=182,
        initializer="HeNormal",  # "the weight initialization in [13]"
        augment="cifar", eval_scheme="center",
        notes="45k/5k train/validation split; /10 at 32k and 48k iterations, stop at 64k "
              "(epochs 91, 136 and 182 of 352 iterations). Augmentation: 4-pixel pad, "
              "random 32x32 crop, horizontal flip; test on the single 32x32 view. "
              "No dropout."),
    # Section 4.2, ResNet-110: "0.01 to warm up the training until the training error is
    # below 80 % (about 400 iterations), and then go back to 0.1": 400 / 351.6 = 1.14
    # epochs at 0.01.
    RecipeSpec(
        name="resnet110_cifar",
        paper="He, Zhang, Ren, Sun 2015, Deep Residual Learning for Image Recognition",
        section="section 4.2 (CIFAR-10 and Analysis, the 110-layer network)",
        optimizer="sgd", learning_rate=0.1, optimizer_args={"momentum": 0.9},
        schedule="multistep",
        schedule_args={"boundaries": (91, 136), "factor": 0.1, "warmup_epochs": 1.14,
                       "warmup_factor": 0.1},
        weight_decay=1e-4, batch_size=128, epochs=182,
        initializer="HeNormal", augment="cifar", eval_scheme="center",
        notes="resnet_cifar with the warm-up: 0.01 for the first 1.14 epochs (about 400 "
              "iterations; the paper warms up until the training error is below 80 %), "
              "then 0.1."),
    # Huang et al. 2016, section 4 (CIFAR-10), and the authors' main.lua: 500 epochs,
    # 0.1 divided by 10 after epochs 250 and 375, batch 128, weight decay 1e-4, momentum
    # 0.9 with Nesterov momentum and no dampening, a 45k/5k split.
    RecipeSpec(
        name="stochastic_depth_cifar",
        paper="Huang, Sun, Liu, Sedra, Weinberger 2016, Deep Networks with Stochastic Depth",
        section="section 4 (CIFAR-10)",
        optimizer="sgd", learning_rate=0.1,
        optimizer_args={"momentum": 0.9, "nesterov": True},
        schedule="multistep", schedule_args={"boundaries": (250, 375), "factor": 0.1},
        weight_decay=1e-4, batch_size=128, epochs=500,
        initializer="HeNormal", augment="cifar", eval_scheme="center",
        notes="Linear decay of the survival probability to p_L = 0.5 (in the model). "
              "Augmentation: translation by up to 4 pixels and horizontal flip."),
)


# --------------------------------------------------------------------------- tuning

def _space_rows(info):
    kw = dict(info.build_kwargs)
    if info.builder == "WideResNet":
        k = kw.get("width", 2)
        # Section 3: k = 1 is the thin ResNet; offered up to the entry's own k.
        rows = [Choice("widen_filters", tuple(sorted({w for w in (1, 2, 4) if w < k} | {k})),
                       k, "width")]
        if kw.get("depth") not in (50, 101):
            rows.append(dropout_choice(0.0, values=(0.0, 0.3)))  # section 2.4: 0.3
        return tuple(rows)
    if info.builder == "ResNetCIFAR":
        # Section 4.2: 16-32-64 filters; one base width b gives b-2b-4b, as option A's
        # zero-padded shortcuts can only widen from map size to map size.
        base = CIFAR_FILTERS[0]
        return (Choice("base_filters", width_choices(base), base, "stage_filters"),)
    # He et al. 2015, Table 1: base widths 64-128-256-512 of conv2_x ... conv5_x.
    return tuple(Choice(f"{stage}_filters", width_choices(f), f, "stage_filters")
                 for stage, f in zip(STAGE_NAMES, STAGE_FILTERS))


def _space_kwargs(info, v):
    if info.builder == "WideResNet":
        kwargs = {"width": v["widen_filters"]} if "widen_filters" in v else {}
        if "dropout" in v:
            kwargs["dropout"] = v["dropout"]
        return kwargs
    if info.builder == "ResNetCIFAR":
        if "base_filters" not in v:
            return {}
        return {"stage_filters": tuple(v["base_filters"] * f // CIFAR_FILTERS[0]
                                       for f in CIFAR_FILTERS)}
    if not any(f"{s}_filters" in v for s in STAGE_NAMES):
        return {}
    return {"stage_filters": tuple(v.get(f"{s}_filters", f)
                                   for s, f in zip(STAGE_NAMES, STAGE_FILTERS))}


SEARCH_SPACE = SearchSpace("base width per stage (ResNet, ResNeXt); widen factor k and "
                           "dropout (Wide ResNet); base width of the three map sizes "
                           "(CIFAR ResNets)", _space_rows, _space_kwargs)


# --------------------------------------------------------------------------- torchvision

_CONV = re.compile(r"conv(\d)_block(\d+)_(\d)_conv$")


def torchvision_mapping(model, info):
    """torchvision's ``ResNet`` module names (``layer{stage}.{block}.conv{i}`` /
    ``.bn{i}``, the projection ``downsample.0`` / ``.1``) for a built model, read off its
    keras.applications layer names."""
    rows = [TorchMap("conv1", "conv1_conv", "conv"), TorchMap("bn1", "conv1_bn", "bn")]
    names = set()
    for layer in model.layers:
        names.add(layer.name)
        m = _CONV.match(layer.name)
        if not m:
            continue
        stage, block, i = (int(g) for g in m.groups())
        prefix = f"layer{stage - 1}.{block - 1}"
        bn = f"conv{stage}_block{block}_{i}_bn"
        if i == 0:  # projection shortcut: downsample = Sequential(conv1x1, BN)
            rows += [TorchMap(f"{prefix}.downsample.0", layer.name, "conv"),
                     TorchMap(f"{prefix}.downsample.1", bn, "bn")]
        else:
            rows += [TorchMap(f"{prefix}.conv{i}", layer.name, "conv"),
                     TorchMap(f"{prefix}.bn{i}", bn, "bn")]
    if "predictions" in names:
        rows.append(TorchMap("fc", "predictions", "dense"))
    return tuple(rows)


FAMILY = Family(
    name="resnet",
    title="ResNet v1 / v2, CIFAR ResNets, ResNeXt, Wide ResNet and stochastic depth (He et "
          "al. 2015, 2016; Xie et al. 2016; Zagoruyko & Komodakis 2016; Huang et al. 2016)",
    build_module="keras_cnns.models.resnet.build", builders=BUILDERS, models=MODELS,
    paper_table=paper_table, errata=ERRATA, search_space=SEARCH_SPACE,
    torchvision_mapping=torchvision_mapping, recipes=RECIPES)
