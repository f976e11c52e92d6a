"""Training presets, train_pipeline and eval_pipeline."""

import numpy as np
import pytest
import tensorflow as tf

import keras_cnns
from keras_cnns import registry
from keras_cnns.data import augment as aug
from keras_cnns.data import augment_image, digits, eval_pipeline, train_pipeline
from keras_cnns.registry import Preprocessing


@pytest.fixture(scope="module")
def aux_googlenet():
    # Smallest input that holds the aux heads' 5x5 pools, few classes: builds in seconds.
    return keras_cnns.build("googlenet", aux=True, input_shape=(96, 96, 3), classes=10)


def _seed(i):
    return tf.constant([7, i], tf.int64)


@pytest.mark.parametrize("preset", aug.PRESETS)
@pytest.mark.parametrize("crop", [224, 96])
def test_presets_shape_range_determinism(photos, preset, crop):
    img = photos[0]
    a = augment_image(img, preset, _seed(1), crop).numpy()
    b = augment_image(img, preset, _seed(1), crop).numpy()
    assert a.shape == (crop, crop, 3) and a.dtype == np.float32
    assert a.min() >= 0 and a.max() <= 255
    np.testing.assert_array_equal(a, b)
    others = [augment_image(img, preset, _seed(i), crop).numpy() for i in (2, 3)]
    if preset == "none":
        for o in others:
            np.testing.assert_array_equal(a, o)
    else:
        assert all(np.abs(a - o).mean() > 1.0 for o in others)


@pytest.mark.parametrize("preset,lo,hi", [("alexnet", 256, 256), ("vgg", 256, 512),
                                          ("resnet", 256, 480)])
@pytest.mark.parametrize("crop", [224, 112])
def test_scale_jitter_boxes(preset, lo, hi, crop):
    shape = tf.constant([427, 640, 3])
    sides, ys, xs = [], [], []
    box = tf.function(lambda seed: aug._scale_box(shape, seed, preset, crop))
    for i in range(200):
        y0, x0, h, w = box(_seed(i))
        assert int(h) == int(w)
        sides.append(int(h))
        ys.append(int(y0) + int(h))
        xs.append(int(x0) + int(w))
    sides = np.array(sides)
    # Box = crop side in the image resized to shorter side S, S in [lo, hi] x crop/224:
    # the same region of the original at any crop size.
    smallest, largest = 224 * 427 / hi, 224 * 427 / lo
    assert sides.min() >= np.floor(smallest) and sides.max() <= np.ceil(largest)
    if hi > lo:
        assert sides.min() < smallest * 1.05 and sides.max() > largest * 0.95
    assert max(ys) <= 427 and max(xs) <= 640


def test_inception_boxes_area_and_aspect():
    shape = tf.constant([300, 400, 3])
    areas, aspects = [], []
    box = tf.function(lambda seed: aug._inception_box(shape, seed))
    for i in range(200):
        _, _, h, w = box(_seed(i))
        areas.append(int(h) * int(w) / (300 * 400))
        aspects.append(int(w) / int(h))
    areas, aspects = np.array(areas), np.array(aspects)
    assert areas.min() >= 0.08 * 0.95 and areas.max() <= 1.0
    assert aspects.min() >= 0.75 * 0.95 and aspects.max() <= 4 / 3 * 1.05
    assert areas.min() < 0.2 and areas.max() > 0.8


def test_pca_lighting_eigenpairs():
    # Project the noise on each eigenvector (column): std = 0.1 x eigenvalue.
    light = tf.function(lambda seed: aug.pca_lighting(tf.zeros([3]), seed))
    deltas = np.stack([light(_seed(i)).numpy() for i in range(2000)])
    proj = deltas @ aug.PCA_EIGVEC
    np.testing.assert_allclose(proj.std(0), 0.1 * aug.PCA_EIGVAL, rtol=0.1)
    assert abs(np.corrcoef(proj[:, 0], proj[:, 1])[0, 1]) < 0.1
    np.testing.assert_allclose(aug.PCA_EIGVAL, [0.2175, 0.0188, 0.0045])
    np.testing.assert_allclose(aug.PCA_EIGVEC[0], [-0.5675, 0.7192, 0.4009])


@pytest.mark.parametrize("preset", aug.PRESETS)
def test_tiny_images(preset):
    img = (np.arange(8 * 8 * 3) % 251).astype(np.uint8).reshape(8, 8, 3)
    for im in (img, img[:3], img[:, :1]):
        out = augment_image(im, preset, _seed(0), 32).numpy()
        assert out.shape == (32, 32, 3) and np.isfinite(out).all()


def test_bad_preset_and_crop():
    with pytest.raises(ValueError, match="augment"):
        augment_image(np.zeros((9, 9, 3), np.uint8), "autoaugment", _seed(0))
    with pytest.raises(ValueError, match="augment"):
        train_pipeline(digits(), "googlenet", 4, augment="alexnet-10")
    with pytest.raises(ValueError, match="crop_size"):
        augment_image(np.zeros((9, 9, 3), np.uint8), "vgg", _seed(0), crop_size=0)
    with pytest.raises(ValueError, match="batch_size"):
        train_pipeline(digits(), "googlenet", 0)


def _take(ds, n=1):
    return [tuple(tf.nest.map_structure(np.asarray, e)) for e in ds.take(n)]


def test_train_pipeline_aux_labels_normalisation_determinism(aux_googlenet, digits_data):
    src = digits(32, "train").take(24)
    ds = train_pipeline(src, aux_googlenet, 8, augment="none", shuffle_buffer=0)
    (x, y), = _take(ds)
    assert x.shape == (8, 96, 96, 3) and x.dtype == np.float32
    assert set(y) == {"main", "aux1", "aux2"}
    x_tr, y_tr = digits_data[0], digits_data[1]
    for k in y:
        np.testing.assert_array_equal(y[k], y_tr[:8])
    # googlenet: Caffe convention, BGR minus (104, 117, 123); "none" = centre crop at
    # the crop fraction 224/256, the arithmetic of keras_cnns.preprocessing without
    # the normalisation.
    img = tf.convert_to_tensor(x_tr[0])
    c = aug.augment_image(img, "none", _seed(0), 96, crop_fraction=224 / 256).numpy()
    np.testing.assert_allclose(x[0], c[..., ::-1] - np.array([104.0, 117.0, 123.0]), atol=1e-4)
    # Same seed, same batches; another seed, other batches.
    a = _take(train_pipeline(src, aux_googlenet, 8, augment="inception", seed=3), 2)
    b = _take(train_pipeline(src, aux_googlenet, 8, augment="inception", seed=3), 2)
    c2 = _take(train_pipeline(src, aux_googlenet, 8, augment="inception", seed=4), 2)
    for (xa, ya), (xb, yb) in zip(a, b):
        np.testing.assert_array_equal(xa, xb)
        np.testing.assert_array_equal(ya["main"], yb["main"])
    assert np.abs(a[0][0] - c2[0][0]).mean() > 1.0


def test_train_pipeline_fits_aux_model(aux_googlenet):
    model = aux_googlenet
    weights = keras_cnns.aux_loss_weights(model)
    model.compile(optimizer="sgd", loss={k: "sparse_categorical_crossentropy" for k in weights},
                  loss_weights=weights)
    ds = train_pipeline(digits(32, "train").take(8), model, 4, augment="auto")
    hist = model.fit(ds, epochs=1, verbose=0)
    assert np.isfinite(hist.history["loss"][0])


def test_auto_preset_and_crop_from_model():
    ds = train_pipeline(digits(32, "train").take(4), "googlenet", 2, crop_size=40,
                        shuffle_buffer=0)
    x, y = next(iter(ds))
    assert x.shape == (2, 40, 40, 3) and y.shape == (2,)
    assert aug.default_preset(registry.model_info("googlenet")) == "inception"
    # Every entry's declared preset is one the pipeline knows.
    for name in registry.available_models():
        assert aug.default_preset(registry.model_info(name)) in aug.PRESETS, name


def test_model_outside_registry_needs_preprocessing():
    inp = tf.keras.Input((24, 24, 3))
    m = tf.keras.Model(inp, tf.keras.layers.Dense(3)(tf.keras.layers.GlobalAveragePooling2D()(inp)),
                       name="not_registered")
    with pytest.raises(ValueError, match="preprocessing"):
        train_pipeline(digits().take(2), m, 2)
    unit = Preprocessing(mode="unit", scale=1 / 255)
    x, _ = next(iter(train_pipeline(digits().take(2), m, 2, preprocessing=unit, augment="vgg")))
    assert x.shape == (2, 24, 24, 3) and float(tf.reduce_max(x)) <= 1.0


def test_eval_pipeline_matches_preprocessing_layer(photos):
    src = tf.data.Dataset.from_tensor_slices((np.stack(photos), np.array([1, 2])))
    (x, y), = _take(eval_pipeline(src, "googlenet", 2))
    expected = keras_cnns.preprocessing("googlenet")(np.stack(photos)).numpy()
    np.testing.assert_allclose(x, expected, atol=1e-3)
    np.testing.assert_array_equal(y, [1, 2])


def test_lenet_distortion_boxes_shift_and_scale_within_the_padded_image():
    # LeCun et al. 1998 III.C distortions: boxes of 92-108 % of each side, anywhere in
    # the image padded by 1/16 of its shorter side; both axes vary independently.
    shape = tf.constant([32, 48, 3])
    box = tf.function(lambda seed: aug._lenet_box(shape, seed))
    hs, ws, ends = [], [], []
    for i in range(200):
        pad, y0, x0, h, w = (int(v) for v in box(_seed(i)))
        assert pad == 2 and y0 >= 0 and x0 >= 0
        assert y0 + h <= 32 + 2 * pad and x0 + w <= 48 + 2 * pad
        hs.append(h / 32)
        ws.append(w / 48)
        ends.append((y0, x0))
    assert 0.9 <= min(hs) and max(hs) <= 1.1 and 0.9 <= min(ws) and max(ws) <= 1.1
    assert np.std(np.array(hs) - np.array(ws)) > 0.01  # squeezing, not only scaling
    assert len(set(ends)) > 20  # translations


def test_lenet_preset_never_mirrors():
    # A "3" must stay a "3": on a left-dark, right-bright ramp every view stays
    # left-dark (shifts and scalings move it by a few pixels; a mirror would invert it).
    ramp = np.repeat(np.linspace(0, 255, 32)[None, :, None], 32, 0).repeat(3, -1)
    img = ramp.astype(np.uint8)
    for i in range(30):
        view = augment_image(img, "lenet", _seed(i), 32).numpy()
        assert view[:, :8].mean() + 100 < view[:, -8:].mean()


def test_cifar_preset_pads_four_crops_and_flips():
    """He et al. 2015, section 4.2: 4 pixels padded on each side, a random 32x32 crop of
    the padded image or of its mirror; the pixels themselves untouched."""
    img = np.random.default_rng(0).integers(1, 256, size=(32, 32, 3)).astype(np.uint8)
    padded = np.pad(img, ((4, 4), (4, 4), (0, 0))).astype(np.float32)  # black, not 1-255
    views = {}
    for dy in range(-4, 5):
        for dx in range(-4, 5):
            crop = padded[4 + dy:36 + dy, 4 + dx:36 + dx]
            views[(dy, dx, False)], views[(dy, dx, True)] = crop, crop[:, ::-1]
    seen = []
    for i in range(300):
        out = augment_image(img, "cifar", _seed(i), 32).numpy()
        match = [k for k, v in views.items() if np.array_equal(out, v)]
        assert len(match) == 1, i
        seen.append(match[0])
    assert {k[0] for k in seen} == {k[1] for k in seen} == set(range(-4, 5))
    assert {k[2] for k in seen} == {False, True}
    assert 0.35 < np.mean([k[2] for k in seen]) < 0.65


def test_cifar_box_scales_with_the_image():
    # A 427x640 photo: its centred 427x427 square, shifted by up to 427/8 = 53 pixels.
    shape = tf.constant([427, 640, 3])
    box = tf.function(lambda seed: aug._cifar_box(shape, seed))
    ys, xs = set(), set()
    for i in range(200):
        pad, y0, x0, h, w = (int(v) for v in box(_seed(i)))
        assert (pad, h, w) == (53, 427, 427)
        assert 0 <= y0 <= 106 and 106 <= x0 <= 212
        ys.add(y0)
        xs.add(x0)
    assert min(ys) < 10 and max(ys) > 96 and min(xs) < 116 and max(xs) > 202


def test_cifar_networks_default_to_the_cifar_preset():
    for name in ("resnet20_cifar", "resnet110_stochastic_depth_cifar"):
        assert aug.default_preset(registry.model_info(name)) == "cifar"
    src = digits(32, "train").take(8)
    (x, y), = _take(train_pipeline(src, "resnet20_cifar", 8, shuffle_buffer=0, seed=3))
    assert x.shape == (8, 32, 32, 3)
    # fb.resnet.torch's per-channel normalisation: black (the digits' background, the
    # padding) becomes -mean / std.
    p = registry.model_info("resnet20_cifar").preprocessing
    black = [-m / s for m, s in zip(p.mean, p.std)]
    assert np.isclose(x[..., 0], black[0]).any()
