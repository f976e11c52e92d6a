"""The confusion matrix as a picture: class names on both axes, row-normalised colours,
counts in the cells; for many classes, the most-confused part."""

from __future__ import annotations

import numpy as np

from keras_cnns.visualize._common import _check_out_path, _figure, _save

__all__ = ["plot_confusion", "MAX_CLASSES"]

MAX_CLASSES = 30  # beyond this, the most-confused classes only (a 1000x1000 grid is unreadable)


def plot_confusion(matrix, class_names=None, path=None, title=None, max_classes=MAX_CLASSES):
    """Plot ``matrix`` (rows: true class, columns: predicted; counts). With more than
    ``max_classes`` classes only those of the largest confusions are shown (the title
    says so). Returns the figure; ``path`` saves it as PNG, atomically."""
    from keras_cnns.data.metrics import most_confused_classes

    if path is not None:
        path = _check_out_path(path)
    m = np.asarray(matrix)
    if m.ndim != 2 or m.shape[0] != m.shape[1]:
        raise ValueError(f"matrix must be square [classes, classes], got shape {m.shape}")
    k = len(m)
    names = [str(i) for i in range(k)] if class_names is None else [str(c) for c in class_names]
    if len(names) != k:
        raise ValueError(f"class_names has {len(names)} names for {k} classes")
    keep = most_confused_classes(m, max_classes)
    sub = m[np.ix_(keep, keep)]
    rates = sub / np.maximum(m[keep].sum(1, keepdims=True), 1)
    side = max(4.0, 0.32 * len(keep) + 2.0)
    fig = _figure(figsize=(side + 1.0, side), layout="constrained")
    ax = fig.add_subplot()
    im = ax.imshow(rates, cmap="Blues", vmin=0.0, vmax=1.0)
    labels = [names[i] for i in keep]
    ax.set_xticks(range(len(keep)), labels, rotation=90, fontsize=7)
    ax.set_yticks(range(len(keep)), labels, fontsize=7)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    if len(keep) <= 30:
        for i in range(len(keep)):
            for j in range(len(keep)):
                if sub[i, j]:
                    ax.text(j, i, str(int(sub[i, j])), ha="center", va="center", fontsize=6,
                            color="white" if rates[i, j] > 0.5 else "black")
    fig.colorbar(im, ax=ax, fraction=0.046, label="fraction of the true class")
    part = "" if len(keep) == k else f" ({len(keep)} most-confused of {k} classes)"
    ax.set_title((title or "confusion matrix") + part, fontsize=9)
    if path is not None:
        _save(fig, path)
    return fig
