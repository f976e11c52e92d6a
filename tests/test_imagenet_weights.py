"""The keras.applications weight table, the offline loader, and decode_predictions."""

import hashlib
import inspect
import os

import h5py
import keras
import numpy as np
import pytest

import keras_cnns as kc
from keras_cnns.weights import imagenet

KERAS_SOURCES = {
    "vgg16": "keras.src.applications.vgg16", "vgg19": "keras.src.applications.vgg19",
    "resnet50": "keras.src.applications.resnet", "resnet101": "keras.src.applications.resnet",
    "resnet152": "keras.src.applications.resnet",
    "resnet50_v2": "keras.src.applications.resnet", "resnet101_v2": "keras.src.applications.resnet",
    "resnet152_v2": "keras.src.applications.resnet",
    "inception_v3": "keras.src.applications.inception_v3",
    "densenet121": "keras.src.applications.densenet",
    "densenet169": "keras.src.applications.densenet",
    "densenet201": "keras.src.applications.densenet",
}


def test_table_covers_the_published_files():
    assert set(imagenet.IMAGENET_WEIGHTS) == set(KERAS_SOURCES)
    for key, module in KERAS_SOURCES.items():
        source = inspect.getsource(__import__(module, fromlist=["_"]))
        for top in (True, False):
            entry = imagenet.IMAGENET_WEIGHTS[key][top]
            assert entry.fname.endswith("_notop.h5") != top
            assert entry.origin.startswith("https://storage.googleapis.com/tensorflow/"
                                           "keras-applications/")
            assert entry.origin.endswith("/" + entry.fname)
            # keras.applications' own source names the same hash (and, except ResNet's
            # computed names, the same file).
            assert f'"{entry.file_hash}"' in source, (key, top)
            assert len(entry.file_hash) == 32 and int(entry.file_hash, 16) >= 0
            if "resnet" not in key:
                assert entry.fname in source, (key, top)


def _save_legacy_h5(model, path):
    from keras.src.legacy.saving import legacy_h5_format

    with h5py.File(path, "w") as f:
        legacy_h5_format.save_weights_to_hdf5_group(f, model)


def _md5(path):
    with open(path, "rb") as f:
        return hashlib.md5(f.read()).hexdigest()


def _fake_cache(tmp_path, monkeypatch, key, include_top, model):
    """Write ``model``'s weights under the published file name in a fresh KERAS_HOME
    and point the table's hash at it (get_file would otherwise delete it and download)."""
    home = tmp_path / "keras_home"
    (home / "models").mkdir(parents=True)
    monkeypatch.setenv("KERAS_HOME", str(home))
    entry = imagenet.IMAGENET_WEIGHTS[key][include_top]
    path = home / "models" / entry.fname
    _save_legacy_h5(model, str(path))
    table = {k: dict(v) for k, v in imagenet.IMAGENET_WEIGHTS.items()}
    table[key][include_top] = imagenet.WeightFile(entry.fname, "https://invalid.example/x.h5",
                                                  _md5(path))
    monkeypatch.setattr(imagenet, "IMAGENET_WEIGHTS", table)
    return path


@pytest.mark.parametrize("builder, key", [(kc.VGG16, "vgg16"), (kc.VGG19, "vgg19")])
def test_vgg_imagenet_weights_load_from_the_cache(builder, key, tmp_path, monkeypatch):
    source = builder(include_top=False)
    rng = np.random.default_rng(1)
    source.set_weights([rng.normal(0, 0.05, w.shape).astype("float32")
                        for w in source.get_weights()])
    path = _fake_cache(tmp_path, monkeypatch, key, False, source)
    loaded = builder(include_top=False, weights="imagenet", pooling="avg")
    for a, b in zip(source.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert os.path.exists(path)  # found in the cache, not replaced


def test_loader_with_top(tmp_path, monkeypatch):
    """The include_top file: a small stand-in model, loaded by layer order."""
    def small():
        x = keras.Input((8, 8, 3))
        y = keras.layers.Conv2D(4, 3, name="block1_conv1")(x)
        y = keras.layers.Flatten()(y)
        return keras.Model(x, keras.layers.Dense(3, name="predictions")(y))

    source, target = small(), small()
    path = _fake_cache(tmp_path, monkeypatch, "resnet50", True, source)
    assert imagenet.load_imagenet_weights(target, "resnet50", True) == str(path)
    for a, b in zip(source.get_weights(), target.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_loader_rejects_unknown_keys():
    with pytest.raises(ValueError, match="vgg16"):
        imagenet.imagenet_weight_file("alexnet", True)
    with pytest.raises(TypeError):
        imagenet.imagenet_weight_file("vgg16", "yes")


def test_imagenet_with_top_needs_1000_classes():
    with pytest.raises(ValueError, match="classes"):
        kc.VGG16(weights="imagenet", classes=10)
    with pytest.raises(ValueError, match="classes"):
        kc.VGG19(weights="imagenet", classes=999)


def test_class_index_is_shipped_and_ordered():
    classes = kc.weights.imagenet_classes()
    assert len(classes) == 1000
    wnids = [c[0] for c in classes]
    assert wnids == sorted(wnids) and len(set(wnids)) == 1000
    assert classes[0][:2] == ("n01440764", "tench")
    assert classes[2][:2] == ("n01484850", "great_white_shark")
    assert classes[134][:2] == ("n02012849", "crane")
    assert classes[517][:2] == ("n03126707", "crane")
    assert classes[999][:2] == ("n15075141", "toilet_tissue")


def test_decode_predictions():
    preds = np.zeros((2, 1000), "float32")
    preds[0, [1, 8, 3]] = [0.7, 0.2, 0.1]
    preds[1, 999] = 1.0
    out = kc.decode_predictions(preds, top=3)
    assert out[0] == [("n01443537", "goldfish", pytest.approx(0.7)),
                      ("n01514859", "hen", pytest.approx(0.2)),
                      ("n01491361", "tiger_shark", pytest.approx(0.1))]
    assert out[1][0][:2] == ("n15075141", "toilet_tissue")
    assert len(kc.decode_predictions(preds)[0]) == 5
    with pytest.raises(ValueError):
        kc.decode_predictions(np.zeros((2, 10)))
    with pytest.raises(ValueError):
        kc.decode_predictions(preds, top=0)
