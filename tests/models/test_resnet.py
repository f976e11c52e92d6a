"""The ResNet family against keras.applications, torchvision's counts and the papers' tables."""

import sys
import types

import keras
import numpy as np
import pytest

import keras_cnns
from keras_cnns.models import resnet
from tests.helpers import ModelCache, assert_same_as_keras
from tests.helpers import assert_training_loss_halves, digit_images

# Keras totals (count_params, BN moving statistics included).
KERAS_TOTALS = {
    "resnet50": 25_636_712, "resnet101": 44_707_176, "resnet152": 60_419_944,  # k.applications
    "resnet50_v2": 25_613_800,  # keras.applications.ResNet50V2
}
# torchvision num_params (bias-free convolutions) and the conv bias count we add.
TORCHVISION = {
    "resnet18": (11_689_512, 4_800),   # 64 + 4*64 + (4*128+128) + (4*256+256) + (4*512+512)
    "resnet34": (21_797_672, 8_512),   # 64 + 6*64 + (8*128+128) + (12*256+256) + (6*512+512)
    "resnext50_32x4d": (25_028_904, 0),
    "wide_resnet50_2": (68_883_240, 0),
}
# Multiply-adds (conv + dense): keras_cnns.profile, checked against torchvision's
# published GFLOPS (1.81, 3.66, 4.10 [v1.5; v1 strides the 1x1: 3.86], 4.23, 11.40).
MACS = {"resnet50": 3_857_973_248}
TORCHVISION_GMACS = {"resnet18": 1.81, "resnet34": 3.66, "resnext50_32x4d": 4.23,
                     "wide_resnet50_2": 11.40}

# Each registry model built once per module (logits out).
built = ModelCache(classifier_activation=None)
_free_models = built.fixture()


RESNET_ENTRIES = ["resnet18", "resnet34", "resnet50", "resnet101", "resnet152", "resnet50_v2",
                  "resnet101_v2", "resnet152_v2", "resnext50_32x4d", "resnext101_32x4d",
                  "wide_resnet50_2", "wrn28_10"]


@pytest.mark.parametrize("name", RESNET_ENTRIES)
def test_counts_match_model_info(name):
    info = keras_cnns.model_info(name)
    model = built(name)
    prof = keras_cnns.profile(model)
    assert model.name == name
    assert prof.params == model.count_params() == info.params
    assert prof.trainable_params == info.trainable_params
    assert prof.macs == info.macs


@pytest.mark.parametrize("name", sorted(KERAS_TOTALS))
def test_keras_totals(name):
    assert built(name).count_params() == KERAS_TOTALS[name]


@pytest.mark.parametrize("name", sorted(TORCHVISION))
def test_trainable_is_torchvision_plus_conv_biases(name):
    tv, biases = TORCHVISION[name]
    model = built(name)
    conv_biases = sum(int(np.prod(w.shape)) for w in model.trainable_weights
                      if w.path.endswith("_conv/bias"))
    assert conv_biases == biases
    trainable = sum(int(np.prod(w.shape)) for w in model.trainable_weights)
    assert trainable == tv + biases
    assert abs(keras_cnns.profile(model).macs / 1e9 - TORCHVISION_GMACS[name]) < 0.01


def test_resnet50_multiply_adds():
    assert keras_cnns.profile(built("resnet50")).macs == MACS["resnet50"]


def test_wrn28_10_reference():
    # The authors' WRN-28-10 (CIFAR-10): 36,479,194 trainable (36.5 M in the paper);
    # BN moving statistics: 2 x (25 BN layers' channels) = 17,952.
    model = built("wrn28_10")
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 36_479_194
    assert model.count_params() == 36_479_194 + 17_952


# He et al. 2015, Table 1: output size of each stage at 224.
TABLE1 = {"conv1_relu": 112, "pool1_pool": 56, "conv2": 56, "conv3": 28, "conv4": 14,
          "conv5": 7}


@pytest.mark.parametrize("name,width", [("resnet18", 1), ("resnet50", 4), ("resnet152", 4),
                                        ("resnext50_32x4d", 4)])
def test_end_points_match_table1(name, width):
    model = built(name)
    info = keras_cnns.model_info(name)
    stages = [stage.blocks for stage in resnet.STAGES[{"resnet18": 18, "resnet50": 50,
                                                       "resnet152": 152,
                                                       "resnext50_32x4d": 50}[name]]]
    for ep in info.end_points:
        stage = ep.split("_")[0]
        key = ep if ep in TABLE1 else stage
        shape = model.get_layer(ep).output.shape
        assert shape[1] == shape[2] == TABLE1[key], (ep, shape)
    for stage, filters, n in zip(resnet.STAGE_NAMES, resnet.STAGE_FILTERS, stages):
        assert model.get_layer(f"{stage}_block{n}_out").output.shape[-1] == filters * width
    sizes = [model.get_layer(n).output.shape[1] for n in info.stage_outputs]
    assert sizes == [112, 56, 28, 14, 7]


def test_v2_stage_outputs_and_strides():
    model = built("resnet50_v2")
    info = keras_cnns.model_info("resnet50_v2")
    sizes = [model.get_layer(n).output.shape[1] for n in info.stage_outputs]
    assert sizes == [112, 56, 28, 14, 7]
    # keras.applications' v2 downsamples in the last block: conv2 ends at 28.
    assert model.get_layer("conv2_block3_out").output.shape[1] == 28
    assert model.get_layer("conv5_block3_out").output.shape[1:] == (7, 7, 2048)


def test_v1_stride_on_first_1x1_and_biases():
    model = built("resnet50")
    assert model.get_layer("conv3_block1_1_conv").strides == (2, 2)
    assert model.get_layer("conv3_block1_2_conv").strides == (1, 1)
    assert model.get_layer("conv1_conv").use_bias
    assert model.get_layer("conv1_bn").epsilon == pytest.approx(1.001e-5)
    assert model.get_layer("conv1_pad").padding == ((3, 3), (3, 3))
    assert model.get_layer("pool1_pad").padding == ((1, 1), (1, 1))
    tv = built("resnext50_32x4d")
    assert tv.get_layer("conv3_block1_1_conv").strides == (1, 1)
    assert tv.get_layer("conv3_block1_2_conv").strides == (2, 2)
    assert tv.get_layer("conv3_block1_2_conv").groups == 32
    assert tv.get_layer("conv2_block1_2_conv").filters == 128
    assert not tv.get_layer("conv1_conv").use_bias


KERAS_APPS = {
    "resnet50": "ResNet50", "resnet101": "ResNet101", "resnet152": "ResNet152",
    "resnet50_v2": "ResNet50V2", "resnet101_v2": "ResNet101V2", "resnet152_v2": "ResNet152V2",
}


@pytest.mark.parametrize("name", list(KERAS_APPS))
def test_weight_compatible_with_keras_applications(name, photos):
    from tests.helpers import small_photos

    theirs = getattr(keras.applications, KERAS_APPS[name])(weights=None,
                                                             classifier_activation=None)
    ours = built(name)
    assert ours.count_params() == theirs.count_params()
    x = small_photos(photos, 224)
    x = x[..., ::-1] - np.array([103.939, 116.779, 123.68], "float32")  # caffe preprocessing
    assert_same_as_keras(ours, theirs, x)
    assert keras_cnns.profile(theirs).macs == keras_cnns.profile(ours).macs
    del theirs


def test_resnext101_and_wrn_forward_tiny(photos):
    # Grouped convolutions are slow on CPU: 64x64, headless.
    from tests.helpers import small_photos

    for name in ("resnext50_32x4d", "wrn28_10"):
        model = keras_cnns.build(name, include_top=False, pooling="avg",
                                 input_shape=(64, 64, 3))
        out = model.predict(small_photos(photos, 64) / 255.0, verbose=0)
        assert np.all(np.isfinite(out)) and out.shape[0] == 2


def test_wrn_cifar_layout():
    model = keras_cnns.WideResNet(depth=16, width=2, dropout=0.3, classes=10)
    assert model.name == "wrn16_2"
    assert model.get_layer("conv2_block2_out").output.shape[1:] == (32, 32, 32)
    assert model.get_layer("conv3_block2_out").output.shape[1:] == (16, 16, 64)
    assert model.get_layer("conv4_block2_out").output.shape[1:] == (8, 8, 128)
    assert model.get_layer("conv2_block1_dropout").rate == 0.3
    assert not any(getattr(l, "use_bias", False) for l in model.layers
                   if isinstance(l, keras.layers.Conv2D))


def test_stochastic_depth_option():
    model = keras_cnns.ResNet18(stochastic_depth=0.5, input_shape=(64, 64, 3), classes=10)
    sd = [l for l in model.layers if isinstance(l, keras_cnns.layers.StochasticDepth)]
    assert len(sd) == 8
    probs = [l.survival_probability for l in sd]
    assert probs == pytest.approx([1 - l / 8 * 0.5 for l in range(1, 9)])
    assert probs[-1] == pytest.approx(0.5)
    assert sd[0].name == "conv2_block1_add"
    # Same weights as the plain network; p_L = 1 is the plain network.
    plain = keras_cnns.ResNet18(input_shape=(64, 64, 3), classes=10)
    assert [tuple(w.shape) for w in plain.weights] == [tuple(w.shape) for w in model.weights]
    for builder in (keras_cnns.ResNet50V2, keras_cnns.ResNeXt50, keras_cnns.WideResNet):
        m = builder(stochastic_depth=0.8, include_top=False, input_shape=(32, 32, 3))
        assert any(isinstance(l, keras_cnns.layers.StochasticDepth) for l in m.layers)


def test_kernel_initializer_default_and_override():
    model = keras_cnns.ResNet18(input_shape=(32, 32, 3), classes=10)
    assert isinstance(model.get_layer("conv1_conv").kernel_initializer,
                      keras.initializers.HeNormal)
    model = keras_cnns.ResNet18(input_shape=(32, 32, 3), classes=10,
                                kernel_initializer="glorot_uniform")
    assert isinstance(model.get_layer("conv2_block1_1_conv").kernel_initializer,
                      keras.initializers.GlorotUniform)


def test_imagenet_weights_load_lazily(monkeypatch):
    calls = []
    fake = types.ModuleType("keras_cnns.weights.imagenet")
    fake.load_imagenet_weights = lambda model, key, include_top: calls.append(
        (model.name, key, include_top))
    monkeypatch.setitem(sys.modules, "keras_cnns.weights.imagenet", fake)
    keras_cnns.ResNet50(weights="imagenet", include_top=False, input_shape=(32, 32, 3))
    keras_cnns.ResNet101V2(weights="imagenet", input_shape=(32, 32, 3))
    assert calls == [("resnet50", "resnet50", False), ("resnet101_v2", "resnet101_v2", True)]


@pytest.mark.parametrize("kwargs,match", [
    (dict(depth=42), "depth"),
    (dict(depth=50, layout="caffe"), "layout"),
    (dict(depth=18, preact=True), "preact"),
    (dict(depth=18, groups=32), "groups"),
    (dict(depth=50, stages=(3, 4, 6)), "stages"),
    (dict(depth=50, stochastic_depth=0.0), "stochastic_depth"),
    (dict(depth=50, stochastic_depth=1.5), "stochastic_depth"),
    (dict(depth=18, weights="imagenet"), "imagenet"),
    (dict(depth=50, layout="torchvision", groups=32, width_per_group=4, weights="imagenet"),
     "imagenet"),
    (dict(depth=50, weights="imagenet", classes=10), "classes"),
    (dict(depth=50, weights="/no/such/file.weights.h5"), "weights"),
    (dict(depth=50, input_shape=(3, 224, 224)), "channels"),
    (dict(depth=50, input_shape=(31, 64, 3)), "minimum"),
    (dict(depth=50, input_shape=(224, 224)), "rank 3"),
    (dict(depth=50, pooling="sum"), "pooling"),
    (dict(depth=50, classes=0), "classes"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras_cnns.ResNet(**kwargs)


def test_bad_arguments_other_builders():
    with pytest.raises(ValueError, match="depth"):
        keras_cnns.WideResNet(depth=27)
    with pytest.raises(ValueError, match="dropout"):
        keras_cnns.WideResNet(depth=28, dropout=1.0)
    with pytest.raises(ValueError, match="imagenet"):
        keras_cnns.WideResNet(depth=28, weights="imagenet")
    with pytest.raises(ValueError, match="minimum"):
        keras_cnns.WideResNet(input_shape=(7, 7, 3))
    with pytest.raises(ValueError, match="imagenet"):
        keras_cnns.ResNeXt50(weights="imagenet")
    with pytest.raises(TypeError, match="stochastic_depth"):
        keras_cnns.ResNet50(stochastic_depth="0.5")


@pytest.mark.slow
def test_small_resnet_learns_digits(digits_data):
    """ResNet-18 (one block per stage) at 32x32 on the real digits: loss halves in one
    epoch. Measured (seed 0, 1437 images): start 2.695 (bar 1.347), epoch losses 0.398,
    0.071: the first epoch alone clears the bar by 0.95, so the second is not run."""
    keras.utils.set_random_seed(0)
    x, y = digit_images(digits_data, 32)
    model = keras_cnns.ResNet18(stages=(1, 1, 1, 1), input_shape=(32, 32, 3), classes=10)
    assert_training_loss_halves(model, x, y, keras.optimizers.Adam(1e-3), epochs=1,
                                batch_size=64)


def test_stage_tables_read_like_the_papers():
    # He et al. 2015, Table 1 cells; Xie et al. 2016, Table 1 (ResNeXt-50 32x4d);
    # Zagoruyko & Komodakis 2016, Table 1 (WRN-28-10).
    assert resnet.STAGES[50][1].text() == "[1x1, 128; 3x3, 128; 1x1, 512] x 4"
    assert resnet.STAGES[34][2].text() == "[3x3, 256; 3x3, 256] x 6"
    assert [s.blocks for s in resnet.STAGES[152]] == [3, 8, 36, 3]
    assert resnet.resnet_stages(50, groups=32, width_per_group=4)[0].text() == \
        "[1x1, 128; 3x3, 128, C=32; 1x1, 256] x 3"
    assert [s.text() for s in resnet.wrn_cifar_stages(28, 10)] == [
        "[3x3, 160; 3x3, 160] x 4", "[3x3, 320; 3x3, 320] x 4", "[3x3, 640; 3x3, 640] x 4"]
    assert resnet.resnet_stages(50) == resnet.STAGES[50]


def test_one_block_parameter_free_shortcut():
    """He et al. 2015 section 3.3, option A (the CIFAR nets of section 4.2): the shortcut
    subsamples (every second pixel) and zero-pads the new channels; no weights."""
    from keras_cnns.blocks.residual import residual_block
    from keras_cnns.blocks.rows import ResidualLayout

    layout = ResidualLayout(bias=False, bn_epsilon=1e-5, widen="zeros", subsample="pool")
    x = keras.Input((8, 8, 16))
    y = residual_block(x, ((3, 32), (3, 32)), stride=2, name="conv3_block1", layout=layout)
    model = keras.Model(x, y)
    names = {layer.name for layer in model.layers}
    assert {"conv3_block1_0_pool", "conv3_block1_0_pad"} <= names
    assert "conv3_block1_0_conv" not in names and "conv3_block1_1_pad" in names
    assert tuple(y.shape[1:]) == (4, 4, 32)
    shortcut = keras.Model(x, model.get_layer("conv3_block1_0_pad").output)
    data = np.random.default_rng(0).normal(size=(2, 8, 8, 16)).astype("float32")
    expected = np.concatenate([data[:, ::2, ::2], np.zeros((2, 4, 4, 16), "float32")], -1)
    np.testing.assert_array_equal(np.asarray(shortcut(data)), expected)
    # Without a stride and with the same width, the shortcut is the identity.
    z = residual_block(y, ((3, 32), (3, 32)), name="conv3_block2", layout=layout)
    assert not any(l.name.startswith("conv3_block2_0") for l in keras.Model(x, z).layers)


def test_cifar_resnet_is_one_more_table():
    """The CIFAR ResNets of He et al. 2015 section 4.2 need only a table and a layout:
    3x3 conv 16, then 2n blocks of 16, 32, 64 filters at 32, 16, 8 (6n + 2 layers),
    option A shortcuts. ResNet-20 (n = 3) has 0.27 M parameters (Table 6):
    conv 432 + 13,824 + (4,608 + 5 x 9,216) + (18,432 + 5 x 36,864) = 267,696,
    BN gamma/beta 2 x (16 + 6 x 16 + 6 x 32 + 6 x 64) = 1,376, FC 64 x 10 + 10 = 650:
    269,722 trainable."""
    from keras_cnns.blocks.rows import Conv, ResidualLayout, ResidualStage
    from keras_cnns.models.resnet.build import _network

    n = 3
    stages = (ResidualStage("conv2", ((3, 16), (3, 16)), n),
              ResidualStage("conv3", ((3, 32), (3, 32)), n, stride=2),
              ResidualStage("conv4", ((3, 64), (3, 64)), n, stride=2))
    layout = ResidualLayout(bias=False, bn_epsilon=1e-5, widen="zeros", subsample="pool")
    model = _network((Conv("conv1", 16, 3),), stages, layout, include_top=True, weights=None,
                     input_tensor=None, input_shape=None, pooling=None, classes=10,
                     classifier_activation="softmax", default_shape=(32, 32, 3), min_size=8,
                     name="resnet20")
    assert sum(int(np.prod(w.shape)) for w in model.trainable_weights) == 269_722
    assert model.get_layer("conv4_block3_out").output.shape[1:] == (8, 8, 64)
    assert not any(l.name.endswith("_0_conv") for l in model.layers)
