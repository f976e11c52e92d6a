"""VGG: Simonyan & Zisserman, "Very Deep Convolutional Networks for Large-Scale Image
Recognition" (ICLR 2015), Table 1 configurations A, B, D and E.

Layer names and weight order are keras.applications' (``block{i}_conv{j}``,
``block{i}_pool``, ``flatten``, ``fc1``, ``fc2``, ``predictions``), so VGG16 and VGG19
load keras.applications' ImageNet weights (``weights="imagenet"``).
"""

from keras import initializers, layers

from keras_cnns.blocks.conv import conv_bn_act
from keras_cnns.blocks.sequence import apply_rows
from keras_cnns.models import common
from keras_cnns.models.vgg.spec import (CONFIGS, DEPTHS, FC_UNITS, IMAGENET_KEYS,
                                        MIN_INPUT_SIZE, WIDTHS, trunk)
from keras_cnns.validation import check_bool, check_choice, check_ints, check_rate


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
    check_choice("config", config, tuple(CONFIGS))
    batch_norm = check_bool("batch_norm", batch_norm)
    widths = check_ints("widths", widths, length=len(WIDTHS))
    # The entry whose published file fits (VGG16, VGG19 at Table 1's widths, no BN).
    imagenet_key = None if (batch_norm or widths != WIDTHS) else IMAGENET_KEYS.get(config)
    allowed = (None, "imagenet") if imagenet_key else (None,)
    if weights == "imagenet" and not imagenet_key:
        raise ValueError(f"weights='imagenet' exists only for VGG16 and VGG19 without batch "
                         f"norm (configs 'D', 'E'); got config={config!r}, "
                         f"batch_norm={batch_norm}. Use weights=None or a weights file.")
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes, allowed_weights=allowed,
                                  classifier_activation=classifier_activation)
    dropout = check_rate("dropout", dropout)
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

    def conv_row(x, row):
        return conv_bn_act(x, row.filters, row.kernel, row.stride, row.padding, name=row.name,
                           batch_norm=batch_norm, bn_epsilon=1e-5, use_bias=True,
                           kernel_initializer=kernel_initializer)

    inputs, x = common.make_input(input_shape, input_tensor)
    # Table 1's column as rows (spec.trunk): the convolutions, a max pool per block.
    x, _ = apply_rows(x, trunk(config, widths), conv=conv_row)
    if include_top:
        # fc1 reads the flattened 7x7x512 grid at 224 (its fan-in follows the input).
        x = common.flatten(x, FC_UNITS)
        x = layers.Dense(FC_UNITS, activation="relu", kernel_initializer=kernel_initializer,
                         name="fc1")(x)
        x = layers.Dropout(dropout, name="fc1_dropout")(x)
        x = layers.Dense(FC_UNITS, activation="relu", kernel_initializer=kernel_initializer,
                         name="fc2")(x)
        x = layers.Dropout(dropout, name="fc2_dropout")(x)
        x = common.classifier(x, classes, classifier_activation,
                              kernel_initializer=kernel_initializer)
    else:
        x = common.pool_features(x, pooling)
    default_name = f"vgg{DEPTHS[config]}" + ("_bn" if batch_norm else "")
    return common.finish(inputs, x, name or default_name, weights, imagenet=imagenet_key,
                         include_top=include_top)


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


VGG11 = _fixed("A", DEPTHS["A"])
VGG13 = _fixed("B", DEPTHS["B"])
VGG16 = _fixed("D", DEPTHS["D"])
VGG19 = _fixed("E", DEPTHS["E"])
