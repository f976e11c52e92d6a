"""`keras-cnns train / evaluate / export` end to end on the real digits, with LeNet-5:
learning, artefacts, TTA evaluation, TFLite / ONNX / SavedModel agreement on real photos,
SIGKILL + --resume, NaN divergence."""

import contextlib
import csv
import io
import json
import os
import signal
import subprocess
import sys
import time
import types
from unittest import mock

import numpy as np
import pytest

from keras_cnns import recipes
from keras_cnns.cli import main

from tests.helpers import cli_cmd, cli_env

EPOCHS = recipes.get("fast").epochs  # the fast recipe's, used unchanged below

# The README main job: identical arguments for the uninterrupted and the killed runs.
TRAIN_ARGS = ("train", "lenet5", "--dataset", "digits", "--recipe", "fast", "--seed", "0",
              "--verbose", "2")


def run_in_process(argv):
    """``keras-cnns ARGV`` through the CLI's own ``main`` in this process (no second
    TensorFlow import, ~8 s), its stdout captured: ``(exit code, stdout)``. ``sys.argv``
    is the console script's, as the run records it in results.json's "command"."""
    buf = io.StringIO()
    argv = [str(a) for a in argv]
    with contextlib.redirect_stdout(buf), mock.patch.object(sys, "argv", ["keras-cnns", *argv]):
        code = main(argv)
    return code, buf.getvalue()


@pytest.fixture(scope="module")
def trained_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("lenet5_run")
    t0 = time.time()
    code, stdout = run_in_process([*TRAIN_ARGS, "--output", out])
    assert code == 0, stdout[-3000:]
    return out, types.SimpleNamespace(returncode=code, stdout=stdout), time.time() - t0


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
    # Issue 12: exports follow the umask like every other write (0755 / 0644 under 022),
    # not the temp files' private 0700 / 0600.
    mask = os.umask(0)
    os.umask(mask)
    assert (sm.stat().st_mode & 0o777) == 0o777 & ~mask
    assert ((sm / "saved_model.pb").stat().st_mode & 0o777) == 0o666 & ~mask
    for path in (tfl, onnx_path):
        assert (path.stat().st_mode & 0o777) == 0o666 & ~mask, path


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
    # The kill needs its own process; the resume is an ordinary run (in this process).
    code, resumed = run_in_process([*TRAIN_ARGS, "--output", out, "--resume"])
    assert code == 0, resumed[-3000:]
    assert f"resuming: {done} finished epoch(s)" in resumed
    # Keras continues at the next epoch: no finished epoch is trained again...
    assert f"Epoch {done + 1}/{EPOCHS}" in resumed
    assert f"Epoch {done}/{EPOCHS}" not in resumed
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


# --------------------------------------------------------------------------- checked exports

@pytest.mark.slow
def test_int8_export_agrees_runs_in_tflite_and_its_report_is_recomputable(trained_run, tmp_path):
    import keras

    from keras_cnns.data import digits_arrays
    from keras_cnns.data.sources import digits_split_indices
    from keras_cnns.export import fixed_size_serving_model, tflite_interpreter

    out, _, _ = trained_run
    ckpt = out / "best.keras"
    target = tmp_path / "lenet5.tflite"
    assert main(["export", str(ckpt), str(target), "--quantize", "int8",
                 "--calibration-images", "200"]) == 0
    report = json.loads((tmp_path / "lenet5.tflite.json").read_text())
    assert (report["format"], report["quantize"], report["calibration_images"]) == \
        ("tflite", "int8", 200)
    assert report["size_bytes"] == target.stat().st_size
    # Full-integer: the convolutions and dense layers run in int8, nothing in float.
    interp = tflite_interpreter(target)
    dtypes = {t["index"]: t["dtype"] for t in interp.get_tensor_details()}
    convs = [op for op in interp._get_ops_details()
             if op["op_name"] in ("CONV_2D", "FULLY_CONNECTED")]
    assert len(convs) == 5 and all(dtypes[op["inputs"][0]] == np.int8 for op in convs)
    assert report["float_ops"] == {}
    # Recompute on the validation digits the check uses (LeNet: crop fraction 1, so the
    # 32 px images as they are) with the TFLite interpreter and the Keras model.
    x_tr, y_tr, _, _ = digits_arrays(32)
    _, val = digits_split_indices()
    x_te, y_te = x_tr[val], y_tr[val]
    runner = interp.get_signature_runner("serving_default")
    got = np.concatenate([runner(images=x_te[i:i + 64])["probabilities"]
                          for i in range(0, len(x_te), 64)])
    model = keras.saving.load_model(ckpt, safe_mode=True)
    want = np.asarray(fixed_size_serving_model(model)(x_te)["probabilities"])
    agreement = float(np.mean(got.argmax(1) == want.argmax(1)))
    assert agreement >= 0.97, agreement
    assert report["images"] == len(y_te) == 216
    assert report["agreement"] == pytest.approx(agreement, abs=1e-12)
    assert report["export_top1"] == pytest.approx(np.mean(got.argmax(1) == y_te), abs=1e-12)
    assert report["keras_top1"] == pytest.approx(np.mean(want.argmax(1) == y_te), abs=1e-12)
    assert report["max_abs_prob_diff"] == pytest.approx(np.abs(got - want).max(), abs=1e-6)
    assert report["max_abs_prob_diff"] > 0  # it really is quantised


@pytest.mark.slow
@pytest.mark.parametrize("fmt, out_name", [("saved_model", "sm"), ("tflite", "m.tflite")])
def test_export_below_min_agreement_is_refused_and_leaves_nothing(trained_run, tmp_path,
                                                                  monkeypatch, capsys, fmt,
                                                                  out_name):
    from keras_cnns.export import report as report_lib

    out, _, _ = trained_run
    real = report_lib.runner

    def shifted(fmt, path, num_threads=None):  # an export that is wrong on 1 image in 20
        run = real(fmt, path, num_threads)

        def call(x):
            p = np.array(run(x))
            p[::20] = np.roll(p[::20], 1, axis=1)
            return p
        return call

    monkeypatch.setattr(report_lib, "runner", shifted)
    target = tmp_path / out_name
    assert main(["export", str(out / "best.keras"), str(target), "--format", fmt]) == 2
    err = [line for line in capsys.readouterr().err.splitlines() if line.strip()]
    assert len(err) == 1 and "export refused" in err[0] and "< min_agreement 0.99" in err[0]
    assert os.listdir(tmp_path) == []  # no export, no report, no temp files
    if fmt == "saved_model":
        return
    # The same export passes a bar it meets.
    assert main(["export", str(out / "best.keras"), str(target), "--format", fmt,
                 "--min-agreement", "0.9"]) == 0
    report = json.loads(open(report_lib.report_path(str(target), fmt)).read())
    assert 0.9 <= report["agreement"] <= 0.96 and report["min_agreement"] == 0.9

@pytest.fixture(scope="module")
def bf16_run(tmp_path_factory):
    """The trained_run's recipe and seed through the Python API, under mixed_bfloat16."""
    from keras_cnns.training.run import train

    out = tmp_path_factory.mktemp("lenet5_bf16")
    results = train("lenet5", dataset="digits", recipe="fast", seed=0, output=str(out),
                    verbose=0, precision="mixed_bfloat16")
    return out, results


@pytest.mark.slow
def test_mixed_bfloat16_run_learns_within_one_point_and_records_its_precision(
        trained_run, bf16_run):
    import keras

    out, results = bf16_run
    assert keras.mixed_precision.global_policy().name == "float32"  # no leak
    fp32 = json.loads((trained_run[0] / "results.json").read_text())
    assert fp32["precision"] == "float32" and fp32["seed"] == results["seed"] == 0
    assert json.loads((trained_run[0] / "run.json").read_text())["precision"] == "float32"
    assert json.loads((out / "results.json").read_text()) == results
    assert results["precision"] == "mixed_bfloat16"
    assert json.loads((out / "run.json").read_text())["precision"] == "mixed_bfloat16"
    assert abs(results["top1"] - fp32["top1"]) <= 0.01, (results["top1"], fp32["top1"])
    # The checkpoint keeps its policies: bfloat16 layers, float32 head and variables.
    model = keras.saving.load_model(out / "best.keras", safe_mode=True)
    assert model.get_layer("C1").compute_dtype == "bfloat16"
    assert model.layers[-1].compute_dtype == "float32"
    # --resume under another precision is refused (the backup holds the optimiser's state).
    from keras_cnns.training.run import train

    with pytest.raises(ValueError, match="--precision mixed_bfloat16"):
        train("lenet5", recipe="fast", seed=0, output=str(out), verbose=0, resume=True)


@pytest.mark.slow
def test_checkpoints_evaluate_under_another_precision(trained_run, bf16_run, capsys):
    """A bfloat16 checkpoint evaluated in float32, and a float32 one in mixed_bfloat16 and
    mixed_float16: the same weights, top-1 within a point of the run's own figure."""
    runs = {"mixed_bfloat16": bf16_run[0], "float32": trained_run[0]}
    for saved, precision in (("mixed_bfloat16", "float32"), ("float32", "mixed_bfloat16"),
                             ("float32", "mixed_float16")):
        out = runs[saved]
        target = out / f"as-{precision}.json"
        # The validation part: the images best.json's figure was measured on.
        assert main(["evaluate", str(out / "best.keras"), "--precision", precision,
                     "--split", "validation", "--output", str(target)]) == 0
        got = json.loads(target.read_text())
        assert got["precision"] == precision and got["checkpoint_precision"] == saved
        best = json.loads((out / "best.json").read_text())
        own = best.get("val_accuracy")
        assert own is not None, best
        assert abs(got["top1"] - own) <= 0.01, (saved, precision, got["top1"], own)
    import keras

    assert keras.mixed_precision.global_policy().name == "float32"
