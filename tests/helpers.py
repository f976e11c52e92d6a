"""Helpers the tests import (fixtures live in conftest.py): real images only,
scikit-learn's bundled digits and sample photos."""

import importlib.util
import os

import numpy as np
import pytest

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_tool(name):
    """A developer tool of ``tools/`` (not shipped in the wheel) as a module."""
    spec = importlib.util.spec_from_file_location(name, os.path.join(REPO, "tools", f"{name}.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def small_photos(photos, size, n=2):
    """The photos resized to ``size`` x ``size``, float32 in 0-255, [n, size, size, 3]."""
    import tensorflow as tf

    batch = np.stack(photos)[:n]
    return tf.image.resize(batch.astype("float32"), (size, size)).numpy()


def digit_images(digits_data, size, classes=10, n=None):
    """The training digits at ``size`` px, float32 in [0, 1], the first ``classes``
    classes only, at most ``n`` of them: ``(x, y)``."""
    import tensorflow as tf

    x_tr, y_tr = digits_data[0], digits_data[1]
    keep = y_tr < classes
    x, y = x_tr[keep][:n].astype("float32"), y_tr[keep][:n]
    if x.shape[1] != size:
        x = tf.image.resize(x, (size, size)).numpy()
    return x / 255.0, y


def assert_training_loss_halves(model, x, y, optimizer, epochs, batch_size=32):
    """The zoo's learning check: after ``epochs`` of fitting (sparse cross-entropy), the
    last epoch's training loss is below half the loss the untrained model starts at."""
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    start = model.evaluate(x, y, batch_size=128, verbose=0)
    history = model.fit(x, y, epochs=epochs, batch_size=batch_size, shuffle=True, verbose=0)
    assert history.history["loss"][-1] < 0.5 * start, (start, history.history["loss"])


def assert_minimum_input_is_tight(name, expected, monkeypatch, channels=3, run=False,
                                  **build_kwargs):
    """The entry's ``min_input_size`` is ``expected``, builds there (and gives finite
    outputs, with ``run``); one pixel less is refused by the builder, and with the
    builder's check lifted Keras itself fails: the minimum is exact, not conservative."""
    import keras_cnns
    from keras_cnns.models import common

    mn = keras_cnns.model_info(name).min_input_size
    assert mn == expected
    model = keras_cnns.build(name, input_shape=(mn, mn, channels), **build_kwargs)
    if run:
        out = model(np.zeros((1, mn, mn, channels), "float32"))
        assert np.isfinite(np.asarray(out)).all()
    if mn == 1:
        return
    with pytest.raises(ValueError, match="minimum"):
        keras_cnns.build(name, input_shape=(mn - 1, mn - 1, channels), **build_kwargs)
    real = common.resolve_input_shape
    monkeypatch.setattr(common, "resolve_input_shape",
                        lambda s, t, d, m, **kw: real(s, t, d, 1, **kw))
    with pytest.raises(Exception):  # noqa: B017 (whatever Keras raises on an empty map)
        keras_cnns.build(name, input_shape=(mn - 1, mn - 1, channels), **build_kwargs)
