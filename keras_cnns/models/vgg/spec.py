"""VGG: Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition" (ICLR 2015), Table 1 configurations A, B, D and E.

Everything about the family that needs no TensorFlow: Table 1 as data, the registry
entries with keras.applications' published ImageNet files (VGG16, VGG19), the paper's
table for the docs, errata, the training recipe (section 3.1), the tuning space and the
torchvision tensor mapping. ``build.py`` walks the same table.
"""

from keras_cnns.blocks.rows import Conv, Pool, min_input_size
from keras_cnns.metadata import (Check, Choice, Erratum, Family, ModelInfo, PaperRow,
                                 PaperTable, Probe, RecipeSpec, SearchSpace, TorchMap,
                                 TorchvisionArch, caffe_preprocessing, dropout_choice,
                                 keras_applications_weights, width_choices)

# Table 1, one column per configuration, in its notation: "conv3-64" is a 3x3
# convolution (stride 1, pad 1) with 64 channels and a ReLU; each tuple is a block,
# closed by a 2x2/2 max pool ("maxpool"). Then FC-4096, FC-4096, FC-1000, soft-max.
# (Config C, whose blocks 3-5 end in conv1 layers, and A-LRN are not built.)
CONFIGS = {
    "A": (("conv3-64",),
          ("conv3-128",),
          ("conv3-256", "conv3-256"),
          ("conv3-512", "conv3-512"),
          ("conv3-512", "conv3-512")),
    "B": (("conv3-64", "conv3-64"),
          ("conv3-128", "conv3-128"),
          ("conv3-256", "conv3-256"),
          ("conv3-512", "conv3-512"),
          ("conv3-512", "conv3-512")),
    "D": (("conv3-64", "conv3-64"),
          ("conv3-128", "conv3-128"),
          ("conv3-256", "conv3-256", "conv3-256"),
          ("conv3-512", "conv3-512", "conv3-512"),
          ("conv3-512", "conv3-512", "conv3-512")),
    "E": (("conv3-64", "conv3-64"),
          ("conv3-128", "conv3-128"),
          ("conv3-256", "conv3-256", "conv3-256", "conv3-256"),
          ("conv3-512", "conv3-512", "conv3-512", "conv3-512"),
          ("conv3-512", "conv3-512", "conv3-512", "conv3-512")),
}
WIDTHS = (64, 128, 256, 512, 512)  # Table 1's block widths, the same in every column
FC_UNITS = 4096  # Table 1: FC-4096, FC-4096 (then FC-classes)


def parse_conv(cell):
    """Table 1's ``"conv<receptive field>-<channels>"`` as ``(kernel, channels)``."""
    layer, _, channels = cell.partition("-")
    if not layer.startswith("conv") or not channels:
        raise ValueError(f"not a Table 1 convolution: {cell!r}")
    return int(layer[len("conv"):]), int(channels)


# Table 1's header row: "11 weight layers" ... "19": the convolutions and three FC.
DEPTHS = {config: sum(len(block) for block in blocks) + 3 for config, blocks in CONFIGS.items()}


def trunk(config, widths=None):
    """Column ``config`` of Table 1 as rows: ``block{i}_conv{j}`` convolutions and a
    ``block{i}_pool`` after each block (keras.applications' names). ``widths`` (one per
    block) replaces the channels of every convolution of that block."""
    rows = []
    for i, block in enumerate(CONFIGS[config], start=1):
        for j, cell in enumerate(block, start=1):
            kernel, channels = parse_conv(cell)
            if widths is not None:
                channels = widths[i - 1]
            rows.append(Conv(f"block{i}_conv{j}", channels, kernel))
        rows.append(Pool(f"block{i}_pool", size=2, stride=2))
    return tuple(rows)


def end_points(config):
    return tuple(row.name for row in trunk(config))


MIN_INPUT_SIZE = min_input_size(trunk("A"))  # five 2x2/2 valid pools: 32 -> 1

# keras.applications publishes configurations D and E without BN (keras/src/applications/
# vgg16.py and vgg19.py: file names and MD5 hashes).
IMAGENET_WEIGHTS = {
    "D": keras_applications_weights("vgg16", "vgg16", "64373286793e3c8b2b4e3219cbf3544b",
                                    "6d6bbae143d832006294945121d1f1fc"),
    "E": keras_applications_weights("vgg19", "vgg19", "cbe5617147190e668d6c5d5026f83318",
                                    "253f8cb515780f3b799900260a226db6"),
}


# --------------------------------------------------------------------------- entries

_PAPER = dict(
    paper="Very Deep Convolutional Networks for Large-Scale Image Recognition",
    authors="Simonyan, Zisserman", year=2014, arxiv="1409.1556", family="vgg",
    default_input_shape=(224, 224, 3), min_input_size=MIN_INPUT_SIZE, params_with_aux=None,
    # keras.applications' convention (caffe mode: BGR, these means, no scaling).
    preprocessing=caffe_preprocessing(mean_bgr=(103.939, 116.779, 123.68)),
    builder="VGG", recipe="vgg", augment="vgg", last_channels=WIDTHS[-1],
)
# Parameters: convs sum 9*c_in*c_out + c_out over Table 1; FC (7*7*512)*4096+4096 =
# 102,764,544, 4096*4096+4096 = 16,781,312, 4096*1000+1000 = 4,097,000 (123,642,856).
# Conv parameters: A 9,220,480; B 9,404,992; D 14,714,688; E 20,024,384.
# BN adds 4 per channel (gamma, beta, moving mean, moving variance; 2 trainable) over
# 2,752 (A), 2,944 (B), 4,224 (D), 5,504 (E) channels; torchvision's vgg*_bn counts
# (trainable) are 132,868,840 / 133,053,736 / 138,365,992 / 143,678,248.
# MACs at 224 (conv + FC 123,633,664); torchvision lists 7.61 / 11.31 / 15.47 / 19.63 GFLOPS.
_ROWS = (
    # name, config, bn, params, trainable, macs, reported: Table 3 (ILSVRC-2012 val,
    # single test scale), top-1/top-5 error of each config's best row: A and B trained
    # at S = 256, D and E with scale jitter S in [256, 512] tested at Q = 384.
    ("vgg11", "A", False, 132_863_336, 132_863_336, 7_609_090_048, {"top1": 29.6, "top5": 10.4}),
    ("vgg13", "B", False, 133_047_848, 133_047_848, 11_308_466_176, {"top1": 28.7, "top5": 9.9}),
    ("vgg16", "D", False, 138_357_544, 138_357_544, 15_470_264_320, {"top1": 25.6, "top5": 8.1}),
    ("vgg19", "E", False, 143_667_240, 143_667_240, 19_632_062_464, {"top1": 25.5, "top5": 8.0}),
    ("vgg11_bn", "A", True, 132_874_344, 132_868_840, 7_609_090_048, {}),
    ("vgg13_bn", "B", True, 133_059_624, 133_053_736, 11_308_466_176, {}),
    ("vgg16_bn", "D", True, 138_374_440, 138_365_992, 15_470_264_320, {}),
    ("vgg19_bn", "E", True, 143_689_256, 143_678_248, 19_632_062_464, {}),
)

MODELS = tuple(
    ModelInfo(
        name=name, params=params, trainable_params=trainable, macs=macs, reported=reported,
        layout=("torchvision vgg_bn (BN after each conv, conv biases kept)" if bn
                else "keras.applications VGG (paper Table 1) + dropout on fc1/fc2"),
        end_points=end_points(config),
        stage_outputs=tuple(f"block{i}_conv{len(block)}"
                            for i, block in enumerate(CONFIGS[config], start=1)),
        imagenet_weights=None if bn else IMAGENET_WEIGHTS.get(config),
        # torchvision's vgg*: Conv2d with biases (BN eps 1e-5 in the _bn models).
        torchvision=TorchvisionArch(name, "classifier.6.weight", 1e-5 if bn else None,
                                    conv_bias=True),
        build_kwargs={"config": config, "batch_norm": bn}, **_PAPER)
    for name, config, bn, params, trainable, macs, reported in _ROWS)

# The registry name whose published ImageNet file each configuration loads.
IMAGENET_KEYS = {info.build_kwargs["config"]: info.name for info in MODELS
                 if info.imagenet_weights is not None}


# --------------------------------------------------------------------------- docs

def paper_table(info):
    """Table 1's column of the entry's configuration beside the build, block by block."""
    config = dict(info.build_kwargs).get("config")
    if config not in CONFIGS:
        return None
    rows = []
    for i, block in enumerate(CONFIGS[config], start=1):
        convs = [parse_conv(cell) for cell in block]
        checks = [Check(Probe("count", (rf"block{i}_conv(\d+)",)), len(block), "convs")]
        for j, (kernel, channels) in enumerate(convs, start=1):
            name = f"block{i}_conv{j}"
            checks += [Check(Probe("channels", (name,)), channels, f"{name} width"),
                       Check(Probe("kernel", (f"{name}_conv", name)), kernel,
                             f"{name} kernel")]
        shown = f"{len(block)} x {block[0]}" if len(set(block)) == 1 else ", ".join(block)
        rows.append(PaperRow((f"block{i}", shown, "maxpool"), tuple(checks)))
    for fc in ("fc1", "fc2"):
        rows.append(PaperRow((fc, f"FC-{FC_UNITS}", ""),
                             (Check(Probe("units", (fc,)), FC_UNITS, "units"),)))
    return PaperTable(f"Paper Table 1, configuration {config}, against the build",
                      ("block", "paper", "then"), tuple(rows))


ERRATA = (
    Erratum("Forward activations per image: {activations:,} (~{activation_mb:.0f} MB in "
            "float32) counted as CS231n counts them (input, every conv/pool/FC output). The "
            "lecture's VGG16 slide says \"24 M / ~100 MB\": an addition error; the same rows "
            "sum to ~15.2 M (~61 MB).", models=("vgg16", "vgg16_bn")),
    Erratum("CS231n's VGG16 memory slide (\"24 M activations, ~100 MB\") is an addition "
            "error: the rows sum to 15,237,608 (~61 MB); see vgg16.",
            models=tuple(info.name for info in MODELS if not info.name.startswith("vgg16"))),
    Erratum("The paper trains with dropout 0.5 on fc6/fc7; keras.applications' VGG omits the "
            "dropout layers, this build adds them (they hold no weights, so weights stay "
            "compatible)."),
)


# --------------------------------------------------------------------------- training

RECIPES = (
    RecipeSpec(
        name="vgg",
        paper="Simonyan, Zisserman 2014, Very Deep Convolutional Networks for Large-Scale "
              "Image Recognition",
        section="section 3.1 (Training), section 3.2 (dense testing)",
        optimizer="sgd", learning_rate=0.01, optimizer_args={"momentum": 0.9},
        # Section 3.1: "decreased by a factor of 10 when the validation set accuracy
        # stopped improving ... decreased 3 times".
        schedule="plateau",
        schedule_args={"factor": 0.1, "max_drops": 3, "patience": 5, "monitor": "val_loss"},
        weight_decay=5e-4, batch_size=256,
        epochs=74,  # section 3.1: "stopped after 370K iterations (74 epochs)"
        # Section 3.1 (end): Glorot & Bengio initialisation works without pre-training.
        initializer="GlorotUniform",
        augment="vgg", eval_scheme="vgg-dense",
        notes="Config A was trained from N(0, 0.01) and deeper nets initialised from it; "
              "the paper notes Glorot initialisation works as well, used here."),
)


# --------------------------------------------------------------------------- tuning

def _space_rows(info):
    rows = [Choice(f"block{i}_filters", width_choices(w), w, "widths")
            for i, w in enumerate(WIDTHS, start=1)]
    rows.append(dropout_choice(0.5))  # section 3.1: dropout 0.5 on fc1 and fc2
    return tuple(rows)


def _space_kwargs(info, v):
    kwargs = {}
    if any(f"block{i}_filters" in v for i in range(1, len(WIDTHS) + 1)):
        kwargs["widths"] = tuple(v.get(f"block{i}_filters", w)
                                 for i, w in enumerate(WIDTHS, start=1))
    if "dropout" in v:
        kwargs["dropout"] = v["dropout"]
    return kwargs


SEARCH_SPACE = SearchSpace("filters per block (Table 1 widths), FC dropout",
                           _space_rows, _space_kwargs)


# --------------------------------------------------------------------------- torchvision

def torchvision_mapping(model, info):
    """torchvision's ``VGG`` module names: ``features`` holds Conv2d, (BatchNorm2d,) ReLU
    per convolution and a MaxPool2d per block; ``classifier`` is Linear(25088), ReLU,
    Dropout, Linear, ReLU, Dropout, Linear."""
    batch_norm = info.build_kwargs["batch_norm"]
    rows, index = [], 0
    for row in trunk(info.build_kwargs["config"]):
        if isinstance(row, Pool):
            index += 1
        elif batch_norm:  # conv_bn_act's {name}_conv, {name}_bn
            rows += [TorchMap(f"features.{index}", f"{row.name}_conv", "conv"),
                     TorchMap(f"features.{index + 1}", f"{row.name}_bn", "bn")]
            index += 3
        else:
            rows.append(TorchMap(f"features.{index}", row.name, "conv"))
            index += 2
    if "predictions" in {layer.name for layer in model.layers}:
        rows += [TorchMap("classifier.0", "fc1", "dense", "flatten"),
                 TorchMap("classifier.3", "fc2", "dense"),
                 TorchMap("classifier.6", "predictions", "dense")]
    return tuple(rows)


FAMILY = Family(
    name="vgg", title="VGG (Simonyan & Zisserman 2014)",
    build_module="keras_cnns.models.vgg.build",
    builders=("VGG", "VGG11", "VGG13", "VGG16", "VGG19"),
    models=MODELS, paper_table=paper_table, errata=ERRATA, search_space=SEARCH_SPACE,
    torchvision_mapping=torchvision_mapping, recipes=RECIPES)
