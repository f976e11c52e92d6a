"""``search``: a keras-tuner search over a keras_cnns network, resumable and distributable.

The search lives in ``directory/project_name`` (keras-tuner's project directory). It is
created with ``overwrite=False``: running the same search again reloads it, re-runs a
trial that was interrupted, never a finished one, and a finished search does no
training. Every state file (oracle, trials, tuner) is written atomically (temporary
file + rename), so a SIGKILL at any moment leaves the previous state readable.

Distribution is keras-tuner's own chief / worker mode, set up by the environment
variables ``KERASTUNER_TUNER_ID`` (``chief`` for the chief, e.g. ``tuner0`` for workers),
``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT``: all three or none (checked
here, since keras-tuner silently runs alone without the IP).

Outputs, written by a standalone search or by the chief when the search ends:
``trials.csv`` (``trial_id, status, score, params`` and one column per
hyperparameter), ``trials.png`` (score against parameter count and against every
hyperparameter) and ``best.keras`` (the best trial's model, written atomically).
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
import time
import warnings
import zlib

import keras
import keras_tuner
import numpy as np
from keras_tuner.src.engine import tuner_utils
import tensorflow as tf

from keras_cnns import heads as aux_lib
from keras_cnns import registry
from keras_cnns.atomic import WriteFailed, atomic_path, atomic_save_model, atomic_write
from tuning.hypermodel import PARAMS_METRIC, HyperCNN

__all__ = ["search", "TUNERS", "DISTRIBUTED_ENV", "distributed_role", "ResultsTable",
           "load_results", "DEFAULT_DIRECTORY", "METADATA_FILE"]

TUNERS = ("random", "hyperband", "bayesian")
DISTRIBUTED_ENV = ("KERASTUNER_TUNER_ID", "KERASTUNER_ORACLE_IP", "KERASTUNER_ORACLE_PORT")
DEFAULT_DIRECTORY = "tuning_runs"
METADATA_FILE = "search.json"
TRIALS_CSV = "trials.csv"
TRIALS_PNG = "trials.png"
BEST_MODEL = "best.keras"
RUNS_LOG = "runs.log"
# How long a worker waits for the chief (keras-tuner's own default is an hour).
ORACLE_TIMEOUT = float(os.environ.get("KERAS_CNNS_ORACLE_TIMEOUT", 600))
FIXED_COLUMNS = ("trial_id", "status", "score", "params")


# --------------------------------------------------------------------------- atomic files

_atomic_write = atomic_write


def _save_json(path, obj):
    path = os.fspath(path)
    if "://" in path:  # gs:// & co.: keras-tuner's own writer
        from keras_tuner.src import utils as kt_utils

        return kt_utils.save_json(path, obj)
    text = json.dumps(obj)
    try:
        _atomic_write(path, text)
    except WriteFailed as err:  # fatal inside a trial too (see DiskFull)
        raise DiskFull(str(err)) from None
    return text


# --------------------------------------------------------------------------- oracle / tuner

def _resumable_oracle(base):
    class Resumable(base):
        """Atomic state files; on reload, every trial saved as RUNNING is re-run."""

        def save(self):
            _save_json(self._get_oracle_fname(), self.get_state())

        def _save_trial(self, trial):
            _save_json(os.path.join(self._get_trial_dir(trial.trial_id), "trial.json"),
                       trial.get_state())

        def reload(self):
            super().reload()
            # A trial killed between its own file and the oracle's is RUNNING on disk but
            # unknown to the oracle's state: queue it too.
            for trial_id, trial in sorted(self.trials.items()):
                if trial.status in ("RUNNING", "IDLE") and trial_id not in self._retry_queue:
                    self._retry_queue.append(trial_id)
                    if trial_id not in self.start_order:
                        self.start_order.append(trial_id)

    Resumable.__name__ = Resumable.__qualname__ = f"Resumable{base.__name__}"
    return Resumable


class DiskFull(keras_tuner.errors.FatalError, ValueError):
    """A trial's write the disk refused: fatal to the search (keras-tuner would record
    the trial as failed and go on writing to the same full disk), one line for the CLI."""


class _AtomicSaveBestEpoch(tuner_utils.SaveBestEpoch):
    """keras-tuner's per-trial checkpoint, written through :func:`atomic_path`: a full
    disk leaves the previous checkpoint, never a truncated one."""

    def _save_model(self):
        try:
            with atomic_path(self.filepath, suffix=".weights.h5") as tmp:
                self.model.save_weights(tmp)
        except WriteFailed as err:
            raise DiskFull(str(err)) from None


# keras-tuner builds its checkpoint callback by this module attribute in run_trial.
tuner_utils.SaveBestEpoch = _AtomicSaveBestEpoch


ORACLES = {
    "random": _resumable_oracle(keras_tuner.oracles.RandomSearchOracle),
    "hyperband": _resumable_oracle(keras_tuner.oracles.HyperbandOracle),
    "bayesian": _resumable_oracle(keras_tuner.oracles.BayesianOptimizationOracle),
}


class _TunerMixin:
    """Atomic tuner state, a per-trial run log, per-trial seeds, a chief that polls."""

    search_seed = None
    poll_interval = 0.5

    def save(self):
        if not self._is_worker():
            self.oracle.save()
        _save_json(self._get_tuner_fname(), self.get_state())

    def on_trial_begin(self, trial):
        super().on_trial_begin(trial)
        # One line per run of a trial: a trial run twice shows two lines.
        with open(os.path.join(self.get_trial_dir(trial.trial_id), RUNS_LOG), "a") as f:
            f.write(f"{self.tuner_id} {os.getpid()} {time.time():.3f}\n")
        if self._is_worker():
            values = {k: v for k, v in trial.hyperparameters.values.items()}
            print(f"[{self.tuner_id}] trial {trial.trial_id}: {values}", flush=True)
        if self.search_seed is not None:
            keras.utils.set_random_seed(
                (int(self.search_seed) + zlib.crc32(trial.trial_id.encode())) % (2 ** 31))

    def search(self, *fit_args, **fit_kwargs):
        from keras_tuner.src.distribute import utils as dist_utils

        if not dist_utils.is_chief_oracle():
            return super().search(*fit_args, **fit_kwargs)
        if "verbose" in fit_kwargs:
            self.oracle.verbose = fit_kwargs["verbose"]
        self.save()
        _serve(self.oracle, self.poll_interval)


class _Tuner(_TunerMixin, keras_tuner.Tuner):
    pass


class _HyperbandTuner(_TunerMixin, keras_tuner.Hyperband):
    def __init__(self, oracle, hypermodel, **kwargs):
        # Hyperband's own __init__ makes its oracle; ours is given.
        keras_tuner.Tuner.__init__(self, oracle=oracle, hypermodel=hypermodel, **kwargs)

    def _build_hypermodel(self, hp):
        with warnings.catch_warnings():
            # A continued trial loads its parent's checkpoint, optimizer slots included,
            # into a model whose optimizer has none yet: the weights are what matter.
            warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
            return super()._build_hypermodel(hp)


def _serve(oracle, poll_interval):
    """keras-tuner's chief server (``oracle_chief.start_server``), polling every
    ``poll_interval`` s instead of 20 s once the search is over, then stopping cleanly."""
    from concurrent import futures

    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute import oracle_chief

    ip, port = os.environ["KERASTUNER_ORACLE_IP"], os.environ["KERASTUNER_ORACLE_PORT"]
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = oracle_chief.OracleServicer(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    if not server.add_insecure_port(f"{ip}:{port}"):
        raise RuntimeError(f"the chief cannot listen on {ip}:{port}")
    server.start()
    print(f"[chief] oracle serving on {ip}:{port}", flush=True)
    try:
        while not (servicer.stop_triggered and oracle_chief.exit_chief(oracle)):
            time.sleep(poll_interval)
    finally:
        server.stop(grace=2).wait()


# --------------------------------------------------------------------------- arguments

def distributed_role(environ=None):
    """``None`` (standalone), ``"chief"`` or ``"worker"``, from the three keras-tuner
    variables; ValueError naming the missing ones when only some are set."""
    environ = os.environ if environ is None else environ
    present = [k for k in DISTRIBUTED_ENV if environ.get(k)]
    if not present:
        return None
    missing = [k for k in DISTRIBUTED_ENV if k not in present]
    if missing:
        raise ValueError(f"distributed tuning needs all of {', '.join(DISTRIBUTED_ENV)}; "
                         f"{', '.join(present)} set but {', '.join(missing)} missing "
                         "(unset all three to search alone)")
    port = environ["KERASTUNER_ORACLE_PORT"]
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"KERASTUNER_ORACLE_PORT must be a port number, got {port!r}")
    return "chief" if "chief" in environ["KERASTUNER_TUNER_ID"] else "worker"


def _positive_int(arg, value, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{arg} must be an int >= 1, got {value!r}")
    return int(value)


def _is_batched(ds):
    spec = ds.element_spec
    return isinstance(spec, tuple) and len(spec) >= 2 and spec[0].shape.rank == 4


def _check_source(arg, ds):
    if not isinstance(ds, tf.data.Dataset):
        raise TypeError(f"{arg} must be a tf.data.Dataset of (image, label) (e.g. "
                        f"keras_cnns.data.digits(32, 'train')), got {type(ds).__name__}")
    spec = ds.element_spec
    if not (isinstance(spec, tuple) and len(spec) >= 2 and spec[0].shape.rank in (3, 4)):
        raise ValueError(f"{arg} must yield (image, label) with images [H, W, C] (a source) "
                         f"or [batch, H, W, C] (ready batches); got element spec {spec}")


def _infer_classes(train):
    names = getattr(train, "class_names", None)
    if names:
        return len(names)
    if train.cardinality() == tf.data.INFINITE_CARDINALITY:
        raise ValueError("train repeats forever and has no class_names: pass classes=")
    labels = train.map(lambda x, y, *rest: tf.reduce_max(tf.cast(y, tf.int64)))
    top = labels.reduce(tf.constant(-1, tf.int64), tf.maximum)
    return int(top) + 1


def _input_shape(info, image_size, train, aux):
    channels = int(info.default_input_shape[-1])
    if image_size is not None:
        return (image_size, image_size, channels)
    if _is_batched(train):
        shape = tuple(train.element_spec[0].shape[1:])
        if None not in shape:
            return tuple(int(d) for d in shape)
    return tuple(info.default_input_shape)


def _pipeline(ds, model_name, input_shape, batch_size, keys, train, augment, seed):
    from keras_cnns import data

    if _is_batched(ds):
        if keys and not isinstance(ds.element_spec[1], dict):
            ds = ds.map(aux_lib.fan_out_labels(keys))
        return ds
    size = input_shape[0]
    if input_shape[1] != size:
        raise ValueError(f"image_size: crops are square, got input shape {input_shape}")
    if train:
        return data.train_pipeline(ds, model_name, batch_size, augment=augment, seed=seed or 0,
                                   crop_size=size, outputs=keys or None)
    return data.eval_pipeline(ds, model_name, batch_size, crop_size=size, outputs=keys or None)


def _check_metadata(project_dir, meta, write):
    path = os.path.join(project_dir, METADATA_FILE)
    if os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
        old.setdefault("precision", "float32")  # searches written before --precision
        for key in ("model", "tuner", "classes", "input_shape", "aux", "precision"):
            if old.get(key) != meta[key]:
                raise ValueError(
                    f"directory {project_dir!r} holds a search of {key} {old.get(key)!r}, not "
                    f"{meta[key]!r} (model {old.get('model')!r}, tuner {old.get('tuner')!r}); "
                    "use another directory or project_name, or delete it to start over")
        return
    if os.path.exists(os.path.join(project_dir, "oracle.json")):
        raise ValueError(f"directory {project_dir!r} holds a keras-tuner project that this "
                         "package did not write; use another directory or project_name")
    if write:
        _save_json(path, meta)


# --------------------------------------------------------------------------- results

class ResultsTable(list):
    """The trials as rows (dicts) in trial order; ``columns`` lists ``trial_id``,
    ``status``, ``score``, ``params`` and one column per hyperparameter. ``str()`` is a
    text table; :meth:`to_csv` the CSV text."""

    def __init__(self, rows=(), columns=FIXED_COLUMNS, objective=None):
        super().__init__(rows)
        self.columns = list(columns)
        self.objective = objective

    @property
    def best(self):
        done = [r for r in self if r["status"] == "COMPLETED" and r["score"] is not None]
        if not done:
            return None
        maximise = self.objective is None or self.objective[1] == "max"
        return (max if maximise else min)(done, key=lambda r: r["score"])

    def to_csv(self):
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=self.columns, lineterminator="\n")
        writer.writeheader()
        for row in self:
            writer.writerow({c: "" if row.get(c) is None else row.get(c) for c in self.columns})
        return out.getvalue()

    def __str__(self):
        def fmt(v):
            if v is None:
                return "-"
            if isinstance(v, float):
                return f"{v:,.0f}" if v.is_integer() and abs(v) >= 1000 else f"{v:.4g}"
            if isinstance(v, int) and not isinstance(v, bool):
                return f"{v:,}" if abs(v) >= 1000 else str(v)
            return str(v)

        cells = [[fmt(r.get(c)) for c in self.columns] for r in self]
        widths = [max([len(c)] + [len(row[i]) for row in cells]) for i, c in enumerate(self.columns)]
        lines = ["  ".join(c.ljust(w) for c, w in zip(self.columns, widths))]
        lines.append("  ".join("-" * w for w in widths))
        lines += ["  ".join(v.ljust(w) for v, w in zip(row, widths)) for row in cells]
        return "\n".join(lines)


def _trial_rows(trials, objective_name):
    rows, hp_names = [], []
    for trial in sorted(trials, key=lambda t: int(t.trial_id)):
        values = dict(trial.hyperparameters.values)
        for k in values:
            if k not in hp_names:
                hp_names.append(k)
        params = None
        if trial.metrics.exists(PARAMS_METRIC):
            params = int(trial.metrics.get_last_value(PARAMS_METRIC))
        score = trial.score
        rows.append({"trial_id": trial.trial_id, "status": trial.status,
                     "score": None if score is None else float(score),
                     "params": params, **values})
    return rows, hp_names


def _table(trials, objective):
    rows, hp_names = _trial_rows(trials, objective.name)
    return ResultsTable(rows, list(FIXED_COLUMNS) + hp_names, (objective.name, objective.direction))


def load_results(path):
    """The :class:`ResultsTable` of a search directory (``directory/project_name``), read
    from its trial files alone: no oracle, works while or after a search runs."""
    from keras_tuner.src.engine import trial as trial_module

    path = os.fspath(path)
    if not os.path.isdir(path):
        raise ValueError(f"{path!r} is not a search directory")
    trials = []
    for name in sorted(os.listdir(path)):
        f = os.path.join(path, name, "trial.json")
        if name.startswith("trial_") and os.path.exists(f):
            trials.append(trial_module.Trial.load(f))
    objective = ("val_accuracy", "max")
    meta = os.path.join(path, METADATA_FILE)
    if os.path.exists(meta):
        with open(meta) as f:
            objective = tuple(json.load(f).get("objective", objective))
    rows, hp_names = _trial_rows(trials, objective[0])
    return ResultsTable(rows, list(FIXED_COLUMNS) + hp_names, objective)


def _plot(table, path):
    """Score against parameter count and against each hyperparameter (Agg, no display)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    hp_cols = [c for c in table.columns if c not in FIXED_COLUMNS]
    panels = ["params"] + hp_cols
    ncols = min(3, len(panels))
    nrows = math.ceil(len(panels) / ncols)
    fig = Figure(figsize=(4.2 * ncols, 3.2 * nrows), tight_layout=True)
    FigureCanvasAgg(fig)
    done = [r for r in table if r["score"] is not None]
    label = table.objective[0] if table.objective else "score"
    for i, col in enumerate(panels):
        ax = fig.add_subplot(nrows, ncols, i + 1)
        pts = [(r.get(col), r["score"]) for r in done if r.get(col) is not None]
        if pts and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x, _ in pts):
            ax.scatter([x for x, _ in pts], [y for _, y in pts])
            if col == "params" and min(x for x, _ in pts) > 0:
                ax.set_xscale("log")
        elif pts:
            cats = sorted({str(x) for x, _ in pts})
            ax.scatter([cats.index(str(x)) for x, _ in pts], [y for _, y in pts])
            ax.set_xticks(range(len(cats)), cats)
        ax.set_xlabel("parameters" if col == "params" else col)
        ax.set_ylabel(label)
        ax.grid(alpha=0.3)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=80)
    _atomic_write(path, buf.getvalue(), mode="wb")


def _save_best(model, project_dir, trial_id):
    path = os.path.join(project_dir, BEST_MODEL)
    marker = os.path.join(project_dir, "best.json")
    if os.path.exists(path) and os.path.exists(marker):
        with open(marker) as f:
            if json.load(f).get("trial_id") == trial_id:
                return path  # already the best trial's model
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and not optimizer.built:
        # Saved with its (zero) slots, so loading it matches and does not warn.
        optimizer.build(model.trainable_variables)
    atomic_save_model(model, path)
    _save_json(marker, {"trial_id": trial_id})
    return path


def write_outputs(table, project_dir):
    """``trials.csv`` and ``trials.png`` in ``project_dir``."""
    _atomic_write(os.path.join(project_dir, TRIALS_CSV), table.to_csv())
    _plot(table, os.path.join(project_dir, TRIALS_PNG))


# --------------------------------------------------------------------------- search

def search(model_name, train=None, validation=None, *, tuner="random", max_trials=10,
           max_epochs=None, epochs=2, batch_size=32, image_size=None, classes=None, aux=False,
           augment="none", directory=DEFAULT_DIRECTORY, project_name=None, objective=None,
           seed=None, hyperband_factor=3, steps_per_epoch=None, validation_steps=None,
           tune_learning_rate=True, callbacks=None, verbose=1, precision="float32", **fixed):
    """Search ``model_name``'s filter counts and dropout (its family's space in
    :mod:`tuning.spaces`) with keras-tuner; returns ``(best_hyperparameters,
    best_model, results_table)``.

    ``train`` / ``validation``: ``keras_cnns.data`` sources (``(uint8 image, label)``,
    resized, cropped and normalised here as the model's preprocessing says, through
    :func:`keras_cnns.data.train_pipeline` with ``augment`` and
    :func:`~keras_cnns.data.eval_pipeline`) or batched ``tf.data`` datasets of ready
    ``(x, y)`` batches. Default: scikit-learn's digits (offline). ``classes`` defaults to
    the source's ``class_names`` (else the largest label + 1); the input shape to
    ``image_size`` square with the model's channels (else the batches' shape, else the
    model's default).

    ``tuner``: ``"random"`` and ``"bayesian"`` run ``max_trials`` trials of ``epochs``
    epochs; ``"hyperband"`` is bounded by ``max_epochs`` (default ``3 * epochs``) and
    ``hyperband_factor`` instead. ``objective`` defaults to the main head's validation
    accuracy, ``Objective("val_accuracy", "max")``, or ``Objective("val_main_accuracy",
    "max")`` with ``aux=True``. ``seed`` seeds the oracle and each trial's weights.
    ``**fixed``: see :class:`~tuning.HyperCNN` (fix a hyperparameter, or pass a builder
    keyword argument).

    The search is kept in ``directory/project_name`` (``project_name`` defaults to the
    model name) and resumes when run again; a directory holding another model's (or
    tuner's, shape's, classes') search raises ValueError. In keras-tuner's distributed
    mode a worker returns ``(None, None, table so far)``; the chief returns the results
    once every worker is done.

    ``precision`` (``"float32"``, ``"mixed_bfloat16"``, ``"mixed_float16"``): Keras'
    dtype policy every trial builds and trains under (:mod:`keras_cnns.precision`),
    recorded with the search and restored afterwards.
    """
    from keras_cnns.precision import check_precision, precision_policy

    precision = check_precision(precision)
    with precision_policy(precision):
        return _search(model_name, train, validation, tuner, max_trials, max_epochs, epochs,
                       batch_size, image_size, classes, aux, augment, directory, project_name,
                       objective, seed, hyperband_factor, steps_per_epoch, validation_steps,
                       tune_learning_rate, callbacks, verbose, precision, fixed)


def _search(model_name, train, validation, tuner, max_trials, max_epochs, epochs, batch_size,
            image_size, classes, aux, augment, directory, project_name, objective, seed,
            hyperband_factor, steps_per_epoch, validation_steps, tune_learning_rate,
            callbacks, verbose, precision, fixed):
    from keras_cnns import data

    role = distributed_role()
    if tuner not in TUNERS:
        raise ValueError(f"tuner must be one of {', '.join(map(repr, TUNERS))}; got {tuner!r}")
    max_trials = _positive_int("max_trials", max_trials)
    max_epochs = _positive_int("max_epochs", max_epochs, allow_none=True)
    if max_epochs is not None and tuner != "hyperband":
        raise ValueError(f"max_epochs bounds the hyperband tuner only; {tuner!r} trains every "
                         "trial for epochs=")
    epochs = _positive_int("epochs", epochs)
    batch_size = _positive_int("batch_size", batch_size)
    image_size = _positive_int("image_size", image_size, allow_none=True)
    steps_per_epoch = _positive_int("steps_per_epoch", steps_per_epoch, allow_none=True)
    validation_steps = _positive_int("validation_steps", validation_steps, allow_none=True)
    hyperband_factor = _positive_int("hyperband_factor", hyperband_factor)
    if tuner == "hyperband" and hyperband_factor < 2:
        raise ValueError(f"hyperband_factor must be >= 2, got {hyperband_factor}")
    if not isinstance(aux, bool):
        raise TypeError(f"aux must be a bool, got {type(aux).__name__}")
    info = registry.model_info(model_name)
    if aux and not info.has_aux:
        raise ValueError(f"aux=True: model {model_name!r} has no aux heads")
    if objective is not None and not isinstance(objective, (str, keras_tuner.Objective)):
        raise TypeError("objective must be a metric name or a keras_tuner.Objective")
    if isinstance(objective, str):
        objective = keras_tuner.Objective(objective, "min" if "loss" in objective else "max")
    if train is None:
        train = data.digits(image_size or info.crop_size, "train")
    if validation is None:
        validation = data.digits(image_size or info.crop_size, "validation")
    _check_source("train", train)
    _check_source("validation", validation)

    input_shape = _input_shape(info, image_size, train, aux)
    if classes is None:
        classes = _infer_classes(train)
    hypermodel = HyperCNN(model_name, classes, input_shape, aux=aux,
                          tune_learning_rate=tune_learning_rate, precision=precision, **fixed)
    objective = objective or hypermodel.objective
    project_name = project_name or model_name
    project_dir = os.path.join(os.fspath(directory), project_name)
    meta = {"model": model_name, "tuner": tuner, "classes": int(classes),
            "input_shape": list(input_shape), "aux": aux, "precision": precision,
            "objective": [objective.name, objective.direction],
            "hyperparameters": hypermodel.hyperparameter_names}
    _check_metadata(project_dir, meta, write=role != "worker")

    oracle_kwargs = dict(objective=objective, seed=seed, max_consecutive_failed_trials=3)
    if tuner == "hyperband":
        oracle = ORACLES[tuner](max_epochs=max_epochs or 3 * epochs, factor=hyperband_factor,
                                **oracle_kwargs)
        tuner_cls = _HyperbandTuner
    else:
        oracle = ORACLES[tuner](max_trials=max_trials, **oracle_kwargs)
        tuner_cls = _Tuner
    if role == "worker":
        from keras_tuner.src.distribute import oracle_client

        oracle_client.TIMEOUT = ORACLE_TIMEOUT
    kt = tuner_cls(oracle, hypermodel, directory=os.fspath(directory),
                   project_name=project_name, overwrite=False)
    kt.search_seed = seed

    keys = tuple(info.aux_loss_weights) if aux else None
    # The pipelines shuffle; Keras would warn that shuffle=True is ignored for datasets.
    fit_kwargs = dict(epochs=epochs, verbose=verbose, callbacks=list(callbacks or []),
                      shuffle=False)
    if steps_per_epoch:
        fit_kwargs["steps_per_epoch"] = steps_per_epoch
    if validation_steps:
        fit_kwargs["validation_steps"] = validation_steps
    if role == "chief":
        kt.search(verbose=verbose)
    else:
        train_ds = _pipeline(train, model_name, input_shape, batch_size, keys, True, augment, seed)
        val_ds = _pipeline(validation, model_name, input_shape, batch_size, keys, False,
                           augment, seed)
        kt.search(train_ds, validation_data=val_ds, **fit_kwargs)
    if role == "worker":
        return None, None, load_results(project_dir)

    table = _table(kt.oracle.trials.values(), objective)
    write_outputs(table, project_dir)
    best = [t for t in kt.oracle.get_best_trials(1) if t.status == "COMPLETED"]
    if not best:
        print(f"no completed trial in {project_dir}", file=sys.stderr)
        return None, None, table
    with warnings.catch_warnings():
        # The checkpoint holds the optimizer's slots; a fresh model has none yet.
        warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
        best_model = kt.load_model(best[0])
    _save_best(best_model, project_dir, best[0].trial_id)
    return best[0].hyperparameters, best_model, table
