"""The registry: names, lookup errors, metadata."""

import dataclasses

import numpy as np
import pytest

import keras_cnns
from keras_cnns.registry import ModelInfo


def test_available_models_sorted_and_filtered():
    names = keras_cnns.available_models()
    assert names == sorted(names) and len(names) == len(set(names))
    assert {"googlenet", "googlenet_bn", "googlenet_torchvision"} <= set(names)
    assert keras_cnns.available_models("googlenet_*") == ["googlenet_bn", "googlenet_torchvision"]
    assert keras_cnns.available_models("nothing*") == []
    with pytest.raises(TypeError, match="pattern"):
        keras_cnns.available_models(3)


def test_unknown_name_lists_the_closest():
    with pytest.raises(ValueError, match="closest: googlenet"):
        keras_cnns.build("googlenett")
    with pytest.raises(ValueError, match="unknown model 'zzz'"):
        keras_cnns.model_info("zzz")


def test_model_info_fields_and_lookup_by_model():
    fields = {f.name for f in dataclasses.fields(ModelInfo)}
    assert {"name", "paper", "authors", "year", "arxiv", "default_input_shape",
            "min_input_size", "params", "params_with_aux", "macs", "reported",
            "preprocessing"} <= fields
    info = keras_cnns.model_info("googlenet_bn")
    model = keras_cnns.build("googlenet_bn", input_shape=(64, 64, 3), classes=3)
    assert model.name == "googlenet_bn"
    assert keras_cnns.model_info(model) is info
    p = info.preprocessing
    assert (p.color_order, p.crop_fraction, p.interpolation) == ("RGB", 0.875, "bilinear")
    with pytest.raises(TypeError):
        info.reported["top1"] = 1.0  # read-only mapping inside a frozen dataclass


def test_every_entry_has_complete_metadata():
    for name in keras_cnns.available_models():
        info = keras_cnns.model_info(name)
        assert info.name == name and info.paper and info.authors and 1989 <= info.year <= 2020
        assert len(info.default_input_shape) == 3 and info.min_input_size >= 1
        assert info.params > 0 and info.macs > 0
        assert info.min_input_size <= min(info.default_input_shape[:2])
        assert set(info.stage_outputs) <= set(info.end_points), name


def test_preprocessing_layer_from_name_and_model(photo_batch):
    pre = keras_cnns.preprocessing("googlenet")
    out = np.asarray(pre(photo_batch))
    assert out.shape == (2, 224, 224, 3)
    # Caffe: BGR minus the per-channel mean, 0-255 range.
    assert -130 < out.min() and out.max() < 155 and abs(out.mean()) < 60
    small = keras_cnns.GoogLeNet(input_shape=(64, 64, 3), classes=2)
    assert np.asarray(keras_cnns.preprocessing(small)(photo_batch)).shape == (2, 64, 64, 3)
