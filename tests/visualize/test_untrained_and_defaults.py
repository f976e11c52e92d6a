"""Issue 12, section 5: what visualize runs is what it says (untrained weights named on
stderr and in the title), LeNet-5's default layers show something, and a train checkpoint
loads in a fresh process after ``import keras_cnns``."""

import subprocess
import sys

import pytest
from PIL import Image

import keras_cnns
from keras_cnns import cli
from keras_cnns import visualize as V

from tests.helpers import cli_env


@pytest.fixture(scope="module")
def lenet():
    return keras_cnns.build("lenet5")


def test_lenet5_defaults_skip_the_1x1_c5(lenet, photos):
    fig = V.feature_maps(lenet, photos[0])
    titles = [ax.get_title() for ax in fig.axes if ax.get_title()]
    assert [t.split(":")[0] for t in titles] == ["C1", "C3"]  # C5 is 1x1x120
    heat = V.grad_cam(lenet, photos[0])
    assert heat.std() > 0  # a 1x1 layer would give one flat colour
    heat_c5 = V.grad_cam(lenet, photos[0], layer="C5")
    assert heat_c5.std() == 0


def test_visualize_a_bare_name_says_untrained(lenet, photos, tmp_path, capsys):
    path = tmp_path / "img.png"
    Image.fromarray(photos[0]).save(path)
    out = tmp_path / "cam.png"
    assert cli.main(["visualize", "lenet5", str(path), "--method", "grad-cam",
                     "--out", str(out)]) == 0
    err = capsys.readouterr().err
    assert "untrained (random) weights" in err and "lenet5" in err
    lenet.untrained_note = "untrained weights"
    try:
        fig = V.feature_maps(lenet, photos[0])
        assert "lenet5 (untrained weights)" in fig._suptitle.get_text()
    finally:
        del lenet.untrained_note
    assert V.feature_maps(lenet, photos[0])._suptitle is None


def test_a_train_checkpoint_loads_in_a_fresh_process_after_import(tmp_path):
    from keras_cnns.training.recipes import RECIPES

    model = keras_cnns.build("lenet5", classes=3)
    RECIPES["fast"].compile(model, steps_per_epoch=4)  # StepDecay + label-smoothing loss
    path = tmp_path / "ckpt.keras"
    model.save(path)
    code = ("import keras_cnns, keras\n"
            f"m = keras.saving.load_model({str(path)!r}, safe_mode=True)\n"
            "print(type(m.optimizer._learning_rate).__name__, m.loss.__class__.__name__)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=180, env=cli_env())
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.split()[-2:] == ["StepDecay", "SparseCategoricalCrossentropyLS"]
