"""SqueezeNet 1.0 / 1.1 (torchvision layouts) and the fire block."""

import keras
import pytest

import keras_cnns as kc
from keras_cnns.blocks import fire
from keras_cnns.models import squeezenet
from tests.helpers import assert_training_loss_halves, digit_images, assert_minimum_input_is_tight


def _shapes(model, names):
    return {n: tuple(model.get_layer(n).output.shape[1:]) for n in names}


def test_fire_block():
    x = keras.Input((13, 13, 96))
    y = fire(x, 16, 64, 64, name="fire2")
    model = keras.Model(x, y)
    assert y.shape[1:] == (13, 13, 128)
    # 16*(96+1) + 64*(16+1) + 64*(9*16+1)
    assert model.count_params() == 1552 + 1088 + 9280
    assert model.get_layer("fire2_expand3x3").kernel.shape == (3, 3, 16, 64)
    with pytest.raises(ValueError):
        fire(x, 0, 64, 64, name="bad")


def test_v1_0():
    model = kc.build("squeezenet1_0")
    assert model.count_params() == 1_248_424 == kc.model_info("squeezenet1_0").params
    assert kc.profile(model).macs == kc.model_info("squeezenet1_0").macs
    assert _shapes(model, squeezenet.end_points("1_0") + ("conv10",)) == {
        "conv1": (109, 109, 96), "pool1": (54, 54, 96), "fire2": (54, 54, 128),
        "fire3": (54, 54, 128), "fire4": (54, 54, 256), "pool4": (27, 27, 256),
        "fire5": (27, 27, 256), "fire6": (27, 27, 384), "fire7": (27, 27, 384),
        "fire8": (27, 27, 512), "pool8": (13, 13, 512), "fire9": (13, 13, 512),
        "conv10": (13, 13, 1000)}
    assert not [l for l in model.layers
                if isinstance(l, (keras.layers.Dense, keras.layers.BatchNormalization))]
    assert model.get_layer("drop9").rate == 0.5


def test_v1_1():
    model = kc.build("squeezenet1_1")
    assert model.count_params() == 1_235_496 == kc.model_info("squeezenet1_1").params
    assert kc.profile(model).macs == kc.model_info("squeezenet1_1").macs
    assert _shapes(model, squeezenet.end_points("1_1")) == {
        "conv1": (111, 111, 64), "pool1": (55, 55, 64), "fire2": (55, 55, 128),
        "fire3": (55, 55, 128), "pool3": (27, 27, 128), "fire4": (27, 27, 256),
        "fire5": (27, 27, 256), "pool5": (13, 13, 256), "fire6": (13, 13, 384),
        "fire7": (13, 13, 384), "fire8": (13, 13, 512), "fire9": (13, 13, 512)}
    # torchvision: 0.35 / 0.82 GFLOPS.
    assert round(kc.model_info("squeezenet1_1").macs / 1e9, 2) == 0.35
    assert round(kc.model_info("squeezenet1_0").macs / 1e9, 2) == 0.82


def test_ceil_mode_pools_at_odd_sizes():
    # torchvision ceil_mode: 227 -> conv1 111 -> 55 -> 27 -> 13 (v1.0), as grid_sizes says.
    model = kc.SqueezeNet(input_shape=(227, 227, 3), include_top=False)
    assert squeezenet.grid_sizes(227, "1_0") == (111, 55, 27, 13)
    assert [model.get_layer(n).output.shape[1] for n in ("pool1", "pool4", "pool8")] == [55, 27, 13]


def test_init_and_head():
    model = kc.SqueezeNet(version="1_1", classes=7, classifier_activation=None)
    assert model.output.shape[1:] == (7,)
    k = model.get_layer("conv10").kernel.numpy()
    assert abs(k.std() - 0.01) < 2e-3  # torchvision: normal(0, 0.01) for the last conv
    assert model.get_layer("conv10").activation.__name__ == "relu"
    head = kc.SqueezeNet(include_top=False, pooling="max")
    assert head.output.shape[1:] == (512,)


@pytest.mark.parametrize("kwargs", [
    dict(version="1_2"), dict(version=1.0), dict(input_shape=(6, 6, 3)),
    dict(version="1_1", input_shape=(2, 2, 3)), dict(input_shape=(3, 224, 224)),
    dict(dropout=1.0), dict(classes=0), dict(weights="imagenet"),
])
def test_bad_input(kwargs):
    with pytest.raises(ValueError):
        kc.SqueezeNet(**kwargs)


@pytest.mark.parametrize("name, expected", [("squeezenet1_0", 7), ("squeezenet1_1", 3)])
def test_min_input_size_is_the_smallest_that_builds(name, expected, monkeypatch):
    assert_minimum_input_is_tight(name, expected, monkeypatch, run=True)


@pytest.mark.slow
def test_squeezenet1_1_learns_small_digits(digits_data):
    """squeezenet1_1 at 64x64, 5 digit classes: training loss below half its start."""
    x, y = digit_images(digits_data, 64, classes=5, n=720)
    keras.utils.set_random_seed(0)
    model = kc.build("squeezenet1_1", input_shape=(64, 64, 3), classes=5)
    assert_training_loss_halves(model, x, y, keras.optimizers.Adam(3e-4), epochs=5)
