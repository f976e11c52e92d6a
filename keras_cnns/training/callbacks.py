"""Callbacks for crash-safe training: atomic checkpoints, an epoch-keyed history CSV,
a NaN guard, and an atomic BackupAndRestore.

Order matters: the artefacts of epoch ``k`` (``best.keras``, ``last.keras``,
``history.csv``) are written before the backup records ``k`` as finished, so a run
killed at any instant and resumed neither loses nor repeats a finished epoch.
"""

from __future__ import annotations

import csv
import json
import math
import os

import keras

from keras_cnns.atomic import atomic_path, atomic_save_model, atomic_write

__all__ = ["atomic_save_model", "atomic_write_text", "AtomicCheckpoint", "HistoryCSV",
           "NaNGuard", "AtomicBackupAndRestore", "read_history"]


def atomic_write_text(path, text):
    """Write ``text`` to ``path`` via a temp file in the same directory + ``os.replace``."""
    atomic_write(path, text)


def _finite(logs):
    for k, v in (logs or {}).items():
        if "loss" in k:
            try:
                if not math.isfinite(float(v)):
                    return False
            except (TypeError, ValueError):
                pass
    return True


class NaNGuard(keras.callbacks.Callback):
    """Stop at the first non-finite training loss; ``diverged`` says where."""

    def __init__(self):
        super().__init__()
        self.diverged = None
        self._epoch = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.diverged is None and not _finite(logs):
            self.diverged = {"epoch": self._epoch, "batch": batch,
                             "loss": float((logs or {}).get("loss", float("nan")))}
            self.model.stop_training = True


class AtomicCheckpoint(keras.callbacks.Callback):
    """``last.keras`` every epoch and ``best.keras`` when ``monitor`` improves, both
    atomic; skipped for an epoch whose losses are not finite (the NaN guard's).

    ``tie_monitor`` (a loss, lower is better) breaks ties of ``monitor``: a validation
    accuracy on a few hundred images repeats from epoch to epoch, and the epoch with
    the equal accuracy but lower validation loss is the better fit."""

    def __init__(self, directory, monitor="val_accuracy", mode="max", guard=None,
                 best=None, tie_monitor=None, best_tie=None):
        super().__init__()
        self.directory = directory
        self.monitor, self.mode = monitor, mode
        self.tie_monitor = tie_monitor
        self.guard = guard
        self.best = best
        self.best_tie = best_tie
        self.best_epoch = None
        self.last_epoch = None

    def _better(self, value, tie=None):
        if value is None or not math.isfinite(value):
            return False
        if self.best is None:
            return True
        if value == self.best and tie is not None and self.best_tie is not None:
            return tie < self.best_tie
        return value > self.best if self.mode == "max" else value < self.best

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}
        if (self.guard is not None and self.guard.diverged is not None) or not _finite(logs):
            return
        atomic_save_model(self.model, os.path.join(self.directory, "last.keras"))
        self.last_epoch = epoch
        value = logs.get(self.monitor)
        value = None if value is None else float(value)
        tie = logs.get(self.tie_monitor) if self.tie_monitor else None
        tie = None if tie is None else float(tie)
        if self._better(value, tie):
            self.write_best(epoch, value, tie)

    def write_best(self, epoch, value, tie=None):
        """The model as ``best.keras`` and ``best.json`` (``epoch``, 0-based, the
        monitored value and the tie-breaker's)."""
        self.best, self.best_epoch, self.best_tie = value, epoch, tie
        atomic_save_model(self.model, os.path.join(self.directory, "best.keras"))
        record = {"epoch": epoch, self.monitor: value}
        if self.tie_monitor and tie is not None:
            record[self.tie_monitor] = tie
        atomic_write_text(os.path.join(self.directory, "best.json"), json.dumps(record) + "\n")


def read_history(path):
    """Rows of ``history.csv`` as dicts (floats; ``epoch`` int); [] if missing."""
    if not os.path.exists(path):
        return []
    with open(path, newline="") as f:
        rows = []
        for row in csv.DictReader(f):
            out = {}
            for k, v in row.items():
                if k == "epoch":
                    out[k] = int(v)
                else:
                    try:
                        out[k] = float(v)
                    except (TypeError, ValueError):
                        out[k] = v
            rows.append(out)
    return rows


class HistoryCSV(keras.callbacks.Callback):
    """``history.csv``: one row per finished epoch, columns ``epoch`` then the Keras log
    names; rewritten atomically each epoch. On resume, rows of epochs at or after the
    restored epoch are dropped (they were not finished)."""

    def __init__(self, path, initial_epoch=0, guard=None):
        super().__init__()
        self.path = path
        self.guard = guard
        self.rows = [r for r in read_history(path) if r["epoch"] < initial_epoch]
        self.extra = {}  # constant columns, e.g. --unfreeze-after's {"phase": 1}

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if self.guard is not None and self.guard.diverged is not None:
            return
        lr = getattr(self.model.optimizer, "learning_rate", None)
        if "learning_rate" not in logs and lr is not None:
            try:
                logs["learning_rate"] = float(keras.ops.convert_to_numpy(lr))
            except Exception:  # pragma: no cover - schedule objects
                pass
        row = {"epoch": epoch}
        row.update({k: float(v) for k, v in logs.items()})
        row.update(self.extra)
        self.rows = [r for r in self.rows if r["epoch"] < epoch] + [row]
        self.write()

    def write(self):
        keys = ["epoch"]
        for r in self.rows:
            keys += [k for k in r if k not in keys]
        lines = [",".join(keys)]
        for r in self.rows:
            lines.append(",".join("" if r.get(k) is None else repr(r[k]) if k != "epoch"
                                  else str(r[k]) for k in keys))
        atomic_write_text(self.path, "\n".join(lines) + "\n")


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras' ``BackupAndRestore`` (model + optimiser state at each epoch end; restored
    at ``fit`` start, which then continues at the next epoch), made atomic: the
    weights go to a new file named after the epoch, then ``training_metadata.json``
    (written via temp file + ``os.replace``) is switched to it; that switch is the
    commit. A SIGKILL at any instant leaves a consistent backup. An epoch whose loss
    is not finite is never backed up.
    """

    def __init__(self, backup_dir, guard=None, checkpoint=None):
        super().__init__(backup_dir, save_freq="epoch", delete_checkpoint=False)
        self.guard = guard
        self.checkpoint = checkpoint  # an AtomicCheckpoint whose best the commit records

    def committed_best(self):
        """``{"epoch", "value", "weights"}`` of the best epoch the backup committed, or
        None."""
        meta = self._read_meta()
        return (meta or {}).get("best")

    def _restore_best(self):
        """Re-derive ``best.keras`` / ``best.json`` from the commit: a kill after they
        were written for an epoch the backup never committed (that epoch runs again)
        must not leave them holding it. The committed best epoch's weights stay in the
        backup (the file of the commit after it) for this."""
        ck = self.checkpoint
        if ck is None:
            return
        best = self.committed_best()
        paths = [os.path.join(ck.directory, f) for f in ("best.keras", "best.json")]
        if best is None:
            for p in paths:
                if os.path.exists(p):
                    os.unlink(p)
            ck.best = ck.best_epoch = None
            return
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        self.model.load_weights(os.path.join(self.backup_dir, best["weights"]))
        ck.write_best(best["epoch"], best["value"], best.get("tie"))

    def restored_epoch(self):
        """The number of finished epochs in the backup (0 if none)."""
        meta = self._read_meta()
        return int(meta["epoch"]) if meta else 0

    def _read_meta(self):
        if not os.path.exists(self._training_metadata_path):
            return None
        with open(self._training_metadata_path) as f:
            return json.load(f)

    def _load_model(self):
        meta = self._read_meta()
        if not meta:
            return
        weights = os.path.join(self.backup_dir, meta["weights"])
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)
        self.model.load_weights(weights)
        self.model._initial_epoch = int(meta["epoch"])

    skip_restore = False  # set for a second fit() in the same run (--unfreeze-after)

    def on_train_begin(self, logs=None):
        if self.skip_restore:
            self.skip_restore = False
            return
        if self._read_meta() is not None or self.checkpoint is not None:
            self._restore_best()
        self._load_model()

    def on_epoch_end(self, epoch, logs=None):
        if (self.guard is not None and self.guard.diverged is not None) or not _finite(logs):
            return
        self._current_epoch = epoch + 1
        self._save_model()

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        name = f"epoch-{self._current_epoch:05d}.weights.h5"
        path = os.path.join(self.backup_dir, name)
        with atomic_path(path, suffix=".weights.h5") as tmp:
            self.model.save_weights(tmp, overwrite=True)
        meta = {"epoch": self._current_epoch, "weights": name}
        best = self.committed_best()
        ck = self.checkpoint
        if ck is not None and ck.best_epoch == self._current_epoch - 1:
            best = {"epoch": ck.best_epoch, "value": ck.best, "tie": ck.best_tie,
                    "weights": name}
        if best is not None:
            meta["best"] = best
        # The commit: epoch, its weights and the best so far switch together.
        atomic_write_text(self._training_metadata_path, json.dumps(meta) + "\n")
        keep = {name, best["weights"] if best else None}
        for f in os.listdir(self.backup_dir):  # older epochs' weights
            if f.startswith("epoch-") and f not in keep:
                try:
                    os.unlink(os.path.join(self.backup_dir, f))
                except OSError:
                    pass
