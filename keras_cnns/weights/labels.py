"""ImageNet class names shipped with the package, and ``decode_predictions``."""

import functools
import json
import os

import numpy as np

_INDEX_PATH = os.path.join(os.path.dirname(__file__), "imagenet_class_index.json")


@functools.lru_cache(maxsize=1)
def imagenet_classes():
    """The 1,000 ILSVRC-2012 classes in index order: a tuple of
    ``(wnid, name, synset words)``; ``name`` is keras.applications' short name."""
    with open(_INDEX_PATH) as f:
        index = json.load(f)
    return tuple(tuple(index[str(i)]) for i in range(len(index)))


def decode_predictions(preds, top=5):
    """keras.applications-style decoding: for each row of ``preds`` ``[N, 1000]``, a
    list of the ``top`` ``(wnid, name, score)`` tuples, highest score first.

    Uses the class names shipped in ``keras_cnns/weights/imagenet_class_index.json``
    (no download).
    """
    preds = np.asarray(preds)
    if preds.ndim != 2 or preds.shape[1] != 1000:
        raise ValueError("decode_predictions expects a batch of ImageNet predictions, shape "
                         f"(samples, 1000); got {preds.shape}")
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or not 1 <= top <= 1000:
        raise ValueError(f"top must be an int in [1, 1000], got {top!r}")
    classes = imagenet_classes()
    results = []
    for row in preds:
        order = np.argsort(-row, kind="stable")[:top]
        results.append([(classes[i][0], classes[i][1], float(row[i])) for i in order])
    return results
