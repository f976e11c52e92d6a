"""Reading an evaluation: the confusion matrix, per-class support / top-1 / top-5 and the
most-confused pairs, from the probabilities :func:`keras_cnns.data.evaluate_tta` returns.
Numpy only."""

from __future__ import annotations

import csv
import io

import numpy as np

__all__ = ["confusion_matrix", "per_class", "per_class_csv", "most_confused",
           "most_confused_classes"]


def _check(probabilities, labels):
    p = np.asarray(probabilities)
    y = np.asarray(labels).reshape(-1).astype(np.int64)
    if p.ndim != 2 or len(p) != len(y):
        raise ValueError(f"probabilities must be [N, classes] with N = len(labels) = {len(y)}, "
                         f"got shape {p.shape}")
    if len(y) and (y.min() < 0 or y.max() >= p.shape[1]):
        raise ValueError(f"labels must be in [0, {p.shape[1]}), got {y.min()}..{y.max()}")
    return p, y


def confusion_matrix(probabilities, labels):
    """``[classes, classes]`` int64 counts: row = true class, column = top-1 prediction."""
    p, y = _check(probabilities, labels)
    k = p.shape[1]
    m = np.zeros((k, k), np.int64)
    np.add.at(m, (y, p.argmax(-1)), 1)
    return m


def per_class(probabilities, labels, class_names=None):
    """One dict per class: ``index``, ``class``, ``support`` (held-out images), ``top1`` and
    ``top5`` (fractions of its images; ``nan`` without support)."""
    p, y = _check(probabilities, labels)
    k = p.shape[1]
    top = np.argsort(-p, axis=-1, kind="stable")[:, :min(5, k)]
    hit1 = top[:, 0] == y
    hit5 = (top == y[:, None]).any(1)
    rows = []
    for c in range(k):
        sel = y == c
        n = int(sel.sum())
        rows.append({"index": c, "class": class_names[c] if class_names is not None else str(c),
                     "support": n,
                     "top1": float(hit1[sel].mean()) if n else float("nan"),
                     "top5": float(hit5[sel].mean()) if n else float("nan")})
    return rows


def per_class_csv(rows):
    """The rows of :func:`per_class` as CSV text."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["index", "class", "support", "top1", "top5"])
    for r in rows:
        w.writerow([r["index"], r["class"], r["support"], f"{r['top1']:.6g}", f"{r['top5']:.6g}"])
    return buf.getvalue()


def most_confused(matrix, n=5):
    """The ``n`` largest off-diagonal cells as ``(true, predicted, count)``, largest first
    (ties by true, then predicted index); cells with no image are left out."""
    m = np.asarray(matrix).copy()
    np.fill_diagonal(m, 0)
    flat = np.argsort(-m, axis=None, kind="stable")[:n]
    out = []
    for f in flat:
        t, q = np.unravel_index(f, m.shape)
        if m[t, q] > 0:
            out.append((int(t), int(q), int(m[t, q])))
    return out


def most_confused_classes(matrix, limit=30):
    """Up to ``limit`` class indices, sorted: every class if there are no more, else the
    classes of the largest off-diagonal cells, taken in order until ``limit`` are in."""
    m = np.asarray(matrix)
    k = len(m)
    if k <= limit:
        return list(range(k))
    off = m.copy()
    np.fill_diagonal(off, 0)
    chosen = []
    for f in np.argsort(-off, axis=None, kind="stable"):
        t, q = np.unravel_index(f, off.shape)
        if off[t, q] == 0:
            break
        for c in (int(t), int(q)):
            if c not in chosen and len(chosen) < limit:
                chosen.append(c)
        if len(chosen) >= limit:
            break
    if len(chosen) < limit:  # fill with the least accurate classes
        acc = np.diag(m) / np.maximum(m.sum(1), 1)
        for c in np.argsort(acc, kind="stable"):
            if int(c) not in chosen and len(chosen) < limit:
                chosen.append(int(c))
    return sorted(chosen)
