"""Feature extraction, classifier replacement and BN freezing."""

import keras
import numpy as np
import pytest

import keras_cnns
from tests.helpers import small_photos


def test_default_end_points_are_the_stage_outputs():
    fx = keras_cnns.feature_extractor("googlenet")
    shapes = {k: tuple(v.shape[1:]) for k, v in fx.output.items()}
    assert shapes == {"conv1": (112, 112, 64), "conv2": (56, 56, 192),
                      "inception_3b": (28, 28, 480), "inception_4e": (14, 14, 832),
                      "inception_5b": (7, 7, 1024)}


def test_named_end_points_on_a_built_model(photos):
    model = keras_cnns.GoogLeNet(input_shape=(96, 96, 3), classes=5)
    fx = keras_cnns.feature_extractor(model, ["pool2", "inception_4d"])
    out = fx(small_photos(photos, 96))
    assert out["pool2"].shape == (2, 12, 12, 192) and out["inception_4d"].shape == (2, 6, 6, 528)
    assert fx.get_layer("inception_4d") is model.get_layer("inception_4d")
    with pytest.raises(ValueError, match="valid end points: conv1, pool1"):
        keras_cnns.feature_extractor(model, ["inception_9z"])


def test_replace_classifier_keeps_the_backbone(photos):
    model = keras_cnns.GoogLeNet(aux=True, input_shape=(96, 96, 3), classes=1000)
    new = keras_cnns.replace_classifier(model, 7)
    out = new(small_photos(photos, 96))
    assert {k: v.shape[-1] for k, v in out.items()} == {"main": 7, "aux1": 7, "aux2": 7}
    assert new.get_layer("inception_5b_1x1") is model.get_layer("inception_5b_1x1")
    assert keras_cnns.aux_loss_weights(new)["aux1"] == 0.3
    with pytest.raises(ValueError, match="classes"):
        keras_cnns.replace_classifier(model, 0)


def test_freeze_batch_norm_keeps_statistics_during_fit(photos):
    model = keras_cnns.GoogLeNet(variant="bn", input_shape=(64, 64, 3), classes=3)
    n = keras_cnns.freeze_batch_norm(model)
    assert n == sum(isinstance(lay, keras.layers.BatchNormalization) for lay in model.layers) > 50
    before = model.get_layer("conv1_bn").get_weights()
    model.compile("sgd", "sparse_categorical_crossentropy")
    model.fit(small_photos(photos, 64), np.array([0, 1]), epochs=1, verbose=0)
    for a, b in zip(before, model.get_layer("conv1_bn").get_weights()):
        np.testing.assert_array_equal(a, b)
