"""tuning.search on real digits: LeNet-5 and a small GoogLeNet with aux heads, tiny
budgets; bad arguments."""

import csv
import os

import keras
import numpy as np
import pytest

import tuning
from keras_cnns import data
from keras_cnns.cli import main as cli_main

DIGITS = 10


@pytest.fixture(scope="module")
def lenet_search(tmp_path_factory):
    directory = tmp_path_factory.mktemp("tune_lenet")
    result = tuning.search("lenet5", data.digits(32, "train"), data.digits(32, "test"),
                           tuner="random", max_trials=3, epochs=1, batch_size=64,
                           directory=directory, seed=1, verbose=0)
    return directory, result


def _evaluate(model, validation, size, outputs=None, name="lenet5"):
    ds = data.eval_pipeline(validation, model, 64, crop_size=size, name=name, outputs=outputs)
    return model.evaluate(ds, return_dict=True, verbose=0)


def test_lenet_random_search(lenet_search):
    directory, (best_hp, best_model, table) = lenet_search
    project = os.path.join(directory, "lenet5")
    assert len(table) == 3 and all(r["status"] == "COMPLETED" for r in table)
    assert [r["trial_id"] for r in table] == sorted({r["trial_id"] for r in table})
    assert table.columns[:4] == ["trial_id", "status", "score", "params"]
    names = set(table.columns[4:])
    assert names == {"C1_filters", "C3_filters", "C5_filters", "dropout", "learning_rate"}
    best = table.best
    assert best["score"] == max(r["score"] for r in table)
    assert best["score"] > 0.2  # 10 classes; one epoch of LeNet-5 on digits beats chance
    assert best["params"] == best_model.count_params()
    assert best_hp.values == {k: best[k] for k in table.columns[4:]}
    # trials.csv: the same rows and columns, named as the hyperparameters are.
    with open(os.path.join(project, "trials.csv")) as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == table.columns and len(rows) == 3
    assert [float(r["score"]) for r in rows] == [r["score"] for r in table]
    assert os.path.getsize(os.path.join(project, "trials.png")) > 1000
    assert "C1_filters" in str(table) and "61,706" in str(table) or len({r["params"] for r in table}) > 1


def test_lenet_best_model_reloads_and_scores_as_reported(lenet_search):
    directory, (_, best_model, table) = lenet_search
    model = keras.saving.load_model(os.path.join(directory, "lenet5", "best.keras"),
                                    safe_mode=True)
    assert model.count_params() == table.best["params"]
    logs = _evaluate(model, data.digits(32, "test"), 32)
    assert logs["accuracy"] == pytest.approx(table.best["score"], abs=1e-6)
    for a, b in zip(model.get_weights(), best_model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_load_results_reads_the_directory(lenet_search):
    directory, (_, _, table) = lenet_search
    again = tuning.load_results(os.path.join(directory, "lenet5"))
    assert again == list(table) and again.columns == table.columns


@pytest.mark.slow  # two GoogLeNet graphs to trace: ~40 s on 2 idle cores
def test_googlenet_aux_search_tunes_filters_and_dropout(tmp_path):
    # Inputs at 80 px (the aux heads need 79), a few dozen real digits. Two trials (three
    # before: 58 s in CI) are enough to see the widths and dropouts vary.
    size = 80
    train = data.digits(size, "train").take(64)
    validation = data.digits(size, "test").take(32)
    best_hp, best_model, table = tuning.search(
        "googlenet", train, validation, tuner="random", max_trials=2, epochs=1,
        batch_size=16, image_size=size, classes=DIGITS, aux=True, directory=tmp_path,
        seed=3, verbose=0, learning_rate=1e-3)
    assert table.objective == ("val_main_accuracy", "max")
    names = set(table.columns[4:])
    assert {"inception_3_filters", "inception_4_filters", "inception_5_filters", "dropout",
            "aux_dropout"} <= names
    assert all(r["status"] == "COMPLETED" for r in table) and len(table) == 2
    # The tuner varies them: the two trials differ in widths and in a dropout.
    widths = [tuple(r[f"inception_{s}_filters"] for s in "345") for r in table]
    assert widths[0] != widths[1]
    assert any(table[0][k] != table[1][k] for k in ("dropout", "aux_dropout"))
    # Different widths, different sizes: each row's count is its own model's.
    assert table[0]["params"] != table[1]["params"]
    by_width = {}
    for key, r in zip(widths, table):
        by_width.setdefault(key, set()).add(r["params"])
    assert all(len(v) == 1 for v in by_width.values())
    assert set(best_model.output) == {"main", "aux1", "aux2"}
    model = keras.saving.load_model(os.path.join(tmp_path, "googlenet", "best.keras"),
                                    safe_mode=True)
    logs = _evaluate(model, validation, size, outputs=("main", "aux1", "aux2"),
                     name="googlenet")
    assert logs["main_accuracy"] == pytest.approx(table.best["score"], abs=1e-6)
    assert model.count_params() == table.best["params"]


@pytest.mark.parametrize("kwargs, match", [
    (dict(tuner="grid"), "tuner must be one of 'random', 'hyperband', 'bayesian'"),
    (dict(max_trials=0), "max_trials must be an int >= 1"),
    (dict(max_epochs=3), "max_epochs bounds the hyperband tuner only"),
    (dict(epochs=0), "epochs must be an int >= 1"),
    (dict(aux=True), "has no aux heads"),
])
def test_bad_arguments(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        tuning.search("lenet5", directory=tmp_path, **kwargs)
    assert not os.listdir(tmp_path)


def test_unknown_model(tmp_path):
    with pytest.raises(ValueError, match="unknown model 'lenet6'"):
        tuning.search("lenet6", directory=tmp_path)


def test_directory_holding_another_models_search(lenet_search):
    directory, _ = lenet_search
    with pytest.raises(ValueError, match="holds a search of model 'lenet5', not 'nin_cifar'"):
        tuning.search("nin_cifar", directory=directory, project_name="lenet5", max_trials=1)
    with pytest.raises(ValueError, match="holds a search of tuner 'random'"):
        tuning.search("lenet5", directory=directory, tuner="bayesian")


@pytest.mark.parametrize("env, missing", [
    ({"KERASTUNER_TUNER_ID": "chief"}, "KERASTUNER_ORACLE_IP, KERASTUNER_ORACLE_PORT missing"),
    ({"KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": "8000"},
     "KERASTUNER_TUNER_ID missing"),
    ({"KERASTUNER_TUNER_ID": "tuner0", "KERASTUNER_ORACLE_IP": "127.0.0.1"},
     "KERASTUNER_ORACLE_PORT missing"),
])
def test_distributed_environment_all_or_nothing(monkeypatch, tmp_path, env, missing):
    for k in tuning.DISTRIBUTED_ENV:
        monkeypatch.delenv(k, raising=False)
    for k, v in env.items():
        monkeypatch.setenv(k, v)
    with pytest.raises(ValueError, match=missing):
        tuning.search("lenet5", directory=tmp_path)
    assert cli_main(["tune", "lenet5", "--directory", str(tmp_path)]) == 2


def test_distributed_roles():
    base = {"KERASTUNER_ORACLE_IP": "127.0.0.1", "KERASTUNER_ORACLE_PORT": "8000"}
    assert tuning.distributed_role({}) is None
    assert tuning.distributed_role({**base, "KERASTUNER_TUNER_ID": "chief"}) == "chief"
    assert tuning.distributed_role({**base, "KERASTUNER_TUNER_ID": "tuner1"}) == "worker"
    with pytest.raises(ValueError, match="port number"):
        tuning.distributed_role({**base, "KERASTUNER_TUNER_ID": "chief",
                                 "KERASTUNER_ORACLE_PORT": "http"})


@pytest.mark.parametrize("argv, message", [
    (["--tuner", "grid"], "--tuner must be one of"),
    (["--max-trials", "0"], "--max-trials must be >= 1"),
])
def test_cli_bad_arguments_exit_2(capsys, tmp_path, argv, message):
    assert cli_main(["tune", "lenet5", "--directory", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1


@pytest.mark.parametrize("tuner, kwargs", [("hyperband", dict(max_epochs=2, hyperband_factor=2)),
                                           ("bayesian", dict(max_trials=2))])
def test_hyperband_and_bayesian(tmp_path, tuner, kwargs):
    train = data.digits(32, "train").take(256)
    validation = data.digits(32, "test").take(128)
    best_hp, best_model, table = tuning.search(
        "lenet5", train, validation, tuner=tuner, epochs=1, batch_size=64, classes=DIGITS,
        directory=tmp_path, seed=0, verbose=0, **kwargs)
    assert table and all(r["status"] == "COMPLETED" for r in table)
    assert best_model is not None and table.best["score"] == max(r["score"] for r in table)
    if tuner == "hyperband":
        # Bounded by max_epochs, not a trial count; its own bookkeeping is in the table.
        assert {"tuner/epochs", "tuner/round"} <= set(table.columns)
        assert max(r["tuner/epochs"] for r in table) == 2
    else:
        assert len(table) == 2


def test_tune_help_lists_the_flags(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["tune", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for flag in ("--dataset", "--data-dir", "--tuner", "--max-trials", "--max-epochs",
                 "--epochs", "--batch-size", "--image-size", "--aux", "--no-aux", "--seed",
                 "--directory", "--project-name"):
        assert flag in out, flag
