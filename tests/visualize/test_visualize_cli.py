"""keras-cnns visualize: each method writes a PNG; bad arguments exit 2 with one line."""

import keras
import numpy as np
import pytest
from PIL import Image

from keras_cnns import cli


@pytest.fixture(scope="module")
def photo_file(tmp_path_factory, photos):
    path = tmp_path_factory.mktemp("img") / "flower.jpg"
    Image.fromarray(photos[1]).save(path, quality=95)
    return str(path)


def _png_ok(path):
    with Image.open(path) as img:
        assert img.format == "PNG"
        pixels = np.asarray(img.convert("RGB"))
    assert pixels.std() > 10


@pytest.mark.parametrize("method", ["feature-maps", "heatmap", "grad-cam"])
def test_visualize_methods(method, photo_file, tmp_path, capsys):
    out = tmp_path / f"{method}.png"
    argv = ["visualize", "squeezenet1_1", photo_file, "--method", method, "--out", str(out)]
    if method == "feature-maps":
        argv += ["--layer", "fire3", "--layer", "fire9", "--max-channels", "16"]
    if method == "grad-cam":
        argv += ["--class-index", "7"]
    assert cli.main(argv) == 0
    assert capsys.readouterr().out.strip() == str(out)
    _png_ok(out)


def test_visualize_checkpoint(photo_file, tmp_path):
    inputs = keras.Input((48, 48, 3))
    x = keras.layers.Conv2D(8, 3, activation="relu", name="feat")(inputs)
    x = keras.layers.GlobalAveragePooling2D()(x)
    model = keras.Model(inputs, keras.layers.Dense(3, activation="softmax")(x), name="tiny")
    ckpt = tmp_path / "tiny.keras"
    model.save(ckpt)
    out = tmp_path / "cam.png"
    assert cli.main(["visualize", str(ckpt), photo_file, "--method", "grad-cam",
                     "--out", str(out)]) == 0
    _png_ok(out)


@pytest.mark.parametrize("argv, message", [
    (["visualize", "googlenet_xx", "IMG", "--out", "OUT"], "unknown model 'googlenet_xx'"),
    (["visualize", "lenet5", "IMG", "--out", "/nonexistent_dir/x.png"],
     "--out '/nonexistent_dir/x.png' cannot be written"),
    (["visualize", "lenet5", "missing.jpg", "--out", "OUT"], "IMAGE: no such file"),
    (["visualize", "lenet5", "IMG", "--out", "OUT", "--layer", "C9"],
     "layers: no layer named 'C9' in model 'lenet5'; valid end points: C1, S2, C3, S4, C5"),
    (["visualize", "lenet5", "IMG", "--out", "OUT", "--method", "grad-cam",
      "--class-index", "10"], "class_index must be in [0, 9]"),
    (["visualize", "lenet5", "IMG", "--out", "OUT", "--method", "cam"], "invalid choice"),
])
def test_visualize_errors(argv, message, photo_file, tmp_path, capsys):
    argv = [a.replace("IMG", photo_file).replace("OUT", str(tmp_path / "o.png")) for a in argv]
    assert cli.main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert message in err
    assert "\n" not in err and "Traceback" not in err
