"""Bad input to train / evaluate / export: exit 2, one line naming the flag, no traceback."""

import os

import pytest

from keras_cnns.cli import main

from tests.helpers import one_line_error, run_cli


def run(argv, capsys):
    code = main(argv)
    err = capsys.readouterr().err.strip().splitlines()
    return code, err


@pytest.mark.parametrize("argv, needle", [
    (["train", "nonet"], "MODEL"),
    (["train", "lenet5", "--dataset", "no_such_dataset_xyz"], "--dataset"),
    (["train", "lenet5", "--dataset", "./missing/folder"], "--dataset"),
    (["train", "lenet5", "--recipe", "nope"], "--recipe"),
    (["train", "lenet5", "--recipe", "paper"], "--recipe"),  # LeNet has no paper recipe
    (["train", "lenet5", "--image-size", "28"], "--image-size"),
    (["train", "googlenet", "--image-size", "31"], "--image-size"),
    # Activations that could never fit: the builders' estimate, before the data is resized.
    (["train", "lenet5", "--image-size", "20000"], "more than this machine's"),
    (["train", "vgg16", "--image-size", "20000"], "more than this machine's"),
    (["train", "lenet5", "--aux"], "--aux"),
    (["train", "lenet5", "--batch-size", "0"], "--batch-size"),
    (["train", "lenet5", "--batch-size", "5000"], "--batch-size"),
    (["train", "lenet5", "--cpu-replicas", "2"], "--cpu-replicas"),
    (["train", "lenet5", "--strategy", "multi-worker"], "TF_CONFIG"),
    (["evaluate", "/no/such/file.keras"], "CHECKPOINT"),
    (["export", "/no/such/file.keras", "out.tflite"], "CHECKPOINT"),
    (["export", "x.keras", "out", "--format", "pdf"], "--format"),
    (["evaluate", "x.keras", "--tta", "bogus"], "--tta"),
])
def test_bad_input_exits_2_with_one_line(argv, needle, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("TF_CONFIG", raising=False)
    code, err = run(argv + (["--output", str(tmp_path / "o")] if argv[0] == "train" else []),
                    capsys)
    assert code == 2
    assert len(err) == 1, err
    assert needle in err[0]
    assert "Traceback" not in err[0]
    assert not os.path.exists(tmp_path / "o" / "best.keras")


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 this is not a zip", b"hello world"])
@pytest.mark.parametrize("cmd", ["evaluate", "export"])
def test_corrupt_checkpoint(cmd, content, capsys, tmp_path):
    bad = tmp_path / "best.keras"
    bad.write_bytes(content)
    argv = [cmd, str(bad)] + ([str(tmp_path / "m.tflite")] if cmd == "export" else [])
    code, err = run(argv, capsys)
    assert code == 2 and len(err) == 1, err
    assert "CHECKPOINT" in err[0] and "not a loadable" in err[0]


def test_output_holding_another_models_run_is_refused(capsys, tmp_path):
    import json

    out = tmp_path / "run"
    out.mkdir()
    (out / "run.json").write_text(json.dumps({"model": "googlenet", "dataset": "digits",
                                              "image_size": 96, "aux": True, "classes": 10}))
    for extra in ([], ["--resume"]):
        code, err = run(["train", "lenet5", "--output", str(out)] + extra, capsys)
        assert code == 2 and len(err) == 1, err
        assert "--output" in err[0] and "googlenet" in err[0]
    # Same model, same settings, without --resume: refused too (would clobber it).
    (out / "run.json").write_text(json.dumps({"model": "lenet5", "dataset": "digits",
                                              "image_size": 32, "aux": False, "classes": 10}))
    code, err = run(["train", "lenet5", "--output", str(out)], capsys)
    assert code == 2 and "--resume" in err[0]


def test_batch_not_divisible_by_replicas_in_a_fresh_process(tmp_path):
    # --cpu-replicas must configure devices before TF starts: a real process.
    proc = run_cli("train", "lenet5", "--strategy", "mirrored", "--cpu-replicas", "2",
                   "--batch-size", "33", "--output", tmp_path / "o", timeout=180)
    lines = one_line_error(proc)
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert len(lines) == 1 and "--batch-size" in lines[0] and "2 replicas" in lines[0], lines


def test_a_second_run_into_a_busy_output_is_refused(tmp_path, capsys):
    """Two ``train --resume`` into one --output: the second exits 2 at once, naming the
    first's pid, and writes nothing; once the first dies (SIGKILL) the folder is free.
    The first is a real process (the lock is an flock, per process); the second runs in
    this one, another process too (a second subprocess cost ~8 s of TF import)."""
    import signal
    import subprocess
    import time

    from tests.helpers import cli_cmd, cli_env

    out = tmp_path / "run"
    first = subprocess.Popen(cli_cmd("train", "lenet5", "--dataset", "digits", "--recipe",
                                     "fast", "--epochs", "30", "--verbose", "0", "--output", out),
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=cli_env())
    try:
        deadline = time.time() + 120
        while not (out / "run.json").exists():  # written under the lock
            assert first.poll() is None and time.time() < deadline, "first run did not start"
            time.sleep(0.2)
        before = sorted(os.listdir(out))
        code, lines = run(["train", "lenet5", "--dataset", "digits", "--recipe", "fast",
                           "--resume", "--output", str(out)], capsys)
        assert code == 2, lines
        assert len(lines) == 1 and "in use by another run" in lines[0], lines
        assert f"pid {first.pid}" in lines[0]
        assert first.poll() is None  # the first run goes on
        assert set(before) <= set(os.listdir(out))
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=60)
    from keras_cnns.atomic import directory_lock

    with directory_lock(out) as path:  # a killed holder may leave the file, never the lock
        assert open(path).read().strip() == str(os.getpid())


def test_a_checkpoint_with_a_class_keras_cannot_locate_points_to_the_import(tmp_path, capsys):
    # Issue 12 section 5: the wording points to 'import keras_cnns' (which registers the
    # package's classes) when Keras cannot locate a class a checkpoint names.
    import keras
    from keras.src.saving import object_registration

    @keras.saving.register_keras_serializable(package="kc_test_unregistered")
    class Doubler(keras.layers.Layer):
        def call(self, x):
            return x * 2.0

    inputs = keras.Input((4,))
    path = tmp_path / "m.keras"
    keras.Model(inputs, Doubler()(inputs)).save(path)
    object_registration.GLOBAL_CUSTOM_OBJECTS.pop("kc_test_unregistered>Doubler")
    object_registration.GLOBAL_CUSTOM_NAMES.pop(Doubler, None)
    code, err = run(["evaluate", str(path)], capsys)
    assert code == 2 and len(err) == 1, err
    assert "is not a loadable .keras model" in err[0]
    assert "'import keras_cnns' before keras.saving.load_model" in err[0]
