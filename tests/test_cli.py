"""The keras-cnns command: real subprocesses for the entry point, main() for the rest."""

import re
import subprocess
import sys

import pytest

from keras_cnns import cli


def run(*argv):
    return subprocess.run([sys.executable, "-m", "keras_cnns.cli", *argv], capture_output=True,
                          text=True, timeout=300)


def test_list_with_pattern(capsys):
    assert cli.main(["list", "googlenet*"]) == 0
    assert capsys.readouterr().out.split() == ["googlenet", "googlenet_bn",
                                               "googlenet_torchvision"]


def test_info_checks_the_built_model_against_the_reference(capsys):
    assert cli.main(["info", "googlenet"]) == 0
    out = capsys.readouterr().out
    assert "6,998,552 built, 6,998,552 reference [ok]" in out
    assert "1,582,671,872 built" in out and "MISMATCH" not in out
    assert "13,378,280" in out and "Going Deeper with Convolutions" in out


def test_summary_prints_every_layer(capsys):
    assert cli.main(["summary", "googlenet", "--image-size", "96"]) == 0
    out = capsys.readouterr().out
    assert "inception_5b" in out and "3x3x1024" in out and "total params" in out


@pytest.mark.parametrize("argv", [["--help"], ["list", "--help"], ["info", "--help"],
                                  ["summary", "--help"], ["demo", "--help"]])
def test_help_everywhere(argv):
    result = run(*argv)
    assert result.returncode == 0 and "usage:" in result.stdout


@pytest.mark.parametrize("argv, needle", [
    (["info", "googlenett"], "closest: googlenet"),
    (["summary", "googlenet", "--image-size", "8"], "minimum input size"),
    (["summary", "googlenet", "--image-size", "big"], "--image-size"),
    (["frobnicate"], "invalid choice"),
    ([], "required"),
])
def test_bad_arguments_give_one_line_and_nonzero_exit(argv, needle):
    result = run(*argv)
    assert result.returncode == 2
    # TensorFlow's C++ runtime logs at import whatever TF_CPP_MIN_LOG_LEVEL says; ours is
    # the one line left.
    tf_log = re.compile(r"^(WARNING: All log messages before absl|[IWE]\d{4} \d\d:\d\d:\d\d)")
    lines = [line for line in result.stderr.splitlines()
             if line.strip() and not tf_log.match(line)]
    assert len(lines) == 1 and needle in lines[0], result.stderr
    assert lines[0].startswith("keras-cnns")
    assert "Traceback" not in result.stderr
