"""VGG: Table 1 configs, keras.applications weight compatibility, bad input."""

import gc

import keras
import numpy as np
import pytest

import keras_cnns as kc
from keras_cnns.models import vgg
from tests.helpers import (assert_minimum_input_is_tight, assert_training_loss_halves,
                           digit_images, small_photos, zero_initialised_weights)


def _randomise(model, seed):
    """He-scaled random kernels and random biases, so every layer matters."""
    rng = np.random.default_rng(seed)
    new = []
    for w in model.get_weights():
        if w.ndim > 1:
            fan_in = int(np.prod(w.shape[:-1]))
            new.append(rng.normal(0, np.sqrt(2.0 / fan_in), w.shape).astype("float32"))
        else:
            new.append(rng.normal(0, 0.1, w.shape).astype("float32"))
    model.set_weights(new)


def _check_against_keras_applications(ours, theirs, photos, seed):
    assert ours.count_params() == theirs.count_params()
    assert ([l.name for l in ours.layers if l.weights]
            == [l.name for l in theirs.layers if l.weights])
    _randomise(theirs, seed)
    ours.set_weights(theirs.get_weights())
    x = keras.applications.vgg16.preprocess_input(small_photos(photos, 224))
    a = ours.predict(x, verbose=0)
    b = theirs.predict(x, verbose=0)
    assert np.abs(b).max() > 1.0  # the logits are not trivially small
    rel = np.abs(a - b).max() / np.abs(b).max()
    assert rel < 1e-4, rel


def test_vgg16_matches_keras_applications(photos):
    with zero_initialised_weights():  # every weight is overwritten below
        ours = kc.VGG16(classifier_activation=None)
    assert ours.count_params() == 138_357_544 == kc.model_info("vgg16").params
    assert kc.profile(ours).macs == kc.model_info("vgg16").macs == 15_470_264_320
    shapes = {n: tuple(ours.get_layer(n).output.shape[1:]) for n in vgg.end_points("D")}
    assert [shapes[f"block{i}_pool"] for i in range(1, 6)] == [
        (112, 112, 64), (56, 56, 128), (28, 28, 256), (14, 14, 512), (7, 7, 512)]
    assert shapes["block3_conv3"] == (56, 56, 256)
    assert ours.get_layer("fc1").kernel.shape == (25088, 4096)
    assert ours.get_layer("fc1_dropout").rate == 0.5
    with zero_initialised_weights():
        theirs = keras.applications.VGG16(weights=None, classifier_activation=None)
    _check_against_keras_applications(ours, theirs, photos, seed=16)
    del ours, theirs
    gc.collect()


def test_vgg19_matches_keras_applications(photos):
    with zero_initialised_weights():  # every weight is overwritten below
        ours = kc.VGG19(classifier_activation=None)
    assert ours.count_params() == 143_667_240 == kc.model_info("vgg19").params
    assert kc.profile(ours).macs == kc.model_info("vgg19").macs == 19_632_062_464
    assert tuple(ours.get_layer("block5_conv4").output.shape[1:]) == (14, 14, 512)
    with zero_initialised_weights():
        theirs = keras.applications.VGG19(weights=None, classifier_activation=None)
    _check_against_keras_applications(ours, theirs, photos, seed=19)
    del ours, theirs
    gc.collect()


def test_headless_matches_keras_applications(photos):
    ours = kc.VGG16(include_top=False, pooling="avg", input_shape=(64, 64, 3))
    theirs = keras.applications.VGG16(weights=None, include_top=False, pooling="avg",
                                      input_shape=(64, 64, 3))
    _randomise(theirs, 0)
    ours.set_weights(theirs.get_weights())
    x = keras.applications.vgg16.preprocess_input(small_photos(photos, 64))
    np.testing.assert_allclose(ours(x).numpy(), theirs(x).numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("name, params, trainable", [
    ("vgg11", 132_863_336, 132_863_336), ("vgg13", 133_047_848, 133_047_848),
    # torchvision's vgg*_bn num_params are the trainable counts.
    ("vgg11_bn", 132_874_344, 132_868_840), ("vgg16_bn", 138_374_440, 138_365_992),
])
def test_param_counts(name, params, trainable):
    """The published counts, the registry's, and a count by hand from Table 1 agree.
    tests/models/test_matrix.py builds every entry and checks the built model's counts
    and multiply-adds against the registry's, so a fourth build here would add nothing."""
    info = kc.model_info(name)
    assert (info.params, info.trainable_params) == (params, trainable)
    config, bn = info.build_kwargs["config"], info.build_kwargs["batch_norm"]
    total, frozen, cin = 0, 0, 3
    for block, width in zip(vgg.CONFIGS[config], vgg.WIDTHS):
        for cell in block:
            k, cout = vgg.parse_conv(cell)
            total += k * k * cin * cout + cout  # torchvision keeps the bias before BN
            if bn:
                total, frozen = total + 4 * cout, frozen + 2 * cout  # gamma, beta; mean, var
            cin = cout
    for fan_in, fan_out in [(7 * 7 * 512, 4096), (4096, 4096), (4096, 1000)]:
        total += fan_in * fan_out + fan_out
    assert (total, total - frozen) == (params, trainable)


def test_small_configs_structure():
    for config, n_convs in [("A", 8), ("B", 10), ("D", 13), ("E", 16)]:
        model = kc.VGG(config=config, include_top=False, input_shape=(32, 32, 3))
        convs = [l for l in model.layers if isinstance(l, keras.layers.Conv2D)]
        assert len(convs) == n_convs
        assert model.output.shape[1:] == (1, 1, 512)
    bn = kc.VGG11(batch_norm=True, include_top=False, input_shape=(32, 32, 3))
    assert bn.get_layer("block1_conv1_bn").epsilon == 1e-5
    assert bn.get_layer("block1_conv1_conv").use_bias  # torchvision keeps the bias
    assert bn.name == "vgg11_bn"


def test_default_initialiser():
    model = kc.VGG11(include_top=False, input_shape=(32, 32, 3))
    k = model.get_layer("block4_conv1").kernel.numpy()
    assert abs(k.std() - 0.01) < 5e-4 and abs(k.mean()) < 5e-4


@pytest.mark.parametrize("kwargs", [
    dict(config="C"), dict(input_shape=(31, 31, 3), include_top=False),
    dict(input_shape=(3, 224, 224)), dict(dropout=-0.1), dict(classes=0),
    dict(pooling="min", include_top=False),
    dict(weights="imagenet", classes=10),  # keras.applications' rule
    dict(weights="imagenet", config="A"), dict(weights="imagenet", batch_norm=True),
    dict(weights="imagenet", input_shape=(64, 64, 3)),  # with the top: 224 only
    dict(weights="imagenet", include_top=False, input_shape=(64, 64, 1)),
    dict(weights="nothere.h5"),
])
def test_bad_input(kwargs):
    with pytest.raises(ValueError):
        kc.VGG(**kwargs)


def test_batch_norm_type():
    with pytest.raises(TypeError):
        kc.VGG(batch_norm="yes")


def test_configs_are_table_1():
    """CONFIGS in Table 1's notation: convolutions per block, widths, weight layers."""
    assert {c: tuple(map(len, blocks)) for c, blocks in vgg.CONFIGS.items()} == {
        "A": (1, 1, 2, 2, 2), "B": (2, 2, 2, 2, 2), "D": (2, 2, 3, 3, 3), "E": (2, 2, 4, 4, 4)}
    assert vgg.DEPTHS == {"A": 11, "B": 13, "D": 16, "E": 19}
    for blocks in vgg.CONFIGS.values():
        for block, width in zip(blocks, vgg.WIDTHS):
            assert {vgg.parse_conv(cell) for cell in block} == {(3, width)}
    with pytest.raises(ValueError):
        vgg.parse_conv("maxpool")


def test_min_input_size_is_the_smallest_that_builds(monkeypatch):
    assert_minimum_input_is_tight("vgg16", 32, monkeypatch, include_top=False)


@pytest.mark.slow
def test_vgg11_bn_learns_small_digits(digits_data):
    """vgg11_bn at 32x32, 5 digit classes: training loss below half its start in 2 epochs."""
    x, y = digit_images(digits_data, 32, classes=5, n=360)
    keras.utils.set_random_seed(0)
    model = kc.build("vgg11_bn", input_shape=(32, 32, 3), classes=5)
    assert_training_loss_halves(model, x, y, keras.optimizers.SGD(0.01, momentum=0.9), epochs=2)
