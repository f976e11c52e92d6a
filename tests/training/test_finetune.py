"""Issue 13: fine-tuning with `train` (--init, --freeze, --unfreeze-after, recipe overrides).

The data: scikit-learn's digits written by the module as PNG class folders, 0-4 and 5-9
(the real folder path of `--dataset`). LeNet-5 is trained on 0-4 and fine-tuned from its
.keras on 5-9; the BatchNorm check uses resnet20_cifar at 16 px for one epoch."""

import json
import os

import numpy as np
import pytest

from keras_cnns.training.run import train


def write_digit_folder(root, classes, per_class=None):
    from PIL import Image

    from keras_cnns.data import digits_arrays

    x_tr, y_tr, x_te, y_te = digits_arrays(32)
    x, y = np.concatenate([x_tr, x_te]), np.concatenate([y_tr, y_te])
    written = dict.fromkeys(classes, 0)
    for i, (image, label) in enumerate(zip(x, y)):
        if int(label) in classes and (per_class is None or written[int(label)] < per_class):
            written[int(label)] += 1
            d = root / f"digit{int(label)}"
            d.mkdir(exist_ok=True, parents=True)
            Image.fromarray(image).save(d / f"{i:04d}.png")
    return str(root)


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    base = tmp_path_factory.mktemp("digit_folders")
    return (write_digit_folder(base / "low", range(5)),
            write_digit_folder(base / "high", range(5, 10)))


FAST = dict(verbose=0, command="test", batch_size=32, lr=3e-3)


@pytest.fixture(scope="module")
def source(folders, tmp_path_factory):
    """LeNet-5 trained on digits 0-4."""
    out = tmp_path_factory.mktemp("src")
    results = train("lenet5", dataset=folders[0], epochs=4, output=str(out), **FAST)
    assert results["val_top1"] > 0.8, results
    return out / "best.keras"


def weights_by_layer(model):
    return {layer.name: [np.array(w) for w in layer.get_weights()]
            for layer in model.layers if layer.weights}


def test_freeze_backbone_trains_the_head_alone(folders, source, tmp_path, capsys):
    import keras

    from keras_cnns.checkpoint import read_run_metadata

    before = weights_by_layer(keras.saving.load_model(source, safe_mode=True))
    out = tmp_path / "ft"
    results = train("lenet5", dataset=folders[1], epochs=4, output=str(out),
                    init=str(source), freeze="backbone", **dict(FAST, verbose=2, lr=1e-2))
    banner = capsys.readouterr().out
    assert "init from" in banner and "new (fresh) 2 tensors: predictions" in banner, banner
    after_model = keras.saving.load_model(out / "last.keras", safe_mode=True)
    after = weights_by_layer(after_model)
    frozen = [n for n in after if n != "predictions"]
    for name in frozen:  # bit-for-bit, BN moving mean / variance included
        assert all(np.array_equal(a, b) for a, b in zip(before[name], after[name])), name
    assert not np.array_equal(before["predictions"][0], after["predictions"][0])
    assert results["test_top1"] >= 0.8, results
    assert read_run_metadata(after_model)["class_names"] == [f"digit{i}" for i in range(5, 10)]
    run = json.loads((out / "run.json").read_text())
    assert run["init"]["new_layers"] == ["predictions"] and run["init"]["loaded"] == 8
    assert run["freeze"] == "backbone"
    assert run["recipe_effective"]["learning_rate"] == 1e-2


def test_unfreeze_after_changes_the_backbone_in_phase_two_only(folders, source, tmp_path):
    import keras

    from keras_cnns.training import callbacks as cb

    init = weights_by_layer(keras.saving.load_model(source, safe_mode=True))
    snapshots = []

    class Snap(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            snapshots.append(weights_by_layer(self.model))

    import keras_cnns.training.run as run_mod

    real_fit = run_mod._fit

    def fit_with_snapshots(*args):
        args = list(args)
        args[12] = args[12] + [Snap()]  # the callbacks list
        return real_fit(*args)

    run_mod._fit = fit_with_snapshots
    try:
        out = tmp_path / "two_phase"
        train("lenet5", dataset=folders[1], epochs=2, output=str(out),
              init=str(source), unfreeze_after=1, finetune_lr=1e-3, **FAST)
    finally:
        run_mod._fit = real_fit
    assert len(snapshots) == 2
    body = [n for n in init if n != "predictions"]
    # phase 1: every backbone tensor as loaded, the head trained
    assert all(np.array_equal(a, b) for n in body for a, b in zip(init[n], snapshots[0][n]))
    assert not np.array_equal(snapshots[0]["predictions"][0], init["predictions"][0])
    # phase 2: every backbone layer moves
    assert all(not np.array_equal(init[n][0], snapshots[1][n][0]) for n in body)
    rows = cb.read_history(out / "history.csv")
    assert [r["phase"] for r in rows] == [1.0, 2.0]
    assert rows[1]["learning_rate"] == pytest.approx(1e-3)
    # --resume after phase 2 finished: the run is complete, nothing re-trained
    res = train("lenet5", dataset=folders[1], epochs=2, output=str(out),
                init=str(source), unfreeze_after=1, finetune_lr=1e-3, resume=True, **FAST)
    assert res["epochs"] == 2


def test_frozen_batch_norm_statistics_do_not_move(tmp_path):
    """The keras.io guide's trap: under a frozen backbone, BN moving statistics stay.
    Any training step would move them: 20 digits of each of 5-9 (a few steps, not the
    ~900 digits of ``folders``)."""
    import keras

    from keras_cnns import registry
    from keras_cnns.checkpoint import attach_run_metadata

    src = attach_run_metadata(registry.build("resnet20_cifar", classes=5, input_shape=(16, 16, 3)),
                              class_names=[str(i) for i in range(5)], name="resnet20_cifar")
    rng = np.random.default_rng(0)
    for layer in src.layers:  # moving statistics away from their 0 / 1 start
        if isinstance(layer, keras.layers.BatchNormalization):
            g, b, m, v = layer.get_weights()
            layer.set_weights([g, b, rng.normal(size=m.shape).astype("float32"),
                               rng.uniform(0.5, 2, size=v.shape).astype("float32")])
    src.save(tmp_path / "src.keras")
    before = weights_by_layer(src)
    out = tmp_path / "bn"
    few = write_digit_folder(tmp_path / "few", range(5, 10), per_class=20)
    train("resnet20_cifar", dataset=few, epochs=1, image_size=16, output=str(out),
          init=str(tmp_path / "src.keras"), freeze="backbone", **FAST)
    model = keras.saving.load_model(out / "last.keras", safe_mode=True)
    after = weights_by_layer(model)
    bn = [n for n in after if isinstance(model.get_layer(n), keras.layers.BatchNormalization)]
    assert len(bn) == 19
    for name in after:
        if name != "predictions":  # bit-for-bit: kernels, gamma, beta, moving mean / variance
            assert all(np.array_equal(a, b) for a, b in zip(before[name], after[name])), name
    assert not np.array_equal(before["predictions"][0], after["predictions"][0])


@pytest.mark.parametrize("flags, message", [
    (dict(init="nowhere.keras"), "--init 'nowhere.keras': no such file (allowed: 'imagenet'"),
    (dict(init="imagenet"), "--init imagenet: resnet20_cifar has no keras.applications"),
    (dict(freeze="conv9"), "--freeze 'conv9': not none, backbone, bn or an end point of "
                           "resnet20_cifar; end points: conv1_relu"),
    (dict(optimizer="lion"), "--optimizer must be one of sgd, momentum, adam, adamw, rmsprop"),
    (dict(lr=-1.0), "--lr must be a positive number"),
    (dict(label_smoothing=1.0), "--label-smoothing must be in [0, 1)"),
    (dict(finetune_lr=0.1), "--finetune-lr is phase two's learning rate: it needs"),
])
def test_bad_fine_tuning_flags(flags, message, tmp_path):
    with pytest.raises(ValueError) as err:
        train("resnet20_cifar", dataset="digits", output=str(tmp_path / "x"), verbose=0,
              **flags)
    assert message in str(err.value) and "\n" not in str(err.value)
    assert not os.path.exists(tmp_path / "x" / "run.json")


def test_init_from_a_torchvision_file_onto_a_ten_class_head(tmp_path, capsys):
    """A torchvision squeezenet1_1 .pth (random weights, written here as the conversion
    tests do) initialises squeezenet1_1 on the digits: the 1000-class conv10 is new."""
    import sys

    sys.modules.setdefault("triton", None)  # see tests/test_torchvision_weights.py
    import keras
    import torch
    import torchvision

    from keras_cnns.weights.torchvision import _resolve_name

    registry_name = _resolve_name("squeezenet1_1")[1].registry_name
    torch.manual_seed(0)
    torch.save(torchvision.models.squeezenet1_1(weights=None).state_dict(), tmp_path / "sq.pth")
    out = tmp_path / "sq"
    results = train(registry_name, dataset="digits", epochs=1, image_size=32, output=str(out),
                    init=str(tmp_path / "sq.pth"), freeze="backbone", **dict(FAST, verbose=2))
    banner = capsys.readouterr().out
    run = json.loads((out / "run.json").read_text())
    assert run["init"]["new_layers"] == ["conv10"], run["init"]
    assert run["init"]["loaded"] == 50 and run["init"]["new"] == 2
    assert "loaded 50 tensors" in banner
    model = keras.saving.load_model(out / "last.keras", safe_mode=True)
    assert model.outputs[0].shape[-1] == 10 and results["classes"] == [str(i) for i in range(10)]
    # the loaded backbone is torchvision's: fire2's squeeze kernel, OIHW -> HWIO
    state = torch.load(tmp_path / "sq.pth")
    ours = np.array(model.get_layer("fire2_squeeze").get_weights()[0])
    theirs = state["features.3.squeeze.weight"].numpy().transpose(2, 3, 1, 0)
    assert np.array_equal(ours, theirs)  # frozen: still the file's


def test_cli_end_point_freeze_overrides_and_a_resume_into_phase_two(folders, source, tmp_path,
                                                                      capsys):
    import keras

    from keras_cnns.cli import main
    from keras_cnns.training import callbacks as cb

    out = tmp_path / "cli"
    args = ["train", "lenet5", "--dataset", folders[1], "--init", str(source), "--freeze", "C3",
            "--optimizer", "momentum", "--lr", "0.02", "--weight-decay", "0.0001",
            "--label-smoothing", "0", "--batch-size", "32", "--verbose", "2",
            "--output", str(out), "--unfreeze-after", "1"]
    assert main(args + ["--epochs", "1"]) == 0
    banner = capsys.readouterr().out
    assert "sgd lr 0.02 {'momentum': 0.9}" in banner and "label smoothing 0," in banner
    assert "freeze C3: 2 weighted layers up to and including C3 frozen" in banner, banner
    run = json.loads((out / "run.json").read_text())
    eff = run["recipe_effective"]
    assert (eff["optimizer"], eff["optimizer_args"], eff["weight_decay"]) == ("sgd", {
        "momentum": 0.9}, 0.0001)
    assert run["freeze"] == "C3" and run["unfreeze_after"] == 1 and run["finetune_lr"] == 0.002
    src = weights_by_layer(keras.saving.load_model(source, safe_mode=True))
    one = weights_by_layer(keras.saving.load_model(out / "last.keras", safe_mode=True))
    assert all(np.array_equal(src[n][0], one[n][0]) for n in ("C1", "C3"))
    assert not np.array_equal(src["C5"][0], one["C5"][0])  # after the end point: trains
    with pytest.raises(ValueError, match=r"^--resume: the run in --output .* was started with "
                                         r"other settings: --freeze 'C3' \(now 'backbone'\); "
                                         r"--finetune-lr 0.002 \(now 0.001\); "
                                         r"recipe learning_rate 0.02 \(now 0.01\); resume"):
        train("lenet5", dataset=folders[1], output=str(out), init=str(source), lr=0.01,
              optimizer="momentum", weight_decay=1e-4, label_smoothing=0.0, epochs=2,
              unfreeze_after=1, resume=True, verbose=0)
    # --resume with more epochs continues in phase two: everything trains at lr / 10
    assert main(args + ["--epochs", "2", "--resume"]) == 0
    assert "phase 2 (resumed at epoch 2)" in capsys.readouterr().out
    two = weights_by_layer(keras.saving.load_model(out / "last.keras", safe_mode=True))
    assert not np.array_equal(one["C1"][0], two["C1"][0])
    rows = cb.read_history(out / "history.csv")
    assert [r["phase"] for r in rows] == [1.0, 2.0]
    assert rows[1]["learning_rate"] == pytest.approx(0.002)


def test_init_from_a_weights_h5_file(tmp_path):
    """--init x.weights.h5 (no class names stored: same count -> all loaded; another
    count -> a fresh classifier)."""
    from keras_cnns import registry
    from keras_cnns.training.finetune import load_init

    src = registry.build("lenet5", classes=5)
    src.save_weights(tmp_path / "src.weights.h5")
    for classes, new in ((5, []), (3, ["predictions"])):
        model = registry.build("lenet5", classes=classes)
        report = load_init(str(tmp_path / "src.weights.h5"), "lenet5", model,
                           [str(i) for i in range(classes)])
        assert report["new_layers"] == new, report
        assert np.array_equal(model.get_layer("C3").get_weights()[0],
                              src.get_layer("C3").get_weights()[0])
    with pytest.raises(ValueError, match=r"--init .*: no tensor of it fits resnet20_cifar \(allowed: "):
        load_init(str(tmp_path / "src.weights.h5"), "resnet20_cifar",
                  registry.build("resnet20_cifar", classes=5), None)
