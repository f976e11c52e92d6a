"""Two real worker processes on 127.0.0.1 under MultiWorkerMirroredStrategy (TF_CONFIG),
training LeNet-5 on the real digits: both finish, their weights agree, only the chief
writes the checkpoint, accuracy in line with a single worker."""

import json
import socket
import subprocess

import pytest

from tests.helpers import cli_cmd, cli_env


def free_ports(n):
    socks, ports = [], []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        socks.append(s)
        ports.append(s.getsockname()[1])
    for s in socks:
        s.close()
    return ports


def summary(stdout):
    lines = [l for l in stdout.splitlines() if l.startswith("worker-summary ")]
    assert len(lines) == 1, stdout[-3000:]
    return json.loads(lines[0].split(" ", 1)[1])


@pytest.mark.slow
def test_two_workers_train_in_sync_and_only_the_chief_writes(tmp_path):
    ports = free_ports(2)
    cluster = {"worker": [f"127.0.0.1:{p}" for p in ports]}
    args = ("train", "lenet5", "--strategy", "multi-worker", "--epochs", "2",
            "--batch-size", "64", "--seed", "0", "--verbose", "2")
    procs, outs = [], []
    for i in range(2):
        out = tmp_path / f"worker{i}"  # separate disks, as on two machines
        outs.append(out)
        env = cli_env(TF_CONFIG=json.dumps({"cluster": cluster,
                                            "task": {"type": "worker", "index": i}}))
        procs.append(subprocess.Popen(cli_cmd(*args, "--output", out), env=env, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.STDOUT))
    logs = []
    try:
        for p in procs:
            logs.append(p.communicate(timeout=420)[0])
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    for p, log in zip(procs, logs):
        assert p.returncode == 0, log[-4000:]
    chief, other = summary(logs[0]), summary(logs[1])
    assert chief["chief"] and not other["chief"]
    # Synchronous all-reduce: identical weights on both workers.
    assert chief["weights_sha256"] == other["weights_sha256"]
    assert chief["weights_abs_sum"] == pytest.approx(other["weights_abs_sum"], rel=1e-9)
    # The chief writes the checkpoints and results; the other worker writes nothing.
    for name in ("best.keras", "last.keras", "history.csv", "results.json", "curves.png"):
        assert (outs[0] / name).exists(), name
        assert not (outs[1] / name).exists(), name
    results = json.loads((outs[0] / "results.json").read_text())
    assert results["replicas"] == 2 and results["strategy"] == "multi-worker"
    assert "global batch 64 (32 per replica)" in logs[0]
    # Two epochs of the fast recipe: a single worker gets ~0.93 on the held-out digits.
    assert results["top1"] > 0.85, results
    import keras

    m = keras.saving.load_model(outs[0] / "last.keras", safe_mode=True)
    assert m.name == "lenet5"
