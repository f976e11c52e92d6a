"""`keras-cnns train / evaluate / export` end to end on the real digits, with LeNet-5:
learning, artefacts, TTA evaluation, TFLite / ONNX / SavedModel agreement on real photos,
SIGKILL + --resume, NaN divergence."""

import csv
import json
import os
import signal
import subprocess
import time

import numpy as np
import pytest

from keras_cnns import recipes
from keras_cnns.cli import main

from tests.helpers import cli_cmd, cli_env

EPOCHS = recipes.get("fast").epochs  # the fast recipe's, used unchanged below

# The README main job: identical arguments for the uninterrupted and the killed runs.
TRAIN_ARGS = ("train", "lenet5", "--dataset", "digits", "--recipe", "fast", "--seed", "0",
              "--verbose", "2")


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("lenet5_run")
    t0 = time.time()
    proc = subprocess.run(cli_cmd(*TRAIN_ARGS, "--output", out), capture_output=True, text=True,
                          timeout=420, env=cli_env())
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out, proc, time.time() - t0


def history_rows(path):
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.slow
def test_lenet5_fast_recipe_learns_digits_and_writes_every_artefact(trained_run):
    out, proc, seconds = trained_run
    results = json.loads((out / "results.json").read_text())
    for key in ("model", "dataset", "epochs", "top1", "top5", "command", "val_top1",
                "test_top1", "test_top5", "best_epoch"):
        assert key in results
    assert (results["val_images"], results["test_images"]) == (216, 360)
    assert results["top1"] == results["test_top1"]
    assert "validation top-1" in proc.stdout and "test top-1" in proc.stdout
    assert results["model"] == "lenet5" and results["dataset"] == "digits"
    assert results["epochs"] == EPOCHS
    assert 0.0 <= results["top5"] <= 1.0 and results["top5"] >= results["top1"]
    assert results["top1"] >= 0.97, results  # the learning bar
    assert results["command"].startswith("keras-cnns train lenet5")
    rows = history_rows(out / "history.csv")
    assert [int(r["epoch"]) for r in rows] == list(range(EPOCHS))
    assert {"loss", "accuracy", "val_loss", "val_accuracy", "top5"} <= set(rows[0])
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])
    assert (out / "curves.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert any(f.startswith("events") for _, _, fs in os.walk(out / "logs") for f in fs)
    import keras

    for name in ("best.keras", "last.keras"):
        m = keras.saving.load_model(out / name, safe_mode=True)
        assert m.name == "lenet5" and m.outputs[0].shape[-1] == 10
    assert not [f for f in os.listdir(out) if f.startswith(".")]  # no temp files left
    assert f"Epoch {EPOCHS}/{EPOCHS}" in proc.stdout


@pytest.mark.slow
def test_evaluate_writes_json_beside_the_checkpoint(trained_run, capsys):
    out, _, _ = trained_run
    results = json.loads((out / "results.json").read_text())
    assert main(["evaluate", str(out / "best.keras"), "--dataset", "digits",
                 "--tta", "center"]) == 0
    printed = capsys.readouterr().out
    assert "top-1" in printed
    got = json.loads((out / "best.evaluate-digits-test-center.json").read_text())
    assert got["images"] == 360 and got["tta"] == "center" and got["split"] == "test"
    # LeNet's crop fraction is 1: the centre view is exactly the training-time eval view,
    # and train scored the test part with best.keras.
    assert got["top1"] == pytest.approx(results["test_top1"], abs=1e-9)
    target = out / "ten.json"
    assert main(["evaluate", str(out / "last.keras"), "--tta", "alexnet-10",
                 "--output", str(target)]) == 0
    ten = json.loads(target.read_text())
    assert ten["crops_per_image"] == 10 and 0.5 < ten["top1"] <= 1.0


def keras_reference(model, images):
    import keras_cnns

    x = keras_cnns.preprocessing(model)(images)
    return np.asarray(keras_cnns.inference_model(model)(x, training=False))


@pytest.mark.slow
def test_export_formats_agree_with_keras_on_real_photos(trained_run, photos, tmp_path):
    import keras
    import tensorflow as tf

    out, _, _ = trained_run
    ckpt = out / "best.keras"
    model = keras.saving.load_model(ckpt, safe_mode=True)
    batch = np.stack(photos)
    # TFLite / ONNX take images at the model's input size (32x32 for LeNet).
    small = tf.cast(tf.round(tf.image.resize(batch.astype("float32"), (32, 32),
                                             antialias=True)), tf.uint8).numpy()
    ref_small = keras_reference(model, small)
    ref_full = keras_reference(model, batch)
    assert np.allclose(ref_small.sum(-1), 1.0, atol=1e-5)

    sm = tmp_path / "sm"
    assert main(["export", str(ckpt), str(sm), "--format", "saved_model"]) == 0
    sig = tf.saved_model.load(str(sm)).signatures["serving_default"]
    got = sig(images=tf.constant(batch))["probabilities"].numpy()
    np.testing.assert_allclose(got, ref_full, rtol=1e-4, atol=1e-6)

    tfl = tmp_path / "m.tflite"
    assert main(["export", str(ckpt), str(tfl)]) == 0  # format from the suffix
    interp = tf.lite.Interpreter(model_path=str(tfl))
    runner = interp.get_signature_runner("serving_default")
    got = runner(images=small)["probabilities"]
    np.testing.assert_allclose(got, ref_small, rtol=1e-4, atol=1e-6)

    pytest.importorskip("onnxruntime")
    onnx_path = tmp_path / "m.onnx"
    assert main(["export", str(ckpt), str(onnx_path), "--format", "onnx"]) == 0
    import onnxruntime as ort

    sess = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    assert [i.name for i in sess.get_inputs()] == ["images"]
    got = sess.run(["probabilities"], {"images": small})[0]
    np.testing.assert_allclose(got, ref_small, rtol=1e-4, atol=1e-6)
    # An existing OUT is refused without --overwrite.
    assert main(["export", str(ckpt), str(onnx_path), "--format", "onnx"]) == 2


@pytest.mark.slow
def test_sigkill_mid_epoch_then_resume_loses_and_repeats_no_epoch(trained_run, tmp_path):
    out = tmp_path / "killed"
    cmd = cli_cmd(*TRAIN_ARGS, "--output", out)
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            env=cli_env())
    try:
        deadline = time.time() + 300
        while len(history_rows(out / "history.csv")) < 3:
            assert proc.poll() is None, proc.stdout.read()[-3000:]
            assert time.time() < deadline, "training did not reach epoch 3"
            time.sleep(0.05)
        time.sleep(0.3)  # into the next epoch
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    first_log = proc.stdout.read()
    assert proc.returncode == -signal.SIGKILL
    meta = json.loads((out / "backup" / "training_metadata.json").read_text())
    done = meta["epoch"]
    assert 3 <= done < EPOCHS, first_log[-2000:]
    resumed = subprocess.run(cmd + ["--resume"], capture_output=True, text=True, timeout=300,
                             env=cli_env())
    assert resumed.returncode == 0, resumed.stdout[-3000:] + resumed.stderr[-3000:]
    assert f"resuming: {done} finished epoch(s)" in resumed.stdout
    # Keras continues at the next epoch: no finished epoch is trained again...
    assert f"Epoch {done + 1}/{EPOCHS}" in resumed.stdout
    assert f"Epoch {done}/{EPOCHS}" not in resumed.stdout
    # ...and none is lost: one history row per epoch, 0..9.
    assert [int(r["epoch"]) for r in history_rows(out / "history.csv")] == list(range(EPOCHS))
    results = json.loads((out / "results.json").read_text())
    reference = json.loads((trained_run[0] / "results.json").read_text())
    assert results["epochs"] == EPOCHS
    assert abs(results["top1"] - reference["top1"]) <= 0.02, (results["top1"], reference["top1"])


def test_nan_loss_stops_with_a_clear_message_and_keeps_the_last_good_checkpoint(
        tmp_path, capsys, monkeypatch):
    import keras
    import tensorflow as tf

    import keras_cnns.data as data

    real = data.train_pipeline

    def poisoned(*args, **kwargs):
        ds = real(*args, **kwargs)
        # 1221 // 64 = 19 steps per epoch: epoch 1 is clean, epoch 2 turns to NaN.
        return ds.enumerate().map(
            lambda i, b: (tf.where(i >= 30, tf.fill(tf.shape(b[0]), np.nan), b[0]), b[1]))

    monkeypatch.setattr(data, "train_pipeline", poisoned)
    out = tmp_path / "nan"
    code = main(["train", "lenet5", "--epochs", "3", "--batch-size", "64", "--verbose", "0",
                 "--output", str(out)])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert len(err) == 1 and "diverged" in err[0] and "epoch 2" in err[0], err
    assert "last.keras" in err[0]
    assert [int(r["epoch"]) for r in history_rows(out / "history.csv")] == [0]
    m = keras.saving.load_model(out / "last.keras", safe_mode=True)
    assert all(np.isfinite(w).all() for w in m.get_weights())
    meta = json.loads((out / "backup" / "training_metadata.json").read_text())
    assert meta["epoch"] == 1  # the NaN epoch is never backed up
    assert not (out / "results.json").exists()


def test_mirrored_over_two_logical_cpus(tmp_path):
    out = tmp_path / "mirrored"
    proc = subprocess.run(cli_cmd("train", "lenet5", "--strategy", "mirrored",
                                  "--cpu-replicas", "2", "--epochs", "2", "--batch-size", "64",
                                  "--verbose", "2", "--output", out),
                          capture_output=True, text=True, timeout=300, env=cli_env())
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "mirrored over" in proc.stdout and "CPU:1" in proc.stdout
    assert "global batch 64 (32 per replica)" in proc.stdout
    results = json.loads((out / "results.json").read_text())
    assert results["replicas"] == 2 and results["top1"] > 0.8
    assert (out / "best.keras").exists() and (out / "last.keras").exists()
