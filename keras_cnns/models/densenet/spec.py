"""DenseNet-BC: Huang, Liu, van der Maaten, Weinberger, "Densely Connected Convolutional
Networks" (2016).

Everything about the family that needs no TensorFlow: Table 1 as data, the registry
entries (with keras.applications' published ImageNet files and torchvision's layout),
the paper's table for the docs, the tuning space and the torchvision tensor mapping.
``build.py`` walks the same table.
"""

import re

from keras_cnns.metadata import (Check, Choice, Family, ModelInfo, PaperRow, PaperTable, Probe,
                                 SearchSpace, TorchMap, TorchvisionArch,
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


# --------------------------------------------------------------------------- docs

def paper_table(info):
    """Table 1's column for the entry's depth beside the build: grids, layers per dense
    block, the bottleneck (4k) and growth (k) widths, the transitions' compression."""
    depth = dict(info.build_kwargs).get("depth")
    if depth not in BLOCKS:
        return None
    blocks, k = BLOCKS[depth], GROWTH_RATE
    widths = channels(blocks)
    rows = [
        PaperRow(("Convolution", "112 x 112", "7 x 7 conv, stride 2",
                  Probe("grid", ("conv1_relu",)), ""),
                 (Check(Probe("grid", ("conv1_relu",)), 112, "grid"),
                  Check(Probe("kernel", ("conv1_conv",)), 7, "kernel"),
                  Check(Probe("channels", ("conv1_conv",)), 2 * k, "width"))),
        PaperRow(("Pooling", "56 x 56", "3 x 3 max pool, stride 2", Probe("grid", ("pool1",)),
                  ""), (Check(Probe("grid", ("pool1",)), 56, "grid"),)),
    ]
    grid = 56
    for i, n in enumerate(blocks):
        conv = f"conv{i + 2}"
        last = block_output(i, n)
        rows.append(PaperRow(
            (f"Dense Block ({i + 1})", f"{grid} x {grid}", f"[1 x 1 conv, 3 x 3 conv] x {n}",
             Probe("grid", (last,)), Probe("count", (rf"{conv}_block(\d+)_concat",))),
            (Check(Probe("grid", (last,)), grid, "grid"),
             Check(Probe("count", (rf"{conv}_block(\d+)_concat",)), n, "layers"),
             Check(Probe("channels", (f"{conv}_block1_1_conv",)), BOTTLENECK * k, "1x1 width"),
             Check(Probe("channels", (f"{conv}_block1_2_conv",)), k, "growth rate"),
             Check(Probe("channels", (last,)), widths[2 * i], "output width"))))
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
    rows.append(PaperRow(("Classification Layer", "1 x 1",
                          "7 x 7 global average pool, 1000D fully-connected, softmax",
                          "", Probe("units", ("predictions",))),
                         (Check(Probe("units", ("predictions",)), 1000, "classes"),)))
    return PaperTable(f"Paper Table 1 (DenseNet-{depth}, k = {k}) against the build",
                      ("layers", "output size", "paper", "built grid", "built layers / units"),
                      tuple(rows))


# --------------------------------------------------------------------------- tuning

def _space_rows(info):
    # Growth rate k: 12, 24 (section 4, CIFAR) and 32 (ImageNet, Table 1).
    return (Choice("growth_rate_filters", tuple(sorted({8, 12, 16, 24, GROWTH_RATE})),
                   GROWTH_RATE, "growth_rate"),)


def _space_kwargs(info, v):
    return {"growth_rate": v["growth_rate_filters"]} if "growth_rate_filters" in v else {}


SEARCH_SPACE = SearchSpace("growth rate", _space_rows, _space_kwargs)


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
    name="densenet", title="DenseNet-BC (Huang et al. 2016)",
    build_module="keras_cnns.models.densenet.build",
    builders=("DenseNet", "DenseNet121", "DenseNet169", "DenseNet201"),
    models=MODELS, paper_table=paper_table, search_space=SEARCH_SPACE,
    torchvision_mapping=torchvision_mapping)
