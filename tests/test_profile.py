"""The profiler against independent arithmetic (the CS231n VGG16 slide, Table 1, ResNet)."""

import keras
import pytest

import keras_cnns
from keras_cnns.models.googlenet import INCEPTION_TABLE


def vgg16_by_hand():
    """Config D at 224: 3x3 same convs, 2x2 pools, FC 4096-4096-1000, written out."""
    macs, acts, size, cin = 0, 224 * 224 * 3, 224, 3
    for width, convs in ((64, 2), (128, 2), (256, 3), (512, 3), (512, 3)):
        for _ in range(convs):
            macs += 3 * 3 * cin * width * size * size
            acts += size * size * width
            cin = width
        size //= 2
        acts += size * size * cin
    for fin, fout in ((7 * 7 * 512, 4096), (4096, 4096), (4096, 1000)):
        macs += fin * fout
        acts += fout
    return macs, acts


def googlenet_macs_by_hand():
    """Table 1 at 224 with Caffe's ceil-mode grids: stem, nine modules, classifier."""
    macs = 7 * 7 * 3 * 64 * 112 * 112 + 64 * 64 * 56 * 56 + 3 * 3 * 64 * 192 * 56 * 56
    cin, grid = 192, 28
    for row in INCEPTION_TABLE:
        if row.name in ("inception_4a", "inception_5a"):
            grid //= 2
        per_pixel = (cin * row.b1x1 + cin * row.b3x3_reduce + 9 * row.b3x3_reduce * row.b3x3
                     + cin * row.b5x5_reduce + 25 * row.b5x5_reduce * row.b5x5
                     + cin * row.pool_proj)
        macs += per_pixel * grid * grid
        cin = row.out_channels
    return macs + 1024 * 1000


@pytest.fixture(scope="module")
def vgg16():
    return keras_cnns.VGG16()


def test_vgg16_matches_the_slide_corrected(vgg16):
    prof = keras_cnns.profile(vgg16)
    macs, acts = vgg16_by_hand()
    assert (macs, acts) == (15_470_264_320, 15_237_608)
    assert prof.macs == macs
    assert prof.activations == acts  # not the slide's "24 M"
    assert prof.activation_bytes == 4 * acts
    assert prof.params == 138_357_544
    conv1 = next(r for r in prof.layers if r.name == "block1_conv1")
    assert (conv1.params, conv1.activations, conv1.macs) == (1_792, 3_211_264, 86_704_128)
    text = str(prof)
    assert "15,237,608" in text and "138,357,544" in text and "block5_pool" in text


def test_googlenet_and_resnet50_multiply_adds():
    assert googlenet_macs_by_hand() == 1_582_671_872
    assert keras_cnns.profile(keras_cnns.GoogLeNet()).macs == googlenet_macs_by_hand()
    assert keras_cnns.profile(keras_cnns.ResNet50()).macs == 3_857_973_248


def test_other_ops_and_training_memory():
    model = keras_cnns.GoogLeNet(variant="bn", input_shape=(64, 64, 3), classes=10)
    prof = keras_cnns.profile(model)
    bn_elems = sum(r.elements for r in prof.layers if r.kind == "BatchNormalization")
    assert prof.other_ops["batch_norm"] == bn_elems > 0
    assert prof.other_ops["pooling"] > 0 and "lrn" not in prof.other_ops
    paper = keras_cnns.profile(keras_cnns.GoogLeNet(input_shape=(64, 64, 3), classes=10))
    norms = {r.name: r.elements for r in paper.layers if r.kind == "LocalResponseNormalization"}
    # norm1 on pool1 (16x16x64 at 64 px), norm2 on conv2 (16x16x192): 5 ops per element.
    assert norms == {"norm1": 16 * 16 * 64, "norm2": 16 * 16 * 192}
    assert paper.other_ops["lrn"] == 5 * (16 * 16 * 64 + 16 * 16 * 192)
    # The formula of the docstring, term by term.
    elements = 64 * 64 * 3 + sum(r.elements for r in prof.layers)
    want = 8 * elements * 4 + (prof.params + 3 * prof.trainable_params) * 4
    assert prof.training_memory(batch_size=8, optimizer_slots=2) == want
    with pytest.raises(ValueError, match="batch_size"):
        prof.training_memory(batch_size=0)


def test_profile_rejects_non_models_and_unknown_shapes():
    with pytest.raises(TypeError, match="keras.Model"):
        keras_cnns.profile("googlenet")
    headless = keras_cnns.GoogLeNet(include_top=False, input_shape=(None, None, 3))
    with pytest.raises(ValueError, match="input_shape"):
        keras_cnns.profile(headless)
    assert keras_cnns.profile(headless, input_shape=(224, 224, 3)).macs == 1_582_671_872


def test_float16_activation_bytes():
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = keras_cnns.GoogLeNet(input_shape=(64, 64, 3), classes=10)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    prof = keras_cnns.profile(model)
    assert prof.bytes_per_element == 2 and prof.activation_bytes == 2 * prof.activations
