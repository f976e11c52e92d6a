"""The registered layers against direct numpy computations."""

import keras
import numpy as np
import pytest

from keras_cnns.layers import AdaptiveAveragePooling2D, LocalResponseNormalization, Preprocess


def lrn_numpy(a, n, k, alpha, beta, caffe):
    """Cross-channel LRN written out: window n centred on each channel."""
    out = np.empty_like(a, dtype=np.float64)
    c = a.shape[-1]
    r = n // 2
    scale_alpha = alpha / n if caffe else alpha
    for ch in range(c):
        lo, hi = max(0, ch - r), min(c, ch + r + 1)
        sq = np.sum(a[..., lo:hi].astype(np.float64) ** 2, axis=-1)
        out[..., ch] = a[..., ch] / (k + scale_alpha * sq) ** beta
    return out


@pytest.fixture(scope="module")
def activations():
    rng = np.random.default_rng(0)
    # Post-ReLU-like magnitudes, large enough that alpha matters.
    return (rng.random((2, 5, 6, 16)) * 40.0).astype("float32")


def test_lrn_tf_convention_matches_alexnet_formula(activations):
    layer = LocalResponseNormalization(depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75)
    got = np.asarray(layer(activations))
    want = lrn_numpy(activations, 5, 2.0, 1e-4, 0.75, caffe=False)
    np.testing.assert_allclose(got, want, rtol=1e-5)


def test_lrn_from_caffe_divides_alpha_by_local_size(activations):
    layer = LocalResponseNormalization.from_caffe(local_size=5, alpha=1e-4, beta=0.75, k=1.0)
    assert layer.alpha == pytest.approx(2e-5) and layer.depth_radius == 2
    got = np.asarray(layer(activations))
    want = lrn_numpy(activations, 5, 1.0, 1e-4, 0.75, caffe=True)
    np.testing.assert_allclose(got, want, rtol=1e-5)
    # ...and the two conventions really differ on these inputs.
    other = lrn_numpy(activations, 5, 1.0, 1e-4, 0.75, caffe=False)
    assert np.max(np.abs(other - want) / np.abs(want).max()) > 1e-3


def test_lrn_config_round_trip_and_float16(activations):
    layer = LocalResponseNormalization(depth_radius=3, bias=1.5, alpha=3e-4, beta=0.5, name="n")
    clone = LocalResponseNormalization.from_config(layer.get_config())
    np.testing.assert_allclose(np.asarray(clone(activations)), np.asarray(layer(activations)))
    # Under a mixed policy the layer computes in float16 but sums squares in float32:
    # 40**2 * 5 channels would be fine, so scale up until float16 squares overflow.
    mixed = LocalResponseNormalization(depth_radius=2, bias=2.0, alpha=1e-4, beta=0.75,
                                       dtype="mixed_float16")
    big = activations * 30.0  # squares up to 1.4e6 > float16 max 65504
    y = np.asarray(mixed(big))
    assert y.dtype == np.float16 and np.all(np.isfinite(y))
    want = lrn_numpy(big, 5, 2.0, 1e-4, 0.75, caffe=False)
    np.testing.assert_allclose(y.astype("float64"), want, rtol=2e-3)


@pytest.mark.parametrize("kwargs, error", [
    (dict(depth_radius=-1), ValueError), (dict(alpha=-1.0), ValueError),
    (dict(beta="x"), TypeError), (dict(depth_radius=2.0), TypeError)])
def test_lrn_rejects_bad_arguments(kwargs, error):
    # validation's rule: a wrong type is a TypeError, a wrong value a ValueError; both
    # name the argument.
    with pytest.raises(error, match=next(iter(kwargs))):
        LocalResponseNormalization(**kwargs)


def test_lrn_caffe_local_size_must_be_odd():
    with pytest.raises(ValueError, match="local_size"):
        LocalResponseNormalization.from_caffe(local_size=4)


def test_adaptive_pool_matches_torch_bins():
    x = np.arange(2 * 14 * 14 * 3, dtype="float32").reshape(2, 14, 14, 3)
    got = np.asarray(AdaptiveAveragePooling2D(4)(x))
    # torch's bins for 14 -> 4: [0,4) [3,7) [7,11) [10,14)
    bins = [(0, 4), (3, 7), (7, 11), (10, 14)]
    for i, (r0, r1) in enumerate(bins):
        for j, (c0, c1) in enumerate(bins):
            np.testing.assert_allclose(got[:, i, j], x[:, r0:r1, c0:c1].mean(axis=(1, 2)))


def test_preprocess_resizes_shorter_side_crops_and_normalises(photo_batch):
    layer = Preprocess(224, 224, mean=(1.0, 2.0, 3.0), std=(2.0, 2.0, 2.0), scale=0.5,
                       color_order="BGR", crop_fraction=0.875)
    out = np.asarray(layer(photo_batch))
    assert out.shape == (2, 224, 224, 3) and out.dtype == np.float32
    # Independent path: resize 427x640 -> shorter side 256 (256 x 384), centre crop.
    import tensorflow as tf

    resized = tf.image.resize(photo_batch.astype("float32"), (256, 384), antialias=True).numpy()
    crop = resized[:, 16:240, 80:304, ::-1]
    want = (crop * 0.5 - np.array([1.0, 2.0, 3.0])) / 2.0
    np.testing.assert_allclose(out, want, atol=1e-3)


def test_preprocess_grayscale_and_round_trip(photo_batch, tmp_path):
    layer = Preprocess(32, 32, mean=(0.0,), std=(255.0,), crop_fraction=1.0, grayscale=True)
    out = np.asarray(layer(photo_batch))
    assert out.shape == (2, 32, 32, 1) and 0.0 <= out.min() and out.max() <= 1.0
    inp = keras.Input((None, None, 3), dtype="uint8")
    model = keras.Model(inp, layer(inp))
    model.save(tmp_path / "p.keras")
    again = keras.saving.load_model(tmp_path / "p.keras", safe_mode=True)
    np.testing.assert_allclose(np.asarray(again(photo_batch)), out, atol=1e-6)


@pytest.mark.parametrize("kwargs, arg", [
    (dict(height=0, width=3), "height"),
    (dict(height=3, width=3, color_order="HSV"), "color_order"),
    (dict(height=3, width=3, crop_fraction=1.5), "crop_fraction"),
    (dict(height=3, width=3, interpolation="cubic"), "interpolation"),
])
def test_preprocess_rejects_bad_arguments(kwargs, arg):
    with pytest.raises(ValueError, match=arg):
        Preprocess(**kwargs)
