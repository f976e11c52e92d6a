"""Helpers the tests import (fixtures live in conftest.py): real images only,
scikit-learn's bundled digits and sample photos."""

import contextlib
import importlib.util
import os
import subprocess
import sys
from unittest import mock

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


# --------------------------------------------------------------------------- the CLI, in a subprocess

def cli_env(**extra):
    """The environment of a CLI subprocess: quiet TensorFlow, unbuffered, CPU only, no
    TF_CONFIG inherited."""
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONUNBUFFERED="1",
               CUDA_VISIBLE_DEVICES="")
    env.pop("TF_CONFIG", None)
    env.update(extra)
    return env


def cli_cmd(*args):
    return [sys.executable, "-m", "keras_cnns.cli", *map(str, args)]


def run_cli(*args, timeout=240, cwd=None, env=None):
    """Run ``keras-cnns ARGS`` in a subprocess, bounded by ``timeout`` seconds."""
    return subprocess.run(cli_cmd(*args), capture_output=True, text=True, timeout=timeout,
                          cwd=cwd, env=env or cli_env())


def one_line_error(proc):
    """The stderr lines that are not TensorFlow / absl log noise."""
    noise = ("WARNING: All log", "I0000", "W0000", "E0000")
    return [line for line in proc.stderr.splitlines()
            if line.strip() and not line.startswith(noise) and "oneDNN" not in line
            and "cpu_feature_guard" not in line and "rebuild TensorFlow" not in line
            and "AVX" not in line]


# --------------------------------------------------------------------------- keras.applications

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
    """Our model against keras.applications' after copying randomised weights: same
    weight names and shapes in the same order; logits agree on ``x``."""
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


# --------------------------------------------------------------------------- built models

@contextlib.contextmanager
def zero_initialised_weights():
    """Builds inside this block draw no random numbers: every normal, truncated-normal and
    uniform initialiser returns zeros. For checks that never read the initial values
    (parameter counts, multiply-adds, shapes, or weights overwritten before use): drawing
    ResNet-152's 60 M truncated normals is about half of its build time, VGG-19's FC
    layers most of it."""
    import keras
    from keras.src.backend import random as backend_random

    def zeros(shape, *args, dtype=None, **kwargs):
        return keras.ops.zeros(shape, dtype=dtype or keras.backend.floatx())

    with mock.patch.multiple(backend_random, normal=zeros, truncated_normal=zeros,
                             uniform=zeros):
        yield



class ModelCache:
    """Registry models built once per test module (``build_kwargs`` for every build),
    freed when the module ends: ``built = ModelCache(); _free_models = built.fixture()``.
    ``zero_init=True`` for a module that reads only counts and shapes or overwrites every
    weight (see zero_initialised_weights)."""

    def __init__(self, zero_init=False, **build_kwargs):
        self.build_kwargs = build_kwargs
        self.zero_init = zero_init
        self.models = {}

    def __call__(self, name):
        import keras_cnns

        if name not in self.models:
            context = zero_initialised_weights() if self.zero_init else contextlib.nullcontext()
            with context:
                self.models[name] = keras_cnns.build(name, **self.build_kwargs)
        return self.models[name]

    def clear(self):
        import keras

        self.models.clear()
        keras.backend.clear_session()

    def fixture(self):
        """A module-scoped autouse fixture that clears the cache at the module's end."""

        @pytest.fixture(scope="module", autouse=True)
        def _free_models():
            yield
            self.clear()

        return _free_models
