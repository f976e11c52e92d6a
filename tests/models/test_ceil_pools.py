"""Ceil-mode pools (Caffe's pools, torch's ceil_mode=True) give the documented grid
whether the input size is known when the model is built or not.

With a known size each pool pads explicitly (or is a Keras "same" / "valid" pool where
that gives the same windows); with ``input_shape=(None, None, C)`` a
:class:`~keras_cnns.layers.CeilModePooling2D` works the padding out at run time. The two
builds of every ceil-mode network must agree, grid for grid and value for value, at odd
sides, where TF's "same" padding (the former fallback) gives other grids.
"""

import importlib

import keras
import numpy as np
import pytest

import keras_cnns
from keras_cnns import registry
from keras_cnns.blocks.rows import Pool, output_sizes
from keras_cnns.layers import CeilModePooling2D
from keras_cnns.models import alexnet, googlenet, nin, squeezenet
from tests.helpers import zero_initialised_weights

# One registry entry per distinct ceil-mode pool layout, with the rows its builder walks
# (their output_size is the documented grid). alexnet_1tower and googlenet_bn have the
# pools of alexnet and googlenet.
ENTRIES = {
    "alexnet": lambda: alexnet.CAFFE_LAYOUT,
    "zfnet": lambda: alexnet.zf_layout("paper"),
    "googlenet": lambda: googlenet.trunk("paper"),
    "googlenet_torchvision": lambda: googlenet.trunk("torchvision"),
    "nin": lambda: nin.CONFIGS["imagenet"],
    "nin_cifar": lambda: nin.CONFIGS["cifar"],
    "squeezenet1_0": lambda: squeezenet.VERSIONS["1_0"],
    "squeezenet1_1": lambda: squeezenet.VERSIONS["1_1"],
}
SIZES = ((250, 300), (227, 231))


def _rows_in(value, depth=0):
    """Every row in a spec module's value: tuples, lists and dicts of rows, nested."""
    if isinstance(value, Pool):
        yield value
    elif isinstance(value, (tuple, list)) and depth < 4:
        for v in value:
            yield from _rows_in(v, depth + 1)
    elif isinstance(value, dict) and depth < 4:
        for v in value.values():
            yield from _rows_in(v, depth + 1)


def test_every_family_with_ceil_pools_is_checked_here():
    """The families whose spec declares a ceil-mode Pool row (module-level tables) are
    the families of ENTRIES."""
    with_ceil = set()
    for family in registry.families():
        spec = importlib.import_module(family.build_module.rsplit(".", 1)[0] + ".spec")
        if any(r.padding == "ceil" for v in vars(spec).values() for r in _rows_in(v)):
            with_ceil.add(family.name)
    assert with_ceil == {registry.family_of(n).name for n in ENTRIES}


def test_googlenet_torchvision_at_250x300_is_8x9_after_the_last_pool():
    """The issue's example, by torch's rule ceil((n - k) / s) + 1: conv1 7x7/2 pad 3:
    125 x 150; pool1 3x3/2: 62 x 75; pool2: 31 x 37; pool3: 15 x 18; pool4 2x2/2: 8 x 9
    (TF "same" gives 8 x 10)."""
    sizes = output_sizes((250, 300), googlenet.trunk("torchvision"))
    assert [sizes[p] for p in ("conv1", "pool1", "pool2", "pool3", "pool4")] == [
        (125, 150), (62, 75), (31, 37), (15, 18), (8, 9)]
    keras.backend.clear_session()
    with zero_initialised_weights():  # only the grid is read
        model = keras_cnns.build("googlenet_torchvision", include_top=False,
                                 input_shape=(None, None, 3))
    out = model(np.zeros((1, 250, 300, 3), "float32"), training=False)
    assert tuple(out.shape[1:3]) == (8, 9)


@pytest.mark.parametrize("name", sorted(ENTRIES))
def test_static_and_dynamic_builds_agree_at_odd_sizes(name):
    rows = ENTRIES[name]()
    pools = [r.name for r in rows if isinstance(r, Pool) and r.padding == "ceil"]
    channels = keras_cnns.model_info(name).default_input_shape[-1]
    keras.backend.clear_session()
    dynamic = keras_cnns.build(name, include_top=False, input_shape=(None, None, channels))
    # Every ceil-mode pool of the unknown-size build works its padding out at run time.
    assert {lay.name for lay in dynamic.layers if isinstance(lay, CeilModePooling2D)} == \
        set(pools)
    probe_dynamic = keras.Model(dynamic.input, [dynamic.get_layer(p).output for p in pools])
    rng = np.random.default_rng(0)
    for h, w in SIZES:
        documented = output_sizes((h, w), rows)
        with zero_initialised_weights():  # every weight is set from the dynamic build
            static = keras_cnns.build(name, include_top=False, input_shape=(h, w, channels))
        # The same weights layer for layer (the static build's pads hold none).
        assert [lay.name for lay in static.layers if lay.weights] == \
            [lay.name for lay in dynamic.layers if lay.weights]
        assert static.count_params() == dynamic.count_params()
        static.set_weights(dynamic.get_weights())
        for p in pools:
            assert tuple(static.get_layer(p).output.shape[1:3]) == documented[p], (p, h, w)
        probe_static = keras.Model(static.input, [static.get_layer(p).output for p in pools])
        x = rng.uniform(0.0, 1.0, (1, h, w, channels)).astype("float32")
        for p, a, b in zip(pools, probe_dynamic(x, training=False),
                           probe_static(x, training=False)):
            assert tuple(a.shape[1:3]) == tuple(b.shape[1:3]) == documented[p], (p, h, w)
            np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-5, atol=1e-5,
                                       err_msg=f"{name} {p} at {h}x{w}")


def test_a_known_size_keras_cannot_pool_in_ceil_mode_gets_the_layer():
    """NiN-CIFAR at 250 x 300: pool1 3x3/2 gives 125 x 150, and its average pool2 must
    then give ceil((125 - 3) / 2) + 1 = 62 (no overhang) by ceil((150 - 3) / 2) + 1 = 75
    (one column of overhang). No Keras padding does both ("same" gives 63 x 75,
    "valid" 62 x 74), so the known-size build uses CeilModePooling2D there too; the
    profiler counts its 9 additions per output element as for any pool."""
    keras.backend.clear_session()
    with zero_initialised_weights():  # layer kinds, shapes and counts only
        model = keras_cnns.build("nin_cifar", include_top=False, input_shape=(250, 300, 3))
    pool2 = model.get_layer("pool2")
    assert isinstance(pool2, CeilModePooling2D) and pool2.kind == "avg"
    assert tuple(pool2.output.shape[1:]) == (62, 75, 192)
    assert isinstance(model.get_layer("pool1"), keras.layers.MaxPooling2D)
    row = next(r for r in keras_cnns.profile(model).layers if r.name == "pool2")
    assert (row.elements, row.other_ops, row.macs) == (62 * 75 * 192, 9 * 62 * 75 * 192, 0)


def test_unknown_size_build_round_trips_in_safe_mode(tmp_path):
    keras.backend.clear_session()
    model = keras_cnns.build("squeezenet1_1", include_top=False, input_shape=(None, None, 3))
    path = tmp_path / "squeezenet.keras"
    model.save(path)
    again = keras.saving.load_model(path, safe_mode=True)
    assert [lay.name for lay in again.layers] == [lay.name for lay in model.layers]
    x = np.random.default_rng(2).uniform(0.0, 1.0, (1, 227, 231, 3)).astype("float32")
    a, b = model(x, training=False), again(x, training=False)
    # 227 x 231: conv1 3x3/2 113 x 115; pools 56 x 57, 28 x 28, 14 x 14 (torch's rule).
    assert tuple(a.shape[1:3]) == (14, 14)
    np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
