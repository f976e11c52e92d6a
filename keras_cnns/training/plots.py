"""``curves.png``: loss and accuracy per epoch, per head, train and held-out."""

from __future__ import annotations

from keras_cnns.atomic import atomic_path

__all__ = ["plot_curves"]


def plot_curves(rows, path, title=""):
    """Plot ``history.csv`` rows (see :func:`keras_cnns.training.callbacks.read_history`)
    to ``path`` with matplotlib's Agg backend: a loss panel and an accuracy panel, one
    line per head and split. Written atomically."""
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    epochs = [r["epoch"] + 1 for r in rows]
    keys = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for ax, kind in zip(axes, ("loss", "accuracy")):
        for k in keys:
            base = k[4:] if k.startswith("val_") else k
            if not (base == kind or base.endswith("_" + kind)):
                continue
            ys = [r.get(k) for r in rows]
            if all(isinstance(v, float) for v in ys):
                ax.plot(epochs, ys, marker="o", ms=3,
                        linestyle="--" if k.startswith("val_") else "-",
                        label=k.replace("val_", "held-out ") if k.startswith("val_") else
                        f"train {k}")
        ax.set_xlabel("epoch")
        ax.set_ylabel(kind)
        ax.grid(alpha=0.3)
        if ax.lines:
            ax.legend(fontsize=7)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    with atomic_path(path, suffix=".png") as tmp:
        fig.savefig(tmp, dpi=100)
    plt.close(fig)
    return path
