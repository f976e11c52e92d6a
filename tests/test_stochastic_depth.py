"""StochasticDepth (Huang et al. 2016): drop per sample at training, expectation at test."""

import keras
import numpy as np
import pytest

import keras_cnns
from keras_cnns.layers import StochasticDepth
from keras_cnns.layers.stochastic_depth import linear_decay


def _pair(batch=256, seed=0):
    rng = np.random.default_rng(seed)
    shortcut = rng.normal(size=(batch, 4, 4, 3)).astype("float32")
    residual = rng.normal(size=(batch, 4, 4, 3)).astype("float32") + 2.0
    return shortcut, residual


def test_inference_is_the_expectation():
    s, r = _pair()
    layer = StochasticDepth(0.7)
    out = np.asarray(layer([s, r], training=False))
    np.testing.assert_allclose(out, s + 0.7 * r, rtol=1e-6)
    # Deterministic at inference.
    np.testing.assert_array_equal(out, np.asarray(layer([s, r], training=False)))
    inverted = StochasticDepth(0.7, scale_at_inference=False)
    np.testing.assert_allclose(np.asarray(inverted([s, r], training=False)), s + r, rtol=1e-6)


@pytest.mark.parametrize("scale_at_inference", [True, False])
def test_training_drops_whole_samples(scale_at_inference):
    s, r = _pair(batch=512)
    p = 0.6
    layer = StochasticDepth(p, scale_at_inference=scale_at_inference, seed=1)
    out = np.asarray(layer([s, r], training=True))
    kept_value = s + (r if scale_at_inference else r / p)
    dropped = np.all(np.isclose(out, s, atol=1e-6), axis=(1, 2, 3))
    kept = np.all(np.isclose(out, kept_value, atol=1e-5), axis=(1, 2, 3))
    assert np.all(dropped ^ kept)  # each sample entirely dropped or entirely kept
    assert 0.3 < dropped.mean() < 0.5  # ~ 1 - p = 0.4
    # Averaged over draws, training output -> the inference output (the expectation).
    # Samples drop independently: 2,000 copies of 8 samples in one batch are 2,000 draws.
    reps = 2000
    out = np.asarray(layer([np.tile(s[:8], (reps, 1, 1, 1)), np.tile(r[:8], (reps, 1, 1, 1))],
                           training=True))
    draws = out.reshape(reps, 8, 4, 4, 3).mean(axis=0)
    np.testing.assert_allclose(draws, np.asarray(layer([s[:8], r[:8]], training=False)),
                               atol=0.25)


def test_survival_one_is_plain_add_and_bad_args():
    s, r = _pair(8)
    np.testing.assert_allclose(np.asarray(StochasticDepth(1.0)([s, r], training=True)), s + r)
    for bad in (0.0, 1.5, -0.1):
        with pytest.raises(ValueError, match="survival_probability"):
            StochasticDepth(bad)
    with pytest.raises(TypeError, match="survival_probability"):
        StochasticDepth("0.5")


def test_linear_decay_rule():
    # Eq. 4: p_l = 1 - l/L (1 - p_L); p_L reached at the last block.
    assert linear_decay(4, 0.5) == pytest.approx([0.875, 0.75, 0.625, 0.5])


def test_resnet_with_stochastic_depth_saves_and_loads(tmp_path, photos):
    from tests.helpers import small_photos

    model = keras_cnns.ResNet(depth=18, stages=(1, 1, 1, 1), stochastic_depth=0.5,
                              input_shape=(64, 64, 3), classes=5)
    x = small_photos(photos, 64) / 255.0
    path = tmp_path / "sd.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(x, training=False)),
                               np.asarray(model(x, training=False)), rtol=1e-5, atol=1e-6)
    sd = [l for l in loaded.layers if isinstance(l, StochasticDepth)]
    assert [l.survival_probability for l in sd] == pytest.approx([0.875, 0.75, 0.625, 0.5])


def test_model_inference_equals_scaled_branches(photos):
    """A whole network at inference: with p_L = 1 it is the plain ResNet; weights shared."""
    from tests.helpers import small_photos

    x = small_photos(photos, 64) / 255.0
    plain = keras_cnns.ResNet(depth=18, stages=(1, 1, 1, 1), input_shape=(64, 64, 3),
                              classes=5, classifier_activation=None)
    sd = keras_cnns.ResNet(depth=18, stages=(1, 1, 1, 1), input_shape=(64, 64, 3), classes=5,
                           classifier_activation=None, stochastic_depth=1.0)
    sd.set_weights(plain.get_weights())
    np.testing.assert_allclose(np.asarray(sd(x, training=False)),
                               np.asarray(plain(x, training=False)), rtol=1e-5, atol=1e-5)
    # Training-mode forward with p_L < 1 varies between calls (some samples drop).
    low = keras_cnns.ResNet(depth=18, stages=(1, 1, 1, 1), input_shape=(64, 64, 3),
                            classes=5, classifier_activation=None, stochastic_depth=0.2)
    low.set_weights(plain.get_weights())
    xs = np.repeat(x, 8, axis=0)
    outs = [np.asarray(low(xs, training=True)) for _ in range(3)]
    assert any(not np.allclose(outs[0], o) for o in outs[1:])
