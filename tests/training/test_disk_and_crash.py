"""Issue 12, section 3: a full or read-only disk gives one line and exit 2 with the temp
file gone and the previous checkpoint kept; a kill between any two writes leaves best
and history agreeing after --resume; our own stale temp files are swept; export and tune
hold a lock too. LeNet-5 on digits, in-process where possible."""

import csv
import errno
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from keras_cnns import atomic
from keras_cnns.cli import main

ENOSPC = OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _enospc(*args, **kwargs):
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def _no_temp_left(folder):
    return [f for f in os.listdir(folder) if f.startswith(".") and f != ".lock"]


@pytest.fixture(scope="module")
def tiny_model():
    import keras_cnns

    return keras_cnns.build("lenet5", classes=3)


# --------------------------------------------------------------------------- each writer

def test_each_writer_turns_enospc_into_one_line_and_keeps_the_old_file(tmp_path, tiny_model,
                                                                       monkeypatch):
    from keras_cnns.training.callbacks import AtomicBackupAndRestore

    target = tmp_path / "history.csv"
    atomic.atomic_write(target, "old\n")

    def full_disk_write(path, mode="w"):
        def writer():
            with atomic.atomic_path(path) as tmp:
                with open(tmp, mode) as f:
                    f.write("half")
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return writer

    writers = {"atomic_write": full_disk_write(target)}

    def save_half(self, path, *a, **k):
        with open(path, "wb") as f:
            f.write(b"PK\x03\x04 half a zip")
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def model_writer():
        import keras

        monkeypatch.setattr(keras.Model, "save", save_half)
        try:
            atomic.atomic_save_model(tiny_model, tmp_path / "best.keras")
        finally:
            monkeypatch.undo()

    atomic.atomic_save_model(tiny_model, tmp_path / "best.keras")
    before = (tmp_path / "best.keras").read_bytes()
    writers["atomic_save_model"] = model_writer

    def dir_writer():
        with atomic.atomic_dir(tmp_path / "savedmodel") as tmp:
            open(os.path.join(tmp, "saved_model.pb"), "w").write("half")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    (tmp_path / "savedmodel").mkdir()
    (tmp_path / "savedmodel" / "saved_model.pb").write_text("old")
    writers["atomic_dir"] = dir_writer

    backup = AtomicBackupAndRestore(str(tmp_path / "backup"))
    backup.set_model(tiny_model)
    backup._current_epoch = 1
    backup._save_model()  # epoch 1 committed

    def backup_writer():
        import keras

        def half(self, path, *a, **k):
            open(path, "wb").write(b"\x89HDF half")
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

        monkeypatch.setattr(keras.Model, "save_weights", half)
        try:
            backup._current_epoch = 2
            backup._save_model()
        finally:
            monkeypatch.undo()

    writers["backup weights"] = backup_writer
    for name, writer in writers.items():
        with pytest.raises(atomic.WriteFailed, match="No space left on device") as info:
            writer()
        assert len(str(info.value).splitlines()) == 1 and "cannot write " in str(info.value)
        assert not _no_temp_left(tmp_path), name
    assert target.read_text() == "old\n"
    assert (tmp_path / "best.keras").read_bytes() == before
    assert (tmp_path / "savedmodel" / "saved_model.pb").read_text() == "old"
    assert os.listdir(tmp_path / "backup") == ["epoch-00001.weights.h5",
                                               "training_metadata.json"] or sorted(
        os.listdir(tmp_path / "backup")) == ["epoch-00001.weights.h5", "training_metadata.json"]
    assert json.loads((tmp_path / "backup" / "training_metadata.json").read_text())["epoch"] == 1
    assert not _no_temp_left(tmp_path / "backup")


# --------------------------------------------------------------------------- train, in-process

def rows(out):
    with open(out / "history.csv", newline="") as f:
        return list(csv.DictReader(f))


TRAIN = ["train", "lenet5", "--batch-size", "128", "--verbose", "0"]


def test_enospc_mid_run_exits_2_and_resume_continues(tmp_path, capsys, monkeypatch):
    from keras_cnns.training import callbacks

    out = tmp_path / "run"
    real = callbacks.AtomicBackupAndRestore._save_model

    def full_at_epoch_2(self):
        if self._current_epoch == 2:
            import keras

            monkeypatch.setattr(keras.Model, "save_weights", lambda *a, **k: _enospc())
        return real(self)

    monkeypatch.setattr(callbacks.AtomicBackupAndRestore, "_save_model", full_at_epoch_2)
    assert main([*TRAIN, "--epochs", "3", "--output", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "backup/epoch-00002.weights.h5" in err[0], err
    assert "No space left on device" in err[0]
    assert not _no_temp_left(out) and not _no_temp_left(out / "backup")
    meta = json.loads((out / "backup" / "training_metadata.json").read_text())
    assert meta["epoch"] == 1  # epoch 1 intact
    monkeypatch.undo()
    assert main([*TRAIN, "--epochs", "3", "--output", str(out), "--resume"]) == 0
    assert [int(r["epoch"]) for r in rows(out)] == [0, 1, 2]


def test_unwritable_output_is_refused_before_any_work(tmp_path, capsys, monkeypatch):
    from keras_cnns.training import run as run_lib

    def no_work(*a, **k):
        raise AssertionError("data was read for an unwritable --output")

    monkeypatch.setattr(run_lib, "resolve_dataset", no_work)
    real = atomic.tempfile.mkstemp

    def read_only(*a, dir=None, **k):
        if str(dir).startswith(str(tmp_path / "ro")):
            raise OSError(errno.EROFS, os.strerror(errno.EROFS))
        return real(*a, dir=dir, **k)

    monkeypatch.setattr(atomic.tempfile, "mkstemp", read_only)
    (tmp_path / "ro").mkdir()
    assert main([*TRAIN, "--output", str(tmp_path / "ro" / "run")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "not writable: Read-only file system" in err[0]
    assert main(["evaluate", __file__, "--output", str(tmp_path / "ro" / "r.json")]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "Read-only file system" in err[0]
    assert main([*TRAIN, "--output", ""]) == 2
    assert "--output must name a folder" in capsys.readouterr().err
    assert main([*TRAIN, "--resume", "--overwrite", "--output", str(tmp_path / "x")]) == 2
    assert "--resume and --overwrite" in capsys.readouterr().err


class Killed(BaseException):
    """A SIGKILL stand-in: nothing catches it, no finally-block write runs after it."""


def _kill_after(monkeypatch, n):
    """Raise Killed instead of the (n+1)-th atomic commit (os.replace) of the run."""
    real = os.replace
    count = {"n": 0}

    def replace(src, dst):
        if count["n"] == n:
            raise Killed(dst)
        count["n"] += 1
        return real(src, dst)

    monkeypatch.setattr(atomic.os, "replace", replace)
    return count


def _consistent(out):
    history = rows(out)
    best = json.loads((out / "best.json").read_text())
    vals = [float(r["val_accuracy"]) for r in history]
    assert [int(r["epoch"]) for r in history] == list(range(len(history)))
    assert vals[best["epoch"]] == pytest.approx(best["val_accuracy"], abs=1e-7)
    # The first epoch reaching the maximum; equal accuracies go to the lower val_loss.
    losses = [float(r.get("val_loss") or 0.0) for r in history]
    assert best["epoch"] == max(range(len(vals)), key=lambda i: (vals[i], -losses[i], -i))
    return best


def _epoch_callbacks(out, model, initial):
    from keras_cnns.training import callbacks as cb

    ck = cb.AtomicCheckpoint(str(out), monitor="val_accuracy", mode="max")
    hist = cb.HistoryCSV(str(out / "history.csv"), initial)
    backup = cb.AtomicBackupAndRestore(str(out / "backup"), checkpoint=ck)
    for c in (ck, hist, backup):
        c.set_model(model)
    return ck, hist, backup


VALS = [0.5, 0.7, 0.6]  # epoch 2 improves, epoch 3 does not
WRITES = 6  # an improving epoch: last.keras, best.keras, best.json, history, weights, commit


def test_a_kill_between_any_two_writes_leaves_best_and_history_agreeing(tmp_path, tiny_model,
                                                                       monkeypatch):
    """The epoch protocol of train(), its callbacks in train()'s order, driven directly:
    a kill before each write of epochs 2 and 3, then a resume (restore, then the
    epochs not committed run again, their weights and numbers different)."""
    model = tiny_model
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    w0 = [w.copy() for w in model.get_weights()]

    def run_epochs(out, start, vals, salt):
        ck, hist, backup = _epoch_callbacks(out, model, start)
        backup.on_train_begin()
        for epoch in range(start, len(vals)):
            model.set_weights([w + salt + epoch for w in w0])  # this attempt's weights
            logs = {"loss": 1.0 - vals[epoch], "val_accuracy": vals[epoch] + salt}
            for c in (ck, hist, backup):
                c.on_epoch_end(epoch, logs)

    for n in range(WRITES, WRITES + WRITES + 4):  # every write of epochs 2 and 3
        out = tmp_path / f"kill{n}"
        _kill_after(monkeypatch, n)
        with pytest.raises(Killed):
            run_epochs(out, 0, VALS, 0.0)
        monkeypatch.undo()
        done = json.loads((out / "backup" / "training_metadata.json").read_text())["epoch"]
        run_epochs(out, done, VALS, 0.01)  # the resumed attempt differs a little
        best = _consistent(out)
        # best.keras holds the weights of the epoch best.json names, from whichever
        # attempt history.csv recorded.
        salt = 0.0 if best["epoch"] < done else 0.01
        got = atomic_load_weights(out / "best.keras")
        np.testing.assert_allclose(got[0], w0[0] + salt + best["epoch"], rtol=0, atol=1e-6)
        assert len(rows(out)) == 3


def atomic_load_weights(path):
    import keras

    return keras.saving.load_model(path, safe_mode=True).get_weights()


@pytest.mark.slow
def test_train_killed_after_best_json_then_resumed_agrees(tmp_path, monkeypatch, capsys):
    """The case the issue saw: killed after epoch 2's best.json, before its commit.
    (Also: the banner and run.json show the settings in effect, --epochs 2 included.)"""
    out = tmp_path / "run"
    _kill_after(monkeypatch, 1 + 6 + 3)  # run.json, epoch 1, then last/best.keras/best.json
    with pytest.raises(Killed):
        main([*TRAIN, "--epochs", "2", "--output", str(out)])
    monkeypatch.undo()
    capsys.readouterr()
    assert main([*TRAIN[:-1], "2", "--epochs", "2", "--output", str(out), "--resume"]) == 0
    banner = capsys.readouterr().out
    assert "batch 128, 2 epochs" in banner and "adam lr 0.002" in banner
    run = json.loads((out / "run.json").read_text())
    assert (run["epochs"], run["batch_size"], run["learning_rate"]) == (2, 128, 0.002)
    best = _consistent(out)
    got = json.loads((out / "results.json").read_text())
    assert got["val_top1"] == pytest.approx(best["val_accuracy"], abs=1e-6)
    assert got["best_epoch"] == best["epoch"] + 1


def test_stale_temp_files_of_our_writers_are_swept_and_nothing_else(tmp_path):
    from keras_cnns.training.run import sweep_run_temp_files

    out = tmp_path / "run"
    (out / "backup").mkdir(parents=True)
    ours = [out / ".best.keras.k3j_x9ab.keras", out / ".history.csv.a1b2c3d4.tmp",
            out / "backup" / ".epoch-00003.weights.h5.zz99yy88.weights.h5",
            out / "backup" / ".training_metadata.json.q1w2e3r4.tmp"]
    theirs = [out / ".config.settings", out / ".gitignore", out / "notes.txt",
              out / ".history.csv.backup", out / "backup" / ".epoch-3.weights.h5.abcdefgh"]
    for p in ours + theirs:
        p.write_text("x")
    removed = sweep_run_temp_files(str(out))
    assert sorted(removed) == sorted(map(str, ours))
    assert all(p.exists() for p in theirs)


def test_export_and_tune_refuse_a_busy_target(tmp_path, capsys):
    target = tmp_path / "model.tflite"
    with atomic.directory_lock(tmp_path, "OUT", lock_name=".model.tflite.lock"):
        assert main(["export", __file__, str(target)]) == 2
    err = capsys.readouterr().err
    assert f"OUT {str(target)!r} is in use by another run (pid {os.getpid()})" in err
    with atomic.directory_lock(tmp_path / "tune" / "lenet5", "--directory"):
        assert main(["tune", "lenet5", "--directory", str(tmp_path / "tune"),
                     "--max-trials", "1"]) == 2
    assert "is in use by another run" in capsys.readouterr().err


# --------------------------------------------------------------------------- a real full disk

@pytest.fixture
def small_tmpfs(tmp_path):
    mnt = tmp_path / "mnt"
    mnt.mkdir()
    proc = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1200k", "tmpfs", str(mnt)],
                          capture_output=True, text=True)
    if proc.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr.strip()}")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


@pytest.mark.slow
def test_a_real_full_disk_ends_with_one_line_not_a_crash(small_tmpfs, capsys):
    """The disk is real (a 1.2 MB tmpfs); the command runs in this process (a subprocess
    cost ~8 s of TF import): exit 2, one line on stderr, no traceback."""
    out = small_tmpfs / "run"
    code = main([*TRAIN, "--epochs", "3", "--output", str(out)])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.strip()]
    assert code == 2, err[-3000:]
    assert len(lines) == 1 and "No space left on device" in lines[0], lines
    assert "Traceback" not in err
    assert not _no_temp_left(out)
    if (out / "backup").exists():
        assert not _no_temp_left(out / "backup")
        meta = out / "backup" / "training_metadata.json"
        if meta.exists():  # the committed epoch's weights are whole
            import keras_cnns

            m = keras_cnns.build("lenet5")
            m.load_weights(out / "backup" / json.loads(meta.read_text())["weights"])
    assert sys.platform.startswith("linux")


def test_tune_on_a_full_disk_exits_2_with_one_line_and_no_truncated_checkpoint(
        tmp_path, capsys, monkeypatch):
    """keras-tuner records a failing trial and goes on; a full disk must end the search."""
    import keras

    monkeypatch.setattr(keras.Model, "save_weights", lambda self, path, *a, **k: (
        open(path, "wb").write(b"\x89HDF half"), _enospc()))
    directory = tmp_path / "tune"
    assert main(["tune", "lenet5", "--max-trials", "2", "--epochs", "1", "--steps-per-epoch",
                 "2", "--validation-steps", "1", "--quiet", "--directory", str(directory)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "checkpoint.weights.h5" in err[0], err
    assert "No space left on device" in err[0]
    left = [os.path.join(d, f) for d, _, fs in os.walk(directory) for f in fs
            if f.startswith(".") or f == "checkpoint.weights.h5"]
    assert left == []  # neither a temp file nor a truncated checkpoint
