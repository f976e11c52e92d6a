"""GoogLeNet / Inception v1: Szegedy et al., "Going Deeper with Convolutions" (2014).

Everything about the family that needs no TensorFlow: Table 1 as data, the registry
entries, the paper's table for the docs, errata, the training recipe (section 6), the
tuning space and the torchvision tensor mapping. ``build.py`` walks the same tables.
"""

from keras_cnns.blocks.rows import LRN, Conv, InceptionSpec, Pool, min_input_size as _min_size
from keras_cnns.metadata import (Check, Choice, Erratum, Family, ModelInfo, PaperRow,
                                 PaperTable, Probe, RecipeSpec, SearchSpace, TorchMap,
                                 TorchvisionArch, caffe_preprocessing, dropout_choice,
                                 tf_preprocessing, torch_preprocessing)

# Table 1 of the paper: #1x1, #3x3 reduce, #3x3, #5x5 reduce, #5x5, pool proj.
# A max pool 3x3/2 stands before 4a and before 5a.
INCEPTION_TABLE = (
    InceptionSpec("inception_3a", 64, 96, 128, 16, 32, 32),
    InceptionSpec("inception_3b", 128, 128, 192, 32, 96, 64),
    InceptionSpec("inception_4a", 192, 96, 208, 16, 48, 64),
    InceptionSpec("inception_4b", 160, 112, 224, 24, 64, 64),
    InceptionSpec("inception_4c", 128, 128, 256, 24, 64, 64),
    InceptionSpec("inception_4d", 112, 144, 288, 32, 64, 64),
    InceptionSpec("inception_4e", 256, 160, 320, 32, 128, 128),
    InceptionSpec("inception_5a", 256, 160, 320, 32, 128, 128),
    InceptionSpec("inception_5b", 384, 192, 384, 48, 128, 128),
)
# Table 1 rows 1-4, as Caffe's bvlc_googlenet releases them: the 7x7/2 padded by 3,
# 3x3/2 max pools that round up (ceil mode), LRN after pool1 and conv2.
STEM = (
    Conv("conv1", 64, 7, 2, 3), Pool("pool1", padding="ceil"), LRN("norm1"),
    Conv("conv2_reduce", 64, 1), Conv("conv2", 192, 3), LRN("norm2"),
    Pool("pool2", padding="ceil"),
)
# The max pools before these modules; torchvision's second one is 2x2/2.
POOL_BEFORE = {"inception_4a": "pool3", "inception_5a": "pool4"}
# Section 5: the aux classifiers sit on the outputs of 4a and 4d.
AUX_ON = {"inception_4a": "aux1", "inception_4d": "aux2"}
AUX_LOSS_WEIGHT = 0.3
AUX_POOL = 5  # section 5: average pool 5x5/3 (4x4 at 224)

VARIANTS = ("paper", "bn", "torchvision")
# What each variant changes. torchvision's BasicConv2d is conv (no bias) + BN(eps 1e-3,
# torch momentum 0.1 = Keras momentum 0.9); the bn variant uses the same BN.
VARIANT_CONFIG = {
    "paper": dict(batch_norm=False, lrn=True, big_kernel=5, pool4=3, adaptive_aux=False),
    "bn": dict(batch_norm=True, lrn=False, big_kernel=5, pool4=3, adaptive_aux=False),
    "torchvision": dict(batch_norm=True, lrn=False, big_kernel=3, pool4=2, adaptive_aux=True),
}
END_POINTS = ("conv1", "pool1", "conv2_reduce", "conv2", "pool2", "inception_3a",
              "inception_3b", "pool3", "inception_4a", "inception_4b", "inception_4c",
              "inception_4d", "inception_4e", "pool4", "inception_5a", "inception_5b")


def trunk(variant="paper", table=INCEPTION_TABLE):
    """The whole trunk as rows: the stem, the modules and the pools between them."""
    rows = list(STEM)
    for spec in table:
        pool_name = POOL_BEFORE.get(spec.name)
        if pool_name:
            k = VARIANT_CONFIG[variant]["pool4"] if pool_name == "pool4" else 3
            rows.append(Pool(pool_name, size=k, padding="ceil"))
        rows.append(spec)
    return tuple(rows)


def trunk_up_to(name, variant="paper"):
    rows = trunk(variant)
    return rows[:[r.name for r in rows].index(name) + 1]


def min_input_size(aux=False, variant="paper"):
    """Smallest input side that builds: 32 without aux heads (five halvings leave a
    1x1 grid); with them, the 4a grid must hold the aux head's 5x5 average pool
    (torchvision's adaptive pool: 4x4)."""
    if not aux:
        return 32
    need = 4 if VARIANT_CONFIG[variant]["adaptive_aux"] else AUX_POOL
    return _min_size(trunk_up_to("inception_4a", variant), need=need, start=32)


# --------------------------------------------------------------------------- entries

_PAPER = dict(
    paper="Going Deeper with Convolutions",
    authors="Szegedy, Liu, Jia, Sermanet, Reed, Anguelov, Erhan, Vanhoucke, Rabinovich",
    year=2014, arxiv="1409.4842", family="googlenet", default_input_shape=(224, 224, 3),
    min_input_size=min_input_size(), aux_loss_weights={"main": 1.0, "aux1": AUX_LOSS_WEIGHT,
                                                       "aux2": AUX_LOSS_WEIGHT},
    end_points=END_POINTS,
    stage_outputs=("conv1", "conv2", "inception_3b", "inception_4e", "inception_5b"),
    builder="GoogLeNet", recipe="googlenet", augment="inception", last_channels=1024,
)

MODELS = (
    ModelInfo(
        name="googlenet",
        # Table 1's parameter column sums to ~6.8 M: it omits biases. With biases:
        # conv 5,973,240 + FC 1024*1000+1000 = 6,998,552 (bias-complete count);
        # each aux head adds 512*128+128 + 2048*1024+1024 + 1024*1000+1000 = 3,188,840
        # (on 4a; 3,190,888 on 4d with 528 channels) -> 13,378,280.
        params=6_998_552, params_with_aux=13_378_280, trainable_params=6_998_552,
        # Aux heads: 1x1 conv 4*4*512*128 (4a) / 4*4*528*128 (4d), FC 2048*1024 and
        # 1024*1000 each: +8,372,224 multiply-adds.
        macs=1_582_671_872, macs_with_aux=1_591_044_096,
        reported={"top5_1crop": 10.07, "top5_10crop": 9.15, "top5_144crop": 7.89,
                  "top5_7models_144crop": 6.67},
        preprocessing=caffe_preprocessing(mean_bgr=(104.0, 117.0, 123.0)),
        layout="Caffe bvlc_googlenet (paper Table 1)",
        build_kwargs={"variant": "paper"}, **_PAPER),
    ModelInfo(
        name="googlenet_bn",
        # The paper net with each conv's bias replaced by BN (gamma, beta trainable;
        # moving mean and variance not) over its 7,280 output channels (7,536 with aux
        # heads): 6,998,552 + 3 x 7,280 = 7,020,392; trainable 6,998,552 + 7,280 =
        # 7,005,832; with aux 13,378,280 + 3 x 7,536 = 13,400,888.
        params=7_020_392, params_with_aux=13_400_888, trainable_params=7_005_832,
        macs=1_582_671_872, macs_with_aux=1_591_044_096,
        reported={},
        preprocessing=torch_preprocessing(),
        layout="paper Table 1 with BN after every conv, no LRN",
        build_kwargs={"variant": "bn"}, **_PAPER),
    ModelInfo(
        name="googlenet_torchvision",
        # torchvision's num_params is 6,624,904 (13,004,888 with aux_logits); Keras adds
        # the BN moving mean and variance, 2 x 7,280 (2 x 7,536 with aux):
        # 6,639,464 and 13,019,960. Multiply-adds fall with the 3x3 "5x5" branches.
        params=6_639_464, params_with_aux=13_019_960, trainable_params=6_624_904,
        macs=1_498_376_192, macs_with_aux=1_506_748_416,
        reported={"top1": 30.222, "top5": 10.470},
        # torchvision's published weights run with transform_input=True, which maps the
        # ImageNet-normalised input back to (x / 255 - 0.5) / 0.5: the network sees "tf"
        # inputs in [-1, 1] (resize 256, centre crop 224).
        preprocessing=tf_preprocessing(),
        layout="torchvision googlenet (3x3 '5x5' branch, BN, 2x2 pool before 5a)",
        notes="torchvision's published googlenet weights expect transform_input=True: the "
              "network sees RGB scaled to [-1, 1] (the preprocessing here), which is what "
              "torchvision computes from its ImageNet-normalised input.",
        torchvision=TorchvisionArch("googlenet", "fc.weight", 1e-3, transform_input=True),
        build_kwargs={"variant": "torchvision"}, **_PAPER),
)


# --------------------------------------------------------------------------- docs

def paper_table(info):
    """Table 1's Inception rows beside what the build has (widths, kernels, grid)."""
    rows = []
    for spec in INCEPTION_TABLE:
        n = spec.name
        widths = (spec.b1x1, spec.b3x3_reduce, spec.b3x3, spec.b5x5_reduce, spec.b5x5,
                  spec.pool_proj)
        checks = tuple(Check(Probe("channels", (f"{n}_{branch}",)), w, f"{branch} width")
                       for branch, w in zip(("1x1", "3x3_reduce", "3x3", "5x5_reduce", "5x5",
                                             "pool_proj"), widths))
        checks += (Check(Probe("channels", (n,)), spec.out_channels, "output width"),
                   Check(Probe("kernel", (f"{n}_5x5_conv", f"{n}_5x5")), 5,
                         "'5x5' branch kernel"))
        rows.append(PaperRow((n, *map(str, widths), str(spec.out_channels),
                              Probe("grid", (n,))), checks))
    return PaperTable("Paper Table 1 (Inception modules) against the build",
                      ("module", "#1x1", "#3x3 reduce", "#3x3", "#5x5 reduce", "#5x5",
                       "pool proj", "out", "built grid"), tuple(rows))


# CS231n's bottleneck Inception example, as drawn: 28x28x256 in; 1x1 128, 3x3 192 and 5x5
# 96 with 64-channel 1x1 reductions, pool projection 64.
_SLIDE_MULTIPLIES = 28 * 28 * (128 * 256 + 64 * 256 * 2 + 192 * 9 * 64 + 96 * 25 * 64
                               + 64 * 256)
_SLIDE_358 = _SLIDE_MULTIPLIES + 28 * 28 * 192 * 9 * 64

ERRATA = (
    Erratum("The course (and the Inception authors' own rounded figure, \"Rethinking...\" "
            "section 1) says GoogLeNet has \"5 M\" parameters; the network of Table 1 "
            "(`googlenet`) has 6,998,552 with every bias (Table 1's column omits biases and "
            "sums to about 6.8 M)."),
    Erratum("CS231n's bottleneck Inception example (28x28x256 in; 1x1 128, 3x3 192 and 5x5 96 "
            "with 64-channel 1x1 reductions, pool projection 64) costs "
            f"28*28*(128*256 + 2*64*256 + 192*9*64 + 96*25*64 + 64*256) = "
            f"{_SLIDE_MULTIPLIES:,} multiplies (\"271 M\") as drawn; the slide's 358 M "
            f"({_SLIDE_358:,}) holds only if the 3x3 branch reads 128 channels."),
    Erratum("torchvision and TF-Slim use a 3x3 convolution in the \"5x5\" branch (a known "
            "bug they keep), BN instead of LRN and a 2x2 pool before 5a; the table above "
            "flags the 3x3 kernels.", models=("googlenet_torchvision",)),
    Erratum("The lecturer's Inception-v3 aux head (128 -> 1024 -> GAP) is his own; "
            "GoogLeNet's aux heads follow section 5: avg pool 5x5/3 -> 1x1 conv 128 -> "
            "FC 1024 -> dropout 0.7 -> classifier, loss weight 0.3."),
    Erratum("Multiply-adds: the registry's `macs` (1,582,671,872 for `googlenet`, the "
            "paper's \"1.5 billion\") count the network without aux heads, as used at test "
            "time; with both aux heads, as trained, `macs_with_aux` is 1,591,044,096."),
)


# --------------------------------------------------------------------------- training

RECIPES = (
    RecipeSpec(
        name="googlenet",
        paper="Szegedy et al. 2014, Going Deeper with Convolutions",
        section="section 6 (Training Methodology), section 7 (144-crop testing), "
                "section 5 (aux loss weight 0.3)",
        optimizer="sgd", learning_rate=0.01, optimizer_args={"momentum": 0.9},
        # Section 6: "decreasing the learning rate by 4% every 8 epochs".
        schedule="step", schedule_args={"rate": 0.96, "every_epochs": 8},
        weight_decay=2e-4, batch_size=32, epochs=60,
        initializer="GlorotUniform",
        augment="inception", eval_scheme="googlenet-144",
        averaging="polyak", ema_momentum=0.9999,
        notes="The paper gives neither the base rate, weight decay, batch, epochs nor "
              "initialiser: Caffe's bvlc_googlenet solver (base_lr 0.01, weight_decay 2e-4, "
              "batch 32, step 320k iterations = 8 epochs, xavier init). Epochs 60 is this "
              "package's choice. Polyak averaging is approximated by an EMA (0.9999)."),
)


# --------------------------------------------------------------------------- tuning

STAGES = ("3", "4", "5")
STAGE_MULTIPLIERS = (0.25, 0.5, 0.75, 1.0)


def _stage(spec):
    return spec.name.split("_")[1][0]  # "inception_4b" -> "4"


def _space_rows(info):
    rows = [Choice(f"inception_{s}_filters", STAGE_MULTIPLIERS, 1.0, "table") for s in STAGES]
    rows.append(dropout_choice(0.4))  # Table 1: dropout 40 % before the classifier
    rows.append(dropout_choice(0.7, "aux_dropout", "aux_dropout"))  # section 5: 70 % in aux
    return tuple(rows)


def _space_kwargs(info, v):
    kwargs = {}
    if any(f"inception_{s}_filters" in v for s in STAGES):
        kwargs["table"] = tuple(spec.scaled(v.get(f"inception_{_stage(spec)}_filters", 1.0))
                                for spec in INCEPTION_TABLE)
    for k in ("dropout", "aux_dropout"):
        if k in v:
            kwargs[k] = v[k]
    return kwargs


SEARCH_SPACE = SearchSpace("a width multiplier per Inception stage (3, 4, 5) applied to "
                           "Table 1, main and aux dropout", _space_rows, _space_kwargs)


# --------------------------------------------------------------------------- torchvision

def _conv_bn(torch_prefix, keras_name):
    """torchvision's BasicConv2d (``.conv`` + ``.bn``) -> ``{name}_conv`` + ``{name}_bn``."""
    return (TorchMap(f"{torch_prefix}.conv", f"{keras_name}_conv", "conv"),
            TorchMap(f"{torch_prefix}.bn", f"{keras_name}_bn", "bn"))


_BRANCHES = (("branch1", "1x1"), ("branch2.0", "3x3_reduce"), ("branch2.1", "3x3"),
             ("branch3.0", "5x5_reduce"), ("branch3.1", "5x5"), ("branch4.1", "pool_proj"))


def torchvision_mapping(model, info):
    """torchvision's ``GoogLeNet`` module names for the ``googlenet_torchvision`` build."""
    names = {layer.name for layer in model.layers}
    rows = _conv_bn("conv1", "conv1") + _conv_bn("conv2", "conv2_reduce") + \
        _conv_bn("conv3", "conv2")
    for spec in INCEPTION_TABLE:
        module = spec.name.replace("_", "")  # inception_3a -> inception3a
        for torch_branch, keras_branch in _BRANCHES:
            rows += _conv_bn(f"{module}.{torch_branch}", f"{spec.name}_{keras_branch}")
    for key in AUX_ON.values():
        if key in names:  # InceptionAux: conv -> flatten(128x4x4) -> fc1 -> fc2
            rows += _conv_bn(f"{key}.conv", f"{key}_conv")
            rows += (TorchMap(f"{key}.fc1", f"{key}_fc", "dense", f"{key}_flatten"),
                     TorchMap(f"{key}.fc2", key, "dense"))
    if "predictions" in names:
        rows += (TorchMap("fc", "predictions", "dense"),)
    return rows


FAMILY = Family(
    name="googlenet", title="GoogLeNet / Inception v1 (Szegedy et al. 2014)",
    build_module="keras_cnns.models.googlenet.build", builders=("GoogLeNet",),
    models=MODELS, paper_table=paper_table, errata=ERRATA, search_space=SEARCH_SPACE,
    torchvision_mapping=torchvision_mapping, recipes=RECIPES)
