"""Issue 13: `predict` (CLI and Python), the metadata a checkpoint carries, and reading an
evaluation by class (confusion.png, per_class.csv, most-confused pairs, the best epoch).

One short in-process LeNet-5 run on the digits is shared by the module; its held-out
digits are written as PNG files (lossless: the same pixels `evaluate` reads)."""

import csv
import json
import os
import shutil

import numpy as np
import pytest

from keras_cnns.cli import main

DIGIT_NAMES = [str(i) for i in range(10)]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    from keras_cnns.training.run import train

    out = tmp_path_factory.mktemp("lenet5_predict")
    results = train("lenet5", dataset="digits", epochs=3, output=str(out), verbose=0,
                    command="test")
    assert results["top1"] > 0.6, results  # learned something: labels are meaningful
    return out


@pytest.fixture(scope="module")
def pngs(tmp_path_factory):
    from PIL import Image

    from keras_cnns.data import digits_arrays

    folder = tmp_path_factory.mktemp("digit_pngs")
    x_test, y_test = digits_arrays(32)[2:]
    for i, image in enumerate(x_test):
        sub = folder / ("a" if i % 2 else "b")  # nested: read recursively
        sub.mkdir(exist_ok=True)
        Image.fromarray(image).save(sub / f"{i:03d}.png")
    files = sorted(str(p) for p in folder.rglob("*.png"))
    index = [int(os.path.basename(f)[:3]) for f in files]
    return folder, files, index, y_test


def copied_alone(run, tmp_path):
    """best.keras alone in a fresh folder, loaded as any Keras user would."""
    import keras

    target = tmp_path / "elsewhere" / "model.keras"
    target.parent.mkdir()
    shutil.copy(run / "best.keras", target)
    return keras.saving.load_model(target, safe_mode=True), target


def test_a_checkpoint_copied_alone_predicts_with_its_class_names(run, pngs, tmp_path):
    import keras_cnns
    from keras_cnns.data import digits, evaluate_tta

    model, _ = copied_alone(run, tmp_path)
    meta = keras_cnns.read_run_metadata(model)
    assert meta["class_names"] == DIGIT_NAMES and meta["label_source"] == "checkpoint"
    assert meta["name"] == "lenet5" and meta["input_shape"] == [32, 32, 1]
    assert meta["preprocessing"] == keras_cnns.model_info("lenet5").preprocessing
    assert meta["dataset"] == "digits"
    _, files, index, y_test = pngs
    records = keras_cnns.predict(model, files, top_k=3)
    assert [r["image"] for r in records] == files
    for r in records:
        probs = [p["probability"] for p in r["predictions"]]
        assert probs == sorted(probs, reverse=True) and len(probs) == 3
        assert all(p["label"] == DIGIT_NAMES[p["index"]] for p in r["predictions"])
    # evaluate's per-image argmax on the same held-out digits, in the dataset's order
    ev = evaluate_tta(model, digits(32, "test"), "center", verbose=0, return_probabilities=True)
    assert np.array_equal(ev["labels"], y_test)
    top1 = np.array([r["predictions"][0]["index"] for r in records])
    assert np.array_equal(top1, ev["probabilities"].argmax(-1)[index])
    got = np.array([r["predictions"][0]["probability"] for r in records])
    np.testing.assert_allclose(got, ev["probabilities"].max(-1)[index], rtol=1e-5)
    # and as arrays: same answers
    arrays = keras_cnns.predict(model, digits_first(8), top_k=1)
    assert [a["predictions"][0]["index"] for a in arrays] == \
        list(ev["probabilities"].argmax(-1)[:8])


def digits_first(n):
    from keras_cnns.data import digits_arrays

    return digits_arrays(32)[2][:n]


def test_predict_cli_table_json_and_csv(run, pngs, tmp_path, capsys):
    import keras_cnns

    folder, files, _, _ = pngs
    model, ckpt = copied_alone(run, tmp_path)
    j, c = tmp_path / "p.json", tmp_path / "p.csv"
    assert main(["predict", str(ckpt), str(folder / "a"), files[0], "--top-k", "2",
                 "--json", str(j), "--csv", str(c)]) == 0
    printed = capsys.readouterr().out
    records = json.loads(j.read_text())
    expected = sorted(f for f in files if f.startswith(str(folder / "a"))) + [files[0]]
    assert [r["image"] for r in records] == expected
    assert records == keras_cnns.predict(model, expected, top_k=2)
    for r in records:
        assert [set(p) for p in r["predictions"]] == [{"label", "index", "probability"}] * 2
        assert f"{r['predictions'][0]['label']} {r['predictions'][0]['probability']:.3f}" in printed
    with open(c, newline="") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(records)
    assert list(rows[0]) == ["image", "label_1", "probability_1", "index_1", "label_2",
                             "probability_2", "index_2"]
    for row, r in zip(rows, records):
        assert row["image"] == r["image"] and row["label_1"] == r["predictions"][0]["label"]
        assert float(row["probability_2"]) == pytest.approx(r["predictions"][1]["probability"],
                                                            rel=1e-5)


def test_predict_under_mixed_bfloat16_agrees_and_restores_the_policy(run, pngs, tmp_path,
                                                                     capsys):
    import keras

    _, files, _, _ = pngs
    _, ckpt = copied_alone(run, tmp_path)
    outs = {}
    for precision in ("float32", "mixed_bfloat16"):
        j = tmp_path / f"{precision}.json"
        assert main(["predict", str(ckpt), *files[:40], "--top-k", "1", "--precision",
                     precision, "--json", str(j)]) == 0
        outs[precision] = [r["predictions"][0]["label"] for r in json.loads(j.read_text())]
    agree = sum(a == b for a, b in zip(outs["float32"], outs["mixed_bfloat16"]))
    assert agree >= 38, (agree, outs)  # bf16 rounding may flip a near-tie or two
    assert keras.mixed_precision.global_policy().name == "float32"


def test_predict_cli_bad_images_fail_or_skip(run, pngs, tmp_path, capsys):
    _, files, _, _ = pngs
    folder = tmp_path / "mixed"
    folder.mkdir()
    for f in files[:3]:
        shutil.copy(f, folder)
    (folder / "broken.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    (folder / "notes.jpg").write_text("text")
    j = tmp_path / "out.json"
    assert main(["predict", str(run / "best.keras"), str(folder), "--json", str(j)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "2 bad image file(s)" in err[0]
    assert "broken.png" in err[0] and "notes.jpg" in err[0]
    assert not j.exists()
    assert main(["predict", str(run / "best.keras"), str(folder), "--json", str(j),
                 "--bad-images", "skip"]) == 0
    captured = capsys.readouterr()
    assert "broken.png" in captured.err and "skipped" in captured.err
    assert [os.path.basename(r["image"]) for r in json.loads(j.read_text())] == \
        sorted(os.path.basename(f) for f in files[:3])


def test_predict_parser_names_the_evaluation_schemes():
    from keras_cnns.cli import predict
    from keras_cnns.data import SCHEMES

    assert predict.TTA_SCHEMES == tuple(SCHEMES)


def test_predict_cli_refuses_bad_arguments(run, tmp_path, capsys):
    assert main(["predict", "lenet5", str(tmp_path)]) == 2  # no images, checked first
    assert "no image files" in capsys.readouterr().err
    (tmp_path / "x.png").write_bytes(b"")
    assert main(["predict", "lenet5", str(tmp_path / "x.png")]) == 2
    assert "no published ImageNet weights" in capsys.readouterr().err
    assert main(["predict", str(run / "best.keras"), str(tmp_path), "--top-k", "0"]) == 2
    assert "--top-k" in capsys.readouterr().err


def test_evaluate_writes_confusion_and_per_class(run, pngs, tmp_path, capsys):
    import keras

    import keras_cnns

    from keras_cnns.data import digits, evaluate_tta
    from keras_cnns.data.metrics import confusion_matrix

    target = tmp_path / "eval.json"
    assert main(["evaluate", str(run / "best.keras"), "--output", str(target)]) == 0
    printed = capsys.readouterr().out
    summary = json.loads(target.read_text())
    assert (tmp_path / "eval.confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    with open(tmp_path / "eval.per_class.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    assert [r["class"] for r in rows] == DIGIT_NAMES
    support = np.array([int(r["support"]) for r in rows])
    assert support.sum() == summary["images"] == 360
    model = keras.saving.load_model(run / "best.keras", safe_mode=True)
    ev = evaluate_tta(model, digits(32, "test"), "center", verbose=0, return_probabilities=True)
    m = confusion_matrix(ev["probabilities"], ev["labels"])
    manual = np.zeros((10, 10), int)
    for t, p in zip(ev["labels"], ev["probabilities"].argmax(-1)):
        manual[t, p] += 1
    assert np.array_equal(m, manual) and np.array_equal(m.sum(1), support)
    top1 = np.array([float(r["top1"]) for r in rows])
    np.testing.assert_allclose(top1, np.diag(m) / support, rtol=1e-5)
    assert (top1 * support).sum() / 360 == pytest.approx(summary["top1"], abs=1e-6)
    assert all(float(r["top5"]) >= float(r["top1"]) for r in rows)
    # the command's per-class top-1 is what `predict` finds on the same digits as PNG files
    _, files, index, y_test = pngs
    top1_files = np.array([r["predictions"][0]["index"]
                           for r in keras_cnns.predict(model, files, top_k=1)])
    y_files = y_test[index]
    np.testing.assert_allclose([np.mean(top1_files[y_files == c] == c) for c in range(10)],
                               top1, rtol=1e-5)
    off = m - np.diag(np.diag(m))
    t, p = np.unravel_index(off.argmax(), off.shape)
    if off.max():
        assert f"most confused (true -> predicted): {t} -> {p} ({off.max()})" in printed


def test_most_confused_part_of_many_classes(tmp_path):
    from keras_cnns.data.metrics import most_confused, most_confused_classes
    from keras_cnns.visualize import plot_confusion

    m = np.diag(np.full(40, 5))
    m[3, 7], m[7, 3], m[12, 30], m[1, 2] = 4, 2, 3, 1
    assert most_confused(m, 3) == [(3, 7, 4), (12, 30, 3), (7, 3, 2)]
    keep = most_confused_classes(m, limit=6)
    assert len(keep) == 6 and {1, 2, 3, 7, 12, 30} == set(keep)
    fig = plot_confusion(m, [f"class{i}" for i in range(40)], tmp_path / "c.png", max_classes=6)
    ax = fig.axes[0]
    assert "6 most-confused of 40" in ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()] == [f"class{i}" for i in sorted(keep)]
    assert (tmp_path / "c.png").exists()


def test_curves_mark_the_best_epoch(run, tmp_path):
    from keras_cnns.visualize import plot_history
    from keras_cnns.visualize.history import best_epoch

    history = {"loss": [1.0, 0.5, 0.4], "val_accuracy": [0.5, 0.9, 0.8]}
    assert best_epoch(history) == (1, "val_accuracy")
    fig = plot_history(history)
    panels = [ax for ax in fig.axes if ax.get_title()]
    assert len(panels) == 2
    assert all([t.get_text() for t in ax.texts] == ["best epoch 2"] for ax in panels)
    for ax in panels:
        (segment,) = [s for c in ax.collections for s in c.get_segments()]
        assert segment[0][0] == segment[1][0] == 2  # a vertical line at epoch 2
    rows = json.loads((run / "best.json").read_text())
    assert best_epoch(str(run / "history.csv"))[0] == rows["epoch"]


def test_imagenet_names_for_a_1000_class_model_without_stored_names(tmp_path):
    import keras_cnns

    model = keras_cnns.build("lenet5", classes=1000)
    meta = keras_cnns.read_run_metadata(model)
    assert meta["label_source"] == "imagenet" and meta["class_names"][0] == "tench"
    rec = keras_cnns.predict(model, digits_first(1), top_k=2)[0]["predictions"]
    assert rec[0]["label"] == meta["class_names"][rec[0]["index"]]
    # names of one's own survive a save and a safe-mode load, and label the predictions
    import keras

    own = keras_cnns.attach_run_metadata(keras_cnns.build("lenet5", classes=3),
                                         class_names=["cat", "dog", "eel"])
    own.save(tmp_path / "own.keras")
    own = keras.saving.load_model(tmp_path / "own.keras", safe_mode=True)
    labels = [p["label"] for p in keras_cnns.predict(own, digits_first(2))[1]["predictions"]]
    assert sorted(labels) == ["cat", "dog", "eel"]
    with pytest.raises(ValueError, match="class_names has 3 names"):
        keras_cnns.attach_run_metadata(keras_cnns.build("lenet5"), class_names=["a", "b", "c"])
