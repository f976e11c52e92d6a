"""Training curves: one panel per quantity, a line per head, train solid and held-out
dashed. The one history plot: ``keras-cnns train`` draws its ``curves.png`` with it."""

from __future__ import annotations

import csv
import math
import os
import re

import numpy as np

from keras_cnns.visualize._common import _check_out_path, _figure, _save

def _numeric(value):
    """``value`` as a float (empty cells: NaN), or None for text such as a phase label."""
    if value is None or value == "":
        return float("nan")
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _from_rows(rows, what):
    """``(epochs, data)`` of history rows (dicts with an ``epoch`` key, as
    :func:`keras_cnns.training.callbacks.read_history` gives); text columns are left out."""
    if not rows:
        raise ValueError(f"history_or_csv: {what} holds no epochs")
    fields = []
    for r in rows:
        fields += [k for k in r if k not in fields]
    if "epoch" not in fields:
        raise ValueError(f"history_or_csv: {what} has no 'epoch' column (columns: {fields}); "
                         "write it with keras.callbacks.CSVLogger")
    epochs = [int(float(r["epoch"])) for r in rows]
    data = {}
    for k in fields:
        if k == "epoch":
            continue
        values = [_numeric(r.get(k)) for r in rows]
        if all(v is not None for v in values):
            data[k] = values
    return epochs, data


def _read_history(history_or_csv):
    if isinstance(getattr(history_or_csv, "history", None), dict):  # keras History
        data = dict(history_or_csv.history)
        epochs = list(getattr(history_or_csv, "epoch", []) or [])
    elif isinstance(history_or_csv, dict):
        data = dict(history_or_csv)
        epochs = list(data.pop("epoch", []))
    elif isinstance(history_or_csv, list) and all(isinstance(r, dict) for r in history_or_csv):
        epochs, data = _from_rows(history_or_csv, "the rows")
    elif isinstance(history_or_csv, (str, os.PathLike)):
        csv_path = os.fspath(history_or_csv)
        if not os.path.isfile(csv_path):
            raise ValueError(f"history_or_csv: no such CSV file {csv_path!r}")
        with open(csv_path, newline="") as f:
            reader = csv.DictReader(f)
            fields = reader.fieldnames or []
            if "epoch" not in fields:
                raise ValueError(f"history_or_csv: CSV {csv_path!r} has no 'epoch' column "
                                 f"(columns: {fields}); write it with keras.callbacks.CSVLogger")
            rows = list(reader)
        epochs, data = _from_rows(rows, f"CSV {csv_path!r}")
    else:
        raise TypeError("history_or_csv must be a keras History, a dict of lists, a list of "
                        f"row dicts or a CSV path, got {type(history_or_csv).__name__}")
    data = {k: [float(v) for v in np.ravel(np.asarray(vals, dtype="float64"))]
            for k, vals in data.items()}
    if not data or not any(len(v) for v in data.values()):
        raise ValueError("history_or_csv holds no metrics")
    n = max(len(v) for v in data.values())
    if len(epochs) != n:
        epochs = list(range(n))
    return epochs, data


_HEAD_RE = re.compile(r"^(main|aux\d*)_(.+)$")


def _panel_and_line(key):
    base = key[4:] if key.startswith("val_") else key
    split = "val" if key.startswith("val_") else "train"
    if base in ("learning_rate", "lr"):
        return "learning rate", base, split
    m = _HEAD_RE.match(base)
    head, metric = (m.group(1), m.group(2)) if m else ("all", base)
    if metric == "loss":
        return "loss", ("total" if head == "all" else head), split
    return metric, head, split


#: What "best" means, first present wins: the monitor of ``keras-cnns train``'s best.keras.
BEST_MONITORS = (("val_main_accuracy", "max"), ("val_accuracy", "max"), ("val_main_loss", "min"),
                 ("val_loss", "min"))


def best_epoch(history_or_csv):
    """``(index, monitor)`` of the best epoch: the first epoch with the highest validation
    accuracy (``val_main_accuracy`` for aux models), as ``best.keras`` is chosen, else the
    lowest validation loss; ``(None, None)`` without validation columns. ``index`` counts
    the rows from 0."""
    _, data = _read_history(history_or_csv)
    for key, mode in BEST_MONITORS:
        values = np.asarray(data.get(key, []), dtype="float64")
        if values.size and np.isfinite(values).any():
            clean = np.where(np.isfinite(values), values, -np.inf if mode == "max" else np.inf)
            return int(np.argmax(clean) if mode == "max" else np.argmin(clean)), key
    return None, None


def plot_history(history_or_csv, path=None, title=None):
    """Plot training curves: one panel per quantity (loss, then each metric), a line per
    head (``main``, ``aux1``, ...; ``total`` for the weighted sum), solid for training,
    dashed for validation. Accepts a ``keras.callbacks.History``, its ``.history``
    dict, a list of row dicts with an ``epoch`` key, or a CSV path with an ``epoch``
    column (``keras.callbacks.CSVLogger``, a run's ``history.csv``); text columns are
    skipped. A dotted line marks the best epoch (:func:`best_epoch`). Returns the figure;
    ``path`` saves it as PNG (atomically), ``title`` goes above the panels."""
    if path is not None:
        path = _check_out_path(path)
    epochs, data = _read_history(history_or_csv)
    panels = {}
    for key, values in data.items():
        panel, line, split = _panel_and_line(key)
        panels.setdefault(panel, []).append((line, split, values))
    order = sorted(panels, key=lambda p: (p != "loss", p == "learning rate", p))
    cols = min(3, len(order))
    rows = math.ceil(len(order) / cols)
    fig = _figure(figsize=(4.2 * cols, 3.2 * rows), layout="constrained")
    axes = np.atleast_1d(fig.subplots(rows, cols, squeeze=False)).ravel()
    colours = {}
    palette = ["C0", "C1", "C2", "C3", "C4", "C5", "C6", "C7"]
    best, _ = best_epoch(history_or_csv)
    best_x = None
    if best is not None:
        best_x = epochs[best] + 1 if best < len(epochs) else best + 1
    for ax, panel in zip(axes, order):
        if best_x is not None:  # the epoch best.keras comes from
            ax.vlines(best_x, 0, 1, transform=ax.get_xaxis_transform(), colors="0.4",
                      linestyles=":", linewidth=1)
            ax.annotate(f"best epoch {best_x}", (best_x, 1.0), xycoords=("data", "axes fraction"),
                        xytext=(2, -2), textcoords="offset points", ha="left", va="top",
                        fontsize=7, color="0.3")
        for line, split, values in sorted(panels[panel], key=lambda t: (t[0], t[1] != "train")):
            colour = colours.setdefault(line, palette[len(colours) % len(palette)])
            xs = [epochs[i] + 1 if i < len(epochs) else i + 1 for i in range(len(values))]
            ax.plot(xs, values, color=colour, linestyle="-" if split == "train" else "--",
                    marker="o", markersize=3, label=f"{line} ({split})")
        ax.set_title(panel, fontsize=10)
        ax.set_xlabel("epoch")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=7)
    for ax in axes[len(order):]:
        ax.set_axis_off()
    if title:
        fig.suptitle(title, fontsize=11)
    if path is not None:
        _save(fig, path)
    return fig
