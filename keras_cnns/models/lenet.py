"""LeNet-5: LeCun, Bottou, Bengio, Haffner, "Gradient-Based Learning Applied to Document
Recognition" (Proc. IEEE 1998), section II.B and Fig. 2.

C1 6@5x5 -> S2 2x2/2 -> C3 16@5x5 -> S4 2x2/2 -> C5 120@5x5 -> F6 84 -> output.
"""

from keras import layers

from keras_cnns.models import common
from keras_cnns.registry import ModelInfo, Preprocessing, register_model

# Fig. 2 as data: (name, filters, kernel) for the convolutions, each but C5 followed by
# a 2x2/2 subsampling layer.
CONV_TABLE = (("C1", 6, 5, "S2"), ("C3", 16, 5, "S4"), ("C5", 120, 5, None))
F6_UNITS = 84
SUBSAMPLINGS = ("avg", "max")
END_POINTS = ("C1", "S2", "C3", "S4", "C5")
# C5's 5x5 needs S4 >= 5 -> C3 >= 10 -> S2 >= 14 -> C1 >= 28 -> input >= 32.
MIN_INPUT_SIZE = 32


def LeNet5(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
           classes=10, classifier_activation="softmax", activation="tanh", subsampling="avg",
           name=None, kernel_initializer="glorot_uniform", table=CONV_TABLE):
    """LeNet-5 (LeCun et al. 1998, Fig. 2) on a 32x32x1 input.

    Layout: the paper's, with a *full* C3 connection table (every C3 map reads all six
    S2 maps; the paper's Table I uses a sparse table, 1,516 weights instead of 2,400)
    and parameter-free subsampling (the paper's S2/S4 have a trainable coefficient and
    bias per map), so 61,706 parameters at 10 classes. The output layer is a softmax
    Dense (``predictions``) instead of the paper's Euclidean RBF units, and the
    hidden activation is plain ``activation`` (default ``"tanh"``; the paper uses the
    scaled ``1.7159 * tanh(2a/3)``).

    ``subsampling``: ``"avg"`` (the paper's averaging) or ``"max"``. Default
    initialiser: Keras' ``glorot_uniform`` (the paper's uniform(+-2.4 / fan_in) is
    not used); ``kernel_initializer=`` overrides it. ``include_top=False`` ends at C5
    (the last convolution). Input: 32x32 (the paper centres 28x28 MNIST digits in a
    32x32 field); at least 32 px, since C5's 5x5 must fit in S4.
    """
    common.check_choice("subsampling", subsampling, SUBSAMPLINGS)
    # ``table`` (rows like CONV_TABLE) changes the filter counts only, e.g. for width searches.
    if ([(r[0], r[2], r[3]) for r in table] != [(r[0], r[2], r[3]) for r in CONV_TABLE]
            or any(isinstance(r[1], bool) or not isinstance(r[1], int) or r[1] < 1
                   for r in table)):
        raise ValueError(f"table must be CONV_TABLE's rows with positive filter counts, "
                         f"got {table!r}")
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes)
    input_shape = common.resolve_input_shape(input_shape, input_tensor, (32, 32, 1),
                                             MIN_INPUT_SIZE, require_static=include_top)
    inputs, x = common.make_input(input_shape, input_tensor)
    pool_layer = layers.AveragePooling2D if subsampling == "avg" else layers.MaxPooling2D
    for conv_name, filters, kernel, pool_name in table:
        x = layers.Conv2D(filters, kernel, padding="valid", activation=activation,
                          kernel_initializer=kernel_initializer, name=conv_name)(x)
        if pool_name:
            x = pool_layer(2, strides=2, padding="valid", name=pool_name)(x)
    if include_top:
        # C5 is 1x1x120 at 32 px; at larger inputs F6 reads the flattened C5 grid.
        x = layers.Flatten(name="flatten")(x)
        x = layers.Dense(F6_UNITS, activation=activation, kernel_initializer=kernel_initializer,
                         name="F6")(x)
        x = common.classifier(x, classes, classifier_activation,
                              kernel_initializer=kernel_initializer)
    else:
        x = common.pool_features(x, pooling)
    return common.finish(inputs, x, name or "lenet5", weights)


register_model(ModelInfo(
    name="lenet5",
    paper="Gradient-Based Learning Applied to Document Recognition",
    authors="LeCun, Bottou, Bengio, Haffner", year=1998, arxiv=None,
    default_input_shape=(32, 32, 1), min_input_size=MIN_INPUT_SIZE, default_classes=10,
    # C1 6*(25+1)=156; C3 16*(150+1)=2,416; C5 120*(400+1)=48,120; F6 84*(120+1)=10,164;
    # output 10*(84+1)=850 -> 61,706.
    params=61_706, params_with_aux=None, trainable_params=61_706,
    # C1 28*28*6*25=117,600; C3 10*10*16*150=240,000; C5 120*400=48,000;
    # F6 120*84=10,080; output 84*10=840 -> 416,520.
    macs=416_520,
    # Section III.C / Fig. 14: 0.95 % test error on MNIST, 0.8 % with distortions.
    reported={"mnist_test_error": 0.95, "mnist_test_error_distortions": 0.8},
    # Section II.A: background -0.1, foreground 1.175 (mean ~0, variance ~1), i.e.
    # x * 1.275/255 - 0.1 for a bright digit on a dark background; grey 32x32, no crop.
    preprocessing=Preprocessing(mode="lenet", mean=(0.1,), std=(1.0,), scale=1.275 / 255.0,
                                crop_fraction=1.0, grayscale=True),
    family="lenet", layout="paper Fig. 2, full C3 table, parameter-free subsampling",
    end_points=END_POINTS, stage_outputs=("C1", "C3", "C5"),
    build_kwargs={"subsampling": "avg"},
), LeNet5)
