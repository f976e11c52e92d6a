"""GoogLeNet / Inception v1: Szegedy et al., "Going Deeper with Convolutions" (2014).

The default (``variant="paper"``) is the paper's Table 1 as Caffe's ``bvlc_googlenet``
releases it: true 5x5 branches, two LRN layers, 3x3/2 max pools that round up (Caffe
ceil mode), an explicit pad of 3 around the 7x7/2 stem, and two auxiliary classifiers
on the outputs of 4a and 4d (section 5).
"""

from keras import initializers, layers

from keras_cnns.blocks import InceptionSpec, conv_bn_act, inception_module, max_pool
from keras_cnns.layers import AdaptiveAveragePooling2D, LocalResponseNormalization
from keras_cnns.models import common
from keras_cnns.registry import (ModelInfo, caffe_preprocessing, register_model,
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
# Max pool before these modules: (pool name, window) per variant; torchvision's
# second one is 2x2/2.
POOL_BEFORE = {"inception_4a": "pool3", "inception_5a": "pool4"}
# Section 5: the aux classifiers sit on the outputs of 4a and 4d.
AUX_ON = {"inception_4a": "aux1", "inception_4d": "aux2"}
AUX_LOSS_WEIGHT = 0.3

VARIANTS = ("paper", "bn", "torchvision")
# What each variant changes. torchvision's BasicConv2d is conv (no bias) + BN(eps 1e-3,
# torch momentum 0.1 = Keras momentum 0.9); the bn variant uses the same BN.
_VARIANT = {
    "paper": dict(batch_norm=False, lrn=True, big_kernel=5, pool4=3, adaptive_aux=False),
    "bn": dict(batch_norm=True, lrn=False, big_kernel=5, pool4=3, adaptive_aux=False),
    "torchvision": dict(batch_norm=True, lrn=False, big_kernel=3, pool4=2, adaptive_aux=True),
}
END_POINTS = ("conv1", "pool1", "conv2_reduce", "conv2", "pool2", "inception_3a",
              "inception_3b", "pool3", "inception_4a", "inception_4b", "inception_4c",
              "inception_4d", "inception_4e", "pool4", "inception_5a", "inception_5b")


def _default_initializers(variant):
    if variant == "torchvision":
        # torchvision: trunc_normal_(std=0.01, a=-2, b=2) for conv and linear.
        return initializers.TruncatedNormal(stddev=0.01), "zeros"
    # Caffe's "xavier" filler is uniform(+-sqrt(3 / fan_in)) = LeCun uniform;
    # bvlc_googlenet sets conv and fc biases to 0.2.
    return initializers.LecunUniform(), initializers.Constant(0.2)


def grid_sizes(size, variant="paper"):
    """Spatial size after conv1, pool1, pool2, pool3 (the 4a grid) and pool4."""
    from keras_cnns.blocks import same_or_ceil_padding

    def pool(n, k, s):
        return (n + same_or_ceil_padding(n, k, s) - k) // s + 1

    conv1 = (size + 6 - 7) // 2 + 1
    p1 = pool(conv1, 3, 2)
    p2 = pool(p1, 3, 2)
    p3 = pool(p2, 3, 2)
    k4 = _VARIANT[variant]["pool4"]
    return conv1, p1, p2, p3, pool(p3, k4, 2)


def min_input_size(aux=False, variant="paper"):
    """Smallest input side that builds: 32 without aux heads; with them, the 4a grid
    must hold the aux head's 5x5 average pool (torchvision's adaptive pool: 4x4)."""
    if not aux:
        return 32
    need = 4 if _VARIANT[variant]["adaptive_aux"] else 5
    size = 32
    while grid_sizes(size, variant)[3] < need:
        size += 1
    return size


def _aux_head(x, key, classes, classifier_activation, dropout, conv, variant, kinit, binit):
    """Section 5: avg pool 5x5/3 (4x4 at 224) -> 1x1 conv 128 -> FC 1024 -> dropout 0.7
    -> classifier. The FC reads the flattened 4x4x128 grid, so at other input sizes its
    fan-in follows the grid; torchvision pools adaptively to 4x4 instead."""
    if _VARIANT[variant]["adaptive_aux"]:
        x = AdaptiveAveragePooling2D(4, name=f"{key}_pool")(x)
    else:
        x = layers.AveragePooling2D(5, strides=3, padding="valid", name=f"{key}_pool")(x)
    x = conv(x, 128, 1, name=f"{key}_conv")
    x = layers.Flatten(name=f"{key}_flatten")(x)
    x = layers.Dense(1024, activation="relu", name=f"{key}_fc", kernel_initializer=kinit,
                     bias_initializer=binit)(x)
    x = layers.Dropout(dropout, name=f"{key}_dropout")(x)
    return common.classifier(x, classes, classifier_activation, name=key, kernel_initializer=kinit)


def GoogLeNet(include_top=True, weights=None, input_tensor=None, input_shape=None,
              pooling=None, classes=1000, classifier_activation="softmax", aux=False,
              dropout=0.4, aux_dropout=0.7, variant="paper", name=None,
              kernel_initializer=None, table=INCEPTION_TABLE):
    """GoogLeNet (Inception v1), Szegedy et al. 2014, Table 1.

    Variants (``variant=``):

    - ``"paper"``: Table 1 / Caffe ``bvlc_googlenet``. LRN after pool1 and conv2 with
      Caffe's constants (local_size 5, alpha 1e-4 in Caffe's convention, so alpha 2e-5
      in TF's, k 1, beta 0.75). Initialiser: Caffe "xavier" (LeCun uniform), biases 0.2.
      6,998,552 parameters (13,378,280 with aux) at 224 and 1000 classes.
    - ``"bn"``: BN-GoogLeNet, BN after every convolution (conv biases off), no LRN.
    - ``"torchvision"``: torchvision's ``googlenet`` layout: 3x3 convolutions in the
      "5x5" branch (a known bug kept by torchvision and TF-Slim), BN (eps 1e-3), no LRN,
      a 2x2/2 pool before 5a, adaptive 4x4 pools in the aux heads. 6,624,904 trainable
      parameters, as torchvision reports.

    ``aux=True`` returns a model whose outputs are the dict ``{"main", "aux1", "aux2"}``;
    compile it with ``loss_weights=keras_cnns.aux_loss_weights(model)`` (0.3 per aux
    head) and evaluate or export ``keras_cnns.inference_model(model)``. The aux heads
    match the paper at 224 (a 4x4x128 grid into FC 1024); they need an input of at
    least :func:`min_input_size` (79 px with the paper's ceil-mode pools, where the 4a grid
    reaches 5x5; 63 px for torchvision's adaptive pool). Without aux heads the
    minimum is 32 px. The head's 7x7 average pool is global average pooling, so other
    input sizes work.

    ``table`` (rows of :class:`~keras_cnns.blocks.InceptionSpec`) replaces Table 1, e.g.
    with scaled widths; names must stay those of Table 1.
    """
    common.check_choice("variant", variant, VARIANTS)
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes)
    dropout = common.check_dropout("dropout", dropout)
    aux_dropout = common.check_dropout("aux_dropout", aux_dropout)
    if not isinstance(aux, bool):
        raise TypeError(f"aux must be a bool, got {type(aux).__name__}")
    if aux and not include_top:
        raise ValueError("aux=True needs include_top=True: the aux heads are classifiers")
    if len(table) != len(INCEPTION_TABLE) or [r.name for r in table] != [r.name for r in INCEPTION_TABLE]:
        raise ValueError(f"table must have the rows {[r.name for r in INCEPTION_TABLE]}")
    input_shape = common.resolve_input_shape(
        input_shape, input_tensor, (224, 224, 3), min_input_size(aux, variant),
        require_static=aux)
    cfg = _VARIANT[variant]
    kinit, binit = _default_initializers(variant)
    if kernel_initializer is not None:
        kinit = kernel_initializer
    if cfg["batch_norm"]:
        binit = "zeros"

    def conv(x, filters, kernel, strides=1, padding="same", name=None):
        return conv_bn_act(x, filters, kernel, strides, padding, name=name,
                           batch_norm=cfg["batch_norm"], bn_epsilon=1e-3,
                           bn_momentum=0.9,
                           kernel_initializer=kinit, bias_initializer=binit)

    def lrn(x, name):
        if not cfg["lrn"]:
            return x
        return LocalResponseNormalization.from_caffe(local_size=5, alpha=1e-4, beta=0.75,
                                                     k=1.0, name=name)(x)

    inputs, x = common.make_input(input_shape, input_tensor)
    # Stem (Table 1 rows 1-4): Caffe pads the 7x7/2 by 3 on every side.
    x = conv(x, 64, 7, 2, padding=3, name="conv1")
    x = max_pool(x, 3, 2, name="pool1")
    x = lrn(x, "norm1")
    x = conv(x, 64, 1, name="conv2_reduce")
    x = conv(x, 192, 3, name="conv2")
    x = lrn(x, "norm2")
    x = max_pool(x, 3, 2, name="pool2")

    aux_outputs = {}
    for spec in table:
        pool_name = POOL_BEFORE.get(spec.name)
        if pool_name:
            k = cfg["pool4"] if pool_name == "pool4" else 3
            x = max_pool(x, k, 2, name=pool_name)
        x = inception_module(x, spec, conv=conv, big_kernel=cfg["big_kernel"])
        if aux and spec.name in AUX_ON:
            key = AUX_ON[spec.name]
            aux_outputs[key] = _aux_head(x, key, classes, classifier_activation, aux_dropout,
                                         conv, variant, kinit, binit)

    if include_top:
        # Table 1: avg pool 7x7/1 (global at 224) -> dropout 40% -> linear -> softmax.
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = common.classifier(x, classes, classifier_activation, kernel_initializer=kinit)
    else:
        x = common.pool_features(x, pooling)

    outputs = {"main": x, **aux_outputs} if aux else x
    default_name = "googlenet" if variant == "paper" else f"googlenet_{variant}"
    return common.finish(inputs, outputs, name or default_name, weights)


_PAPER = dict(
    paper="Going Deeper with Convolutions",
    authors="Szegedy, Liu, Jia, Sermanet, Reed, Anguelov, Erhan, Vanhoucke, Rabinovich",
    year=2014, arxiv="1409.4842", family="googlenet", default_input_shape=(224, 224, 3),
    min_input_size=32, aux_loss_weights={"main": 1.0, "aux1": AUX_LOSS_WEIGHT,
                                         "aux2": AUX_LOSS_WEIGHT},
    end_points=END_POINTS,
    stage_outputs=("conv1", "conv2", "inception_3b", "inception_4e", "inception_5b"),
)

register_model(ModelInfo(
    name="googlenet",
    # Table 1's parameter column sums to ~6.8 M: it omits biases. With biases:
    # conv 5,973,240 + FC 1024*1000+1000 = 6,998,552 (bias-complete count);
    # each aux head adds 512*128+128 + 2048*1024+1024 + 1024*1000+1000 = 3,188,840
    # (on 4a; 3,190,888 on 4d with 528 channels) -> 13,378,280.
    params=6_998_552, params_with_aux=13_378_280, trainable_params=6_998_552,
    macs=1_582_671_872,
    reported={"top5_1crop": 10.07, "top5_10crop": 9.15, "top5_144crop": 7.89,
              "top5_7models_144crop": 6.67},
    preprocessing=caffe_preprocessing(mean_bgr=(104.0, 117.0, 123.0)),
    layout="Caffe bvlc_googlenet (paper Table 1)",
    build_kwargs={"variant": "paper"}, **_PAPER), GoogLeNet)

register_model(ModelInfo(
    name="googlenet_bn",
    # The paper net with each conv's bias replaced by BN (gamma, beta trainable; moving
    # mean and variance not) over its 7,280 output channels (7,536 with aux heads):
    # 6,998,552 + 3 x 7,280 = 7,020,392; trainable 6,998,552 + 7,280 = 7,005,832;
    # with aux 13,378,280 + 3 x 7,536 = 13,400,888.
    params=7_020_392, params_with_aux=13_400_888, trainable_params=7_005_832,
    macs=1_582_671_872,
    reported={},
    preprocessing=torch_preprocessing(),
    layout="paper Table 1 with BN after every conv, no LRN",
    build_kwargs={"variant": "bn"}, **_PAPER), GoogLeNet)

register_model(ModelInfo(
    name="googlenet_torchvision",
    # torchvision's num_params is 6,624,904 (13,004,888 with aux_logits); Keras adds
    # the BN moving mean and variance, 2 x 7,280 (2 x 7,536 with aux):
    # 6,639,464 and 13,019,960. Multiply-adds fall with the 3x3 "5x5" branches.
    params=6_639_464, params_with_aux=13_019_960, trainable_params=6_624_904,
    macs=1_498_376_192,
    reported={"top1": 30.222, "top5": 10.470},
    # torchvision's published weights run with transform_input=True, which maps the
    # ImageNet-normalised input back to (x / 255 - 0.5) / 0.5: the network sees "tf"
    # inputs in [-1, 1] (resize 256, centre crop 224).
    preprocessing=tf_preprocessing(),
    layout="torchvision googlenet (3x3 '5x5' branch, BN, 2x2 pool before 5a)",
    notes="torchvision's published googlenet weights expect transform_input=True: the "
          "network sees RGB scaled to [-1, 1] (the preprocessing here), which is what "
          "torchvision computes from its ImageNet-normalised input.",
    build_kwargs={"variant": "torchvision"}, **_PAPER), GoogLeNet)
