"""The CIFAR-10 ResNets of He et al. 2015 (section 4.2, Table 6) and ResNet-110 with
stochastic depth (Huang et al. 2016): counts by hand, option A shortcuts, the map sizes
of section 4.2's table, depth validation, the recipes and a short learning check.

ResNet-1202 (4,212 layers, about half a minute per build) is built once, here, and
gets the registry matrix's checks on that one build (the matrix leaves it out)."""

import keras
import numpy as np
import pytest

import keras_cnns
from keras_cnns import recipes
from keras_cnns.models import resnet
from keras_cnns.training import MultiStepDecay
from tests.helpers import ModelCache, digit_images, load_tool

# Table 6: depth -> n, parameters (millions) and CIFAR-10 test error (%).
N = {20: 3, 32: 5, 44: 7, 56: 9, 110: 18, 1202: 200}
TABLE6_PARAMS_M = {20: 0.27, 32: 0.46, 44: 0.66, 56: 0.85, 110: 1.7, 1202: 19.4}
TABLE6_ERROR = {20: 8.75, 32: 7.51, 44: 7.17, 56: 6.97, 110: 6.43, 1202: 7.93}
# Trainable parameters, 10 classes, worked out in resnet/spec.py's comment
# (97,216 n - 21,926) and re-derived layer by layer in by_hand() below.
TRAINABLE = {20: 269_722, 32: 464_154, 44: 658_586, 56: 853_018, 110: 1_727_962,
             1202: 19_421_274}


def by_hand(n, classes=10, base=16):
    """Section 4.2's network listed convolution by convolution: (trainable, Keras total,
    multiply-adds at 32x32). Every conv is bias-free with a BN after it (gamma, beta
    trainable; moving mean and variance not); option A shortcuts have no weights."""
    convs = [(3, base, 32)]  # (input channels, filters, output map side): conv1
    channels = base
    for filters, side in ((base, 32), (2 * base, 16), (4 * base, 8)):
        for _ in range(2 * n):
            convs.append((channels, filters, side))
            channels = filters
    conv_weights = sum(9 * c_in * c_out for c_in, c_out, _ in convs)
    bn_channels = sum(c_out for _, c_out, _ in convs)
    fc = 4 * base * classes + classes
    trainable = conv_weights + 2 * bn_channels + fc
    total = trainable + 2 * bn_channels
    macs = sum(side * side * c_out * 9 * c_in for c_in, c_out, side in convs)
    return trainable, total, macs + 4 * base * classes


# Each registry model built once per module.
built = ModelCache()
_free_models = built.fixture()


def test_counts_by_hand_match_table6_and_the_registry():
    for depth, n in N.items():
        assert 6 * n + 2 == depth
        trainable, total, macs = by_hand(n)
        assert trainable == TRAINABLE[depth]
        digits = 2 if depth < 100 else 1  # Table 6 rounds: 0.27 M ... 1.7 M, 19.4 M
        assert round(trainable / 1e6, digits) == TABLE6_PARAMS_M[depth]
        info = keras_cnns.model_info(f"resnet{depth}_cifar")
        assert (info.trainable_params, info.params, info.macs) == (trainable, total, macs)
        assert info.reported["cifar10"] == TABLE6_ERROR[depth]
        assert info.default_input_shape == (32, 32, 3) and info.default_classes == 10
        assert info.augment == "cifar" and info.last_channels == 64
    assert by_hand(3)[2] == 40_551_040  # ResNet-20: 40.6 M multiply-adds at 32x32
    sd = keras_cnns.model_info("resnet110_stochastic_depth_cifar")
    plain = keras_cnns.model_info("resnet110_cifar")
    assert (sd.params, sd.trainable_params, sd.macs) == (plain.params, plain.trainable_params,
                                                         plain.macs)
    assert dict(sd.reported) == {"cifar10": 5.25, "cifar10_constant_depth": 6.41}


@pytest.mark.parametrize("depth", [20, 32])
def test_build_matches_by_hand(depth):
    model = built(f"resnet{depth}_cifar")
    trainable, total, macs = by_hand(N[depth])
    prof = keras_cnns.profile(model)
    assert (prof.trainable_params, model.count_params(), prof.macs) == (trainable, total, macs)
    # 6n + 2 weighted layers: 6n + 1 convolutions and the classifier.
    weighted = [l for l in model.layers if isinstance(l, (keras.layers.Conv2D,
                                                          keras.layers.Dense))]
    assert len(weighted) == depth
    assert not any(getattr(l, "use_bias", False) for l in model.layers
                   if isinstance(l, keras.layers.Conv2D))


def test_other_classes_and_widths_by_hand():
    model = keras_cnns.ResNetCIFAR(depth=8, classes=100, stage_filters=(8, 16, 32))
    trainable, total, macs = by_hand(1, classes=100, base=8)
    prof = keras_cnns.profile(model)
    assert (prof.trainable_params, model.count_params(), prof.macs) == (trainable, total, macs)
    assert model.name == "resnet8_cifar"
    assert model.get_layer("conv1_conv").filters == 8


def test_option_a_shortcuts_have_no_parameters():
    model = built("resnet20_cifar")
    names = {l.name for l in model.layers}
    assert not any(n.endswith("_0_conv") or n.endswith("_0_bn") for n in names)
    # Subsampling and zero padding where the map halves, the identity elsewhere.
    shortcut_layers = sorted(n for n in names if "_0_" in n)
    assert shortcut_layers == ["conv3_block1_0_pad", "conv3_block1_0_pool",
                               "conv4_block1_0_pad", "conv4_block1_0_pool"]
    assert all(not model.get_layer(n).weights for n in shortcut_layers)
    # Every weight belongs to a convolution, a BN or the classifier.
    owners = {type(l).__name__ for l in model.layers if l.weights}
    assert owners == {"Conv2D", "BatchNormalization", "Dense"}
    # The shortcut of conv3_block1 is conv2's output, every second pixel, 16 zero channels.
    probe = keras.Model(model.get_layer("conv2_block3_out").output,
                        model.get_layer("conv3_block1_0_pad").output)
    x = np.random.default_rng(0).normal(size=(2, 32, 32, 16)).astype("float32")
    expected = np.concatenate([x[:, ::2, ::2], np.zeros((2, 16, 16, 16), "float32")], -1)
    np.testing.assert_array_equal(np.asarray(probe(x)), expected)


def test_map_sizes_32_16_8_and_end_points():
    model = built("resnet20_cifar")
    info = keras_cnns.model_info("resnet20_cifar")
    assert info.end_points == info.stage_outputs == (
        "conv1_relu", "conv2_block3_out", "conv3_block3_out", "conv4_block3_out")
    shapes = [tuple(model.get_layer(n).output.shape[1:]) for n in info.end_points]
    assert shapes == [(32, 32, 16), (32, 32, 16), (16, 16, 32), (8, 8, 64)]
    assert tuple(model.get_layer("conv3_block1_out").output.shape[1:]) == (16, 16, 32)
    assert model.get_layer("conv3_block1_1_conv").strides == (2, 2)
    assert model.get_layer("conv3_block1_1_pad").padding == ((1, 1), (1, 1))  # as torch
    # Odd sizes round up in the branch and the shortcut alike (33 -> 17 -> 9).
    odd = keras_cnns.ResNetCIFAR(depth=8, input_shape=(33, 33, 3), include_top=False)
    assert tuple(odd.output.shape[1:]) == (9, 9, 64)
    assert keras_cnns.model_info("resnet110_cifar").end_points[1:] == (
        "conv2_block18_out", "conv3_block18_out", "conv4_block18_out")


def test_paper_table_agrees_with_the_build():
    gendocs = load_tool("gendocs")
    info = keras_cnns.model_info("resnet20_cifar")
    table = resnet.paper_table(info)
    measured = gendocs._declared_table(table, built("resnet20_cifar"))
    assert [row[-1] for row in measured["rows"]] == ["yes"] * 4
    assert [tuple(row[:3]) for row in measured["rows"][:3]] == [
        ("32x32", "1+2n = 7", "16"), ("16x16", "2n = 6", "32"), ("8x8", "2n = 6", "64")]
    assert [row[3:6] for row in measured["rows"][:3]] == [["3", "32", "16"], ["3", "16", "32"],
                                                          ["3", "8", "64"]]
    # The check can fail: a build with other widths disagrees with the paper.
    wide = keras_cnns.ResNetCIFAR(depth=20, stage_filters=(16, 32, 128))
    rows = gendocs._declared_table(table, wide)["rows"]
    assert rows[0][-1] == "yes" and rows[2][-1] != "yes" and "filters 128" in rows[2][-1]


@pytest.mark.parametrize("depth", [21, 18, 2, 0, -4, 1203])
def test_depth_must_be_6n_plus_2(depth):
    with pytest.raises(ValueError, match=r"depth must be 6n\+2 .*got depth=" + str(depth)):
        keras_cnns.ResNetCIFAR(depth=depth)


def test_bad_arguments():
    with pytest.raises(TypeError, match="depth"):
        keras_cnns.ResNetCIFAR(depth=20.0)
    with pytest.raises(ValueError, match="stage_filters must not decrease"):
        keras_cnns.ResNetCIFAR(stage_filters=(32, 16, 64))
    with pytest.raises(ValueError, match="stage_filters"):
        keras_cnns.ResNetCIFAR(stage_filters=(16, 32))
    with pytest.raises(ValueError, match="imagenet"):
        keras_cnns.ResNetCIFAR(weights="imagenet")
    with pytest.raises(ValueError, match="stochastic_depth"):
        keras_cnns.ResNetCIFAR(stochastic_depth=0.0)


def test_resnet1202_by_arithmetic():
    """ResNet-1202's table is n = 200 and Table 6's 19.4 M."""
    stages = resnet.cifar_stages(1202)
    assert [s.blocks for s in stages] == [200, 200, 200]
    assert [s.text() for s in stages] == ["[3x3, 16; 3x3, 16] x 200",
                                          "[3x3, 32; 3x3, 32] x 200",
                                          "[3x3, 64; 3x3, 64] x 200"]
    assert by_hand(200)[0] == 97_216 * 200 - 21_926 == 19_421_274
    info = keras_cnns.model_info("resnet1202_cifar")
    assert info.reported["cifar10"] == 7.93 and info.recipe == "resnet_cifar"


@pytest.mark.slow
def test_resnet1202_matrix_checks_on_one_build(digits_data):
    """The registry matrix's checks (tests/models/test_matrix.py), on one build: counts
    and multiply-adds, end points, last channels, a forward pass, and the refused bad
    arguments."""
    from tests.models.test_matrix import BAD_ARGUMENTS, BUILT_ELSEWHERE

    assert "resnet1202_cifar" in BUILT_ELSEWHERE
    info = keras_cnns.model_info("resnet1202_cifar")
    model = built("resnet1202_cifar")
    prof = keras_cnns.profile(model)
    assert (model.count_params(), prof.trainable_params, prof.macs) == (
        info.params, info.trainable_params, info.macs)
    assert model.name == "resnet1202_cifar" and tuple(model.output.shape) == (None, 10)
    shapes = [tuple(model.get_layer(e).output.shape[1:]) for e in info.end_points]
    assert shapes == [(32, 32, 16), (32, 32, 16), (16, 16, 32), (8, 8, 64)]
    assert shapes[-1][-1] == info.last_channels
    # A forward pass on real digits; the training step is resnet20_cifar's in the matrix
    # (the same blocks; 4,212 layers of eager gradient cost a minute here).
    # In training mode: untrained, BN's initial moving statistics (0, 1) normalise
    # nothing, and 600 residual additions overflow float32 in inference mode.
    x, _ = digit_images(digits_data, 32, n=4)
    probs = np.asarray(model(x, training=True))
    np.testing.assert_allclose(probs.sum(-1), 1.0, rtol=1e-5)
    for kwargs, error, match in BAD_ARGUMENTS:
        with pytest.raises(error, match=match):
            keras_cnns.build("resnet1202_cifar", **kwargs)


def test_stochastic_depth_decays_linearly_to_one_half():
    info = keras_cnns.model_info("resnet110_stochastic_depth_cifar")
    assert dict(info.build_kwargs) == {"depth": 110, "stochastic_depth": 0.5}
    assert info.recipe == "stochastic_depth_cifar" and info.arxiv == "1603.09382"
    model = keras_cnns.ResNetCIFAR(depth=20, stochastic_depth=0.5)
    assert model.name == "resnet20_stochastic_depth_cifar"
    sd = [l for l in model.layers if isinstance(l, keras_cnns.layers.StochasticDepth)]
    assert [l.name for l in sd] == [f"conv{s}_block{b}_add" for s in (2, 3, 4)
                                    for b in (1, 2, 3)]
    # Huang et al. Eq. 4: p_l = 1 - l / L (1 - p_L), l = 1..L blocks.
    assert [l.survival_probability for l in sd] == pytest.approx(
        [1 - l / 9 * 0.5 for l in range(1, 10)])
    plain = built("resnet20_cifar")
    assert [tuple(w.shape) for w in model.weights] == [tuple(w.shape) for w in plain.weights]
    # At test time a block adds p_l times its branch: the network is deterministic.
    x = np.random.default_rng(1).normal(size=(2, 32, 32, 3)).astype("float32")
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(model(x)))


def test_recipes_as_the_papers_give_them():
    r = recipes.get("resnet20_cifar")
    assert r.name == "resnet_cifar" and r.augment == "cifar" and r.eval_scheme == "center"
    assert (r.optimizer, r.learning_rate, r.weight_decay, r.batch_size) == ("sgd", 0.1, 1e-4,
                                                                            128)
    assert r.optimizer_args["momentum"] == 0.9 and not r.optimizer_args.get("nesterov")
    # 32k, 48k and 64k iterations of 128 on 45,000 images, in epochs.
    per_epoch = 45_000 / 128
    assert r.schedule == "multistep"
    assert tuple(r.schedule_args["boundaries"]) == (int(32_000 / per_epoch),
                                                    int(48_000 / per_epoch))
    assert r.epochs == round(64_000 / per_epoch) == 182
    rates = [r.learning_rate_at(e) for e in (0, 90, 91, 135, 136, 181)]
    assert rates == pytest.approx([0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    for depth in (32, 44, 56):
        assert recipes.get(f"resnet{depth}_cifar") is r
    # ResNet-110 warms up at 0.01 for about 400 iterations.
    w = recipes.get("resnet110_cifar")
    assert w.schedule_args["warmup_epochs"] * per_epoch == pytest.approx(400, abs=2)
    assert [w.learning_rate_at(e) for e in (0, 1, 2, 91, 136)] == pytest.approx(
        [0.01, 0.01, 0.1, 0.01, 0.001])
    sched = w.learning_rate_schedule(steps_per_epoch=352)
    assert isinstance(sched, MultiStepDecay)
    assert [float(sched(s)) for s in (0, 401, 402, 91 * 352 - 1, 91 * 352, 136 * 352)] == \
        pytest.approx([0.01, 0.01, 0.1, 0.1, 0.01, 0.001])
    # Huang et al.: 500 epochs, /10 at 250 and 375, Nesterov momentum 0.9.
    s = recipes.get("resnet110_stochastic_depth_cifar")
    assert s.name == "stochastic_depth_cifar" and s.epochs == 500 and s.batch_size == 128
    assert [s.learning_rate_at(e) for e in (0, 249, 250, 374, 375, 499)] == pytest.approx(
        [0.1, 0.1, 0.01, 0.01, 0.001, 0.001])
    assert s.make_optimizer(steps_per_epoch=10).nesterov


def test_search_space_is_one_base_width():
    from tuning import spaces

    rows = spaces.hyperparameters("resnet56_cifar")
    assert [(r.name, r.values, r.default) for r in rows] == [("base_filters", (4, 8, 16), 16)]
    assert spaces.builder_kwargs("resnet56_cifar", {"base_filters": 16}) == {
        "stage_filters": (16, 32, 64)}
    kwargs = spaces.builder_kwargs("resnet20_cifar", {"base_filters": 4})
    model = keras_cnns.build("resnet20_cifar", **kwargs)
    assert keras_cnns.profile(model).trainable_params == by_hand(3, base=4)[0]


@pytest.mark.slow
def test_resnet20_learns_digits(digits_data):
    """ResNet-20 as the registry builds it, on 640 real digits at 32 px, SGD with momentum:
    after 3 epochs (30 steps) the training loss is below 0.3 x chance (ln 10 = 2.30); it
    ends near 0.5 (seeds 0 and 1: 0.50, 0.53). The untrained network's inference loss
    (BN's moving statistics not yet fitted, about 13-16) would make "halves" trivial."""
    keras.utils.set_random_seed(0)
    x, y = digit_images(digits_data, 32, n=640)
    model = keras_cnns.build("resnet20_cifar")
    model.compile(optimizer=keras.optimizers.SGD(0.05, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    history = model.fit(x, y, epochs=3, batch_size=64, shuffle=True, verbose=0)
    losses = history.history["loss"]
    assert losses[-1] < 0.3 * np.log(10) and losses[-1] < 0.5 * losses[0], losses
