"""The CIFAR DenseNets of Huang et al. 2016 (section 3, Table 2): DenseNet (L=40, k=12)
and DenseNet-BC (L=100, k=12). Counts by hand against Table 2, the 32/16/8 grids, the
layer counts that give L, dropout placement, the paper table, recipe, search space and a
short learning check."""

import keras
import numpy as np
import pytest

import keras_cnns
from keras_cnns import recipes
from keras_cnns.models import densenet
from tests.helpers import ModelCache, digit_images, load_tool

# Table 2: (L, k, BC) -> parameters (millions) as the paper rounds them.
TABLE2_PARAMS_M = {(40, 12, False): 1.0, (100, 12, False): 7.0, (100, 24, False): 27.2,
                   (100, 12, True): 0.8, (250, 24, True): 15.3, (190, 40, True): 25.6}
# Table 2, test error (%): C10, C10+, C100, C100+.
TABLE2_ERROR = {"densenet40_cifar": (7.00, 5.24, 27.55, 24.42),
                "densenet_bc100_cifar": (5.92, 4.51, 24.15, 22.27)}


def by_hand(depth, k, bc, classes=10, side=32):
    """Section 3's network listed layer by layer: (trainable, Keras total, multiply-adds
    at ``side``, output maps). Bias-free convolutions; BN gamma/beta trainable, moving
    mean/variance not."""
    n = (depth - 4) // (6 if bc else 3)
    c = 2 * k if bc else 16
    convs = [(3, c, 3, side)]  # (input maps, output maps, kernel, grid)
    bns = []
    grid = side
    for block in range(3):
        for _ in range(n):
            bns.append(c)
            if bc:
                convs.append((c, 4 * k, 1, grid))
                bns.append(4 * k)
                convs.append((4 * k, k, 3, grid))
            else:
                convs.append((c, k, 3, grid))
            c += k
        if block < 2:
            out = c // 2 if bc else c
            bns.append(c)
            convs.append((c, out, 1, grid))
            c, grid = out, grid // 2
    bns.append(c)
    conv_weights = sum(kk * kk * ci * co for ci, co, kk, _ in convs)
    trainable = conv_weights + 2 * sum(bns) + c * classes + classes
    macs = sum(g * g * kk * kk * ci * co for ci, co, kk, g in convs) + c * classes
    return trainable, trainable + 2 * sum(bns), macs, c


built = ModelCache()
_free_models = built.fixture()


def test_counts_by_hand_match_table2_and_the_registry():
    for (depth, k, bc), millions in TABLE2_PARAMS_M.items():
        assert round(by_hand(depth, k, bc)[0] / 1e6, 1) == millions, (depth, k, bc)
    for name, (depth, k, bc) in densenet.CIFAR_NETWORKS.items():
        trainable, total, macs, maps = by_hand(depth, k, bc)
        info = keras_cnns.model_info(name)
        assert (info.trainable_params, info.params, info.macs) == (trainable, total, macs)
        assert info.last_channels == maps
        c10, c10_aug, c100, c100_aug = TABLE2_ERROR[name]
        assert info.reported["cifar10"] == c10_aug and info.reported["cifar100"] == c100_aug
        assert info.reported["cifar10_no_augmentation"] == c10
        assert info.reported["cifar100_no_augmentation"] == c100
        assert info.default_input_shape == (32, 32, 3) and info.default_classes == 10
        assert info.augment == "cifar" and info.recipe == "densenet_cifar"
    assert by_hand(40, 12, False)[:2] == (1_019_722, 1_037_818)
    assert by_hand(100, 12, True)[:2] == (769_162, 793_150)


@pytest.mark.parametrize("name", list(densenet.CIFAR_NETWORKS))
def test_build_matches_by_hand(name):
    depth, k, bc = densenet.CIFAR_NETWORKS[name]
    model = built(name)
    trainable, total, macs, maps = by_hand(depth, k, bc)
    prof = keras_cnns.profile(model)
    assert (prof.trainable_params, model.count_params(), prof.macs) == (trainable, total, macs)
    assert model.name == name
    # L counts the weighted layers: convolutions and the classifier.
    convs = [l for l in model.layers if isinstance(l, keras.layers.Conv2D)]
    dense = [l for l in model.layers if isinstance(l, keras.layers.Dense)]
    assert len(convs) + len(dense) == depth
    assert not any(l.use_bias for l in convs)
    n = densenet.cifar_blocks(depth, bc)
    ones = [l for l in convs if l.kernel_size == (1, 1)]
    assert len(ones) == (3 * n + 2 if bc else 2)  # BC's bottlenecks; the two transitions
    # Every BN but the head's sits before a ReLU and a convolution: stem conv has none.
    bns = [l for l in model.layers if isinstance(l, keras.layers.BatchNormalization)]
    assert len(bns) == len(convs) and all(l.epsilon == 1e-5 for l in bns)
    # The grids of section 3 and the widths: 16 (BC: 2k) in, k per layer, theta at
    # the transitions.
    info = keras_cnns.model_info(name)
    shapes = {e: tuple(model.get_layer(e).output.shape[1:]) for e in info.end_points}
    widths = densenet.cifar_channels(depth, k, bc)
    assert shapes["conv1_conv"] == (32, 32, 2 * k if bc else 16)
    assert shapes[f"conv2_block{n}_concat"] == (32, 32, widths[0])
    assert shapes["pool2_pool"] == (16, 16, widths[1])
    assert shapes[f"conv3_block{n}_concat"] == (16, 16, widths[2])
    assert shapes["pool3_pool"] == (8, 8, widths[3])
    assert shapes[f"conv4_block{n}_concat"] == shapes["relu"] == (8, 8, maps)
    assert widths[1] == (widths[0] // 2 if bc else widths[0])
    assert [model.get_layer(e).output.shape[1] for e in info.stage_outputs] == [32, 32, 16, 8]


def test_dropout_follows_every_convolution_but_the_stem():
    for kw in ({"depth": 13}, {"depth": 16, "bc": True}):
        model = keras_cnns.DenseNetCIFAR(dropout=0.2, **kw)
        convs = [l.name for l in model.layers if isinstance(l, keras.layers.Conv2D)]
        drops = [l for l in model.layers if isinstance(l, keras.layers.Dropout)]
        assert len(drops) == len(convs) - 1 and all(l.rate == 0.2 for l in drops)
        # Each dropout reads a convolution's output directly.
        for layer in drops:
            parent = layer.input._keras_history.operation
            assert isinstance(parent, keras.layers.Conv2D) and parent.name != "conv1_conv"
    plain = keras_cnns.DenseNetCIFAR(depth=13)
    assert not any(isinstance(l, keras.layers.Dropout) for l in plain.layers)


def test_other_depths_growth_rates_and_sizes():
    model = keras_cnns.DenseNetCIFAR(depth=22, growth_rate=8, bc=True, classes=100,
                                     input_shape=(36, 36, 3))
    assert model.name == "densenet_bc22_k8_cifar"
    trainable, total, macs, maps = by_hand(22, 8, True, classes=100, side=36)
    prof = keras_cnns.profile(model)
    assert (prof.trainable_params, model.count_params(), prof.macs) == (trainable, total, macs)
    # 36 -> 18 -> 9 (floor pools, as torch's AvgPool2d); the smallest input is 4.
    assert tuple(model.get_layer("relu").output.shape[1:]) == (9, 9, maps)
    assert densenet.CIFAR_MIN_INPUT_SIZE == 4
    tiny = keras_cnns.DenseNetCIFAR(depth=7, input_shape=(4, 4, 3), include_top=False)
    assert tuple(tiny.output.shape[1:3]) == (1, 1)
    with pytest.raises(ValueError, match="input"):
        keras_cnns.DenseNetCIFAR(depth=7, input_shape=(3, 3, 3))


@pytest.mark.parametrize("kwargs, match", [
    ({"depth": 41}, r"depth must be 3n\+4 .*got depth=41"),
    ({"depth": 42, "bc": True}, r"depth must be 6n\+4 .*got depth=42"),
    ({"depth": 4}, r"depth must be"),
    ({"dropout": 1.0}, "dropout"),
    ({"growth_rate": 0}, "growth_rate"),
    ({"weights": "imagenet"}, "weights"),
])
def test_bad_arguments_are_refused(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras_cnns.DenseNetCIFAR(**kwargs)


def test_bad_argument_types():
    with pytest.raises(TypeError, match="depth"):
        keras_cnns.DenseNetCIFAR(depth=40.0)
    with pytest.raises(TypeError, match="bc"):
        keras_cnns.DenseNetCIFAR(bc="yes")
    # numpy integers are integers.
    assert keras_cnns.DenseNetCIFAR(depth=np.int64(10), classes=np.int32(3)).output.shape[-1] \
        == 3


@pytest.mark.parametrize("name", list(densenet.CIFAR_NETWORKS))
def test_paper_table_agrees_with_the_build(name):
    gendocs = load_tool("gendocs")
    info = keras_cnns.model_info(name)
    table = densenet.paper_table(info)
    measured = gendocs._declared_table(table, built(name))
    assert [row[-1] for row in measured["rows"]] == ["yes"] * 7
    assert [row[1] for row in measured["rows"]] == [
        "32 x 32", "32 x 32", "32 x 32 -> 16 x 16", "16 x 16", "16 x 16 -> 8 x 8", "8 x 8",
        "1 x 1"]
    # The check can fail: another growth rate disagrees with the paper's row.
    depth, _, bc = densenet.CIFAR_NETWORKS[name]
    other = keras_cnns.DenseNetCIFAR(depth=depth, growth_rate=8, bc=bc)
    rows = gendocs._declared_table(table, other)["rows"]
    assert rows[1][-1] != "yes" and "growth rate" in rows[1][-1]


def test_recipe_is_section_4_2():
    r = recipes.get("densenet40_cifar")
    assert recipes.get("densenet_bc100_cifar") is r
    assert r.name == "densenet_cifar" and r.augment == "cifar" and r.eval_scheme == "center"
    assert (r.optimizer, r.learning_rate, r.weight_decay, r.batch_size, r.epochs) == (
        "sgd", 0.1, 1e-4, 64, 300)
    assert r.optimizer_args == {"momentum": 0.9, "nesterov": True}
    # /10 at 50 % and 75 % of the 300 epochs.
    assert [r.learning_rate_at(e) for e in (0, 149, 150, 224, 225, 299)] == pytest.approx(
        [0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    assert r.make_optimizer(steps_per_epoch=10).nesterov


def test_search_space_growth_rate_and_dropout():
    from tuning import spaces

    rows = {r.name: (r.values, r.default) for r in spaces.hyperparameters("densenet40_cifar")}
    assert rows == {"growth_rate_filters": ((8, 12, 16, 24, 32), 12),
                    "dropout": ((0.0, 0.2), 0.0)}
    kwargs = spaces.builder_kwargs("densenet_bc100_cifar",
                                   {"growth_rate_filters": 8, "dropout": 0.2})
    assert kwargs == {"growth_rate": 8, "dropout": 0.2}
    # The ImageNet entries keep k = 32 as the default and search no dropout.
    imagenet = {r.name: r.default for r in spaces.hyperparameters("densenet121")}
    assert imagenet == {"growth_rate_filters": 32}


@pytest.mark.slow
def test_densenet_cifar_learns_digits(digits_data):
    """Section 3's network, three blocks of 3 layers (depth 13; the registry's 40 and 100
    take minutes per epoch on 2 cores), on 640 real digits at 32 px with the recipe's SGD
    (0.1, Nesterov momentum 0.9): after 3 epochs (30 steps) the training loss is below
    half of chance (ln 10) and of its first epoch (seeds 0, 1: 0.97, 0.95)."""
    keras.utils.set_random_seed(0)
    x, y = digit_images(digits_data, 32, n=640)
    model = keras_cnns.DenseNetCIFAR(depth=13)
    model.compile(optimizer=keras.optimizers.SGD(0.1, momentum=0.9, nesterov=True),
                  loss="sparse_categorical_crossentropy")
    losses = model.fit(x, y, epochs=3, batch_size=64, shuffle=True, verbose=0).history["loss"]
    assert losses[-1] < 0.5 * np.log(10) and losses[-1] < 0.5 * losses[0], losses
