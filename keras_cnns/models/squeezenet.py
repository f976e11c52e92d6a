"""SqueezeNet: Iandola, Han, Moskewicz, Ashraf, Dally, Keutzer, "SqueezeNet: AlexNet-level
accuracy with 50x fewer parameters and <0.5MB model size" (2016, arXiv 1602.07360).

Layouts are torchvision's ``squeezenet1_0`` (paper Table 1) and ``squeezenet1_1`` (the
v1.1 release: 3x3/2 64-filter conv1, pools moved earlier, 2.4x fewer MACs).
"""

import collections

from keras import initializers, layers

from keras_cnns.blocks import conv_bn_act, fire, max_pool, same_or_ceil_padding
from keras_cnns.models import common
from keras_cnns.registry import ModelInfo, register_model, torch_preprocessing

Fire = collections.namedtuple("Fire", "name squeeze expand1x1 expand3x3")
Pool = collections.namedtuple("Pool", "name")  # max 3x3/2, ceil mode

# (conv1 filters, kernel), then the rows after conv1.
VERSIONS = {
    # Table 1: conv1 96@7x7/2; pools after conv1, fire4 and fire8.
    "1_0": ((96, 7), (
        Pool("pool1"),
        Fire("fire2", 16, 64, 64), Fire("fire3", 16, 64, 64), Fire("fire4", 32, 128, 128),
        Pool("pool4"),
        Fire("fire5", 32, 128, 128), Fire("fire6", 48, 192, 192), Fire("fire7", 48, 192, 192),
        Fire("fire8", 64, 256, 256),
        Pool("pool8"),
        Fire("fire9", 64, 256, 256),
    )),
    # v1.1: conv1 64@3x3/2; pools after conv1, fire3 and fire5.
    "1_1": ((64, 3), (
        Pool("pool1"),
        Fire("fire2", 16, 64, 64), Fire("fire3", 16, 64, 64),
        Pool("pool3"),
        Fire("fire4", 32, 128, 128), Fire("fire5", 32, 128, 128),
        Pool("pool5"),
        Fire("fire6", 48, 192, 192), Fire("fire7", 48, 192, 192), Fire("fire8", 64, 256, 256),
        Fire("fire9", 64, 256, 256),
    )),
}


def min_input_size(version):
    """The smallest side that builds: conv1 is valid (7 for v1.0, 3 for v1.1); the
    ceil-mode pools and padded 3x3 expands take any size after it."""
    return VERSIONS[version][0][1]


def grid_sizes(size, version):
    """Spatial size after conv1 and each pool."""
    kernel = VERSIONS[version][0][1]
    sizes = [(size - kernel) // 2 + 1]
    for row in VERSIONS[version][1]:
        if isinstance(row, Pool):
            n = sizes[-1]
            sizes.append((n + same_or_ceil_padding(n, 3, 2) - 3) // 2 + 1)
    return tuple(sizes)


def end_points(version):
    return ("conv1",) + tuple(row.name for row in VERSIONS[version][1])


def SqueezeNet(include_top=True, weights=None, input_tensor=None, input_shape=None,
               pooling=None, classes=1000, classifier_activation="softmax", version="1_0",
               dropout=0.5, name=None, kernel_initializer=None, table=None):
    """SqueezeNet v1.0 or v1.1 (``version="1_0"`` / ``"1_1"``), torchvision's layout.

    conv1 (valid) -> ReLU -> max 3x3/2 (ceil mode) -> fire modules (no BN) with two more
    ceil-mode pools -> dropout 0.5 -> conv10 1x1 ``classes`` -> ReLU -> global average
    pool -> ``predictions`` activation (float32 under mixed precision). At 224:
    v1.0 109 -> 54 -> 27 -> 13; v1.1 111 -> 55 -> 27 -> 13. 1,248,424 (v1.0) and
    1,235,496 (v1.1) parameters at 1000 classes, torchvision's counts.
    ``include_top=False`` ends at fire9.

    Default initialiser: torchvision's, He uniform (``kaiming_uniform_``) for every
    convolution except conv10, Gaussian std 0.01 for conv10; biases 0.
    ``kernel_initializer=`` overrides the He uniform part.

    ``table`` (rows like ``VERSIONS[version][1]``) replaces the fire modules' widths, e.g.
    for width searches; the pools and names must stay where they are.
    """
    common.check_choice("version", version, tuple(VERSIONS))
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes)
    dropout = common.check_dropout("dropout", dropout)
    input_shape = common.resolve_input_shape(input_shape, input_tensor, (224, 224, 3),
                                             min_input_size(version))
    if kernel_initializer is None:
        kernel_initializer = initializers.HeUniform()
    (conv1_filters, conv1_kernel), rows = VERSIONS[version]
    if table is not None:
        if [(type(r), r.name) for r in table] != [(type(r), r.name) for r in rows]:
            raise ValueError(f"table must have the rows of VERSIONS[{version!r}][1] "
                             "(only fire widths change)")
        rows = tuple(table)

    inputs, x = common.make_input(input_shape, input_tensor)
    x = conv_bn_act(x, conv1_filters, conv1_kernel, 2, "valid", name="conv1",
                    kernel_initializer=kernel_initializer)
    for row in rows:
        if isinstance(row, Pool):
            x = max_pool(x, 3, 2, name=row.name)
        else:
            x = fire(x, row.squeeze, row.expand1x1, row.expand3x3, name=row.name,
                     kernel_initializer=kernel_initializer)
    if include_top:
        x = layers.Dropout(dropout, name="drop9")(x)
        x = conv_bn_act(x, classes, 1, 1, "valid", name="conv10",
                        kernel_initializer=initializers.RandomNormal(stddev=0.01))
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Activation(classifier_activation or "linear", name="predictions",
                              dtype=common.output_dtype())(x)
    else:
        x = common.pool_features(x, pooling)
    return common.finish(inputs, x, name or f"squeezenet{version}", weights)


_PAPER = dict(
    paper="SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size",
    authors="Iandola, Han, Moskewicz, Ashraf, Dally, Keutzer", year=2016, arxiv="1602.07360",
    family="squeezenet", params_with_aux=None, default_input_shape=(224, 224, 3),
    preprocessing=torch_preprocessing(),
)
# fire(s, e1, e3) on c channels: s*(c+1) + e1*(s+1) + e3*(9s+1).
register_model(ModelInfo(
    name="squeezenet1_0",
    # conv1 96*147+96 = 14,208; fire2 11,920; fire3 12,432; fire4 45,344; fire5 49,440;
    # fire6 104,880; fire7 111,024; fire8 188,992; fire9 197,184; conv10 1000*513 =
    # 513,000 -> 1,248,424 (torchvision; no BN, so Keras agrees).
    params=1_248_424, trainable_params=1_248_424,
    # Read off keras_cnns.profile at 224; torchvision lists 0.82 GFLOPS.
    macs=818_924_576,
    # Table 2: SqueezeNet (uncompressed) 57.5 % top-1 / 80.3 % top-5 accuracy.
    reported={"top1": 42.5, "top5": 19.7},
    min_input_size=min_input_size("1_0"),
    layout="torchvision squeezenet1_0 (paper Table 1, ceil-mode pools)",
    end_points=end_points("1_0"), stage_outputs=("conv1", "fire4", "fire8", "fire9"),
    build_kwargs={"version": "1_0"}, **_PAPER), SqueezeNet)

register_model(ModelInfo(
    name="squeezenet1_1",
    # conv1 64*27+64 = 1,792; fire2 16*65+1,088+9,280 = 11,408; fire3 12,432;
    # fire4 45,344; fire5 49,440; fire6 104,880; fire7 111,024; fire8 188,992;
    # fire9 197,184; conv10 513,000 -> 1,235,496 (torchvision).
    params=1_235_496, trainable_params=1_235_496,
    # Read off keras_cnns.profile at 224; torchvision lists 0.35 GFLOPS.
    macs=349_151_936,
    # torchvision's published accuracy for its squeezenet1_1 weights: 58.178 / 80.624.
    reported={"top1": 41.822, "top5": 19.376},
    min_input_size=min_input_size("1_1"),
    layout="torchvision squeezenet1_1 (v1.1 release, ceil-mode pools)",
    end_points=end_points("1_1"), stage_outputs=("conv1", "fire3", "fire5", "fire9"),
    build_kwargs={"version": "1_1"}, **_PAPER), SqueezeNet)
