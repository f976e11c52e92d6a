"""Shared helpers for the training tests: run the CLI in a subprocess, bounded."""

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def cli_env(**extra):
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1",
               CUDA_VISIBLE_DEVICES="")
    env.pop("TF_CONFIG", None)
    env.update(extra)
    return env


def cli_cmd(*args):
    return [sys.executable, "-m", "keras_cnns.cli", *map(str, args)]


def run_cli(*args, timeout=240, cwd=None, env=None):
    return subprocess.run(cli_cmd(*args), capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env=env or cli_env())


def one_line_error(proc):
    """The stderr lines that are not TensorFlow / absl log noise."""
    lines = [l for l in proc.stderr.splitlines() if l.strip() and not l.startswith(
        ("WARNING: All log", "I0000", "W0000", "E0000")) and "oneDNN" not in l
        and "cpu_feature_guard" not in l and "rebuild TensorFlow" not in l
        and "AVX" not in l]
    return lines
