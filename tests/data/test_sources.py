"""Sources: tfds by name (offline, from a dataset prepared here), folder trees, digits."""

import json
import logging
import os
import socket

import numpy as np
import pytest
import tensorflow as tf
import tensorflow_datasets as tfds
from PIL import Image

from keras_cnns.data import digits, digits_arrays, image_folder, load
from keras_cnns.data.sources import CLASS_INDEX_FILE


class KcTinyGreyDigits(tfds.core.GeneratorBasedBuilder):
    """A tiny image-classification dataset built from real digits, grey 8x8."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(
            builder=self,
            features=tfds.features.FeaturesDict({
                "image": tfds.features.Image(shape=(None, None, 1)),
                "label": tfds.features.ClassLabel(num_classes=10)}),
            supervised_keys=("image", "label"))

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples(0, 12), "test": self._generate_examples(12, 16)}

    def _generate_examples(self, start, stop):
        from sklearn.datasets import load_digits

        d = load_digits()
        for i in range(start, stop):
            img = (d.images[i] / 16 * 255).astype(np.uint8)[..., None]
            yield i, {"image": img, "label": int(d.target[i])}


class KcTinyThreeSplits(KcTinyGreyDigits):
    """The same digits with the dataset's own validation split."""

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples(0, 8),
                "validation": self._generate_examples(8, 12),
                "test": self._generate_examples(12, 16)}


class KcTinyText(tfds.core.GeneratorBasedBuilder):
    """Not image classification: text and an int."""

    VERSION = tfds.core.Version("1.0.0")

    def _info(self):
        return tfds.core.DatasetInfo(builder=self, features=tfds.features.FeaturesDict({
            "text": tfds.features.Text(), "score": tf.int64}))

    def _split_generators(self, dl_manager):
        return {"train": self._generate_examples()}

    def _generate_examples(self):
        for i in range(3):
            yield i, {"text": f"t{i}", "score": i}


@pytest.fixture(scope="module")
def tfds_dir(tmp_path_factory):
    d = str(tmp_path_factory.mktemp("tfds"))
    KcTinyGreyDigits(data_dir=d).download_and_prepare()
    KcTinyText(data_dir=d).download_and_prepare()
    return d


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)


def test_load_tfds_offline(tfds_dir, no_network):
    ds = load("kc_tiny_grey_digits", "train", data_dir=tfds_dir)
    items = list(ds.as_numpy_iterator())
    assert len(items) == 12
    img, label = items[0]
    assert img.dtype == np.uint8 and img.shape == (8, 8, 3)
    np.testing.assert_array_equal(img[..., 0], img[..., 2])  # grey -> RGB
    from sklearn.datasets import load_digits

    d = load_digits()
    labels = sorted(int(y) for _, y in items)
    assert labels == sorted(d.target[:12].tolist())
    assert ds.class_names == [str(i) for i in range(10)]
    assert len(list(load("kc_tiny_grey_digits", "test", data_dir=tfds_dir))) == 4


def test_load_errors(tfds_dir, tmp_path, no_network):
    with pytest.raises(ValueError, match="name=.*not an image-classification"):
        load("kc_tiny_text", "train", data_dir=tfds_dir)
    with pytest.raises(ValueError, match="data_dir"):
        load("kc_tiny_grey_digits", "train", data_dir=str(tmp_path / "missing"))
    with pytest.raises(ValueError, match="data_dir"):
        load("cifar10", "train", data_dir=str(tmp_path))  # known to tfds, not prepared
    with pytest.raises(ValueError, match="name"):
        load("no_such_dataset_xyz", "train", data_dir=tfds_dir)
    with pytest.raises(ValueError, match="split"):
        load("kc_tiny_grey_digits", "validation", data_dir=tfds_dir)


def test_tfds_without_validation_split_carves_it_from_train(tfds_dir, no_network):
    """kc_tiny_grey_digits has train (12) and test (4): validation is the last
    --val-split of train, disjoint from the rest, the test part its own test split."""
    from keras_cnns.training.run import resolve_dataset

    parts = resolve_dataset("kc_tiny_grey_digits", tfds_dir, val_split=0.25)
    assert parts.splits == {"train": "train[:75%]", "validation": "train[75%:]",
                            "test": "test"}

    def images(ds):
        return [x.tobytes() for x, _ in ds.as_numpy_iterator()]

    train, val, test = images(parts.train), images(parts.val), images(parts.test)
    assert (len(train), len(val), len(test)) == (9, 3, 4)
    assert not set(train) & set(val)
    again = resolve_dataset("kc_tiny_grey_digits", tfds_dir, val_split=0.25)
    assert images(again.val) == val  # stable across runs


def test_tfds_with_its_own_validation_split_uses_it(tmp_path, no_network):
    """A dataset that has train / validation / test: the parts are its own splits, and
    --val-split carves nothing."""
    from keras_cnns.training.run import resolve_dataset

    KcTinyThreeSplits(data_dir=str(tmp_path)).download_and_prepare()
    parts = resolve_dataset("kc_tiny_three_splits", str(tmp_path), val_split=0.25)
    assert parts.splits == {"train": "train", "validation": "validation", "test": "test"}
    labels = [[int(y) for _, y in ds.as_numpy_iterator()]
              for ds in (parts.train, parts.val, parts.test)]
    from sklearn.datasets import load_digits

    target = load_digits().target
    assert [sorted(lab) for lab in labels] == [sorted(target[a:b].tolist())
                                               for a, b in ((0, 8), (8, 12), (12, 16))]


def _save(path, array, mode=None, fmt=None):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    img = Image.fromarray(array)
    if mode:
        img = img.convert(mode)
    img.save(path, fmt)


@pytest.fixture
def folder_tree(tmp_path, photos):
    small = np.asarray(Image.fromarray(photos[0]).resize((40, 30)))
    flower = np.asarray(Image.fromarray(photos[1]).resize((30, 40)))
    root = tmp_path / "flat"
    _save(str(root / "china" / "a.jpg"), small)
    _save(str(root / "china" / "grey.png"), small, "L")
    _save(str(root / "flower" / "rgba.png"), flower, "RGBA")
    _save(str(root / "flower" / "palette.png"), flower, "P")
    return root, small, flower


def test_image_folder_flat_modes_and_class_index(folder_tree):
    root, small, flower = folder_tree
    ds = image_folder(root)
    items = list(ds.as_numpy_iterator())
    assert [y for _, y in items] == [0, 0, 1, 1]
    for img, _ in items:
        assert img.dtype == np.uint8 and img.ndim == 3 and img.shape[-1] == 3
    a, grey, palette, rgba = items[0][0], items[1][0], items[2][0], items[3][0]
    assert a.shape == (30, 40, 3) and np.abs(a.astype(int) - small).mean() < 8  # JPEG
    np.testing.assert_array_equal(grey[..., 0], grey[..., 1])
    np.testing.assert_array_equal(rgba, flower)
    assert palette.shape == (40, 30, 3) and np.abs(palette.astype(int) - flower).mean() < 20
    assert ds.class_names == ["china", "flower"]
    assert not (root / CLASS_INDEX_FILE).exists()  # nothing written into the dataset
    # A kept index (a run's class_index.json): old indices stay, a new class sorting
    # first is appended.
    kept = root.parent / "run"
    kept.mkdir()
    (kept / CLASS_INDEX_FILE).write_text(json.dumps({"flower": 0, "china": 1}))
    _save(str(root / "aardvark" / "x.png"), small)
    ds2 = image_folder(root, index_dir=kept)
    assert ds2.class_index == {"flower": 0, "china": 1, "aardvark": 2}
    assert ds2.class_names == ["flower", "china", "aardvark"]
    assert sorted(y for _, y in ds2.as_numpy_iterator()) == [0, 0, 1, 1, 2]
    assert json.loads((kept / CLASS_INDEX_FILE).read_text()) == {"flower": 0, "china": 1}
    for content, needle in (("[1, 2]", "got list"), ("null", "got NoneType"),
                            ("{oops", "not a readable class index")):
        (kept / CLASS_INDEX_FILE).write_text(content)
        with pytest.raises(ValueError, match=needle) as info:
            image_folder(root, index_dir=kept)
        assert CLASS_INDEX_FILE in str(info.value)


def test_image_folder_split_layout(tmp_path, photos):
    small = np.asarray(Image.fromarray(photos[0]).resize((20, 16)))
    root = tmp_path / "splits"
    _save(str(root / "train" / "cat" / "1.png"), small)
    _save(str(root / "train" / "dog" / "1.png"), small)
    _save(str(root / "test" / "dog" / "1.png"), small)
    _save(str(root / "test" / "emu" / "1.png"), small)
    train = image_folder(root, split="train")
    test = image_folder(root, split="test")
    assert [y for _, y in train.as_numpy_iterator()] == [0, 1]
    assert [y for _, y in test.as_numpy_iterator()] == [1, 2]  # same index as in train
    with pytest.raises(ValueError, match="split"):
        image_folder(root)
    with pytest.raises(ValueError, match="split"):
        image_folder(root, split="val")
    with pytest.raises(ValueError, match="split"):
        image_folder(tmp_path / "splits" / "train", split="train")
    with pytest.raises(ValueError, match="path"):
        image_folder(tmp_path / "nowhere")
    with pytest.raises(ValueError, match="on_error"):
        image_folder(root, split="train", on_error="ignore")


def _truncate(path):
    data = open(path, "rb").read()
    with open(path, "wb") as f:
        f.write(data[: len(data) // 2])


def test_truncated_file_raises_naming_it(folder_tree):
    root, _, _ = folder_tree
    bad = root / "china" / "a.jpg"
    _truncate(bad)
    with pytest.raises(ValueError, match="a.jpg") as info:
        image_folder(root)  # the scan finds it before any iteration
    assert "truncated" in str(info.value) and "1 unreadable image file in" in str(info.value)


def test_truncated_file_skipped_and_counted(folder_tree, caplog):
    root, _, _ = folder_tree
    _truncate(root / "flower" / "rgba.png")
    ds = image_folder(root, on_error="skip")
    with caplog.at_level(logging.WARNING, logger="keras_cnns.data"):
        items = list(ds.as_numpy_iterator())
        items += list(ds.as_numpy_iterator())  # a second epoch counts it once
    assert len(items) == 6
    assert ds.errors.count == 1 and ds.errors.files[0].endswith("rgba.png")
    assert "rgba.png" in caplog.text and "1 skipped" in caplog.text


def test_digits(digits_data):
    x_tr, y_tr, x_te, y_te = digits_arrays(32)
    for a, b in zip((x_tr, y_tr, x_te, y_te), digits_data):
        np.testing.assert_array_equal(a, b)
    assert x_tr.shape == (1437, 32, 32, 3) and x_te.shape == (360, 32, 32, 3)
    # The fixed three-way split: validation is a stratified part of x_train.
    sizes = [int(digits(8, s).cardinality()) for s in ("train", "validation", "test")]
    assert sizes == [1221, 216, 360]
    assert x_tr.dtype == np.uint8 and y_tr.dtype == np.int64
    # Stratified: every class has ~20 % of its images in test.
    counts = np.bincount(y_te, minlength=10) / (np.bincount(y_te, minlength=10)
                                                 + np.bincount(y_tr, minlength=10))
    assert np.all(np.abs(counts - 0.2) < 0.02)
    ds = digits(16, "test")
    img, y = next(iter(ds))
    assert img.shape == (16, 16, 3) and img.dtype == tf.uint8 and int(y) == y_te[0]
    assert int(ds.cardinality()) == 360
    with pytest.raises(ValueError, match="split"):
        digits(split="val")
    with pytest.raises(ValueError, match="size"):
        digits_arrays(0)
