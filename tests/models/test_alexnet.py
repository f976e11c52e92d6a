"""AlexNet (Caffe bvlc_alexnet, one tower, torchvision) and ZFNet."""

import keras
import numpy as np
import pytest

import keras_cnns as kc
from keras_cnns.models import alexnet
from tests.helpers import (assert_training_loss_halves, digit_images,
                           assert_minimum_input_is_tight, zero_initialised_weights)


def _shapes(model, names):
    return {n: tuple(model.get_layer(n).output.shape[1:]) for n in names}


@pytest.fixture(scope="module")
def caffe_model():
    return kc.build("alexnet")


def test_caffe_params_and_macs(caffe_model):
    assert caffe_model.count_params() == 60_965_224 == kc.model_info("alexnet").params
    assert kc.profile(caffe_model).macs == kc.model_info("alexnet").macs == 724_406_816


def test_caffe_shapes_at_227(caffe_model):
    assert caffe_model.input.shape[1:] == (227, 227, 3)
    assert _shapes(caffe_model, alexnet.ALEXNET_END_POINTS + ("fc6", "fc7")) == {
        "conv1": (55, 55, 96), "norm1": (55, 55, 96), "pool1": (27, 27, 96),
        "conv2": (27, 27, 256), "norm2": (27, 27, 256), "pool2": (13, 13, 256),
        "conv3": (13, 13, 384), "conv4": (13, 13, 384), "conv5": (13, 13, 256),
        "pool5": (6, 6, 256), "fc6": (4096,), "fc7": (4096,)}
    assert caffe_model.output.shape[1:] == (1000,)
    # Two towers: conv2/4/5 see half the input channels.
    assert caffe_model.get_layer("conv2").kernel.shape == (5, 5, 48, 256)
    assert caffe_model.get_layer("conv4").kernel.shape == (3, 3, 192, 384)
    assert caffe_model.get_layer("conv3").kernel.shape == (3, 3, 256, 384)


def test_caffe_lrn_and_init(caffe_model):
    norm = caffe_model.get_layer("norm1")
    # bvlc_alexnet: local_size 5, alpha 1e-4 / 5 per square (TF convention), k 1.
    assert (norm.depth_radius, norm.bias, norm.beta) == (2, 1.0, 0.75)
    assert np.isclose(norm.alpha, 2e-5)
    # Paper section 5: N(0, 0.01) weights; biases 1 in conv2, conv4, conv5, fc6, fc7.
    k = caffe_model.get_layer("conv3").kernel.numpy()
    assert abs(k.std() - 0.01) < 5e-4
    for name, bias in [("conv1", 0), ("conv2", 1), ("conv3", 0), ("conv4", 1), ("conv5", 1),
                       ("fc6", 1), ("fc7", 1), ("predictions", 0)]:
        assert np.all(caffe_model.get_layer(name).bias.numpy() == bias), name


def test_paper_lrn_option():
    model = kc.AlexNet(lrn="paper", include_top=False, input_shape=(67, 67, 3))
    norm = model.get_layer("norm2")
    assert (norm.depth_radius, norm.bias, norm.alpha, norm.beta) == (2, 2.0, 1e-4, 0.75)
    none = kc.AlexNet(lrn="none", include_top=False, input_shape=(67, 67, 3))
    assert not [l for l in none.layers if isinstance(l, kc.layers.LocalResponseNormalization)]


def test_lrn_matches_caffe_formula():
    """norm1 computes Caffe's b = a / (1 + alpha/n * sum a^2)^beta over 5 channels."""
    layer = kc.AlexNet(include_top=False, input_shape=(67, 67, 3)).get_layer("norm1")
    a = np.random.default_rng(0).normal(0, 30, (1, 2, 2, 8)).astype("float32")
    out = layer(a).numpy()
    sq = np.pad(a ** 2, ((0, 0), (0, 0), (0, 0), (2, 2)))
    window = sum(sq[..., i:i + 8] for i in range(5))
    np.testing.assert_allclose(out, a / (1.0 + 1e-4 / 5 * window) ** 0.75, rtol=1e-5)


def test_one_tower():
    with zero_initialised_weights():  # counts and shapes only
        model = kc.build("alexnet_1tower")
    assert model.count_params() == 62_378_344 == kc.model_info("alexnet_1tower").params
    assert kc.profile(model).macs == kc.model_info("alexnet_1tower").macs
    assert model.get_layer("conv2").kernel.shape == (5, 5, 96, 256)


def test_torchvision_variant():
    with zero_initialised_weights():  # counts and shapes only
        model = kc.build("alexnet_torchvision")
    assert model.count_params() == 61_100_840 == kc.model_info("alexnet_torchvision").params
    assert model.input.shape[1:] == (224, 224, 3)
    assert _shapes(model, ["conv1", "pool1", "conv2", "pool2", "conv3", "conv4", "conv5",
                           "pool5", "avg_pool"]) == {
        "conv1": (55, 55, 64), "pool1": (27, 27, 64), "conv2": (27, 27, 192),
        "pool2": (13, 13, 192), "conv3": (13, 13, 384), "conv4": (13, 13, 256),
        "conv5": (13, 13, 256), "pool5": (6, 6, 256), "avg_pool": (6, 6, 256)}
    assert not [l for l in model.layers if isinstance(l, kc.layers.LocalResponseNormalization)]
    # The adaptive pool keeps fc6 at 9216 inputs whatever the input size.
    with zero_initialised_weights():
        other = kc.AlexNet(variant="torchvision", input_shape=(100, 100, 3))
    assert other.get_layer("fc6").kernel.shape == (9216, 4096)
    assert other.count_params() == 61_100_840


def test_zfnet_paper_and_cs231n():
    with zero_initialised_weights():  # counts and shapes only
        model = kc.build("zfnet")
    assert model.count_params() == 62_357_608 == kc.model_info("zfnet").params
    assert kc.profile(model).macs == kc.model_info("zfnet").macs
    # Fig. 3: 224 -> 110 -> 55 -> 26 -> 13 -> 13 -> 6.
    assert _shapes(model, ["conv1", "pool1", "norm1", "conv2", "pool2", "conv3", "conv4",
                           "conv5", "pool5"]) == {
        "conv1": (110, 110, 96), "pool1": (55, 55, 96), "norm1": (55, 55, 96),
        "conv2": (26, 26, 256), "pool2": (13, 13, 256), "conv3": (13, 13, 384),
        "conv4": (13, 13, 384), "conv5": (13, 13, 256), "pool5": (6, 6, 256)}
    del model
    with zero_initialised_weights():
        big = kc.ZFNet(filters="cs231n")
    assert big.count_params() == 107_627_624
    assert big.name == "zfnet_cs231n"
    assert tuple(big.get_layer("conv4").output.shape[1:]) == (13, 13, 1024)


@pytest.mark.parametrize("kwargs", [
    dict(variant="paper"), dict(groups=4), dict(lrn="tf"), dict(dropout=1.0),
    dict(input_shape=(10, 10, 3), include_top=False), dict(input_shape=(3, 227, 227)),
    dict(classes=0), dict(weights="imagenet"),
    dict(variant="torchvision", input_shape=(62, 62, 3)),
])
def test_alexnet_bad_input(kwargs):
    with pytest.raises(ValueError):
        kc.AlexNet(**kwargs)


@pytest.mark.parametrize("kwargs", [dict(filters="big"), dict(input_shape=(22, 22, 3)),
                                    dict(lrn="x")])
def test_zfnet_bad_input(kwargs):
    with pytest.raises(ValueError):
        kc.ZFNet(**kwargs)


def test_zfnet_fig3_sides_are_what_the_rows_give():
    """Fig. 3's printed sides at 224 follow from the build's rows (blocks.rows' walker),
    and the figure's conv3-5 are ZF_FILTERS' "paper" widths."""
    from keras_cnns.blocks.rows import output_sizes

    sizes = output_sizes(224, alexnet.zf_layout("paper"))
    assert {n: h for n, (h, w) in sizes.items()} == {row.name: s for row, s in alexnet.FIG3}
    wide = tuple(row.filters for row, _ in alexnet.FIG3 if row.name in ("conv3", "conv4", "conv5"))
    assert wide == alexnet.ZF_FILTERS["paper"]


def test_widths_are_checked():
    with pytest.raises(TypeError):
        kc.AlexNet(widths=(96.0, 256, 384, 384, 256), include_top=False)
    with pytest.raises(ValueError, match="multiple of 2"):
        kc.AlexNet(widths=(96, 255, 384, 384, 256), include_top=False)
    with pytest.raises(ValueError):
        kc.ZFNet(widths=(96, 256, 384), include_top=False)


@pytest.mark.parametrize("name, expected", [("alexnet", 11), ("alexnet_1tower", 11),
                                            ("alexnet_torchvision", 63), ("zfnet", 23)])
def test_min_input_size_is_the_smallest_that_builds(name, expected, monkeypatch):
    assert_minimum_input_is_tight(name, expected, monkeypatch, include_top=False)


@pytest.mark.slow
def test_torchvision_alexnet_learns_small_digits(digits_data):
    """alexnet_torchvision at 64 px (its minimum is 63), 5 digit classes, torchvision's
    input normalisation: the training loss falls below half its start in 4 epochs."""
    pre = kc.model_info("alexnet_torchvision").preprocessing
    x, y = digit_images(digits_data, 64, classes=5, n=300)
    x = (x * 255.0 * pre.scale - np.array(pre.mean, "float32")) / np.array(pre.std, "float32")
    keras.utils.set_random_seed(0)
    model = kc.build("alexnet_torchvision", input_shape=(64, 64, 3), classes=5)
    assert_training_loss_halves(model, x, y, keras.optimizers.Adam(1e-4), epochs=4)
