"""DenseNet-BC for ImageNet: Huang, Liu, van der Maaten, Weinberger, "Densely Connected
Convolutional Networks" (2016), Table 1.

Layout: keras.applications' DenseNet121/169/201, layer for layer (names and weight order),
so ``ours.set_weights(keras.applications.DenseNet121(weights=None).get_weights())`` works
and ``weights="imagenet"`` loads the published files. Growth rate 32, bottleneck 4k,
compression 0.5, bias-free convolutions, BN epsilon 1.001e-5, a 7x7/2 conv after
ZeroPadding2D(3) and a 3x3/2 max pool after ZeroPadding2D(1) (the paper's 112 / 56 grid).
Initialiser: ``he_normal`` for the convolutions (the authors' Torch code uses He's
initialisation); ``kernel_initializer=`` overrides it.
"""

from keras import layers

from keras_cnns.blocks.dense import dense_block, transition_block
from keras_cnns.models import common
from keras_cnns.registry import ModelInfo, register_model, torch_preprocessing

# Table 1: dense layers per block (dense block 1 ... 4), growth rate k = 32.
BLOCKS = {121: (6, 12, 24, 16), 169: (6, 12, 32, 32), 201: (6, 12, 48, 32)}
GROWTH_RATE = 32
COMPRESSION = 0.5
BN_EPSILON = 1.001e-5
MIN_INPUT_SIZE = 32  # keras.applications' minimum (the 4th transition needs a 2x2 grid)
IMAGENET_KEYS = {121: "densenet121", 169: "densenet169", 201: "densenet201"}


def DenseNet(include_top=True, weights=None, input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax", depth=121,
             blocks=None, growth_rate=GROWTH_RATE, kernel_initializer="he_normal", name=None):
    """DenseNet-BC (Table 1). ``depth`` picks the row (121, 169, 201); ``blocks`` (4 ints)
    and ``growth_rate`` override it (no published weights then). See the module docstring
    for the layout and the initialiser."""
    if isinstance(depth, bool) or depth not in BLOCKS:
        raise ValueError(f"depth must be one of {', '.join(map(str, BLOCKS))}; got {depth!r}")
    if blocks is None:
        blocks = BLOCKS[depth]
    if (not isinstance(blocks, (tuple, list)) or len(blocks) != 4
            or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in blocks)):
        raise ValueError(f"blocks must be 4 positive ints (dense layers per block), got {blocks!r}")
    blocks = tuple(blocks)
    common.check_positive_int("growth_rate", growth_rate)
    plain = blocks == BLOCKS[depth] and growth_rate == GROWTH_RATE
    key = IMAGENET_KEYS[depth] if plain else None
    model_name = name or f"densenet{depth}"
    if weights == "imagenet" and key is None:
        raise ValueError(f"weights='imagenet' is not available for {model_name!r} with custom "
                         "blocks or growth_rate: no published file. Use weights=None or a path.")
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes, allowed_weights=(None, "imagenet"))
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(f"weights='imagenet' with include_top=True needs classes=1000, got "
                         f"classes={classes}")
    input_shape = common.resolve_input_shape(input_shape, input_tensor, (224, 224, 3),
                                             MIN_INPUT_SIZE)
    kinit = kernel_initializer

    inputs, x = common.make_input(input_shape, input_tensor)
    # Table 1: 7x7/2 conv (112) -> 3x3/2 max pool (56), torch-style symmetric padding.
    x = layers.ZeroPadding2D(3, name="conv1_pad")(x)
    x = layers.Conv2D(2 * growth_rate, 7, strides=2, use_bias=False, kernel_initializer=kinit,
                      name="conv1_conv")(x)
    x = layers.BatchNormalization(axis=-1, epsilon=BN_EPSILON, name="conv1_bn")(x)
    x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1")(x)
    for i, n in enumerate(blocks):
        x = dense_block(x, n, growth_rate, name=f"conv{i + 2}", bn_epsilon=BN_EPSILON,
                        kernel_initializer=kinit)
        if i < 3:
            x = transition_block(x, COMPRESSION, name=f"pool{i + 2}", bn_epsilon=BN_EPSILON,
                                 kernel_initializer=kinit)
    x = layers.BatchNormalization(axis=-1, epsilon=BN_EPSILON, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = common.classifier(x, classes, classifier_activation)
    else:
        x = common.pool_features(x, pooling)
    model = common.finish(inputs, x, model_name, None if weights == "imagenet" else weights)
    if weights == "imagenet":
        from keras_cnns.weights.imagenet import load_imagenet_weights
        load_imagenet_weights(model, key, include_top)
    return model


def DenseNet121(*args, **kwargs):
    """DenseNet-121 (blocks 6, 12, 24, 16); see :func:`DenseNet`."""
    return DenseNet(*args, depth=121, **kwargs)


def DenseNet169(*args, **kwargs):
    """DenseNet-169 (blocks 6, 12, 32, 32); see :func:`DenseNet`."""
    return DenseNet(*args, depth=169, **kwargs)


def DenseNet201(*args, **kwargs):
    """DenseNet-201 (blocks 6, 12, 48, 32); see :func:`DenseNet`."""
    return DenseNet(*args, depth=201, **kwargs)


def _end_points(blocks):
    concat = [f"conv{i + 2}_block{n}_concat" for i, n in enumerate(blocks)]
    return ("conv1_relu", "pool1", concat[0], "pool2_pool", concat[1], "pool3_pool", concat[2],
            "pool4_pool", concat[3], "relu")


def _stage_outputs(blocks):
    concat = [f"conv{i + 2}_block{n}_concat" for i, n in enumerate(blocks)]
    return ("conv1_relu", concat[0], concat[1], concat[2], "relu")


_PAPER = dict(paper="Densely Connected Convolutional Networks",
              authors="Huang, Liu, van der Maaten, Weinberger", year=2016, arxiv="1608.06993",
              family="densenet", default_input_shape=(224, 224, 3),
              min_input_size=MIN_INPUT_SIZE, params_with_aux=None,
              # keras.applications' densenet.preprocess_input is torch mode.
              preprocessing=torch_preprocessing(),
              layout="keras.applications DenseNet (DenseNet-BC, k=32)")

# keras.applications counts; trainable = torchvision's densenet121/169/201 num_params
# (7,978,856 / 14,149,480 / 20,013,928): Keras adds 2 moving stats per BN channel.
register_model(ModelInfo(
    name="densenet121", params=8_062_504, trainable_params=7_978_856, macs=2_834_161_664,
    reported={"top1_1crop": 25.02, "top5_1crop": 7.71, "top1_10crop": 23.61,
              "top5_10crop": 6.66},  # Table 3
    end_points=_end_points(BLOCKS[121]), stage_outputs=_stage_outputs(BLOCKS[121]),
    build_kwargs={"depth": 121}, **_PAPER), DenseNet)
register_model(ModelInfo(
    name="densenet169", params=14_307_880, trainable_params=14_149_480, macs=3_359_843_328,
    reported={"top1_1crop": 23.80, "top5_1crop": 6.85, "top1_10crop": 22.08,
              "top5_10crop": 5.92},
    end_points=_end_points(BLOCKS[169]), stage_outputs=_stage_outputs(BLOCKS[169]),
    build_kwargs={"depth": 169}, **_PAPER), DenseNet)
register_model(ModelInfo(
    name="densenet201", params=20_242_984, trainable_params=20_013_928, macs=4_291_365_888,
    reported={"top1_1crop": 22.58, "top5_1crop": 6.34, "top1_10crop": 21.46,
              "top5_10crop": 5.54},
    end_points=_end_points(BLOCKS[201]), stage_outputs=_stage_outputs(BLOCKS[201]),
    build_kwargs={"depth": 201}, **_PAPER), DenseNet)
