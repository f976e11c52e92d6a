"""What ``keras-cnns evaluate`` writes beside its JSON to read the result by class:
``<stem>.confusion.png``, ``<stem>.per_class.csv`` and the five most-confused pairs."""

from __future__ import annotations

__all__ = ["write_class_report"]


def write_class_report(result, class_names, json_path, title=None, pairs=5):
    """From ``evaluate_tta(..., return_probabilities=True)``'s ``result``: write the
    confusion picture and the per-class CSV next to ``json_path`` (same stem), print the
    ``pairs`` most-confused (true -> predicted) pairs. Returns the two paths."""
    import os

    from keras_cnns.atomic import atomic_write
    from keras_cnns.data.metrics import (confusion_matrix, most_confused, per_class,
                                         per_class_csv)
    from keras_cnns.visualize.confusion import plot_confusion

    probs, labels = result["probabilities"], result["labels"]
    matrix = confusion_matrix(probs, labels)
    stem = os.path.splitext(json_path)[0]
    png, table = f"{stem}.confusion.png", f"{stem}.per_class.csv"
    plot_confusion(matrix, class_names, png, title=title)
    atomic_write(table, per_class_csv(per_class(probs, labels, class_names)))
    top = most_confused(matrix, pairs)
    if top:
        print("most confused (true -> predicted): " + "; ".join(
            f"{class_names[t]} -> {class_names[p]} ({n})" for t, p, n in top))
    else:
        print("most confused: none (no top-1 error)")
    print(f"wrote {png}, {table}")
    return png, table
