"""Network in Network: Lin, Chen, Yan, "Network In Network" (ICLR 2014, arXiv 1312.4400).

An mlpconv layer (section 3.1) is a kxk convolution followed by two 1x1 convolutions
("cccp" layers in the Caffe releases), each with ReLU. The last mlpconv emits one map
per class; global average pooling (section 3.2) replaces the fully connected head.
"""

import collections

from keras import layers

from keras_cnns.blocks.conv import (conv_bn_act, conv_output_size, max_pool, pool_output_size,
                                    same_or_ceil_padding)
from keras_cnns.models import common
from keras_cnns.registry import ModelInfo, Preprocessing, caffe_preprocessing, register_model

# conv: (name, filters, kernel, stride, padding); cccp: the two 1x1 layers' (name, filters).
# filters None = the number of classes (the last mlpconv's last 1x1 layer).
MlpConv = collections.namedtuple("MlpConv", "conv filters kernel stride padding cccp")
Pool = collections.namedtuple("Pool", "name kind")  # 3x3/2, ceil mode (Caffe)
Drop = collections.namedtuple("Drop", "name")

CONFIGS = {
    # Caffe model zoo "NIN-Imagenet" (mavenlin, train_val.prototxt), 224 crops:
    # 224 -> 54 -> 27 -> 27 -> 13 -> 13 -> 6 -> 6 -> global average pool.
    "imagenet": (
        MlpConv("conv1", 96, 11, 4, "valid", (("cccp1", 96), ("cccp2", 96))), Pool("pool1", "max"),
        MlpConv("conv2", 256, 5, 1, 2, (("cccp3", 256), ("cccp4", 256))), Pool("pool2", "max"),
        MlpConv("conv3", 384, 3, 1, 1, (("cccp5", 384), ("cccp6", 384))), Pool("pool3", "max"),
        Drop("drop3"),
        MlpConv("conv4", 1024, 3, 1, 1, (("cccp7", 1024), ("cccp8", None))),
    ),
    # Paper section 4.2 / the released cifar10 prototxt: 192-160-96, 192-192-192,
    # 192-192-10, dropout after the first two mlpconvs; the second pool averages.
    # 32 -> 32 -> 16 -> 16 -> 8 -> 8 -> global average pool.
    "cifar": (
        MlpConv("conv1", 192, 5, 1, 2, (("cccp1", 160), ("cccp2", 96))), Pool("pool1", "max"),
        Drop("drop1"),
        MlpConv("conv2", 192, 5, 1, 2, (("cccp3", 192), ("cccp4", 192))), Pool("pool2", "avg"),
        Drop("drop2"),
        MlpConv("conv3", 192, 3, 1, 1, (("cccp5", 192), ("cccp6", None))),
    ),
}
DEFAULTS = {"imagenet": dict(shape=(224, 224, 3), classes=1000, name="nin"),
            "cifar": dict(shape=(32, 32, 3), classes=10, name="nin_cifar")}


def _avg_pool_ceil(x, name):
    """3x3/2 average pool with Caffe's rounding (ceil, windows clipped to the input and
    averaged over what they cover). For 3x3/2 TF's "same" is exactly that whenever a
    pad is needed (even sizes: one column after, excluded from the mean); at odd sizes
    no window overhangs and "valid" is exact."""
    h, w = x.shape[1], x.shape[2]
    need_pad = any(n is None or same_or_ceil_padding(n, 3, 2) for n in (h, w))
    return layers.AveragePooling2D(3, 2, padding="same" if need_pad else "valid", name=name)(x)


def _sizes(size, table):
    """Spatial size after each row, or None when a convolution's window does not fit."""
    for row in table:
        if isinstance(row, MlpConv):
            size = conv_output_size(size, row.kernel, row.stride, row.padding)
            if size is None:
                return None
        elif isinstance(row, Pool):
            size = pool_output_size(size, 3, 2)
    return size


def min_input_size(config):
    """The smallest side that builds: ImageNet 11 (conv1's 11x11 valid window); the
    CIFAR net pads every convolution and its pools round up, so 1."""
    size = 1
    while _sizes(size, CONFIGS[config]) is None:
        size += 1
    return size


def end_points(config):
    names = []
    for row in CONFIGS[config]:
        if isinstance(row, MlpConv):
            names += [row.conv] + [n for n, f in row.cccp if f is not None]
        elif isinstance(row, Pool):
            names.append(row.name)
    return tuple(names)


def NiN(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
        classes=None, classifier_activation="softmax", config="imagenet", dropout=0.5,
        name=None, kernel_initializer="he_normal", table=None):
    """Network in Network (Lin et al. 2014).

    ``config="imagenet"`` (default): the Caffe model zoo NIN-Imagenet release at 224:
    four mlpconvs, conv1 96@11x11/4 -> cccp1 96 -> cccp2 96 -> max 3x3/2; conv2
    256@5x5 pad 2 -> 256 -> 256 -> max; conv3 384@3x3 pad 1 -> 384 -> 384 -> max ->
    dropout 0.5; conv4 1024@3x3 pad 1 -> cccp7 1024 -> cccp8 ``classes`` -> ReLU ->
    global average pool -> softmax. 7,595,176 parameters at 1000 classes.

    ``config="cifar"``: the paper's CIFAR-10 net (section 4.2; 32x32, 10 classes by
    default): 192@5x5-160-96 -> max 3x3/2 -> dropout; 192@5x5-192-192 -> avg 3x3/2 ->
    dropout; 192@3x3-192-``classes`` -> global average pool. 966,986 parameters at 10
    classes. The paper's global contrast normalisation and ZCA whitening are not applied.

    All pools round up as Caffe's do. Every convolution (the class maps too) is followed
    by ReLU, as in the releases. ``include_top=False`` ends at the penultimate 1x1
    layer (``cccp7`` / ``cccp5``); the top is the class-map layer, the global average
    pool and the ``predictions`` activation (float32 under mixed precision).

    ``table`` (rows like ``CONFIGS[config]``) replaces the configuration's widths, e.g.
    for width searches; kernels, strides and layer names must stay the same.

    Default initialiser: He normal (``kernel_initializer=`` overrides it); the Caffe
    releases used hand-set Gaussians. Biases 0. ``classes`` defaults to 1000
    (imagenet) or 10 (cifar).
    """
    common.check_choice("config", config, tuple(CONFIGS))
    defaults = DEFAULTS[config]
    if classes is None:
        classes = defaults["classes"]
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes)
    dropout = common.check_dropout("dropout", dropout)
    input_shape = common.resolve_input_shape(input_shape, input_tensor, defaults["shape"],
                                             min_input_size(config))
    if table is None:
        table = CONFIGS[config]
    elif ([(type(r), getattr(r, "kernel", None)) for r in table]
          != [(type(r), getattr(r, "kernel", None)) for r in CONFIGS[config]]):
        raise ValueError(f"table must have the rows of CONFIGS[{config!r}] (only widths change)")
    inputs, x = common.make_input(input_shape, input_tensor)

    def conv(x, filters, kernel, stride, padding, layer_name):
        return conv_bn_act(x, filters, kernel, stride, padding, name=layer_name,
                           kernel_initializer=kernel_initializer)

    for row in table:
        if isinstance(row, MlpConv):
            x = conv(x, row.filters, row.kernel, row.stride, row.padding, row.conv)
            for layer_name, filters in row.cccp:
                if filters is None:  # the class-map layer: the top
                    break
                x = conv(x, filters, 1, 1, "valid", layer_name)
        elif isinstance(row, Pool):
            x = (max_pool(x, 3, 2, name=row.name) if row.kind == "max"
                 else _avg_pool_ceil(x, row.name))
        else:
            x = layers.Dropout(dropout, name=row.name)(x)
    if include_top:
        x = conv(x, classes, 1, 1, "valid", table[-1].cccp[-1][0])
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Activation(classifier_activation or "linear", name="predictions",
                              dtype=common.output_dtype())(x)
    else:
        x = common.pool_features(x, pooling)
    return common.finish(inputs, x, name or defaults["name"], weights)


_PAPER = dict(paper="Network In Network", authors="Lin, Chen, Yan", year=2013,
              arxiv="1312.4400", family="nin", params_with_aux=None)

register_model(ModelInfo(
    name="nin",
    # conv1 96*363+96 = 34,944; cccp1, cccp2 96*96+96 = 9,312 each; conv2 256*2400+256 =
    # 614,656; cccp3, cccp4 256*256+256 = 65,792 each; conv3 384*2304+384 = 885,120;
    # cccp5, cccp6 384*384+384 = 147,840 each; conv4 1024*3456+1024 = 3,539,968;
    # cccp7 1024*1024+1024 = 1,049,600; cccp8 1000*1024+1000 = 1,025,000 -> 7,595,176.
    params=7_595_176, trainable_params=7_595_176,
    # conv1 54*54*96*363 = 101,616,768; cccp1+2 2*54*54*96*96 = 53,747,712;
    # conv2 27*27*256*2400 = 447,897,600; cccp3+4 2*27*27*256*256 = 95,551,488;
    # conv3 13*13*384*2304 = 149,520,384; cccp5+6 2*13*13*384*384 = 49,840,128;
    # conv4 6*6*1024*3456 = 127,401,984; cccp7 6*6*1024*1024 = 37,748,736;
    # cccp8 6*6*1000*1024 = 36,864,000 -> 1,100,188,800.
    macs=1_100_188_800,
    # The paper reports no ImageNet result.
    reported={},
    default_input_shape=(224, 224, 3), min_input_size=min_input_size("imagenet"),
    preprocessing=caffe_preprocessing(mean_bgr=(104.0, 117.0, 123.0)),
    layout="Caffe model zoo NIN-Imagenet (4 mlpconvs, cccp1-cccp8, GAP)",
    end_points=end_points("imagenet"), stage_outputs=("cccp2", "cccp4", "cccp6", "cccp7"),
    build_kwargs={"config": "imagenet"}, **_PAPER), NiN)

register_model(ModelInfo(
    name="nin_cifar",
    # conv1 192*75+192 = 14,592; cccp1 160*192+160 = 30,880; cccp2 96*160+96 = 15,456;
    # conv2 192*2400+192 = 460,992; cccp3, cccp4 192*192+192 = 37,056 each;
    # conv3 192*1728+192 = 331,968; cccp5 37,056; cccp6 10*192+10 = 1,930 -> 966,986.
    params=966_986, trainable_params=966_986,
    # conv1 32*32*192*75 = 14,745,600; cccp1 32*32*160*192 = 31,457,280;
    # cccp2 32*32*96*160 = 15,728,640; conv2 16*16*192*2400 = 117,964,800;
    # cccp3+4 2*16*16*192*192 = 18,874,368; conv3 8*8*192*1728 = 21,233,664;
    # cccp5 8*8*192*192 = 2,359,296; cccp6 8*8*10*192 = 122,880 -> 222,486,528.
    macs=222_486_528,
    # Table 1: CIFAR-10 test error, NIN + dropout 10.41 %, with augmentation 8.81 %.
    reported={"cifar10_test_error": 10.41, "cifar10_test_error_augmented": 8.81},
    default_input_shape=(32, 32, 3), min_input_size=min_input_size("cifar"),
    default_classes=10,
    # CIFAR-10 channel mean / std on 0-1 pixels (the paper's GCN + ZCA are not built in).
    preprocessing=Preprocessing(mode="cifar", mean=(0.4914, 0.4822, 0.4465),
                                std=(0.2470, 0.2435, 0.2616), scale=1.0 / 255.0,
                                crop_fraction=1.0),
    layout="paper section 4.2 CIFAR-10 net (192-160-96, 192-192-192, 192-192-10)",
    end_points=end_points("cifar"), stage_outputs=("cccp2", "cccp4", "cccp5"),
    build_kwargs={"config": "cifar"}, **_PAPER), NiN)
