"""DenseNet: Huang, Liu, van der Maaten, Weinberger, "Densely Connected Convolutional
Networks" (2016): DenseNet-BC for ImageNet (Table 1) and the CIFAR DenseNets (section 3,
"Implementation Details", and Table 2).

Everything about the family that needs no TensorFlow: the tables as data, the registry
entries (with keras.applications' published ImageNet files and torchvision's layout),
the papers' tables for the docs, the recipes, the tuning space and the torchvision tensor
mapping. ``build.py`` walks the same tables.
"""

import re

from keras_cnns.blocks.rows import Conv, Pool, min_input_size, output_sizes
from keras_cnns.metadata import (Check, Choice, Erratum, Family, ModelInfo, PaperRow,
                                 PaperTable, Probe, RecipeSpec, SearchSpace, TorchMap,
                                 TorchvisionArch, cifar10_preprocessing, dropout_choice,
                                 keras_applications_weights, torch_preprocessing)

# Table 1: dense layers per block (dense block 1 ... 4), growth rate k = 32.
BLOCKS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32)}
GROWTH_RATE = 32
BOTTLENECK = 4     # section 3, "DenseNet-B": each 1x1 conv produces 4k feature maps
COMPRESSION = 0.5  # section 3, "DenseNet-C": a transition keeps theta = 0.5 of its input
BN_EPSILON = 1.001e-5
# keras.applications' minimum (imagenet_utils.obtain_input_shape, min_size=32); the
# three transitions alone would build from 29 px.
MIN_INPUT_SIZE = 32
# The registry entry (and keras.applications' file) of each depth.
IMAGENET_KEYS = {depth: f"densenet{depth}" for depth in BLOCKS}


def block_output(i, n):
    """The layer ending dense block ``i`` (0-based) of ``n`` layers."""
    return f"conv{i + 2}_block{n}_concat"


def end_points(blocks):
    concat = [block_output(i, n) for i, n in enumerate(blocks)]
    return ("conv1_relu", "pool1", concat[0], "pool2_pool", concat[1], "pool3_pool", concat[2],
            "pool4_pool", concat[3], "relu")


def stage_outputs(blocks):
    concat = [block_output(i, n) for i, n in enumerate(blocks)]
    return ("conv1_relu", concat[0], concat[1], concat[2], "relu")


def channels(blocks, growth_rate=GROWTH_RATE):
    """Channels after each dense block and each transition: the stem gives 2k, a block
    adds k per layer, a transition keeps COMPRESSION of them."""
    c, out = 2 * growth_rate, []
    for i, n in enumerate(blocks):
        c += n * growth_rate
        out.append(c)
        if i < len(blocks) - 1:
            c = int(c * COMPRESSION)
            out.append(c)
    return tuple(out)


# Section 3, "Implementation Details" (CIFAR, SVHN): a 3x3 convolution of 16 maps (2k for
# DenseNet-BC), three dense blocks of equal length on 32x32, 16x16 and 8x8 maps, joined by
# transitions of a 1x1 convolution and a 2x2 average pool, then a global average pool and
# the classifier. Table 2's networks: registry name -> (L, k, BC).
CIFAR_NETWORKS = {"densenet40_cifar": (40, 12, False), "densenet_bc100_cifar": (100, 12, True)}
CIFAR_GROWTH_RATE = 12
CIFAR_STEM = 16
CIFAR_BN_EPSILON = 1e-5  # Torch's default, as in the authors' code
# The grid: stem and the two transitions' pools (floor, as torch's AvgPool2d).
CIFAR_GRID = (Conv("conv1", None, 3), Pool("pool2", "avg", 2, 2), Pool("pool3", "avg", 2, 2))
CIFAR_MIN_INPUT_SIZE = min_input_size(CIFAR_GRID)


def cifar_blocks(depth, bc):
    """Dense layers per block of an L-layer CIFAR DenseNet: (L - 4) / 3, halved for BC,
    whose layers hold two convolutions (the 4: stem, two transitions, classifier).
    ``None`` when L does not divide so."""
    per = 6 if bc else 3
    n, rem = divmod(depth - 4, per)
    return n if n >= 1 and not rem else None


def cifar_stem(growth_rate, bc):
    return 2 * growth_rate if bc else CIFAR_STEM


def cifar_channels(depth, growth_rate=CIFAR_GROWTH_RATE, bc=False):
    """Channels after each block and transition (BC: theta = 0.5, else 1)."""
    n = cifar_blocks(depth, bc)
    c, out = cifar_stem(growth_rate, bc), []
    for i in range(3):
        c += n * growth_rate
        out.append(c)
        if i < 2:
            c = int(c * (COMPRESSION if bc else 1.0))
            out.append(c)
    return tuple(out)


def cifar_end_points(n):
    concat = [block_output(i, n) for i in range(3)]
    return ("conv1_conv", concat[0], "pool2_pool", concat[1], "pool3_pool", concat[2], "relu")


# --------------------------------------------------------------------------- entries

# keras.applications' files: names and MD5s of keras/src/applications/densenet.py.
_HASHES = {121: ("9d60b8095a5708f2dcce2bca79d332c7", "30ee3e1110167f948a6b9946edeeb738"),
           169: ("d699b8f76981ab1b30698df4c175e90b", "b8c4d4c20dd625c148057b9ff1c1176b"),
           201: ("1ceb130c1ea1b78c3bf6114dbdfd8807", "c13680b51ded0fb44dff2d8f86ac8bb1")}

# torchvision's published DenseNet files predate the rule against dots in module names:
# "denselayer1.norm.1.weight" is "denselayer1.norm1.weight" (torchvision's
# densenet._load_state_dict renames them the same way).
_LEGACY_TORCH_KEYS = ((r"^(.*denselayer\d+\.(?:norm|relu|conv))\."
                       r"([12]\.(?:weight|bias|running_mean|running_var))$", r"\1\2"),)

_PAPER = dict(paper="Densely Connected Convolutional Networks",
              authors="Huang, Liu, van der Maaten, Weinberger", year=2016, arxiv="1608.06993",
              family="densenet", default_input_shape=(224, 224, 3),
              min_input_size=MIN_INPUT_SIZE, params_with_aux=None,
              # keras.applications' densenet.preprocess_input is torch mode.
              preprocessing=torch_preprocessing(),
              layout="keras.applications DenseNet (DenseNet-BC, k=32)",
              builder="DenseNet")


def _entry(depth, **counts):
    blocks = BLOCKS[depth]
    return ModelInfo(
        name=IMAGENET_KEYS[depth], end_points=end_points(blocks),
        stage_outputs=stage_outputs(blocks), build_kwargs={"depth": depth},
        imagenet_weights=keras_applications_weights("densenet", f"densenet{depth}",
                                                    *_HASHES[depth]),
        torchvision=TorchvisionArch(f"densenet{depth}", "classifier.weight", 1e-5,
                                    legacy_keys=_LEGACY_TORCH_KEYS),
        last_channels=channels(blocks)[-1], **counts, **_PAPER)


# keras.applications counts; trainable = torchvision's densenet121/169/201 num_params
# (7,978,856 / 14,149,480 / 20,013,928): Keras adds 2 moving stats per BN channel.
# Reported: Table 3, single-crop and 10-crop top-1 / top-5 error.
MODELS = (
    _entry(121, params=8_062_504, trainable_params=7_978_856, macs=2_834_161_664,
           reported={"top1_1crop": 25.02, "top5_1crop": 7.71, "top1_10crop": 23.61,
                     "top5_10crop": 6.66}),
    _entry(169, params=14_307_880, trainable_params=14_149_480, macs=3_359_843_328,
           reported={"top1_1crop": 23.80, "top5_1crop": 6.85, "top1_10crop": 22.08,
                     "top5_10crop": 5.92}),
    _entry(201, params=20_242_984, trainable_params=20_013_928, macs=4_291_365_888,
           reported={"top1_1crop": 22.58, "top5_1crop": 6.34, "top1_10crop": 21.46,
                     "top5_10crop": 5.54}),
)


_CIFAR_PAPER = {**_PAPER, "default_input_shape": (32, 32, 3),
                "min_input_size": CIFAR_MIN_INPUT_SIZE, "default_classes": 10,
                "preprocessing": cifar10_preprocessing(), "augment": "cifar",
                "recipe": "densenet_cifar", "builder": "DenseNetCIFAR"}


def _cifar_entry(name, **counts):
    depth, k, bc = CIFAR_NETWORKS[name]
    n = cifar_blocks(depth, bc)
    ends = cifar_end_points(n)
    kind = (f"DenseNet-BC (L={depth}, k={k}): bottleneck 4k, compression 0.5" if bc
            else f"DenseNet (L={depth}, k={k}): 3x3 dense layers, no compression")
    return ModelInfo(name=name, end_points=ends,
                     stage_outputs=(ends[0], ends[1], ends[3], ends[6]),
                     build_kwargs={"depth": depth, "growth_rate": k, "bc": bc},
                     last_channels=cifar_channels(depth, k, bc)[-1], **counts,
                     **{**_CIFAR_PAPER, "layout": f"section 3 CIFAR network, {kind}; "
                                                  "bias-free convolutions"})


# Counts by hand, 10 classes (n layers a block, c the maps entering a layer):
#   plain layer: BN(c) + 3x3 conv c -> k: 9ck weights, 2c trainable BN, 2c moving stats;
#   BC layer: BN(c) + 1x1 conv c -> 4k + BN(4k) + 3x3 conv 4k -> k;
#   transition: BN(c) + 1x1 conv c -> theta c; the head BN(c) + FC c x 10 + 10.
#   DenseNet-40 (n = 12, stem 16): 1,019,722 trainable, 1,037,818 in all, 448 maps out;
#   DenseNet-BC-100 (n = 16, stem 24): 769,162 trainable, 793,150 in all, 342 maps out.
#   Table 2: 1.0 M and 0.8 M. (The same arithmetic gives Table 2's other rows: L=100,
#   k=24: 27.2 M; BC L=250, k=24: 15.3 M; BC L=190, k=40: 25.6 M.)
# Multiply-adds at 32x32 (convolutions and the classifier): 264,812,928 and 287,929,692.
# Reported: Table 2, test error (%). "cifar10"/"cifar100" with the standard augmentation
# (C10+, C100+), "_no_augmentation" the C10/C100 columns (trained with dropout 0.2).
CIFAR_MODELS = (
    _cifar_entry("densenet40_cifar", params=1_037_818, trainable_params=1_019_722,
                 macs=264_812_928,
                 reported={"cifar10": 5.24, "cifar100": 24.42, "cifar10_no_augmentation": 7.00,
                           "cifar100_no_augmentation": 27.55, "svhn": 1.79}),
    _cifar_entry("densenet_bc100_cifar", params=793_150, trainable_params=769_162,
                 macs=287_929_692,
                 reported={"cifar10": 4.51, "cifar100": 22.27, "cifar10_no_augmentation": 5.92,
                           "cifar100_no_augmentation": 24.15, "svhn": 1.76}),
)


# --------------------------------------------------------------------------- docs

def _block_rows(blocks, k, widths, grid, bottleneck):
    """Table 1 / section 3's dense blocks and transitions beside the build: grid, layers,
    the 1x1 (4k) and growth (k) widths, each block's and transition's output width."""
    rows = []
    paper = "[1 x 1 conv, 3 x 3 conv]" if bottleneck else "[3 x 3 conv]"
    for i, n in enumerate(blocks):
        conv = f"conv{i + 2}"
        last = block_output(i, n)
        count = Probe("count", (rf"{conv}_block(\d+)_concat",))
        checks = (Check(Probe("grid", (last,)), grid, "grid"), Check(count, n, "layers"),
                  Check(Probe("channels", (f"{conv}_block1_2_conv",)), k, "growth rate"),
                  Check(Probe("channels", (last,)), widths[2 * i], "output width"))
        if bottleneck:
            checks += (Check(Probe("channels", (f"{conv}_block1_1_conv",)), BOTTLENECK * k,
                             "1x1 width"),)
        else:
            checks += (Check(Probe("exists", (f"{conv}_block1_1_conv",)), 0, "no 1x1"),)
        rows.append(PaperRow((f"Dense Block ({i + 1})", f"{grid} x {grid}", f"{paper} x {n}",
                              Probe("grid", (last,)), count), checks))
        if i < len(blocks) - 1:
            pool = f"pool{i + 2}"
            rows.append(PaperRow(
                (f"Transition Layer ({i + 1})", f"{grid} x {grid} -> {grid // 2} x {grid // 2}",
                 "1 x 1 conv, 2 x 2 average pool, stride 2", Probe("grid", (f"{pool}_pool",)),
                 ""),
                (Check(Probe("grid", (f"{pool}_pool",)), grid // 2, "grid"),
                 Check(Probe("channels", (f"{pool}_conv",)), widths[2 * i + 1],
                       "compressed width"))))
            grid //= 2
    return rows, grid


def _classifier_row(grid, classes):
    units = Probe("units", ("predictions",))
    return PaperRow(("Classification Layer", "1 x 1",
                     f"{grid} x {grid} global average pool, {classes}D fully-connected, "
                     "softmax", "", units), (Check(units, classes, "classes"),))


def _cifar_paper_table(info):
    """Section 3's CIFAR network (Table 2's row) beside the build."""
    kw = dict(info.build_kwargs)
    depth, k, bc = kw["depth"], kw["growth_rate"], kw["bc"]
    n, stem = cifar_blocks(depth, bc), cifar_stem(k, bc)
    side = info.default_input_shape[0]
    stem_probe = ("conv1_conv",)
    rows = [PaperRow(("Convolution", f"{side} x {side}",
                      f"3 x 3 conv, {'2k = ' if bc else ''}{stem}", Probe("grid", stem_probe),
                      Probe("channels", stem_probe)),
                     (Check(Probe("grid", stem_probe), side, "grid"),
                      Check(Probe("kernel", stem_probe), 3, "kernel"),
                      Check(Probe("channels", stem_probe), stem, "width")))]
    blocks, last = _block_rows((n,) * 3, k, cifar_channels(depth, k, bc),
                               output_sizes(side, CIFAR_GRID)["conv1"][0], bc)
    rows += blocks + [_classifier_row(last, info.default_classes)]
    title = (f"DenseNet{'-BC' if bc else ''} (L = {depth}, k = {k}; Table 2, section 3) "
             "against the build")
    return PaperTable(title, ("layers", "output size", "paper", "built grid",
                              "built layers / units"), tuple(rows))


def paper_table(info):
    """Table 1's column for the entry's depth beside the build: grids, layers per dense
    block, the bottleneck (4k) and growth (k) widths, the transitions' compression. The
    CIFAR entries get section 3's network (:func:`_cifar_paper_table`)."""
    if info.builder == "DenseNetCIFAR":
        return _cifar_paper_table(info)
    depth = dict(info.build_kwargs).get("depth")
    if depth not in BLOCKS:
        return None
    blocks, k = BLOCKS[depth], GROWTH_RATE
    rows = [
        PaperRow(("Convolution", "112 x 112", "7 x 7 conv, stride 2",
                  Probe("grid", ("conv1_relu",)), ""),
                 (Check(Probe("grid", ("conv1_relu",)), 112, "grid"),
                  Check(Probe("kernel", ("conv1_conv",)), 7, "kernel"),
                  Check(Probe("channels", ("conv1_conv",)), 2 * k, "width"))),
        PaperRow(("Pooling", "56 x 56", "3 x 3 max pool, stride 2", Probe("grid", ("pool1",)),
                  ""), (Check(Probe("grid", ("pool1",)), 56, "grid"),)),
    ]
    block_rows, last = _block_rows(blocks, k, channels(blocks), 56, True)
    rows += block_rows + [_classifier_row(last, 1000)]
    return PaperTable(f"Paper Table 1 (DenseNet-{depth}, k = {k}) against the build",
                      ("layers", "output size", "paper", "built grid", "built layers / units"),
                      tuple(rows))


_CIFAR_NAMES = tuple(CIFAR_NETWORKS)
ERRATA = (
    Erratum("The authors' Torch code (liuzhuang13/DenseNet, models/densenet.lua) starts "
            "every CIFAR network with 2k maps; section 3 gives 16 for the plain DenseNet, "
            "which the entry follows (16 reproduces Table 2's 1.0 M and 27.2 M).",
            _CIFAR_NAMES),
    Erratum("Convolutions carry no bias (the authors' code drops it; a BN follows every "
            "one but the stem, whose output the first dense layer's BN normalises). Input: "
            "per-channel mean and std, as section 4.1 and fb.resnet.torch.", _CIFAR_NAMES),
    Erratum("Dropout 0.2 after every convolution but the stem is for training without "
            "augmentation (C10, C100, SVHN); the registry entries, trained with the "
            "standard augmentation, build with dropout=0: pass dropout=0.2 for C10.",
            _CIFAR_NAMES),
)


# --------------------------------------------------------------------------- training

# Section 4.2 (Training): SGD, batch 64, 300 epochs on CIFAR, 0.1 divided by 10 at 50 %
# and 75 % of training, weight decay 1e-4, Nesterov momentum 0.9 without dampening, He
# initialisation; dropout 0.2 only without augmentation.
RECIPES = (
    RecipeSpec(
        name="densenet_cifar",
        paper="Huang, Liu, van der Maaten, Weinberger 2016, Densely Connected "
              "Convolutional Networks",
        section="section 4.2 (Training)",
        optimizer="sgd", learning_rate=0.1,
        optimizer_args={"momentum": 0.9, "nesterov": True},
        schedule="multistep", schedule_args={"boundaries": (150, 225), "factor": 0.1},
        weight_decay=1e-4, batch_size=64, epochs=300,
        initializer="HeNormal", augment="cifar", eval_scheme="center",
        notes="Augmentation (C10+/C100+): 4-pixel pad, random 32x32 crop, horizontal flip; "
              "per-channel normalisation. Without augmentation the paper adds dropout 0.2 "
              "after every convolution but the first (build with dropout=0.2). Section 4.1 "
              "holds out 5,000 training images for validation."),
)


# --------------------------------------------------------------------------- tuning

def _space_rows(info):
    # Growth rate k: 12, 24 (section 4, CIFAR) and 32 (ImageNet, Table 1).
    k = dict(info.build_kwargs).get("growth_rate", GROWTH_RATE)
    rows = (Choice("growth_rate_filters", tuple(sorted({8, 12, 16, 24, GROWTH_RATE})), k,
                   "growth_rate"),)
    if info.builder == "DenseNetCIFAR":  # section 4.2: 0.2 without augmentation
        rows += (dropout_choice(0.0, values=(0.0, 0.2)),)
    return rows


def _space_kwargs(info, v):
    kwargs = {"growth_rate": v["growth_rate_filters"]} if "growth_rate_filters" in v else {}
    if "dropout" in v:
        kwargs["dropout"] = v["dropout"]
    return kwargs


SEARCH_SPACE = SearchSpace("growth rate; dropout (CIFAR)", _space_rows, _space_kwargs)


# --------------------------------------------------------------------------- torchvision

_DENSE_LAYER = re.compile(r"conv(\d)_block(\d+)_(0_bn|1_conv|1_bn|2_conv)$")
_TRANSITION = re.compile(r"pool(\d)_(bn|conv)$")
# keras.applications' dense-layer parts -> torchvision's _DenseLayer attributes.
_DENSE_TORCH = {"0_bn": "norm1", "1_conv": "conv1", "1_bn": "norm2", "2_conv": "conv2"}


def torchvision_mapping(model, info):
    """torchvision's ``DenseNet`` module names (``features.denseblock{b}.denselayer{i}``,
    ``features.transition{t}``) for the keras.applications layer names."""
    rows = [TorchMap("features.conv0", "conv1_conv", "conv"),
            TorchMap("features.norm0", "conv1_bn", "bn")]
    names = [layer.name for layer in model.layers]
    for name in names:
        m = _DENSE_LAYER.match(name)
        if m:
            block, i, part = int(m.group(1)) - 1, int(m.group(2)), m.group(3)
            rows.append(TorchMap(f"features.denseblock{block}.denselayer{i}.{_DENSE_TORCH[part]}",
                                 name, "bn" if part.endswith("bn") else "conv"))
            continue
        m = _TRANSITION.match(name)
        if m:
            part = "norm" if m.group(2) == "bn" else "conv"
            rows.append(TorchMap(f"features.transition{int(m.group(1)) - 1}.{part}", name,
                                 m.group(2)))
    rows.append(TorchMap("features.norm5", "bn", "bn"))
    if "predictions" in names:
        rows.append(TorchMap("classifier", "predictions", "dense"))
    return tuple(rows)


FAMILY = Family(
    name="densenet", title="DenseNet (Huang et al. 2016)",
    build_module="keras_cnns.models.densenet.build",
    builders=("DenseNet", "DenseNet121", "DenseNet169", "DenseNet201", "DenseNetCIFAR"),
    models=MODELS + CIFAR_MODELS, paper_table=paper_table, errata=ERRATA,
    search_space=SEARCH_SPACE, torchvision_mapping=torchvision_mapping, recipes=RECIPES)
