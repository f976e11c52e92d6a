"""SqueezeNet 1.0 / 1.1 (torchvision layouts) and the fire block."""

import keras
import pytest

import keras_cnns as kc
from keras_cnns.blocks import fire
from keras_cnns.blocks.rows import Conv, Fire, Pool
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


@pytest.mark.parametrize("kwargs, exc", [
    (dict(version="1_2"), ValueError),
    (dict(version=1.0), TypeError),  # a float where the versions are strings
    (dict(input_shape=(6, 6, 3)), ValueError),
    (dict(version="1_1", input_shape=(2, 2, 3)), ValueError),
    (dict(input_shape=(3, 224, 224)), ValueError),
    (dict(dropout=1.0), ValueError),
    (dict(dropout="0.5"), TypeError),
    (dict(classes=0), ValueError),
    (dict(weights="imagenet"), ValueError),
    (dict(table=squeezenet.VERSIONS["1_0"][:-1]), ValueError),  # fire9 missing
    (dict(table="fire2"), TypeError),
])
def test_bad_input(kwargs, exc):
    """TypeError for a wrong type, ValueError for a wrong value (keras_cnns.validation)."""
    with pytest.raises(exc):
        kc.SqueezeNet(**kwargs)


def test_table_changes_fire_widths_only():
    rows = squeezenet.VERSIONS["1_1"]
    narrow = tuple(r._replace(squeeze=8) if isinstance(r, Fire) else r for r in rows)
    model = kc.SqueezeNet(version="1_1", include_top=False, input_shape=(32, 32, 3), table=narrow)
    assert model.get_layer("fire2_squeeze").output.shape[-1] == 8
    # The older form, the rows after conv1, is the same table.
    again = kc.SqueezeNet(version="1_1", include_top=False, input_shape=(32, 32, 3),
                          table=narrow[1:])
    assert again.count_params() == model.count_params()
    with pytest.raises(TypeError):
        kc.SqueezeNet(version="1_1", table=(narrow[0], narrow[1],
                                            narrow[2]._replace(squeeze=8.0)) + narrow[3:])


def _hand_macs(version, size=224, classes=1000):
    """Multiply-adds from the table by hand, written out here without the package's size
    walker or profiler: valid conv1 (k x k, stride 2), ceil-mode 3x3/2 max pools, fire
    modules (squeeze 1x1, expand 1x1, padded expand 3x3) on their input grid, conv10 1x1.
    Each convolution costs out_h * out_w * k * k * c_in * c_out."""
    rows = squeezenet.VERSIONS[version]
    per_layer, side, c = {}, size, 3
    for row in rows:
        if isinstance(row, Conv):
            side = (side - row.kernel) // row.stride + 1
            per_layer[row.name] = side * side * row.kernel ** 2 * c * row.filters
            c = row.filters
        elif isinstance(row, Pool):
            side = -(-(side - 3) // 2) + 1  # ceil((n - 3) / 2) + 1
        else:
            s, e1, e3 = row.squeeze, row.expand1x1, row.expand3x3
            per_layer[f"{row.name}_squeeze"] = side * side * c * s
            per_layer[f"{row.name}_expand1x1"] = side * side * s * e1
            per_layer[f"{row.name}_expand3x3"] = side * side * 9 * s * e3
            c = e1 + e3
    per_layer["conv10"] = side * side * c * classes
    return per_layer


@pytest.mark.parametrize("version, total", [("1_0", 818_924_576), ("1_1", 349_151_936)])
def test_reference_macs_are_the_hand_count(version, total):
    """The registry's multiply-adds come from the table, not from the profiler they are
    checked against: the hand count, spec.layer_macs (the arithmetic the spec states),
    the registry entry and profile(model) agree layer by layer."""
    name = f"squeezenet{version}"
    hand = _hand_macs(version)
    assert sum(hand.values()) == total == kc.model_info(name).macs
    assert dict(squeezenet.layer_macs(version)) == hand
    prof = kc.profile(kc.build(name))
    assert {r.name: r.macs for r in prof.layers if r.macs} == hand
    assert prof.macs == total


@pytest.mark.parametrize("version, size, classes", [("1_0", 67, 7), ("1_1", 40, 5)])
def test_hand_macs_at_other_sizes(version, size, classes):
    """Odd grids, where the ceil-mode pools round up, and other class counts."""
    hand = _hand_macs(version, size, classes)
    assert dict(squeezenet.layer_macs(version, size, classes)) == hand
    model = kc.SqueezeNet(version=version, input_shape=(size, size, 3), classes=classes)
    assert kc.profile(model).macs == sum(hand.values())


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
