"""keras-tuner's chief / worker mode with real processes on 127.0.0.1: one chief, two
workers, real digits. Trials are shared (none runs twice), every process exits, and
the results are readable afterwards."""

import os
import socket
import subprocess
import sys
import time

import keras
import pytest

import tuning

TRIALS = 6
TIMEOUT = 420


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.slow
def test_chief_and_two_workers_share_the_trials(tmp_path):
    port = _free_port()
    cmd = [sys.executable, "-m", "tuning", "lenet5", "--max-trials", str(TRIALS), "--epochs",
           "1", "--batch-size", "64", "--directory", str(tmp_path), "--seed", "0", "--quiet"]
    base = {k: v for k, v in os.environ.items() if not k.startswith("KERASTUNER_")}
    base.update(TF_CPP_MIN_LOG_LEVEL="3", KERASTUNER_ORACLE_IP="127.0.0.1",
                KERASTUNER_ORACLE_PORT=str(port), KERAS_CNNS_ORACLE_TIMEOUT="240")
    logs, procs = {}, {}
    # Workers first: they wait for the chief, so both are there when trials start.
    for tuner_id in ("tuner0", "tuner1", "chief"):
        logs[tuner_id] = open(tmp_path / f"{tuner_id}.log", "w+")
        procs[tuner_id] = subprocess.Popen(cmd, env={**base, "KERASTUNER_TUNER_ID": tuner_id},
                                           stdout=logs[tuner_id], stderr=subprocess.STDOUT)
    deadline = time.time() + TIMEOUT
    try:
        for tuner_id, proc in procs.items():
            proc.wait(max(1.0, deadline - time.time()))
    except subprocess.TimeoutExpired:
        pass  # the processes still running are killed and reported just below
    finally:
        hung = [t for t, p in procs.items() if p.poll() is None]
        for t in hung:
            procs[t].kill()
            procs[t].wait(30)
    output = {}
    for tuner_id, f in logs.items():
        f.seek(0)
        output[tuner_id] = f.read()
        f.close()
    assert not hung, f"did not exit: {hung}\n" + "\n".join(
        f"--- {t}\n{output[t][-2000:]}" for t in hung)
    for tuner_id, proc in procs.items():
        assert proc.returncode == 0, f"{tuner_id}:\n{output[tuner_id][-3000:]}"

    project = os.path.join(tmp_path, "lenet5")
    table = tuning.load_results(project)
    assert len(table) == TRIALS and all(r["status"] == "COMPLETED" for r in table)
    runs = {}
    for row in table:
        with open(os.path.join(project, f"trial_{row['trial_id']}", "runs.log")) as f:
            lines = f.read().splitlines()
        assert len(lines) == 1, f"trial {row['trial_id']} ran {len(lines)} times: {lines}"
        runs[row["trial_id"]] = lines[0].split()[0]
    assert set(runs.values()) == {"tuner0", "tuner1"}, runs  # shared, not one worker alone
    assert "chief" not in runs.values()
    # The chief wrote the results; they load.
    with open(os.path.join(project, "trials.csv")) as f:
        assert len(f.read().splitlines()) == TRIALS + 1
    model = keras.saving.load_model(os.path.join(project, "best.keras"), safe_mode=True)
    assert model.count_params() == table.best["params"]
    assert "Trials (val_accuracy, maximise)" in output["chief"]
    assert "done; the chief writes the results" in output["tuner0"]
