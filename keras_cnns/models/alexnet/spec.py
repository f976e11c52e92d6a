"""AlexNet (Krizhevsky, Sutskever, Hinton, NIPS 2012) and ZFNet (Zeiler & Fergus, ECCV 2014).

Everything about the family that needs no TensorFlow: the layouts as rows of
:mod:`keras_cnns.blocks.rows` (five convolutions, three max pools, LRN), ZFNet's Fig. 3
as data, the registry entries, the paper tables for the docs, errata, the training
recipe (AlexNet section 5), the tuning space and the torchvision tensor mapping.
``build.py`` walks the same rows.
"""

from keras_cnns.blocks.rows import LRN, Conv, Pool, min_input_size, output_sizes
from keras_cnns.metadata import (Check, Choice, Erratum, Family, ModelInfo, PaperRow,
                                 PaperTable, Probe, RecipeSpec, SearchSpace, TorchMap,
                                 TorchvisionArch, caffe_preprocessing, dropout_choice,
                                 torch_preprocessing, width_choices)

Norm = LRN  # this module's former name for the LRN row

# Caffe's bvlc_alexnet (deploy.prototxt), the paper's Fig. 2: conv -> ReLU -> LRN ->
# pool. The 3x3/2 max pools overlap (section 3.4) and round up (Caffe's ceil mode);
# conv2, conv4 and conv5 are split across the two GPUs (groups=2) and start with
# biases of 1 (section 5). At 227: 55 -> 27 -> 27 -> 13 -> 13 -> 6.
CAFFE_LAYOUT = (
    Conv("conv1", 96, 11, 4, "valid"), LRN("norm1"), Pool("pool1", padding="ceil"),
    Conv("conv2", 256, 5, 1, 2, groups=2, bias_init=1.0), LRN("norm2"),
    Pool("pool2", padding="ceil"),
    Conv("conv3", 384, 3, 1, 1),
    Conv("conv4", 384, 3, 1, 1, groups=2, bias_init=1.0),
    Conv("conv5", 256, 3, 1, 1, groups=2, bias_init=1.0), Pool("pool5", padding="ceil"),
)
# torchvision's alexnet (from "One weird trick", arXiv 1404.5997): one tower,
# 64-192-384-256-256, no LRN, floor-mode pools. At 224: 55 -> 27 -> 27 -> 13 -> 13 -> 6.
TORCHVISION_LAYOUT = (
    Conv("conv1", 64, 11, 4, 2), Pool("pool1"),
    Conv("conv2", 192, 5, 1, 2), Pool("pool2"),
    Conv("conv3", 384, 3, 1, 1),
    Conv("conv4", 256, 3, 1, 1),
    Conv("conv5", 256, 3, 1, 1), Pool("pool5"),
)

# ZFNet, Fig. 3: each layer with the side the figure prints for a 224 input. The
# figure draws conv -> ReLU -> max pool -> "contrast normalisation across feature
# maps" (an LRN row) with conv1 7x7/2 and conv2 5x5/2 (sections 4.1, 5.1) in one tower.
# It gives no padding: conv1 padded by 1, conv2 unpadded and ceil-mode pools are what
# reproduce its 110 -> 55 -> 26 -> 13 -> 6.
FIG3 = (
    (Conv("conv1", 96, 7, 2, 1), 110),
    (Pool("pool1", padding="ceil"), 55),
    (LRN("norm1"), 55),
    (Conv("conv2", 256, 5, 2, "valid"), 26),
    (Pool("pool2", padding="ceil"), 13),
    (LRN("norm2"), 13),
    (Conv("conv3", 384, 3, 1, 1), 13),
    (Conv("conv4", 384, 3, 1, 1), 13),
    (Conv("conv5", 256, 3, 1, 1), 13),
    (Pool("pool5", padding="ceil"), 6),
)
FIG3_FC = (("fc6", 4096), ("fc7", 4096))  # Fig. 3's layers 6 and 7
ZF_LAYOUT = tuple(row for row, _ in FIG3)
# conv3-conv5: Fig. 3's 384/384/256, or the CS231n lecture's "ZFNet" slide, 512/1024/512
# (Table 2's "layers 3,4,5: 512,1024,512 maps" row).
ZF_FILTERS = {"paper": (384, 384, 256), "cs231n": (512, 1024, 512)}

# Local response normalisation constants (see REFERENCE: Caffe divides alpha by the
# window, the AlexNet paper does not); "none" drops the LRN rows.
LRN_CHOICES = ("caffe", "paper", "none")
ALEXNET_VARIANTS = ("caffe", "torchvision")


def zf_layout(filters="paper"):
    """Fig. 3's rows with conv3-conv5 as :data:`ZF_FILTERS` ``filters`` gives them."""
    wide = dict(zip(("conv3", "conv4", "conv5"), ZF_FILTERS[filters]))
    return tuple(row._replace(filters=wide[row.name]) if row.name in wide else row
                 for row in ZF_LAYOUT)


def with_towers(layout, groups):
    """``layout`` with its split convolutions (those with ``groups > 1``) in ``groups``
    towers; ``groups=1`` is the one-tower net."""
    return tuple(row._replace(groups=groups) if isinstance(row, Conv) and row.groups > 1
                 else row for row in layout)


def with_widths(layout, widths):
    """``layout`` with conv1..conv5's filters replaced by ``widths`` (in order)."""
    widths = iter(widths)
    return tuple(row._replace(filters=next(widths)) if isinstance(row, Conv) else row
                 for row in layout)


def feature_sizes(size, layout, ceil_pools=None):
    """The side after every row of ``layout`` (``{name: side}``), or ``None`` if some
    window does not fit; ``ceil_pools`` (``None``: as the rows say) forces every pool to
    round up or down. :func:`keras_cnns.blocks.rows.output_sizes` for square inputs."""
    if ceil_pools is not None:
        mode = "ceil" if ceil_pools else "valid"
        layout = tuple(row._replace(padding=mode) if isinstance(row, Pool) else row
                       for row in layout)
    sizes = output_sizes(size, layout)
    return None if sizes is None else {name: h for name, (h, _) in sizes.items()}


def layout_of(info):
    """``(rows, groups)`` of registry entry ``info``: the layout its builder walks and
    the tower count of its split convolutions."""
    kw = dict(info.build_kwargs)
    if info.builder == "ZFNet":
        return zf_layout(kw.get("filters", "paper")), 1
    if kw.get("variant") == "torchvision":
        return TORCHVISION_LAYOUT, 1
    groups = kw.get("groups", 2)
    return with_towers(CAFFE_LAYOUT, groups), groups


# --------------------------------------------------------------------------- entries

ALEXNET_END_POINTS = ("conv1", "norm1", "pool1", "conv2", "norm2", "pool2", "conv3", "conv4",
                      "conv5", "pool5")
_ALEXNET = dict(
    paper="ImageNet Classification with Deep Convolutional Neural Networks",
    authors="Krizhevsky, Sutskever, Hinton", year=2012, arxiv=None, family="alexnet",
    params_with_aux=None, builder="AlexNet", recipe="alexnet", augment="alexnet",
    last_channels=256,
)
_CAFFE = dict(
    # Section 4 / Table 2 (ILSVRC-2012 val, one CNN): top-1 40.7 %, top-5 18.2 %.
    reported={"top1": 40.7, "top5": 18.2},
    default_input_shape=(227, 227, 3), min_input_size=min_input_size(CAFFE_LAYOUT),
    preprocessing=caffe_preprocessing(mean_bgr=(104.0, 117.0, 123.0), crop_fraction=227 / 256),
    end_points=ALEXNET_END_POINTS, stage_outputs=("norm1", "norm2", "conv5", "pool5"),
)

MODELS = (
    ModelInfo(
        name="alexnet",
        # conv1 96*(11*11*3)+96 = 34,944; conv2 256*(5*5*48)+256 = 307,456;
        # conv3 384*(3*3*256)+384 = 885,120; conv4 384*(3*3*192)+384 = 663,936;
        # conv5 256*(3*3*192)+256 = 442,624; fc6 9216*4096+4096 = 37,752,832;
        # fc7 16,781,312; fc8 4,097,000 -> 60,965,224.
        params=60_965_224, trainable_params=60_965_224,
        # conv1 55*55*96*363 = 105,415,200; conv2 27*27*256*1200 = 223,948,800;
        # conv3 13*13*384*2304 = 149,520,384; conv4 13*13*384*1728 = 112,140,288;
        # conv5 13*13*256*1728 = 74,760,192; fc 37,748,736 + 16,777,216 + 4,096,000
        # -> 724,406,816 (the usual "724 M").
        macs=724_406_816,
        layout="Caffe bvlc_alexnet (two towers: conv2/4/5 in 2 groups), Caffe LRN constants",
        build_kwargs={"variant": "caffe", "groups": 2}, **_CAFFE, **_ALEXNET),
    ModelInfo(
        name="alexnet_1tower",
        # conv2, conv4, conv5 read all input channels: +307,200 + 663,552 + 442,368
        # -> 62,378,344.
        params=62_378_344, trainable_params=62_378_344,
        # conv2/4/5 MACs double: + 223,948,800 + 112,140,288 + 74,760,192 -> 1,135,256,096.
        macs=1_135_256_096,
        layout="Caffe bvlc_alexnet, one tower (groups=1)",
        build_kwargs={"variant": "caffe", "groups": 1}, **_CAFFE, **_ALEXNET),
    ModelInfo(
        name="alexnet_torchvision",
        # conv 23,296 + 307,392 + 663,936 + 884,992 + 590,080; fc 37,752,832 + 16,781,312
        # + 4,097,000 -> 61,100,840 (torchvision's num_params; no BN, so Keras agrees).
        params=61_100_840, trainable_params=61_100_840,
        # conv1 55*55*64*363 = 70,276,800; conv2 27*27*192*1600 = 223,948,800;
        # conv3 13*13*384*1728 = 112,140,288; conv4 13*13*256*3456 = 149,520,384;
        # conv5 13*13*256*2304 = 99,680,256; fc 58,621,952 -> 714,188,480
        # (torchvision lists 0.71 GFLOPS).
        macs=714_188_480,
        # torchvision's published ImageNet accuracy for its weights (acc@1 56.522, acc@5 79.066).
        reported={"top1": 43.478, "top5": 20.934},
        default_input_shape=(224, 224, 3), min_input_size=min_input_size(TORCHVISION_LAYOUT),
        preprocessing=torch_preprocessing(),
        layout="torchvision alexnet (one tower 64-192-384-256-256, adaptive 6x6 avg pool)",
        end_points=("conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5"),
        stage_outputs=("conv1", "conv2", "conv5", "pool5"),
        torchvision=TorchvisionArch("alexnet", "classifier.6.weight", None, conv_bias=True),
        build_kwargs={"variant": "torchvision"}, **_ALEXNET),
    ModelInfo(
        name="zfnet",
        paper="Visualizing and Understanding Convolutional Networks",
        authors="Zeiler, Fergus", year=2013, arxiv="1311.2901", family="alexnet",
        # conv1 96*(7*7*3)+96 = 14,208; conv2 256*(5*5*96)+256 = 614,656;
        # conv3 384*(3*3*256)+384 = 885,120; conv4 384*(3*3*384)+384 = 1,327,488;
        # conv5 256*(3*3*384)+256 = 884,992; fc6 (6*6*256)*4096+4096 = 37,752,832;
        # fc7 4096*4096+4096 = 16,781,312; fc8 4096*1000+1000 = 4,097,000 -> 62,357,608.
        # (filters="cs231n": conv3 1,180,160, conv4 4,719,616, conv5 4,719,104,
        # fc6 18432*4096+4096 = 75,501,568 -> 107,627,624.)
        params=62_357_608, params_with_aux=None, trainable_params=62_357_608,
        # conv1 110*110*96*147 = 170,755,200; conv2 26*26*256*2400 = 415,334,400;
        # conv3 13*13*384*2304 = 149,520,384; conv4 13*13*384*3456 = 224,280,576;
        # conv5 13*13*256*3456 = 149,520,384; fc 58,621,952 -> 1,168,032,896.
        macs=1_168_032_896,
        # Table 2, ILSVRC-2012 val, "1 convnet as per Fig. 3": top-1 38.4 %, top-5 16.5 %
        # (the 512-1024-512 row, filters="cs231n": 37.5 % / 16.0 %).
        reported={"top1": 38.4, "top5": 16.5},
        default_input_shape=(224, 224, 3), min_input_size=min_input_size(zf_layout("paper")),
        preprocessing=caffe_preprocessing(mean_bgr=(104.0, 117.0, 123.0)),
        layout="paper Fig. 3 (conv1 pad 1, ceil-mode pools), AlexNet paper LRN constants",
        end_points=("conv1", "pool1", "norm1", "conv2", "pool2", "norm2", "conv3", "conv4",
                    "conv5", "pool5"),
        stage_outputs=("conv1", "norm1", "norm2", "conv5", "pool5"),
        # ZFNet trains as AlexNet does (its section 3: SGD, batch 128, lr 1e-2, momentum
        # 0.9, dropout 0.5, Gaussian 1e-2 init).
        builder="ZFNet", recipe="alexnet", augment="alexnet", last_channels=256,
        build_kwargs={"filters": "paper"}),
)


# --------------------------------------------------------------------------- docs

def _kernel_checks(row, filters):
    return (Check(Probe("channels", (row.name,)), filters, "channels"),
            Check(Probe("kernel", (row.name,)), row.kernel, "kernel"))


def _release_table(layout):
    """The release's conv layers (filters @ kernel) beside the build."""
    rows = tuple(PaperRow((row.name, f"{row.filters} @ {row.kernel}x{row.kernel}"),
                          _kernel_checks(row, row.filters))
                 for row in layout if isinstance(row, Conv))
    return PaperTable("The release's layer table against the build",
                      ("layer", "filters @ kernel"), rows)


def _fig3_cell(row):
    if isinstance(row, Conv):
        return f"{row.filters} @ {row.kernel}x{row.kernel}/{row.stride}"
    if isinstance(row, Pool):
        return f"{row.kind} pool {row.size}x{row.size}/{row.stride}"
    return "contrast norm."


def _fig3_table():
    """ZFNet's Fig. 3 layer by layer: filters, kernel and the printed side at 224."""
    rows = []
    for row, side in FIG3:
        grid = Probe("grid", (row.name,))
        checks = (Check(grid, side, "grid"),)
        if isinstance(row, Conv):
            checks = _kernel_checks(row, row.filters) + checks
        rows.append(PaperRow((row.name, _fig3_cell(row), f"{side}x{side}", grid), checks))
    for name, units in FIG3_FC:
        probe = Probe("units", (name,))
        rows.append(PaperRow((name, f"FC {units}", "", probe), (Check(probe, units, "units"),)))
    return PaperTable("Paper Fig. 3 (ZFNet) against the build",
                      ("layer", "Fig. 3", "Fig. 3 output", "built"), tuple(rows))


def paper_table(info):
    """ZFNet's Fig. 3; AlexNet's release layer table (Caffe's or torchvision's)."""
    if info.builder == "ZFNet":
        return _fig3_table()
    torchvision = dict(info.build_kwargs).get("variant") == "torchvision"
    return _release_table(TORCHVISION_LAYOUT if torchvision else CAFFE_LAYOUT)


_ALEXNETS = tuple(info.name for info in MODELS if info.builder == "AlexNet")

ERRATA = (
    Erratum("AlexNet has three fully connected layers (fc6 4096, fc7 4096, fc8 1000), as "
            "the course's slide miscounts.", models=_ALEXNETS),
    Erratum("LRN constants: the AlexNet paper's k=2, n=5, alpha=1e-4, beta=0.75 in "
            "TensorFlow's convention; Caffe's bvlc_alexnet divides alpha by the window "
            "(alpha_tf = 2e-5, k = 1).", models=_ALEXNETS),
    Erratum("The CS231n slide's ZFNet variant widens conv3-5 to 512/1024/512; the paper's "
            "Fig. 3 keeps 384/384/256 (`filters='paper'`, the default).", models=("zfnet",)),
)


# --------------------------------------------------------------------------- training

RECIPES = (
    RecipeSpec(
        name="alexnet",
        paper="Krizhevsky, Sutskever, Hinton 2012, ImageNet Classification with Deep "
              "Convolutional Neural Networks",
        section="section 5 (Details of learning), section 4 (augmentation, 10-crop test)",
        optimizer="sgd", learning_rate=0.01, optimizer_args={"momentum": 0.9},
        # Section 5: "divide the learning rate by 10 when the validation error rate
        # stopped improving ... reduced three times prior to termination".
        schedule="plateau",
        schedule_args={"factor": 0.1, "max_drops": 3, "patience": 5, "monitor": "val_loss"},
        weight_decay=5e-4, batch_size=128,
        epochs=90,  # section 5: "roughly 90 cycles through the training set"
        # Section 5: "zero-mean Gaussian distribution with standard deviation 0.01".
        initializer="RandomNormal", initializer_args={"mean": 0.0, "stddev": 0.01},
        augment="alexnet", eval_scheme="alexnet-10",
        notes="Dropout 0.5 in fc6/fc7 is in the model. The paper's biases of 1 in conv2, "
              "conv4, conv5 and the fc layers are not set (zero biases)."),
)


# --------------------------------------------------------------------------- tuning

def _space_rows(info):
    layout, groups = layout_of(info)
    rows = [Choice(f"{row.name}_filters", width_choices(row.filters, multiple=groups),
                   row.filters, "widths")
            for row in layout if isinstance(row, Conv)]
    rows.append(dropout_choice(0.5))  # section 4.2: dropout 0.5 in fc6 and fc7
    return tuple(rows)


def _space_kwargs(info, v):
    convs = [row for row in layout_of(info)[0] if isinstance(row, Conv)]
    kwargs = {}
    if any(f"{row.name}_filters" in v for row in convs):
        kwargs["widths"] = tuple(v.get(f"{row.name}_filters", row.filters) for row in convs)
    if "dropout" in v:
        kwargs["dropout"] = v["dropout"]
    return kwargs


SEARCH_SPACE = SearchSpace("filters of conv1-conv5, FC dropout", _space_rows, _space_kwargs)


# --------------------------------------------------------------------------- torchvision

def torchvision_mapping(model, info):
    """torchvision's ``AlexNet`` module names for the ``alexnet_torchvision`` build:
    ``features`` holds Conv2d and ReLU per conv row and one MaxPool2d per pool row;
    ``classifier`` is Dropout, Linear(9216), ReLU, Dropout, Linear, ReLU, Linear."""
    rows, index = [], 0
    for row in TORCHVISION_LAYOUT:
        if isinstance(row, Conv):
            rows.append(TorchMap(f"features.{index}", row.name, "conv"))
        index += 2 if isinstance(row, Conv) else 1
    if "predictions" in {layer.name for layer in model.layers}:
        rows += [TorchMap("classifier.1", "fc6", "dense", "flatten"),
                 TorchMap("classifier.4", "fc7", "dense"),
                 TorchMap("classifier.6", "predictions", "dense")]
    return tuple(rows)


FAMILY = Family(
    name="alexnet", title="AlexNet (Krizhevsky et al. 2012) and ZFNet (Zeiler & Fergus 2014)",
    build_module="keras_cnns.models.alexnet.build", builders=("AlexNet", "ZFNet"),
    models=MODELS, paper_table=paper_table, errata=ERRATA, search_space=SEARCH_SPACE,
    torchvision_mapping=torchvision_mapping, recipes=RECIPES)
