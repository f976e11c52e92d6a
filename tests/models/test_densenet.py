"""DenseNet-121/169/201 against keras.applications, torchvision's counts and Table 1."""

import sys
import types

import keras
import numpy as np
import pytest

import keras_cnns
from tests.helpers import ModelCache, assert_same_as_keras, zero_initialised_weights
from tests.helpers import assert_training_loss_halves, digit_images

# keras.applications count_params; torchvision num_params (= our trainable count);
# torchvision's published GFLOPS (multiply-adds).
REFERENCE = {
    "densenet121": (8_062_504, 7_978_856, 2.83),
    "densenet169": (14_307_880, 14_149_480, 3.36),
    "densenet201": (20_242_984, 20_013_928, 4.29),
}
KERAS_APPS = {"densenet121": "DenseNet121", "densenet169": "DenseNet169",
              "densenet201": "DenseNet201"}

# Each registry model built once per module (logits out). Only counts and shapes are read,
# or every weight is overwritten (assert_same_as_keras): no random initial values.
built = ModelCache(zero_init=True, classifier_activation=None)
_free_models = built.fixture()


@pytest.mark.parametrize("name", list(REFERENCE))
def test_counts(name):
    total, trainable, gmacs = REFERENCE[name]
    info = keras_cnns.model_info(name)
    model = built(name)
    prof = keras_cnns.profile(model)
    assert model.name == name
    assert prof.params == model.count_params() == info.params == total
    assert prof.trainable_params == info.trainable_params == trainable
    assert prof.macs == info.macs
    assert abs(prof.macs / 1e9 - gmacs) < 0.01


# Table 1 of the paper at 224: output side of each end point.
TABLE1 = {"conv1_relu": 112, "pool1": 56, "pool2_pool": 28, "pool3_pool": 14,
          "pool4_pool": 7, "relu": 7}
BLOCK_SIZES = {"conv2": 56, "conv3": 28, "conv4": 14, "conv5": 7}


@pytest.mark.parametrize("name", list(REFERENCE))
def test_end_points_match_table1(name):
    model = built(name)
    info = keras_cnns.model_info(name)
    for ep in info.end_points:
        size = TABLE1.get(ep) or BLOCK_SIZES[ep.split("_")[0]]
        assert model.get_layer(ep).output.shape[1] == size, ep
    assert [model.get_layer(n).output.shape[1] for n in info.stage_outputs] == [112, 56, 28,
                                                                                14, 7]
    # Channels: 64 + 6*32 = 256 after block 1; transitions halve.
    assert model.get_layer("conv2_block6_concat").output.shape[-1] == 256
    assert model.get_layer("pool2_pool").output.shape[-1] == 128
    final = {"densenet121": 1024, "densenet169": 1664, "densenet201": 1920}[name]
    assert model.get_layer("relu").output.shape[-1] == final


@pytest.mark.parametrize("name", list(KERAS_APPS))
def test_weight_compatible_with_keras_applications(name, photos):
    from tests.helpers import small_photos

    with zero_initialised_weights():  # assert_same_as_keras sets every weight
        theirs = getattr(keras.applications, KERAS_APPS[name])(weights=None,
                                                                 classifier_activation=None)
    ours = built(name)
    x = small_photos(photos, 224) / 255.0
    x = (x - np.array([0.485, 0.456, 0.406], "float32")) / np.array([0.229, 0.224, 0.225],
                                                                      "float32")
    assert_same_as_keras(ours, theirs, x)
    del theirs


def test_imagenet_weights_load_lazily(monkeypatch):
    calls = []
    fake = types.ModuleType("keras_cnns.weights.imagenet")
    fake.load_imagenet_weights = lambda model, key, include_top: calls.append(
        (model.name, key, include_top))
    monkeypatch.setitem(sys.modules, "keras_cnns.weights.imagenet", fake)
    keras_cnns.DenseNet169(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    assert calls == [("densenet169", "densenet169", False)]


def test_custom_blocks_and_initializer():
    model = keras_cnns.DenseNet(blocks=(2, 2, 2, 2), growth_rate=12, input_shape=(32, 32, 3),
                                classes=10)
    assert model.get_layer("conv2_block2_concat").output.shape[1:] == (8, 8, 24 + 2 * 12)
    assert isinstance(model.get_layer("conv1_conv").kernel_initializer,
                      keras.initializers.HeNormal)
    model = keras_cnns.DenseNet121(include_top=False, input_shape=(32, 32, 3),
                                   kernel_initializer="glorot_uniform")
    assert isinstance(model.get_layer("conv2_block1_1_conv").kernel_initializer,
                      keras.initializers.GlorotUniform)


@pytest.mark.parametrize("kwargs,match", [
    (dict(depth=100), "depth"),
    (dict(blocks=(6, 12, 24)), "blocks"),
    (dict(blocks=(2, 2, 2, 2), weights="imagenet"), "imagenet"),
    (dict(weights="imagenet", classes=10), "classes"),
    (dict(weights="missing.weights.h5"), "weights"),
    (dict(input_shape=(3, 224, 224)), "channels"),
    (dict(input_shape=(31, 31, 3)), "minimum"),
    (dict(pooling="mean"), "pooling"),
    (dict(classes=0), "classes"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras_cnns.DenseNet(**kwargs)


@pytest.mark.slow
def test_small_densenet_learns_digits(digits_data):
    """DenseNet-BC (2 layers per block, k = 12) at 32x32 on 640 real digits: loss halves.
    Measured (seed 0): start 2.36 (bar 1.18), epochs 1.76, 0.81, 0.40 (all 1,437 digits:
    1.34, 0.42, 0.15; 384 digits end at 0.86, too close to the bar)."""
    keras.utils.set_random_seed(0)
    x, y = digit_images(digits_data, 32, n=640)
    model = keras_cnns.DenseNet(blocks=(2, 2, 2, 2), growth_rate=12, input_shape=(32, 32, 3),
                                classes=10)
    assert_training_loss_halves(model, x, y, keras.optimizers.Adam(3e-3), epochs=3,
                                batch_size=64)
