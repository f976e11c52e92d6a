"""VGG: Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition" (ICLR 2015), Table 1 configurations A, B, D and E.

Layer names and weight order are keras.applications' (``block{i}_conv{j}``,
``block{i}_pool``, ``flatten``, ``fc1``, ``fc2``, ``predictions``), so VGG16 and VGG19
load keras.applications' ImageNet weights (``weights="imagenet"``).
"""

from keras import initializers, layers

from keras_cnns.blocks import conv_bn_act
from keras_cnns.models import common
from keras_cnns.registry import ModelInfo, caffe_preprocessing, register_model

# Table 1: convolutions per block (3x3, stride 1, pad 1), widths 64-128-256-512-512,
# a 2x2/2 max pool after each block. (Config C, with 1x1 convs, and A-LRN are not built.)
WIDTHS = (64, 128, 256, 512, 512)
CONFIGS = {
    "A": (1, 1, 2, 2, 2),  # VGG11
    "B": (2, 2, 2, 2, 2),  # VGG13
    "D": (2, 2, 3, 3, 3),  # VGG16
    "E": (2, 2, 4, 4, 4),  # VGG19
}
DEPTHS = {"A": 11, "B": 13, "D": 16, "E": 19}
IMAGENET_KEYS = {"D": "vgg16", "E": "vgg19"}  # keras.applications publishes these two
MIN_INPUT_SIZE = 32  # five 2x2/2 valid pools: 32 -> 1


def end_points(config):
    names = []
    for block, n in enumerate(CONFIGS[config], start=1):
        names += [f"block{block}_conv{j}" for j in range(1, n + 1)] + [f"block{block}_pool"]
    return tuple(names)


def VGG(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
        classes=1000, classifier_activation="softmax", config="D", batch_norm=False,
        dropout=0.5, name=None, kernel_initializer=None, widths=WIDTHS):
    """VGG with a Table 1 configuration (``config`` ``"A"``, ``"B"``, ``"D"``, ``"E"``).

    Layout: keras.applications' VGG16/VGG19 (the paper's: 3x3 same convolutions with
    biases and ReLU, 2x2/2 max pools, FC 4096-4096-classes), plus dropout 0.5 after
    fc1 and fc2 (section 3.1; dropout has no weights, so keras.applications' weights
    still load). ``batch_norm=True`` is torchvision's ``vgg*_bn``: BN (eps 1e-5) after
    every convolution, convolution biases kept (as torchvision does); layers are
    ``block1_conv1_conv``, ``block1_conv1_bn`` and the ReLU ``block1_conv1``.

    Default initialiser: Gaussian std 0.01, biases 0 (section 3.1 says "zero mean and
    10^-2 variance"; std 0.01 is what Caffe-era releases used). Deep configurations do
    not train from it without BN; the paper initialised them from config A.
    ``kernel_initializer=`` overrides it.

    ``widths`` (5 ints) replaces Table 1's 64-128-256-512-512 block widths (for width
    searches; no ImageNet weights then).

    ``weights="imagenet"`` (configs D and E without BN) loads keras.applications'
    published weights through ``keras.utils.get_file`` (shared Keras cache); with
    ``include_top`` it needs a 224x224x3 input and 1000 classes.
    """
    common.check_choice("config", config, tuple(CONFIGS))
    if not isinstance(batch_norm, bool):
        raise TypeError(f"batch_norm must be a bool, got {type(batch_norm).__name__}")
    if (not isinstance(widths, (tuple, list)) or len(widths) != len(WIDTHS)
            or any(isinstance(w, bool) or not isinstance(w, int) or w < 1 for w in widths)):
        raise ValueError(f"widths must be {len(WIDTHS)} positive ints, got {widths!r}")
    widths = tuple(widths)
    imagenet_key = None if (batch_norm or widths != WIDTHS) else IMAGENET_KEYS.get(config)
    allowed = (None, "imagenet") if imagenet_key else (None,)
    if weights == "imagenet" and not imagenet_key:
        raise ValueError(f"weights='imagenet' exists only for VGG16 and VGG19 without batch "
                         f"norm (configs 'D', 'E'); got config={config!r}, "
                         f"batch_norm={batch_norm}. Use weights=None or a weights file.")
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes, allowed_weights=allowed)
    dropout = common.check_dropout("dropout", dropout)
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(f"weights='imagenet' with include_top=True needs classes=1000, "
                         f"got classes={classes}")
    input_shape = common.resolve_input_shape(input_shape, input_tensor, (224, 224, 3),
                                             MIN_INPUT_SIZE, require_static=include_top)
    if weights == "imagenet":
        if include_top and tuple(input_shape) != (224, 224, 3):
            raise ValueError("weights='imagenet' with include_top=True needs input_shape "
                             f"(224, 224, 3), got {tuple(input_shape)}")
        if input_shape[-1] != 3:
            raise ValueError("weights='imagenet' needs 3 input channels, "
                             f"got input_shape {tuple(input_shape)}")
    if kernel_initializer is None:
        kernel_initializer = initializers.RandomNormal(stddev=0.01)

    inputs, x = common.make_input(input_shape, input_tensor)
    for block, (n, width) in enumerate(zip(CONFIGS[config], widths), start=1):
        for j in range(1, n + 1):
            x = conv_bn_act(x, width, 3, name=f"block{block}_conv{j}", batch_norm=batch_norm,
                            bn_epsilon=1e-5, use_bias=True,
                            kernel_initializer=kernel_initializer)
        x = layers.MaxPooling2D(2, strides=2, name=f"block{block}_pool")(x)
    if include_top:
        # fc1 reads the flattened 7x7x512 grid at 224 (its fan-in follows the input).
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(4096, activation="relu", kernel_initializer=kernel_initializer,
                         name="fc1")(x)
        x = layers.Dropout(dropout, name="fc1_dropout")(x)
        x = layers.Dense(4096, activation="relu", kernel_initializer=kernel_initializer,
                         name="fc2")(x)
        x = layers.Dropout(dropout, name="fc2_dropout")(x)
        x = common.classifier(x, classes, classifier_activation,
                              kernel_initializer=kernel_initializer)
    else:
        x = common.pool_features(x, pooling)
    default_name = f"vgg{DEPTHS[config]}" + ("_bn" if batch_norm else "")
    if weights == "imagenet":
        model = common.finish(inputs, x, name or default_name, None)
        from keras_cnns.weights import load_imagenet_weights

        load_imagenet_weights(model, imagenet_key, include_top)
        return model
    return common.finish(inputs, x, name or default_name, weights)


def _fixed(config, depth):
    def builder(include_top=True, weights=None, input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax",
                batch_norm=False, dropout=0.5, name=None, kernel_initializer=None):
        return VGG(include_top=include_top, weights=weights, input_tensor=input_tensor,
                   input_shape=input_shape, pooling=pooling, classes=classes,
                   classifier_activation=classifier_activation, config=config,
                   batch_norm=batch_norm, dropout=dropout, name=name,
                   kernel_initializer=kernel_initializer)

    builder.__name__ = f"VGG{depth}"
    builder.__qualname__ = builder.__name__
    builder.__doc__ = (f"VGG-{depth}: :func:`VGG` with Table 1 configuration {config!r}. "
                       "See :func:`VGG` for the arguments.")
    return builder


VGG11 = _fixed("A", 11)
VGG13 = _fixed("B", 13)
VGG16 = _fixed("D", 16)
VGG19 = _fixed("E", 19)

_PAPER = dict(
    paper="Very Deep Convolutional Networks for Large-Scale Image Recognition",
    authors="Simonyan, Zisserman", year=2014, arxiv="1409.1556", family="vgg",
    default_input_shape=(224, 224, 3), min_input_size=MIN_INPUT_SIZE, params_with_aux=None,
    # keras.applications' convention (caffe mode: BGR, these means, no scaling).
    preprocessing=caffe_preprocessing(mean_bgr=(103.939, 116.779, 123.68)),
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
for _name, _config, _bn, _params, _trainable, _macs, _reported in _ROWS:
    register_model(ModelInfo(
        name=_name, params=_params, trainable_params=_trainable, macs=_macs,
        reported=_reported,
        layout=("torchvision vgg_bn (BN after each conv, conv biases kept)" if _bn
                else "keras.applications VGG (paper Table 1) + dropout on fc1/fc2"),
        end_points=end_points(_config),
        stage_outputs=tuple(f"block{i}_conv{n}" for i, n in
                            enumerate(CONFIGS[_config], start=1)),
        build_kwargs={"config": _config, "batch_norm": _bn}, **_PAPER), VGG)
