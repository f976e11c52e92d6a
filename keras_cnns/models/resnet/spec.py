"""The ResNet family: ResNet v1 (He, Zhang, Ren, Sun 2015), pre-activation ResNet v2
(He et al. 2016, "Identity Mappings"), ResNeXt (Xie et al. 2016), Wide ResNet (Zagoruyko
& Komodakis 2016) and stochastic depth (Huang et al. 2016).

Everything about the family that needs no TensorFlow: the papers' stage tables as data
(He et al. Table 1, Zagoruyko & Komodakis Table 1; ResNeXt and WRN-50-2 derived from
the first), how each release wires its blocks, the registry entries with their
keras.applications files and torchvision layouts, the paper tables for the docs,
errata, the recipe (section 3.4), the tuning space and the torchvision tensor mapping.
``build.py`` walks the same tables with one stem, one stage loop and one head.
"""

import re

from keras_cnns.blocks.rows import Conv, Pool, ResidualLayout, output_sizes
from keras_cnns.blocks.rows import ResidualStage as Stage
from keras_cnns.metadata import (Check, Choice, Erratum, Family, ModelInfo, PaperRow,
                                 PaperTable, Preprocessing, Probe, RecipeSpec, SearchSpace,
                                 TorchMap, TorchvisionArch, caffe_preprocessing, dropout_choice,
                                 keras_applications_weights, tf_preprocessing,
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

MIN_INPUT_SIZE = 32  # keras.applications' minimum: five halvings leave a 1x1 grid
WRN_CIFAR_MIN_INPUT_SIZE = 8  # two halvings: a 2x2 grid before the global pool

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
        preprocessing=Preprocessing(mode="torch",
                                    mean=(125.3 / 255, 123.0 / 255, 113.9 / 255),
                                    std=(63.0 / 255, 62.1 / 255, 66.7 / 255), scale=1 / 255,
                                    crop_fraction=1.0),
        layout="Zagoruyko & Komodakis' CIFAR WRN (pre-activation basic blocks, bias-free)",
        end_points=("conv1_conv", "conv2_block4_out", "conv3_block4_out",
                    "conv4_block4_out", "post_relu"),
        stage_outputs=("conv2_block4_out", "conv3_block4_out", "post_relu"),
        build_kwargs={"depth": 28, "width": 10}, last_channels=640, **_WRN, **_COMMON),
)

BUILDERS = ("ResNet", "ResNet18", "ResNet34", "ResNet50", "ResNet101", "ResNet152",
            "ResNet50V2", "ResNet101V2", "ResNet152V2", "ResNeXt", "ResNeXt50", "ResNeXt101",
            "WideResNet")

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


def paper_table(info):
    """The stage table the entry is built from (its paper's Table 1), beside the build:
    blocks per stage, every branch convolution's width and kernel, the output channels,
    and the grid after each stage's first block (where it downsamples in the paper)."""
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


ERRATA = (
    Erratum("Weight decay is 1e-4 in the paper (section 3.4); the course's slide says 1e-5."),
    Erratum("The deep network is ResNet-101, not \"ResNet-100\"; the CIFAR-10 experiment "
            "goes to 1202 layers (section 4.2)."),
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
    # He et al. 2015, Table 1: base widths 64-128-256-512 of conv2_x ... conv5_x.
    return tuple(Choice(f"{stage}_filters", width_choices(f), f, "stage_filters")
                 for stage, f in zip(STAGE_NAMES, STAGE_FILTERS))


def _space_kwargs(info, v):
    if info.builder == "WideResNet":
        kwargs = {"width": v["widen_filters"]} if "widen_filters" in v else {}
        if "dropout" in v:
            kwargs["dropout"] = v["dropout"]
        return kwargs
    if not any(f"{s}_filters" in v for s in STAGE_NAMES):
        return {}
    return {"stage_filters": tuple(v.get(f"{s}_filters", f)
                                   for s, f in zip(STAGE_NAMES, STAGE_FILTERS))}


SEARCH_SPACE = SearchSpace("base width per stage (ResNet, ResNeXt); widen factor k and "
                           "dropout (Wide ResNet)", _space_rows, _space_kwargs)


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
    title="ResNet v1 / v2, ResNeXt and Wide ResNet (He et al. 2015, 2016; Xie et al. 2016; "
          "Zagoruyko & Komodakis 2016)",
    build_module="keras_cnns.models.resnet.build", builders=BUILDERS, models=MODELS,
    paper_table=paper_table, errata=ERRATA, search_space=SEARCH_SPACE,
    torchvision_mapping=torchvision_mapping, recipes=RECIPES)
