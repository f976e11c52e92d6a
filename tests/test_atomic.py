"""keras_cnns.atomic: what the user saved is never half-written."""

import os

import keras
import numpy as np
import pytest

from keras_cnns.atomic import atomic_dir, atomic_path, atomic_save_model, atomic_write


def test_atomic_write_replaces_whole_and_leaves_no_temp(tmp_path):
    path = tmp_path / "sub" / "results.json"
    atomic_write(path, "first\n")
    atomic_write(path, b"second\n", mode="wb")
    assert path.read_text() == "second\n"
    assert os.listdir(path.parent) == ["results.json"]
    assert (os.stat(path).st_mode & 0o777) == (0o666 & ~_umask())


def test_a_failed_write_keeps_the_previous_file(tmp_path):
    path = tmp_path / "history.csv"
    atomic_write(path, "epoch,loss\n0,1.0\n")
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_path(path) as tmp:
            with open(tmp, "w") as f:
                f.write("epoch,lo")  # half a file, then the crash
            raise RuntimeError("disk full")
    assert path.read_text() == "epoch,loss\n0,1.0\n"
    assert os.listdir(tmp_path) == ["history.csv"]


def test_atomic_save_model_round_trips(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    path = tmp_path / "m.keras"
    atomic_save_model(model, path)
    again = keras.saving.load_model(path, safe_mode=True)
    x = np.ones((1, 3), "float32")
    np.testing.assert_array_equal(model(x), again(x))
    assert os.listdir(tmp_path) == ["m.keras"]


def test_atomic_dir_swaps_whole_folders_and_cleans_up(tmp_path):
    target = tmp_path / "export"
    with atomic_dir(target) as tmp:
        (tmp_path / os.path.basename(tmp) / "a").write_text("1")
    assert sorted(os.listdir(target)) == ["a"]
    assert (os.stat(target).st_mode & 0o777) == (0o777 & ~_umask())
    with pytest.raises(RuntimeError, match="disk full"):
        with atomic_dir(target) as tmp:
            (tmp_path / os.path.basename(tmp) / "b").write_text("half")
            raise RuntimeError("disk full")
    assert sorted(os.listdir(target)) == ["a"] and os.listdir(tmp_path) == ["export"]
    with atomic_dir(target) as tmp:
        (tmp_path / os.path.basename(tmp) / "c").write_text("2")
    assert sorted(os.listdir(target)) == ["c"] and os.listdir(tmp_path) == ["export"]


def _umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def test_directory_lock_refuses_a_second_holder_and_leaves_nothing(tmp_path):
    from keras_cnns.atomic import DirectoryBusy, directory_lock

    out = tmp_path / "run"
    with directory_lock(out) as path:
        assert open(path).read().strip() == str(os.getpid())
        busy = rf"--output .* in use by another run \(pid {os.getpid()}\)"
        with pytest.raises(DirectoryBusy, match=busy):
            with directory_lock(out):
                raise AssertionError("a second holder got the lock")
        (out / "history.csv").write_text("epoch\n")
    assert os.listdir(out) == ["history.csv"]  # the lock file is gone, the run's file kept
    with directory_lock(tmp_path / "refused") as path:
        assert os.path.exists(path)
    assert not (tmp_path / "refused").exists()  # created, left empty: removed


def test_directory_lock_dies_with_its_holder(tmp_path):
    """A SIGKILLed holder leaves no stale lock: the OS drops flock locks of dead processes."""
    import signal
    import subprocess
    import sys
    import time

    from keras_cnns.atomic import directory_lock

    out = tmp_path / "run"
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time\n"
        "from keras_cnns.atomic import directory_lock\n"
        f"with directory_lock({str(out)!r}):\n"
        "    print('held', flush=True)\n"
        "    time.sleep(120)\n")], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "held"
        with pytest.raises(ValueError, match="in use"):
            with directory_lock(out):
                raise AssertionError("got the lock of a live holder")
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
    t0 = time.time()
    with directory_lock(out):
        assert time.time() - t0 < 5


def test_two_processes_started_together_one_gets_the_lock(tmp_path):
    """Two real processes race for one folder: exactly one holds it, the other is told
    the holder's pid at once."""
    import subprocess
    import sys

    out = tmp_path / "run"
    code = ("import os, sys, time\n"
            "from keras_cnns.atomic import DirectoryBusy, directory_lock\n"
            "sys.stdin.readline()\n"  # both start here, released together
            "try:\n"
            f"    with directory_lock({str(out)!r}):\n"
            "        print('held', os.getpid(), flush=True)\n"
            "        time.sleep(3)\n"
            "except DirectoryBusy as err:\n"
            "    print('busy', err, flush=True)\n")
    procs = [subprocess.Popen([sys.executable, "-c", code], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True) for _ in range(2)]
    for p in procs:
        p.stdin.write("go\n")
    for p in procs:
        p.stdin.flush()
    outs = sorted(p.communicate(timeout=60)[0].strip() for p in procs)
    assert outs[0].startswith("busy") and outs[1].startswith("held"), outs
    holder = outs[1].split()[1]
    assert f"in use by another run (pid {holder})" in outs[0]
    assert not out.exists()  # the holder created it, left it empty: removed
