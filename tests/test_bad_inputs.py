"""Issue 12, section 4: every bad input answers with one line naming the argument or the
file and what is allowed (ValueError / TypeError; the CLI: exit 2). Cheap, in-process;
no network (every download is refused)."""

import os

import numpy as np
import pytest

import keras_cnns
from keras_cnns.cli import main


@pytest.fixture
def no_download(monkeypatch):
    import keras

    calls = []

    def refuse(fname, origin, **kwargs):
        calls.append(origin)
        raise Exception(f"URL fetch failure on {origin}: None -- network disabled")

    monkeypatch.setattr(keras.utils, "get_file", refuse)
    return calls


def _one_line(err):
    text = str(err)
    assert "\n" not in text, text
    return text


def test_model_arguments_that_must_work():
    m = keras_cnns.build("lenet5", name="x", classes=np.int64(3),
                         input_shape=(np.int64(32), np.int64(32), np.int64(1)))
    assert m.name == "x" and m.outputs[0].shape[-1] == 3


def test_weights_arguments(tmp_path):
    with pytest.raises(ValueError, match="is a folder") as info:
        keras_cnns.build("lenet5", weights=str(tmp_path))
    assert "weights must be" in _one_line(info.value)
    garbage = tmp_path / "garbage.weights.h5"
    garbage.write_bytes(b"not hdf5")
    with pytest.raises(ValueError, match="garbage.weights.h5.*is not a weights file"):
        keras_cnns.build("lenet5", weights=str(garbage))
    with pytest.raises(ValueError, match="classifier_activation"):
        keras_cnns.build("lenet5", classifier_activation="bogus")


def test_imagenet_weights_without_a_file_point_to_the_converter(no_download):
    with pytest.raises(ValueError, match="keras_cnns.weights.from_torchvision") as info:
        keras_cnns.build("alexnet", weights="imagenet")
    _one_line(info.value)
    assert no_download == []


@pytest.mark.parametrize("name", ["resnet50", "densenet121"])
def test_imagenet_with_one_channel_is_refused_before_any_download(name, no_download):
    with pytest.raises(ValueError, match="needs 3 input channels") as info:
        keras_cnns.build(name, weights="imagenet", input_shape=(64, 64, 1))
    _one_line(info.value)
    assert no_download == []  # refused before the download was tried


def test_imagenet_offline_says_what_to_download_and_where(no_download, tmp_path, monkeypatch):
    import keras

    from keras_cnns.weights.imagenet import load_imagenet_weights

    monkeypatch.setenv("KERAS_HOME", str(tmp_path / "kh"))
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.Flatten()])
    with pytest.raises(ValueError, match="needs the download of https://") as info:
        load_imagenet_weights(model, "densenet121", True)
    text = _one_line(info.value)
    assert os.path.join(str(tmp_path / "kh"), "models", "densenet121_weights_tf_dim_"
                        "ordering_tf_kernels.h5") in text and "by hand" in text


def test_test_time_data_errors():
    from keras_cnns import data

    with pytest.raises(ValueError, match="at least 1x1"):
        data.multi_crop(np.zeros((0, 0, 3), np.uint8), "alexnet-10", 32)
    model = keras_cnns.build("lenet5", classes=3)
    with pytest.raises(ValueError, match="source is empty"):
        data.evaluate_tta(model, data.digits(32, "test").take(0), "center")
    # digits' labels 0-9 against a 3-class model: silently wrong before.
    with pytest.raises(ValueError, match="labels outside the model's 3 classes"):
        data.evaluate_tta(model, data.digits(32, "test").take(16), "center")


@pytest.mark.parametrize("content, needle", [
    (b"", "the file is empty"), (b"garbage!", "is not a readable PyTorch state dict")])
def test_convert_garbage_pth_and_aux_without_aux_heads(content, needle, tmp_path, capsys):
    pytest.importorskip("torch")
    pth = tmp_path / "model.pth"
    pth.write_bytes(content)
    assert main(["convert", "alexnet", str(pth), str(tmp_path / "o.keras")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and "model.pth" in err[0]
    assert main(["convert", "--aux", "alexnet", str(pth), str(tmp_path / "o.keras")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--aux: alexnet has no aux heads" in err[0]
    assert "googlenet" in err[0]
