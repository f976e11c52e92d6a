"""FractalNet (Larsson et al. 2016): structure, count, the join and drop-path."""

import keras
import numpy as np
import pytest

import keras_cnns
from keras_cnns.layers import DropPathSampler, FractalJoin

SMALL = dict(channels=(8, 8, 16, 16, 16), columns=2, input_shape=(32, 32, 3), classes=10)


def expected_params(channels=(64, 128, 256, 512, 512), columns=4, in_ch=3, classes=10):
    """Section 4's arithmetic: 2^C - 1 convs per block, C read the block input."""
    total = trainable = 0
    for w in channels:
        convs = 2 ** columns - 1
        weights = 9 * w * (columns * in_ch + (convs - columns) * w)
        trainable += weights + 2 * w * convs
        total += weights + 4 * w * convs
        in_ch = w
    head = channels[-1] * classes + classes
    return total + head, trainable + head


@pytest.fixture(scope="module")
def default_model():
    model = keras_cnns.build("fractalnet")
    yield model
    keras.backend.clear_session()


def test_default_counts(default_model):
    info = keras_cnns.model_info("fractalnet")
    total, trainable = expected_params()
    prof = keras_cnns.profile(default_model)
    assert (total, trainable) == (76_150_794, 76_106_634)
    assert prof.params == default_model.count_params() == info.params == total
    assert prof.trainable_params == info.trainable_params == trainable
    assert prof.macs == info.macs == 2_036_077_568


def test_structure_follows_expansion_rule(default_model):
    m = default_model
    convs = [l for l in m.layers if isinstance(l, keras.layers.Conv2D)]
    assert len(convs) == 5 * 15
    # Deepest column: 2^(C-1) = 8 convs per block, 40 on the deepest path.
    assert len([l for l in convs if "_c4_" in l.name]) == 40
    joins = [l for l in m.layers if isinstance(l, FractalJoin)]
    assert [l.name for l in joins[:4]] == ["block1_join2", "block1_join4", "block1_join6",
                                           "block1_join8"]
    assert [l.columns for l in joins[:4]] == [(2, 3), (1, 2, 3), (2, 3), (0, 1, 2, 3)]
    assert [m.get_layer(f"block{b}_pool").output.shape[1] for b in range(1, 6)] == [16, 8, 4,
                                                                                    2, 1]
    assert [m.get_layer(f"block{b}_join8").output.shape[-1] for b in range(1, 6)] == [
        64, 128, 256, 512, 512]
    assert m.get_layer("block3_c2_d4_dropout").rate == pytest.approx(0.2)
    assert all(j.drop_rate == pytest.approx(0.15) for j in joins)
    assert m.get_layer("drop_path").global_rate == pytest.approx(0.5)


def _cols(k=3, batch=6, seed=0):
    rng = np.random.default_rng(seed)
    return [rng.normal(size=(batch, 2, 2, 4)).astype("float32") + 10 * i for i in range(k)]


def test_join_is_mean_at_inference_and_without_drop():
    cols = _cols()
    mask = np.ones((6, 4), "float32")
    join = FractalJoin((1, 2, 3), 4, drop_rate=0.15)
    np.testing.assert_allclose(np.asarray(join(cols + [mask], training=False)),
                               np.mean(cols, axis=0), rtol=1e-6)
    plain = FractalJoin((1, 2, 3), 4, drop_rate=0.0)
    np.testing.assert_allclose(np.asarray(plain(cols + [mask], training=True)),
                               np.mean(cols, axis=0), rtol=1e-6)


def test_join_global_drop_path_keeps_one_column():
    cols = _cols()
    join = FractalJoin((1, 2, 3), 4, drop_rate=0.15)
    one_hot = np.tile(np.eye(4, dtype="float32")[2], (6, 1))
    np.testing.assert_allclose(np.asarray(join(cols + [one_hot], training=True)), cols[1])
    # The chosen column skips this join: its output is unused, it averages.
    off_path = np.tile(np.eye(4, dtype="float32")[0], (6, 1))
    np.testing.assert_allclose(np.asarray(join(cols + [off_path], training=True)),
                               np.mean(cols, axis=0), rtol=1e-6)


def test_join_local_drop_path_keeps_at_least_one():
    cols = [np.full((400, 1, 1, 1), v, "float32") for v in (1.0, 10.0, 100.0)]
    join = FractalJoin((0, 1, 2), 3, drop_rate=0.9, seed=3)
    out = np.asarray(join(cols + [np.ones((400, 3), "float32")], training=True)).ravel()
    subsets = {np.mean(s) for s in ([1], [10], [100], [1, 10], [1, 100], [10, 100],
                                    [1, 10, 100])}
    assert all(any(np.isclose(o, s) for s in subsets) for o in out)
    assert len({round(float(o), 3) for o in out}) >= 3  # per-sample choices differ


def test_sampler_global_fraction():
    sampler = DropPathSampler(4, global_rate=0.5, seed=0)
    x = np.zeros((3, 2), "float32")
    assert np.all(np.asarray(sampler(x, training=False)) == 1)
    masks = [np.asarray(sampler(x, training=True)) for _ in range(400)]
    assert all(np.all(m == m[0]) for m in masks)  # one decision per mini-batch
    global_batches = [m[0] for m in masks if m[0].sum() == 1]
    assert 0.4 < len(global_batches) / 400 < 0.6
    assert {int(np.argmax(m)) for m in global_batches} == {0, 1, 2, 3}


def test_small_fractalnet_trains_saves_and_loads(tmp_path, photos):
    from tests.helpers import small_photos

    keras.utils.set_random_seed(0)
    model = keras_cnns.FractalNet(**SMALL)
    x = small_photos(photos, 32) / 255.0
    y = np.array([1, 2])
    model.compile(optimizer="sgd", loss="sparse_categorical_crossentropy")
    model.train_on_batch(x, y)
    path = tmp_path / "fractal.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    a = np.asarray(model(x, training=False))
    np.testing.assert_allclose(np.asarray(loaded(x, training=False)), a, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(a, np.asarray(model(x, training=False)))  # deterministic
    assert np.all(np.isfinite(a))


def test_columns_one_and_custom_blocks():
    m = keras_cnns.FractalNet(channels=(8, 8), columns=1, input_shape=(4, 4, 3), classes=3)
    assert not any(isinstance(l, FractalJoin) for l in m.layers)
    assert m.output.shape == (None, 3)


@pytest.mark.parametrize("kwargs,match", [
    (dict(channels=()), "channels"),
    (dict(dropout=(0.1, 0.2)), "dropout"),
    (dict(local_drop=1.0), "local_drop"),
    (dict(global_drop=-0.1), "global_drop"),
    (dict(input_shape=(31, 31, 3)), "minimum"),
    (dict(input_shape=(3, 32, 32)), "channels"),
    (dict(weights="imagenet"), "weights"),
    (dict(columns=0), "columns"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras_cnns.FractalNet(**kwargs)
