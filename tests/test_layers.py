"""The registered layers against direct numpy computations."""

import math

import keras
import numpy as np
import pytest
import tensorflow as tf

from keras_cnns.layers import (AdaptiveAveragePooling2D, CeilModePooling2D,
                               LocalResponseNormalization, Preprocess)


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


@pytest.mark.parametrize("radius, bias, alpha, beta, channels", [
    (2, 1.0, 1e-4, 0.75, 64), (2, 2.0, 1e-4, 0.75, 96), (5, 1.0, 2e-5, 0.75, 192),
    (0, 1.0, 1e-3, 0.5, 8), (3, 1.5, 3e-4, 1.0, 7)])
def test_lrn_equals_tensorflows_kernel(radius, bias, alpha, beta, channels):
    """The layer and its keras.ops forms against tf.nn.local_response_normalization, on
    wide windows and narrow channel counts alike."""
    x = (np.random.default_rng(radius).random((2, 7, 7, channels)) * 100).astype("float32")
    from keras_cnns.layers.lrn import lrn_decomposed, lrn_formula

    want = tf.nn.local_response_normalization(x, radius, bias, alpha, beta).numpy()
    for got in (LocalResponseNormalization(radius, bias, alpha, beta)(x),
                lrn_formula(x, radius, bias, alpha, beta),  # the band form (jax, torch)
                lrn_decomposed(x, radius, bias, alpha, beta)):  # the TFLite form
        assert np.abs(np.asarray(got) - want).max() / np.abs(want).max() < 1e-5


@pytest.fixture(scope="module")
def photo_features(photos):
    """GoogLeNet-stem-like activations of the two real photos: a fixed random 3x3 conv
    to 64 channels and a ReLU at 56 px (values up to ~230, where alpha matters)."""
    from helpers import small_photos

    k = np.random.default_rng(0).standard_normal((3, 3, 3, 64)).astype("float32") * 0.1
    return tf.nn.relu(tf.nn.conv2d(small_photos(photos, 56), k, 1, "SAME")).numpy()


def _lrn_and_gradient(fn, a, w):
    a = tf.convert_to_tensor(a)
    with tf.GradientTape() as tape:
        tape.watch(a)
        y = fn(a)
        loss = tf.reduce_sum(tf.cast(y, "float32") * w)
    g = tape.gradient(loss, a)
    return [np.asarray(tf.cast(t, "float32")) for t in (y, g)]


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
def test_lrn_forms_agree_on_photos_with_gradients(photo_features, policy):
    """The LRN's forms on real-photo activations, output and input gradient: the layer
    (TensorFlow's LRN / LRNGrad kernels on this backend), the keras.ops band-matrix form
    (jax and torch), the earlier shifted-copies sum, and the CONV_2D / MUL / RSQRT form
    the TFLite exports trace (``decomposed()``)."""
    from keras_cnns.layers.lrn import (band_matrix, decomposed, lrn_formula, window_sum,
                                       window_sum_shifted)

    assert band_matrix(5, 1).sum() == 13 and band_matrix(5, 1)[0, 2] == 0
    layer = LocalResponseNormalization(2, 1.0, 1e-4, 0.75, dtype=policy)
    f32 = layer.compute_dtype == "float32"

    def keras_ops(window):
        def run(a):
            y = lrn_formula(tf.cast(a, "float32"), 2, 1.0, 1e-4, 0.75, window)
            return tf.cast(y, layer.compute_dtype)
        return run

    def export_form(a):
        with decomposed():
            return layer(a)

    a = tf.cast(photo_features, layer.compute_dtype)
    w = tf.constant(np.random.default_rng(1).standard_normal(a.shape), "float32")
    want = _lrn_and_gradient(layer, a, w)
    y32 = tf.nn.local_response_normalization(tf.cast(a, "float32"), 2, 1.0, 1e-4, 0.75)
    assert np.abs(want[0] - np.asarray(tf.cast(tf.cast(y32, a.dtype), "float32"))).max() == 0
    for form in (keras_ops(window_sum), keras_ops(window_sum_shifted), export_form):
        for got, ref in zip(_lrn_and_gradient(form, a, w), want):
            err = np.abs(got - ref) / np.abs(ref).max()
            if f32:
                assert err.max() < 1e-5
            else:  # float32 inside, rounded to bfloat16: at most a rare last-bit flip
                assert err.max() < 2 ** -7 and np.mean(got != ref) < 1e-3
    # LRN matters on these inputs: it is far from the identity.
    assert np.abs(want[0] - np.asarray(tf.cast(a, "float32"))).max() > 0.5 * np.abs(want[0]).max()


def test_lrn_export_form_covers_quarter_betas():
    """``t ** -beta`` from rsqrt products for beta in quarters, POW otherwise."""
    from keras_cnns.layers.lrn import lrn_decomposed, lrn_formula

    x = (np.random.default_rng(0).random((1, 4, 4, 9)) * 300).astype("float32")
    for beta in (0.25, 0.5, 0.75, 1.0, 1.25, 0.6):
        got = np.asarray(lrn_decomposed(x, 2, 1.5, 1e-3, beta))
        want = np.asarray(lrn_formula(x, 2, 1.5, 1e-3, beta))
        assert np.abs(got - want).max() / np.abs(want).max() < 1e-5, beta


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


def torch_ceil_windows(n, k, s):
    """torch's pooling with ceil_mode=True and no padding, on one axis of side n: out =
    ceil((n - k) / s) + 1, minus one if the last window would start past the input;
    window i covers [i * s, min(i * s + k, n))."""
    out = math.ceil((n - k) / s) + 1
    if (out - 1) * s >= n:
        out -= 1
    return [(i * s, min(i * s + k, n)) for i in range(out)]


def ceil_pool_numpy(x, k, s, kind):
    reduce = np.max if kind == "max" else np.mean
    rows, cols = torch_ceil_windows(x.shape[1], k, s), torch_ceil_windows(x.shape[2], k, s)
    return np.stack([np.stack([reduce(x[:, r0:r1, c0:c1], axis=(1, 2)) for c0, c1 in cols],
                              axis=1) for r0, r1 in rows], axis=1)


def test_torch_ceil_rule_by_hand():
    # 3x3/2: 250 -> 125 (the last window overhangs by one), 227 -> 113, 231 -> 115 (none).
    assert [len(torch_ceil_windows(n, 3, 2)) for n in (250, 227, 231, 300)] == [125, 113,
                                                                               115, 150]
    # 2x2/3 on 6: ceil(4 / 3) + 1 = 3 windows, but the third would start at 6, past the
    # input: 2. On 7 the third starts at 6 and covers one cell.
    assert torch_ceil_windows(6, 2, 3) == [(0, 2), (3, 5)]
    assert torch_ceil_windows(7, 2, 3) == [(0, 2), (3, 5), (6, 7)]


CEIL_CASES = [(3, 2), (2, 2), (2, 3), (5, 3)]
CEIL_SIDES = [(7, 8), (8, 7), (9, 9), (6, 11), (5, 6)]  # torch needs n >= k


@pytest.mark.parametrize("kind", ["max", "avg"])
def test_ceil_mode_pool_matches_torch_at_every_size(kind):
    """One model built with an unknown size, run at sides odd and even; negative inputs
    too, so the max pool's overhang must never win and the average must leave it out."""
    rng = np.random.default_rng(0)
    for k, s in CEIL_CASES:
        inp = keras.Input((None, None, 3))
        layer = CeilModePooling2D(k, s, kind)
        model = keras.Model(inp, layer(inp))
        assert tuple(model.output.shape) == (None, None, None, 3)
        # Traced once with unknown sides: the padding is computed from the runtime shape.
        graph = tf.function(model, input_signature=[tf.TensorSpec((None, None, None, 3))])
        for h, w in CEIL_SIDES:
            x = rng.normal(size=(2, h, w, 3)).astype("float32")
            want = ceil_pool_numpy(x, k, s, kind)
            for got in (model(x), graph(x)):
                np.testing.assert_allclose(np.asarray(got), want, rtol=1e-6, atol=1e-6,
                                           err_msg=f"{kind} {k}/{s} at {h}x{w}")
            static = layer.compute_output_shape((2, h, w, 3))
            assert static == want.shape, (k, s, h, w)


def test_ceil_mode_pool_config_safe_mode_and_float16(tmp_path):
    inp = keras.Input((None, None, 2))
    x = CeilModePooling2D(3, 2, "avg", name="pool_a")(inp)
    model = keras.Model(inp, CeilModePooling2D(3, 2, name="pool_m")(x))
    assert model.get_layer("pool_a").get_config()["kind"] == "avg"
    model.save(tmp_path / "ceil.keras")
    again = keras.saving.load_model(tmp_path / "ceil.keras", safe_mode=True)
    assert type(again.get_layer("pool_m")) is CeilModePooling2D
    x = np.random.default_rng(1).normal(size=(1, 13, 10, 2)).astype("float32")
    np.testing.assert_array_equal(np.asarray(again(x)), np.asarray(model(x)))
    assert again(x).shape == (1, 3, 2, 2)  # 13 -> 6 -> 3, 10 -> 5 -> 2
    half = CeilModePooling2D(3, 2, "max", dtype="mixed_float16")
    y = np.asarray(half(x))
    assert y.dtype == np.float16 and np.all(np.isfinite(y))
    np.testing.assert_allclose(y, ceil_pool_numpy(x, 3, 2, "max"), rtol=1e-3, atol=1e-3)


@pytest.mark.parametrize("kwargs, error", [
    (dict(pool_size=0), ValueError), (dict(strides=1.5), TypeError),
    (dict(kind="min"), ValueError)])
def test_ceil_mode_pool_rejects_bad_arguments(kwargs, error):
    with pytest.raises(error, match=next(iter(kwargs))):
        CeilModePooling2D(**kwargs)


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
