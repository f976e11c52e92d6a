"""AlexNet (Krizhevsky, Sutskever, Hinton, NIPS 2012) and ZFNet (Zeiler & Fergus, ECCV 2014).

Both are five convolutions, three max pools and three fully connected layers; the
layouts below are data, walked by one builder.
"""

import collections

from keras import initializers, layers

from keras_cnns.blocks.conv import conv_bn_act, conv_output_size, max_pool, pool_output_size
from keras_cnns.layers import AdaptiveAveragePooling2D, LocalResponseNormalization
from keras_cnns.models import common
from keras_cnns.registry import ModelInfo, caffe_preprocessing, register_model, torch_preprocessing

# One row per layer. conv: filters, kernel, stride, padding ("valid" or an int of zero
# padding), grouped (split into `groups` towers when the model is grouped), bias_one
# (AlexNet section 5: biases of conv2, conv4, conv5 and the hidden FC layers start at 1).
Conv = collections.namedtuple("Conv", "name filters kernel stride padding grouped bias_one")
Pool = collections.namedtuple("Pool", "name")  # max 3x3/2, overlapping (section 3.4)
Norm = collections.namedtuple("Norm", "name")  # local response normalisation (section 3.3)

# Caffe bvlc_alexnet (deploy.prototxt): conv -> ReLU -> LRN -> pool; conv2, conv4, conv5
# split across the two GPUs (Fig. 2). At 227: 55 -> 27 -> 27 -> 13 -> 13 -> 6.
CAFFE_LAYOUT = (
    Conv("conv1", 96, 11, 4, "valid", False, False), Norm("norm1"), Pool("pool1"),
    Conv("conv2", 256, 5, 1, 2, True, True), Norm("norm2"), Pool("pool2"),
    Conv("conv3", 384, 3, 1, 1, False, False),
    Conv("conv4", 384, 3, 1, 1, True, True),
    Conv("conv5", 256, 3, 1, 1, True, True), Pool("pool5"),
)
# torchvision alexnet (from "One weird trick", arXiv 1404.5997): single tower,
# 64-192-384-256-256, no LRN, floor-mode pools. At 224: 55 -> 27 -> 27 -> 13 -> 13 -> 6.
TORCHVISION_LAYOUT = (
    Conv("conv1", 64, 11, 4, 2, False, False), Pool("pool1"),
    Conv("conv2", 192, 5, 1, 2, False, False), Pool("pool2"),
    Conv("conv3", 384, 3, 1, 1, False, False),
    Conv("conv4", 256, 3, 1, 1, False, False),
    Conv("conv5", 256, 3, 1, 1, False, False), Pool("pool5"),
)
# ZFNet, Fig. 3: conv -> ReLU -> pool -> contrast normalisation; conv1 7x7/2 and
# conv2 5x5/2 (section 4.1 and 5.1). Pad 1 on conv1 and ceil-mode pools give the
# figure's 224 -> 110 -> 55 -> 26 -> 13 -> 13 -> 13 -> 6. Single tower (dense).
ZF_FILTERS = {"paper": (384, 384, 256), "cs231n": (512, 1024, 512)}


def _zf_layout(filters):
    f3, f4, f5 = ZF_FILTERS[filters]
    return (
        Conv("conv1", 96, 7, 2, 1, False, False), Pool("pool1"), Norm("norm1"),
        Conv("conv2", 256, 5, 2, "valid", False, False), Pool("pool2"), Norm("norm2"),
        Conv("conv3", f3, 3, 1, 1, False, False),
        Conv("conv4", f4, 3, 1, 1, False, False),
        Conv("conv5", f5, 3, 1, 1, False, False), Pool("pool5"),
    )


# LRN constants (REFERENCE: the two conventions differ by alpha / local_size and k).
LRN_CHOICES = ("caffe", "paper", "none")


def _lrn_layer(lrn, name):
    if lrn == "caffe":
        # bvlc_alexnet: local_size 5, alpha 1e-4 (Caffe divides by local_size), k 1.
        return LocalResponseNormalization.from_caffe(local_size=5, alpha=1e-4, beta=0.75,
                                                     k=1.0, name=name)
    # AlexNet paper section 3.3: k 2, n 5, alpha 1e-4 (not divided), beta 0.75.
    return LocalResponseNormalization(depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75, name=name)


def feature_sizes(size, layout, ceil_pools=True):
    """Spatial size after every layer of ``layout`` (a dict name -> size), or ``None``
    if some convolution's window does not fit (the model cannot be built)."""
    sizes = {}
    for row in layout:
        if isinstance(row, Conv):
            size = conv_output_size(size, row.kernel, row.stride, row.padding)
        elif isinstance(row, Pool):
            size = pool_output_size(size, 3, 2, ceil_mode=ceil_pools)
        if size is None:
            return None
        sizes[row.name] = size
    return sizes


def _with_widths(layout, widths, groups):
    """``layout`` with conv1..conv5's filters replaced by ``widths`` (None: unchanged)."""
    if widths is None:
        return layout
    convs = [row for row in layout if isinstance(row, Conv)]
    if (not isinstance(widths, (tuple, list)) or len(widths) != len(convs)
            or any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths)):
        raise ValueError(f"widths must be {len(convs)} positive ints (conv1..conv5), "
                         f"got {widths!r}")
    for row, w in zip(convs, widths):
        if row.grouped and w % groups:
            raise ValueError(f"widths: {row.name} is split into {groups} groups, so its width "
                             f"must be a multiple of {groups}; got {w}")
    it = iter(widths)
    return tuple(row._replace(filters=next(it)) if isinstance(row, Conv) else row
                 for row in layout)


def _min_size(layout, ceil_pools):
    size = 1
    while feature_sizes(size, layout, ceil_pools) is None:
        size += 1
    return size


def _build(layout, *, include_top, weights, input_tensor, input_shape, pooling, classes,
           classifier_activation, dropout, groups, lrn, ceil_pools, head, default_shape,
           name, kernel_initializer, bias_one):
    """Walk ``layout``; ``head`` is "caffe" (fc6-ReLU-drop-fc7-ReLU-drop-fc8) or
    "torchvision" (adaptive 6x6 avg pool, drop-fc6-ReLU-drop-fc7-ReLU-fc8)."""
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes)
    dropout = common.check_dropout("dropout", dropout)
    common.check_choice("lrn", lrn, LRN_CHOICES)
    common.check_choice("groups", groups, (1, 2))
    min_size = _min_size(layout, ceil_pools)
    input_shape = common.resolve_input_shape(input_shape, input_tensor, default_shape, min_size,
                                             require_static=include_top)
    zero = initializers.Zeros()
    one = initializers.Constant(1.0) if bias_one else zero
    inputs, x = common.make_input(input_shape, input_tensor)
    for row in layout:
        if isinstance(row, Conv):
            x = conv_bn_act(x, row.filters, row.kernel, row.stride, row.padding, name=row.name,
                            groups=groups if row.grouped else 1,
                            kernel_initializer=kernel_initializer,
                            bias_initializer=one if row.bias_one else zero)
        elif isinstance(row, Norm):
            if lrn != "none":
                x = _lrn_layer(lrn, row.name)(x)
        else:
            x = max_pool(x, 3, 2, name=row.name, ceil_mode=ceil_pools)
    if not include_top:
        x = common.pool_features(x, pooling)
        return common.finish(inputs, x, name, weights)

    def fc(x, units, layer_name):
        return layers.Dense(units, activation="relu", kernel_initializer=kernel_initializer,
                            bias_initializer=one, name=layer_name)(x)

    if head == "torchvision":
        x = AdaptiveAveragePooling2D(6, name="avg_pool")(x)
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dropout(dropout, name="drop5")(x)
        x = fc(x, 4096, "fc6")
        x = layers.Dropout(dropout, name="drop6")(x)
        x = fc(x, 4096, "fc7")
    else:
        # fc6 reads the flattened pool5 grid (6x6x256 at the default input).
        x = layers.Flatten(name="flatten")(x)
        x = fc(x, 4096, "fc6")
        x = layers.Dropout(dropout, name="drop6")(x)
        x = fc(x, 4096, "fc7")
        x = layers.Dropout(dropout, name="drop7")(x)
    x = common.classifier(x, classes, classifier_activation, kernel_initializer=kernel_initializer)
    return common.finish(inputs, x, name, weights)


ALEXNET_VARIANTS = ("caffe", "torchvision")


def AlexNet(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
            classes=1000, classifier_activation="softmax", variant="caffe", groups=None,
            lrn=None, dropout=0.5, name=None, kernel_initializer=None, widths=None):
    """AlexNet, Krizhevsky et al. 2012 (section 3 and Fig. 2).

    ``variant="caffe"`` (default) follows Caffe's ``bvlc_alexnet`` release at 227x227:
    conv1 96@11x11/4 valid -> ReLU -> LRN -> max 3x3/2 -> conv2 256@5x5 pad 2 (2 groups)
    -> ReLU -> LRN -> max 3x3/2 -> conv3 384@3x3 -> conv4 384@3x3 (2 groups) -> conv5
    256@3x3 (2 groups) -> max 3x3/2 -> fc6 4096 -> dropout -> fc7 4096 -> dropout -> fc8.
    Pools round up as Caffe's do. ``groups=2`` (default) keeps the paper's two-GPU
    split of conv2, conv4 and conv5 (60,965,224 parameters); ``groups=1`` is the
    one-tower net (62,378,344).

    ``lrn``: ``"caffe"`` (the default for this layout: ``bvlc_alexnet``'s local_size 5,
    alpha 1e-4 in Caffe's convention, i.e. 2e-5 per square in TF's, k 1, beta 0.75),
    ``"paper"`` (section 3.3: k 2, n 5, alpha 1e-4, beta 0.75) or ``"none"``.

    ``variant="torchvision"`` is torchvision's ``alexnet`` at 224: one tower,
    64-192-384-256-256 filters, conv1 padded by 2, no LRN (``lrn`` defaults to
    ``"none"``), floor-mode pools, a 6x6 adaptive average pool before fc6 and dropout
    before fc6 and fc7; 61,100,840 parameters. Its default initialiser is torch's
    default (uniform +-1/sqrt(fan_in), ``VarianceScaling(1/3, "fan_in", "uniform")``),
    biases 0.

    Default initialiser of the Caffe layout: the paper's (section 5) Gaussian, std 0.01;
    biases 1 in conv2, conv4, conv5, fc6 and fc7, 0 elsewhere. ``kernel_initializer=``
    overrides the kernels' initialiser. fc6 reads the flattened pool5 grid, so with
    ``include_top`` the input size must be static and fc6's fan-in follows it.

    ``widths`` (5 ints) replaces the filters of conv1..conv5, e.g. for width searches.
    """
    common.check_choice("variant", variant, ALEXNET_VARIANTS)
    tv = variant == "torchvision"
    if groups is None:
        groups = 1 if tv else 2
    if lrn is None:
        lrn = "none" if tv else "caffe"
    if kernel_initializer is None:
        kernel_initializer = (initializers.VarianceScaling(1.0 / 3.0, "fan_in", "uniform") if tv
                              else initializers.RandomNormal(stddev=0.01))
    if name is None:
        name = "alexnet_torchvision" if tv else ("alexnet" if groups == 2 else "alexnet_1tower")
    layout = _with_widths(TORCHVISION_LAYOUT if tv else CAFFE_LAYOUT, widths, groups)
    return _build(layout, include_top=include_top,
                  weights=weights, input_tensor=input_tensor, input_shape=input_shape,
                  pooling=pooling, classes=classes, classifier_activation=classifier_activation,
                  dropout=dropout, groups=groups, lrn=lrn, ceil_pools=not tv,
                  head="torchvision" if tv else "caffe",
                  default_shape=(224, 224, 3) if tv else (227, 227, 3), name=name,
                  kernel_initializer=kernel_initializer, bias_one=not tv)


def ZFNet(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
          classes=1000, classifier_activation="softmax", filters="paper", lrn="paper",
          dropout=0.5, name=None, kernel_initializer=None, widths=None):
    """ZFNet, Zeiler & Fergus, "Visualizing and Understanding Convolutional Networks"
    (2014), Fig. 3: AlexNet with conv1 96@7x7/2 and conv2 256@5x5/2, one tower.

    At 224: conv1 (pad 1) 110 -> max 3x3/2 55 -> LRN -> conv2 26 -> max 13 -> LRN ->
    conv3, conv4, conv5 13 -> max 6 -> fc6 4096 -> fc7 4096 -> fc8 (dropout 0.5 on fc6
    and fc7). Pools round up (this is what makes 110 -> 55 and 26 -> 13).

    ``filters``: ``"paper"`` (conv3-5 = 384/384/256, Fig. 3) or ``"cs231n"``
    (512/1024/512, the CS231n lecture's "ZFNet" slide). ``lrn``: the figure's
    "contrast normalisation across feature maps" with the AlexNet paper's constants
    (``"paper"``, default), ``"caffe"`` or ``"none"``.

    Default initialiser: the paper's (section 3) weights ~ Gaussian std 1e-2, biases 0;
    ``kernel_initializer=`` overrides it. The paper's renormalisation of filters whose
    RMS exceeds 0.1 is a training rule, not part of the model. ``widths`` (5 ints)
    replaces the filters of conv1..conv5, e.g. for width searches.
    """
    common.check_choice("filters", filters, tuple(ZF_FILTERS))
    if kernel_initializer is None:
        kernel_initializer = initializers.RandomNormal(stddev=0.01)
    if name is None:
        name = "zfnet" if filters == "paper" else "zfnet_cs231n"
    return _build(_with_widths(_zf_layout(filters), widths, 1), include_top=include_top,
                  weights=weights,
                  input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                  classes=classes, classifier_activation=classifier_activation, dropout=dropout,
                  groups=1, lrn=lrn, ceil_pools=True, head="caffe", default_shape=(224, 224, 3),
                  name=name, kernel_initializer=kernel_initializer, bias_one=False)


ALEXNET_END_POINTS = ("conv1", "norm1", "pool1", "conv2", "norm2", "pool2", "conv3", "conv4",
                      "conv5", "pool5")
_ALEXNET = dict(
    paper="ImageNet Classification with Deep Convolutional Neural Networks",
    authors="Krizhevsky, Sutskever, Hinton", year=2012, arxiv=None, family="alexnet",
    params_with_aux=None,
    # Section 4 / Table 2 (ILSVRC-2012 val, one CNN): top-1 40.7 %, top-5 18.2 %.
    reported={"top1": 40.7, "top5": 18.2},
)

register_model(ModelInfo(
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
    default_input_shape=(227, 227, 3), min_input_size=_min_size(CAFFE_LAYOUT, True),
    preprocessing=caffe_preprocessing(mean_bgr=(104.0, 117.0, 123.0), crop_fraction=227 / 256),
    layout="Caffe bvlc_alexnet (two towers: conv2/4/5 in 2 groups), Caffe LRN constants",
    end_points=ALEXNET_END_POINTS, stage_outputs=("norm1", "norm2", "conv5", "pool5"),
    build_kwargs={"variant": "caffe", "groups": 2}, **_ALEXNET), AlexNet)

register_model(ModelInfo(
    name="alexnet_1tower",
    # conv2, conv4, conv5 read all input channels: +307,200 + 663,552 + 442,368
    # -> 62,378,344.
    params=62_378_344, trainable_params=62_378_344,
    # conv2/4/5 MACs double: + 223,948,800 + 112,140,288 + 74,760,192 -> 1,135,256,096.
    macs=1_135_256_096,
    default_input_shape=(227, 227, 3), min_input_size=_min_size(CAFFE_LAYOUT, True),
    preprocessing=caffe_preprocessing(mean_bgr=(104.0, 117.0, 123.0), crop_fraction=227 / 256),
    layout="Caffe bvlc_alexnet, one tower (groups=1)",
    end_points=ALEXNET_END_POINTS, stage_outputs=("norm1", "norm2", "conv5", "pool5"),
    build_kwargs={"variant": "caffe", "groups": 1}, **_ALEXNET), AlexNet)

register_model(ModelInfo(
    name="alexnet_torchvision",
    # conv 23,296 + 307,392 + 663,936 + 884,992 + 590,080; fc 37,752,832 + 16,781,312
    # + 4,097,000 -> 61,100,840 (torchvision's num_params; no BN, so Keras agrees).
    params=61_100_840, trainable_params=61_100_840,
    # conv1 55*55*64*363 = 70,276,800; conv2 27*27*192*1600 = 223,948,800;
    # conv3 13*13*384*1728 = 112,140,288; conv4 13*13*256*3456 = 149,520,384;
    # conv5 13*13*256*2304 = 99,680,256; fc 58,621,952 -> 714,188,480
    # (torchvision lists 0.71 GFLOPS).
    macs=714_188_480,
    default_input_shape=(224, 224, 3), min_input_size=_min_size(TORCHVISION_LAYOUT, False),
    preprocessing=torch_preprocessing(),
    layout="torchvision alexnet (one tower 64-192-384-256-256, adaptive 6x6 avg pool)",
    end_points=("conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5", "pool5"),
    stage_outputs=("conv1", "conv2", "conv5", "pool5"),
    build_kwargs={"variant": "torchvision"},
    paper=_ALEXNET["paper"], authors=_ALEXNET["authors"], year=2012, arxiv=None,
    family="alexnet", params_with_aux=None,
    # torchvision's published ImageNet accuracy for its weights (acc@1 56.522, acc@5 79.066).
    reported={"top1": 43.478, "top5": 20.934}), AlexNet)

register_model(ModelInfo(
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
    default_input_shape=(224, 224, 3), min_input_size=_min_size(_zf_layout("paper"), True),
    preprocessing=caffe_preprocessing(mean_bgr=(104.0, 117.0, 123.0)),
    layout="paper Fig. 3 (conv1 pad 1, ceil-mode pools), AlexNet paper LRN constants",
    end_points=("conv1", "pool1", "norm1", "conv2", "pool2", "norm2", "conv3", "conv4",
                "conv5", "pool5"),
    stage_outputs=("conv1", "norm1", "norm2", "conv5", "pool5"),
    build_kwargs={"filters": "paper"}), ZFNet)
