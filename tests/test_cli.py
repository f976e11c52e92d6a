"""The keras-cnns command: real subprocesses for the entry point, main() for the rest."""

import ast
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

import keras_cnns
from keras_cnns import cli
from tests.helpers import cli_env

CLI_DIR = os.path.dirname(cli.__file__)


def run(*argv, env=None):
    return subprocess.run([sys.executable, "-m", "keras_cnns.cli", *argv], capture_output=True,
                          text=True, timeout=300, env=env)


def test_list_names_with_pattern(capsys):
    assert cli.main(["list", "googlenet*", "--names"]) == 0
    assert capsys.readouterr().out.split() == ["googlenet", "googlenet_bn",
                                               "googlenet_torchvision"]


def test_list_describes_each_entry_on_one_line(capsys):
    import keras_cnns

    assert cli.main(["list"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == keras_cnns.available_models()
    by_name = {line.split()[0]: line for line in lines}
    # Families, years and counts of REFERENCE.md; pretrained sources as docs/pretrained.md
    # lists them (keras.applications files; torchvision conversions).
    assert re.search(r"\bvgg, 2014, 138\.4M params, input 224x224x3, pretrained: imagenet "
                     r"\(keras\.applications\), torchvision vgg16\b", by_name["vgg16"])
    assert re.search(r"\bgooglenet, 2014, 7\.0M params, input 224x224x3$",
                     by_name["googlenet"])
    assert re.search(r"\blenet, 1998, 61\.7K params, input 32x32x1$", by_name["lenet5"])
    assert "pretrained: torchvision resnet18 " in by_name["resnet18"]
    assert "imagenet" not in by_name["resnet18"]
    assert "pretrained: imagenet (keras.applications)" in by_name["inception_v3"]
    assert "torchvision inception_v3 " in by_name["inception_v3_torchvision"]
    assert "pretrained" not in by_name["resnext101_32x4d"]


def test_list_json_is_the_full_metadata(capsys):
    import keras_cnns

    assert cli.main(["list", "--json", "densenet*"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert [r["name"] for r in records] == keras_cnns.available_models("densenet*")
    assert records[0]["name"] == "densenet121"
    d121 = records[0]
    info = keras_cnns.model_info("densenet121")
    import dataclasses

    assert set(d121) == {f.name for f in dataclasses.fields(info)} | {"pretrained"}
    assert d121["params"] == 8_062_504 and d121["year"] == 2016
    assert d121["default_input_shape"] == [224, 224, 3]
    assert d121["preprocessing"]["mode"] == info.preprocessing.mode
    assert d121["stage_outputs"] == list(info.stage_outputs)
    assert d121["pretrained"] == ["imagenet (keras.applications)",
                                  "torchvision densenet121 (keras-cnns convert)"]


def test_info_prints_the_reference_without_building(capsys):
    assert cli.main(["info", "googlenet"]) == 0
    out = capsys.readouterr().out
    assert "6,998,552 reference" in out and "1,582,671,872 reference" in out
    assert "built" not in out
    assert "13,378,280" in out and "Going Deeper with Convolutions" in out


def test_info_check_compares_the_built_model_with_the_reference(capsys):
    assert cli.main(["info", "googlenet", "--check"]) == 0
    out = capsys.readouterr().out
    assert "6,998,552 built, 6,998,552 reference [ok]" in out
    assert "1,582,671,872 built" in out and "MISMATCH" not in out


def test_summary_prints_every_layer(capsys):
    assert cli.main(["summary", "googlenet", "--image-size", "96"]) == 0
    out = capsys.readouterr().out
    assert "inception_5b" in out and "3x3x1024" in out and "total params" in out


def test_evaluate_tta_choices_are_the_librarys():
    from keras_cnns.cli.evaluate import TTA_SCHEMES
    from keras_cnns.data import SCHEMES

    assert TTA_SCHEMES == SCHEMES


@pytest.mark.parametrize("argv", [["--help"], ["list", "--help"], ["info", "--help"],
                                  ["summary", "--help"], ["demo", "--help"]])
def test_help_everywhere(argv):
    result = run(*argv)
    assert result.returncode == 0 and "usage:" in result.stdout


def test_version():
    import keras_cnns

    result = run("--version")
    assert result.returncode == 0
    assert result.stdout.strip() == f"keras-cnns {keras_cnns.__version__}"


# The metadata commands and every --help run with an import hook that refuses TensorFlow
# and Keras and records who asked for them.
_NO_TF_SCRIPT = textwrap.dedent("""
    import json, sys, traceback

    BLOCKED = ("tensorflow", "keras", "tf_keras")
    attempts = []

    class Refuse:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                stack = [f"{f.filename}:{f.lineno}" for f in traceback.extract_stack()
                         if "importlib" not in f.filename and f.filename != __file__]
                attempts.append({"module": name, "stack": stack[-6:]})
                raise ImportError(f"import of {name} refused by the test")
            return None

    sys.meta_path.insert(0, Refuse())
    report = {}
    try:
        from keras_cnns.cli import build_parser, main
        commands = list(build_parser()._subparsers._group_actions[0].choices)
    except BaseException as err:
        print(json.dumps({"import keras_cnns.cli": {"error": repr(err),
                                                    "attempts": attempts}}))
        sys.exit(0)
    argvs = [["--help"], ["--version"], ["list"], ["list", "--json"], ["list", "vgg*"],
             ["info", "googlenet"], ["info", "resnet50"]] + [[c, "--help"] for c in commands]
    argvs += [["info", "lenet5"]]
    import contextlib, io, os
    for argv in argvs:
        del attempts[:]
        out = io.StringIO()
        try:
            with contextlib.redirect_stdout(out):
                status = main(argv)
        except SystemExit as exit:
            status = exit.code
        except BaseException as err:
            status = repr(err)
        report[" ".join(argv)] = {"status": status, "attempts": list(attempts),
                                  "stdout": out.getvalue()}
    report["TF_CPP_MIN_LOG_LEVEL"] = os.environ.get("TF_CPP_MIN_LOG_LEVEL")
    print(json.dumps(report))
""")


def test_metadata_commands_and_help_import_neither_tensorflow_nor_keras(tmp_path):
    script = tmp_path / "no_tf.py"
    script.write_text(_NO_TF_SCRIPT)
    env = cli_env()
    env.pop("TF_CPP_MIN_LOG_LEVEL", None)
    result = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                            timeout=300, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    if "import keras_cnns.cli" in report:
        pytest.fail("import keras_cnns.cli asked for TensorFlow/Keras: "
                    + json.dumps(report["import keras_cnns.cli"], indent=1))
    # The CLI silences TensorFlow's C++ start-up lines for whatever imports it later.
    assert report.pop("TF_CPP_MIN_LOG_LEVEL") == "2"
    assert "train --help" in report and "convert --help" in report, sorted(report)
    bad = {argv: r for argv, r in report.items() if r.get("attempts") or r.get("status")}
    assert not bad, json.dumps(bad, indent=1)[:4000]
    assert "--verbose" in report["--help"]["stdout"]
    for command in ("train", "evaluate", "tune"):
        assert "--precision" in report[f"{command} --help"]["stdout"]
    # info still prints the reference figures: the paper's parameter counts (LeNet-5 at
    # 10 classes, Caffe's bvlc_googlenet), which the matrix checks against built models.
    for name, params in (("lenet5", 61_706), ("googlenet", 6_998_552)):
        printed = report[f"info {name}"]["stdout"]
        assert re.search(rf"^  parameters: +{params:,} reference$", printed, re.M), printed
        assert keras_cnns.model_info(name).params == params


def test_tensorflow_log_is_silenced_unless_asked_for(monkeypatch, capsys):
    monkeypatch.delenv("TF_CPP_MIN_LOG_LEVEL", raising=False)
    assert cli.main(["--verbose", "list", "lenet5", "--names"]) == 0
    assert "TF_CPP_MIN_LOG_LEVEL" not in os.environ
    assert cli.main(["list", "lenet5", "--names"]) == 0
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "2"
    monkeypatch.setenv("TF_CPP_MIN_LOG_LEVEL", "0")
    assert cli.main(["list", "lenet5", "--names"]) == 0
    assert os.environ["TF_CPP_MIN_LOG_LEVEL"] == "0"


def test_command_modules_import_only_common_at_module_level():
    """Parsers are built from keras_cnns.cli.common alone: the library is imported inside
    the function that runs a command."""
    for fname in sorted(os.listdir(CLI_DIR)):
        if not fname.endswith(".py") or fname in ("__init__.py", "__main__.py"):
            continue
        tree = ast.parse(open(os.path.join(CLI_DIR, fname)).read())
        for node in tree.body:
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                names = [node.module or ""]
            else:
                continue
            for name in names:
                if fname == "common.py":
                    assert name.split(".")[0] not in ("keras_cnns", "tuning", "tensorflow",
                                                      "keras", "numpy"), (fname, name)
                else:
                    assert name in ("__future__", "argparse", "keras_cnns.cli.common"), \
                        (fname, name)


@pytest.mark.parametrize("argv, needle", [
    (["info", "googlenett"], "closest: googlenet"),
    (["summary", "googlenet", "--image-size", "8"], "minimum input size"),
    (["summary", "googlenet", "--image-size", "big"], "--image-size"),
    (["list", "--json", "--names"], "not allowed with"),
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


# --------------------------------------------------------------------------- --backend

@pytest.mark.parametrize("command", [["train", "lenet5"], ["evaluate", "x.keras"],
                                     ["predict", "x.keras", "a.png"]])
def test_backend_and_precision_flags_parse_on_train_evaluate_and_predict(command):
    parser = cli.build_parser()
    assert parser.parse_args(command).backend is None  # the user's environment
    assert parser.parse_args(command + ["--backend", "jax"]).backend == "jax"
    with pytest.raises(cli.UsageError, match="backend"):
        parser.parse_args(command + ["--backend", "mxnet"])
    assert parser.parse_args(command).precision == "float32"
    assert parser.parse_args(command + ["--precision", "mixed_bfloat16"]).precision == \
        "mixed_bfloat16"


def test_backend_is_set_before_keras_and_refused_after(monkeypatch):
    from keras_cnns.cli.common import select_backend

    import keras

    # This process imported Keras with TensorFlow: another backend cannot be switched to.
    with pytest.raises(cli.UsageError, match="already imported"):
        select_backend("torch")
    assert select_backend("tensorflow") == "tensorflow"
    assert select_backend(None) == keras.backend.backend()
    # Before Keras is imported, the flag is KERAS_BACKEND; without it the env decides.
    monkeypatch.delitem(sys.modules, "keras")
    monkeypatch.setenv("KERAS_BACKEND", "torch")
    assert select_backend(None) == "torch"
    assert select_backend("jax") == "jax" and os.environ["KERAS_BACKEND"] == "jax"
    monkeypatch.delenv("KERAS_BACKEND")
    assert select_backend(None) == "tensorflow"


def test_train_refuses_tf_distribute_on_another_backend(monkeypatch, capsys):
    monkeypatch.delitem(sys.modules, "keras", raising=False)  # as before Keras is imported
    monkeypatch.setenv("KERAS_BACKEND", "tensorflow")
    assert cli.main(["train", "lenet5", "--backend", "jax", "--strategy", "mirrored"]) == 2
    assert "tensorflow backend" in capsys.readouterr().err
