"""DenseNet: Huang, Liu, van der Maaten, Weinberger, "Densely Connected Convolutional
Networks" (2016). DenseNet-BC for ImageNet (Table 1) and, in :func:`DenseNetCIFAR`, the
CIFAR networks of section 3 and Table 2.

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
from keras_cnns.models.densenet.spec import (BLOCKS, BN_EPSILON, BOTTLENECK,
                                             CIFAR_BN_EPSILON, CIFAR_GROWTH_RATE,
                                             CIFAR_MIN_INPUT_SIZE, COMPRESSION, GROWTH_RATE,
                                             IMAGENET_KEYS, MIN_INPUT_SIZE, cifar_blocks,
                                             cifar_stem)
from keras_cnns.validation import (check_bool, check_choice, check_int, check_ints,
                                   check_positive_int, check_rate)


def DenseNet(include_top=True, weights=None, input_tensor=None, input_shape=None,
             pooling=None, classes=1000, classifier_activation="softmax", depth=121,
             blocks=None, growth_rate=GROWTH_RATE, kernel_initializer="he_normal", name=None):
    """DenseNet-BC (Table 1). ``depth`` picks the row (121, 169, 201); ``blocks`` (4 ints)
    and ``growth_rate`` override it (no published weights then). See the module docstring
    for the layout and the initialiser."""
    depth = int(check_choice("depth", depth, tuple(BLOCKS)))
    blocks = BLOCKS[depth] if blocks is None else check_ints("blocks", blocks, length=4)
    growth_rate = check_positive_int("growth_rate", growth_rate)
    plain = blocks == BLOCKS[depth] and growth_rate == GROWTH_RATE
    key = IMAGENET_KEYS[depth] if plain else None
    model_name = name or f"densenet{depth}"
    if weights == "imagenet" and key is None:
        raise ValueError(f"weights='imagenet' is not available for {model_name!r} with custom "
                         "blocks or growth_rate: no published file. Use weights=None or a path.")
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes, allowed_weights=(None, "imagenet"),
                                  classifier_activation=classifier_activation)
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
        if i < len(blocks) - 1:
            x = transition_block(x, COMPRESSION, name=f"pool{i + 2}", bn_epsilon=BN_EPSILON,
                                 kernel_initializer=kinit)
    x = layers.BatchNormalization(axis=-1, epsilon=BN_EPSILON, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = common.gap_head(x, include_top, pooling, classes, classifier_activation)
    return common.finish(inputs, x, model_name, weights, imagenet=key, include_top=include_top)


def DenseNet121(*args, **kwargs):
    """DenseNet-121 (blocks 6, 12, 24, 16); see :func:`DenseNet`."""
    return DenseNet(*args, depth=121, **kwargs)


def DenseNet169(*args, **kwargs):
    """DenseNet-169 (blocks 6, 12, 32, 32); see :func:`DenseNet`."""
    return DenseNet(*args, depth=169, **kwargs)


def DenseNet201(*args, **kwargs):
    """DenseNet-201 (blocks 6, 12, 48, 32); see :func:`DenseNet`."""
    return DenseNet(*args, depth=201, **kwargs)


def DenseNetCIFAR(include_top=True, weights=None, input_tensor=None, input_shape=None,
                  pooling=None, classes=10, classifier_activation="softmax", depth=40,
                  growth_rate=CIFAR_GROWTH_RATE, bc=False, dropout=0.0,
                  kernel_initializer="he_normal", name=None):
    """The CIFAR DenseNets of section 3 ("Implementation Details") and Table 2.

    A 3x3 convolution of 16 maps (``bc``: 2k), three dense blocks of (L - 4) / 3 layers
    (``bc``: (L - 4) / 6 bottleneck layers, 1x1 of 4k then 3x3 of k) on the 32x32, 16x16
    and 8x8 maps, two transitions (BN-ReLU, 1x1 convolution keeping all maps or, ``bc``,
    half; 2x2 average pool), BN-ReLU, a global average pool and the ``classes``-way
    classifier. ``densenet40_cifar`` is ``depth=40, growth_rate=12``; ``densenet_bc100_cifar``
    is ``depth=100, growth_rate=12, bc=True``. ``dropout`` (section 4.2: 0.2 when training
    without augmentation) follows every convolution but the stem. Bias-free
    convolutions, BN epsilon 1e-5, He-normal initialiser (the authors' Torch code). No
    published weights.
    """
    depth = check_int("depth", depth)
    bc = check_bool("bc", bc)
    n = cifar_blocks(depth, bc)
    if n is None:
        rule = "6n+4 (40, 100, 190, 250, ...)" if bc else "3n+4 (40, 100, ...)"
        raise ValueError(f"depth must be {rule} with n >= 1 for "
                         f"{'DenseNet-BC' if bc else 'DenseNet'}, got depth={depth!r}")
    growth_rate = check_positive_int("growth_rate", growth_rate)
    dropout = check_rate("dropout", dropout)
    if name is None:
        name = (f"densenet{'_bc' if bc else ''}{depth}"
                + ("" if growth_rate == CIFAR_GROWTH_RATE else f"_k{growth_rate}") + "_cifar")
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes, allowed_weights=(None,),
                                  classifier_activation=classifier_activation)
    input_shape = common.resolve_input_shape(input_shape, input_tensor, (32, 32, 3),
                                             CIFAR_MIN_INPUT_SIZE)
    kinit = kernel_initializer

    inputs, x = common.make_input(input_shape, input_tensor)
    x = layers.Conv2D(cifar_stem(growth_rate, bc), 3, padding="same", use_bias=False,
                      kernel_initializer=kinit, name="conv1_conv")(x)
    for i in range(3):
        x = dense_block(x, n, growth_rate, name=f"conv{i + 2}",
                        bottleneck=BOTTLENECK if bc else None, bn_epsilon=CIFAR_BN_EPSILON,
                        dropout=dropout, kernel_initializer=kinit)
        if i < 2:
            x = transition_block(x, COMPRESSION if bc else 1.0, name=f"pool{i + 2}",
                                 bn_epsilon=CIFAR_BN_EPSILON, dropout=dropout,
                                 kernel_initializer=kinit)
    x = layers.BatchNormalization(axis=-1, epsilon=CIFAR_BN_EPSILON, name="bn")(x)
    x = layers.Activation("relu", name="relu")(x)
    x = common.gap_head(x, include_top, pooling, classes, classifier_activation)
    return common.finish(inputs, x, name, weights, include_top=include_top)
