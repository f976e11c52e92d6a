"""Shared check: our model against keras.applications after copying randomised weights."""

import numpy as np


def randomise(model, seed=0):
    """Random weights everywhere, BN moving statistics included (so a swapped mean /
    variance or a missing epsilon shows)."""
    rng = np.random.default_rng(seed)
    values = []
    for w in model.weights:
        shape, path = tuple(w.shape), w.path
        if "moving_variance" in path:
            a = rng.uniform(0.5, 2.0, shape)
        elif "moving_mean" in path:
            a = rng.normal(0.0, 0.5, shape)
        elif "gamma" in path:
            a = rng.uniform(0.5, 1.5, shape)
        elif "beta" in path or "bias" in path:
            a = rng.normal(0.0, 0.1, shape)
        else:  # kernels: He-scaled normal keeps activations finite through 150 layers
            fan_in = int(np.prod(shape[:-1])) if len(shape) > 1 else 1
            a = rng.normal(0.0, np.sqrt(1.0 / fan_in), shape)
        values.append(a.astype("float32"))
    model.set_weights(values)


def assert_same_as_keras(ours, theirs, x, rtol=1e-4):
    """Same weight names and shapes in the same order; logits agree on ``x``."""
    assert [w.path for w in ours.weights] == [w.path for w in theirs.weights]
    assert [tuple(w.shape) for w in ours.weights] == [tuple(w.shape) for w in theirs.weights]
    randomise(theirs)
    ours.set_weights(theirs.get_weights())
    a = np.asarray(ours(x, training=False))
    b = np.asarray(theirs(x, training=False))
    assert np.all(np.isfinite(b)) and np.abs(b).max() > 1e-3
    rel = np.abs(a - b).max() / np.abs(b).max()
    assert rel < rtol, rel
    return rel
