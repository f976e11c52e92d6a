"""``--dataset cifar10`` / ``cifar100`` go through tfds. Nothing can be downloaded here, so
the whole path (tfds builder by name, ``--download``, the three parts, the ``cifar``
augmentation and the paper recipe in training, then evaluation) runs under
``tfds.testing.mock_data``, which serves random 32x32 images with the datasets' own
features (class names included) in place of the files.

mock_data knows no split metadata, so every split name resolves: the validation part
is tfds' ``validation`` here, where the real CIFAR (train and test only) carves it out of
train (tests/data/test_sources.py covers that carving on a dataset prepared offline)."""

import json

import tensorflow_datasets as tfds

from keras_cnns.cli import main
from keras_cnns.training.run import resolve_dataset


def _one_line_error(capsys):
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def test_cifar10_trains_and_evaluates_through_tfds(tmp_path, capsys):
    out, data_dir = tmp_path / "run", tmp_path / "tfds"
    args = ["--dataset", "cifar10", "--data-dir", str(data_dir), "--download"]
    with tfds.testing.mock_data(num_examples=64):
        assert main(["train", "resnet20_cifar", *args, "--recipe", "paper", "--epochs", "1",
                     "--batch-size", "32", "--output", str(out)]) == 0
        run = json.loads((out / "run.json").read_text())
        assert run["dataset"] == "cifar10" and run["classes"] == 10
        assert run["recipe"] == "resnet_cifar" and run["augment"] == "cifar"
        assert run["splits"]["test"] == "test"
        results = json.loads((out / "results.json").read_text())
        assert 0.0 <= results["test_top1"] <= 1.0 and results["best_epoch"] == 1
        capsys.readouterr()
        assert main(["evaluate", str(out / "best.keras"), *args]) == 0
        printed = capsys.readouterr().out
        assert "resnet20_cifar on tfds cifar10" in printed and "test part" in printed
        evaluated = json.loads(next(out.glob("best.evaluate-cifar10-test-center.json"))
                               .read_text())
        assert evaluated["images"] == 64 and evaluated["dataset"] == "cifar10"
    # Without --download (and offline), an unprepared dataset is one line naming the flag.
    assert main(["train", "resnet20_cifar", "--dataset", "cifar10", "--data-dir",
                 str(tmp_path / "empty"), "--epochs", "1", "--output",
                 str(tmp_path / "run2")]) == 2
    line = _one_line_error(capsys)
    assert "cifar10" in line and "download" in line


def test_cifar100_has_a_hundred_classes_on_the_fine_label():
    # tfds reads CIFAR-100's class names from the downloaded files; before that the
    # ClassLabel knows its 100 classes only by number.
    with tfds.testing.mock_data(num_examples=8):
        parts = resolve_dataset("cifar100", None, 32, download=True)
    assert len(parts.class_names) == 100 and parts.description.startswith("tfds cifar100")
    image, label = next(iter(parts.train))
    assert tuple(image.shape) == (32, 32, 3) and 0 <= int(label) < 100
