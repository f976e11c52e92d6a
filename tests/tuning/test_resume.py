"""Resume with real processes: SIGKILL during a trial, run the same command again; a
finished search run again trains nothing."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

import tuning

TRIALS = 4
TIMEOUT = 300


def _cmd(directory):
    return [sys.executable, "-m", "tuning", "lenet5", "--max-trials", str(TRIALS),
            "--epochs", "1", "--batch-size", "64", "--directory", str(directory),
            "--seed", "0", "--quiet"]


def _env():
    env = {k: v for k, v in os.environ.items() if not k.startswith("KERASTUNER_")}
    env["TF_CPP_MIN_LOG_LEVEL"] = "3"
    return env


def _trials(project):
    out = {}
    for name in os.listdir(project) if os.path.isdir(project) else []:
        path = os.path.join(project, name, "trial.json")
        if name.startswith("trial_") and os.path.exists(path):
            try:
                with open(path) as f:
                    out[name] = json.load(f)
            except ValueError:  # never: the files are written atomically
                raise AssertionError(f"{path} is not valid JSON")
    return out


def _runs(project, trial):
    path = os.path.join(project, trial, "runs.log")
    if not os.path.exists(path):
        return 0
    with open(path) as f:
        return len(f.read().splitlines())


@pytest.mark.slow
def test_sigkill_during_a_trial_then_resume_then_nothing_to_do(tmp_path, capsys, monkeypatch):
    project = os.path.join(tmp_path, "lenet5")
    proc = subprocess.Popen(_cmd(tmp_path), env=_env(), stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + TIMEOUT
    try:
        # Kill once a trial has finished and the next one is running.
        while time.time() < deadline:
            trials = _trials(project)
            done = {k for k, t in trials.items() if t["status"] == "COMPLETED"}
            # RUNNING is on disk a moment before the trial logs its start in runs.log:
            # kill only once it has started, so that the trial must run a second time.
            running = {k for k, t in trials.items()
                       if t["status"] == "RUNNING" and _runs(project, k) >= 1}
            if done and running:
                break
            assert proc.poll() is None, "the search ended before it could be killed"
            time.sleep(0.05)
        else:
            pytest.fail("no trial finished in time")
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    before = {k: t for k, t in _trials(project).items() if t["status"] == "COMPLETED"}
    killed = {k for k, t in _trials(project).items() if t["status"] == "RUNNING"}
    assert before and killed

    result = subprocess.run(_cmd(tmp_path), env=_env(), capture_output=True, text=True,
                            timeout=TIMEOUT)
    assert result.returncode == 0, result.stderr[-3000:]
    after = _trials(project)
    assert len(after) == TRIALS and all(t["status"] == "COMPLETED" for t in after.values())
    for k, t in before.items():  # finished trials: kept, not re-run
        assert after[k] == t
        assert _runs(project, k) == 1
    for k in killed:  # the interrupted trial ran again, to the end
        assert _runs(project, k) == 2
    table = tuning.load_results(project)
    assert len(table) == TRIALS and all(r["params"] for r in table)
    assert os.path.exists(os.path.join(project, "best.keras"))
    with open(os.path.join(project, "trials.csv")) as f:
        assert len(f.read().splitlines()) == TRIALS + 1

    # A finished search: nothing trains, nothing changes. The same command in this
    # process (the kill and the resume above are the real processes; a third one cost
    # ~8 s of TF import).
    from tuning.__main__ import main as tuning_main

    for key in [k for k in os.environ if k.startswith("KERASTUNER_")]:
        monkeypatch.delenv(key)
    stamps = {k: os.path.getmtime(os.path.join(project, k, "trial.json")) for k in after}
    capsys.readouterr()
    assert tuning_main(_cmd(tmp_path)[3:]) == 0
    again = capsys.readouterr()
    assert "Running Trial" not in again.out and "step" not in again.out, again.out
    assert "Trials (val_accuracy, maximise)" in again.out, again.out
    assert _trials(project) == after
    assert stamps == {k: os.path.getmtime(os.path.join(project, k, "trial.json"))
                      for k in after}
    assert sum(_runs(project, k) for k in after) == TRIALS + len(killed)
