"""evaluate_tta against plain per-image loops; VGG's fully convolutional evaluation."""

import numpy as np
import pytest
import tensorflow as tf

import keras
import keras_cnns
from keras_cnns.data import digits, evaluate_tta, fully_convolutional, multi_crop, normalize
from keras_cnns.registry import Preprocessing

UNIT = Preprocessing(mode="unit", scale=1 / 255.0)
TORCH = keras_cnns.registry.torch_preprocessing()


def _tiny(size=32, activation="softmax", name="tiny_tta_net"):
    keras.utils.set_random_seed(1)
    inp = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(8, 3, strides=2, activation="relu")(inp)
    x = keras.layers.GlobalAveragePooling2D()(x)
    out = keras.layers.Dense(10, activation=activation, name="predictions")(x)
    return keras.Model(inp, out, name=name)


def _vgg_like(size=224, name="vgg_like"):
    """Same layer names as keras.applications' VGG head, tiny widths."""
    keras.utils.set_random_seed(2)
    inp = keras.Input((size, size, 3))
    x = keras.layers.Conv2D(4, 3, padding="same", activation="relu", name="block1_conv1")(inp)
    x = keras.layers.MaxPooling2D(32, name="block5_pool")(x)
    x = keras.layers.Flatten(name="flatten")(x)
    x = keras.layers.Dense(16, activation="relu", name="fc1")(x)
    x = keras.layers.Dropout(0.5, name="fc1_dropout")(x)
    x = keras.layers.Dense(16, activation="relu", name="fc2")(x)
    x = keras.layers.Dense(10, activation="softmax", name="predictions")(x)
    return keras.Model(inp, x, name=name)


@pytest.fixture(scope="module")
def source():
    return digits(40, "test").take(6)


def _loop(model, source, scheme, p, logits=False):
    probs, labels = [], []
    for img, y in source:
        crops = normalize(multi_crop(img, scheme, 32, crop_fraction=p.crop_fraction), p)
        out = model.predict_on_batch(crops)
        if logits:
            out = tf.nn.softmax(out).numpy()
        probs.append(np.asarray(out).mean(0))
        labels.append(int(y))
    probs, labels = np.stack(probs), np.array(labels)
    top5 = np.argsort(-probs, 1)[:, :5]
    return probs, (probs.argmax(1) == labels).mean(), (top5 == labels[:, None]).any(1).mean()


@pytest.mark.parametrize("scheme", ["center", "alexnet-10", "googlenet-144"])
def test_averaging_matches_plain_loop(source, scheme):
    model = _tiny()
    res = evaluate_tta(model, source, scheme, batch_size=20, preprocessing=TORCH, verbose=0,
                       return_probabilities=True)
    probs, top1, top5 = _loop(model, source, scheme, TORCH)
    assert res["images"] == 6 and res["crops_per_image"] == {"center": 1, "alexnet-10": 10,
                                                              "googlenet-144": 144}[scheme]
    np.testing.assert_allclose(res["probabilities"], probs, atol=1e-5)
    assert res["top1"] == pytest.approx(top1) and res["top5"] == pytest.approx(top5)
    assert 0 <= res["top1"] <= res["top5"] <= 1


def test_logits_get_softmax(source, capsys):
    model = _tiny(activation=None)
    res = evaluate_tta(model, source, "alexnet-10", preprocessing=UNIT, verbose=1,
                       return_probabilities=True)
    probs, _, _ = _loop(model, source, "alexnet-10", UNIT, logits=True)
    np.testing.assert_allclose(res["probabilities"], probs, atol=1e-5)
    np.testing.assert_allclose(res["probabilities"].sum(1), 1.0, atol=1e-5)
    assert "6/6" in capsys.readouterr().out  # progress bar


def test_aux_model_uses_main_head_and_registry_normalisation():
    model = keras_cnns.build("googlenet", aux=True, input_shape=(80, 80, 3), classes=10)
    src = digits(40, "test").take(3)
    res = evaluate_tta(model, src, "center", verbose=0, return_probabilities=True)
    main = keras_cnns.inference_model(model)
    p = keras_cnns.model_info("googlenet").preprocessing
    expected = []
    for img, _ in src:
        crops = normalize(multi_crop(img, "center", 80, crop_fraction=p.crop_fraction), p)
        expected.append(main.predict_on_batch(crops)[0])
    np.testing.assert_allclose(res["probabilities"], np.stack(expected), atol=1e-5)


def test_tiny_images_do_not_crash():
    model = _tiny()
    imgs = (np.arange(4 * 8 * 8 * 3) % 255).astype(np.uint8).reshape(4, 8, 8, 3)
    src = tf.data.Dataset.from_tensor_slices((imgs, np.arange(4)))
    for scheme in ("center", "alexnet-10", "googlenet-144"):
        res = evaluate_tta(model, src, scheme, preprocessing=UNIT, verbose=0)
        assert res["images"] == 4 and np.isfinite(res["top1"])
    res = evaluate_tta(_vgg_like(), src, "vgg-dense", preprocessing=UNIT, verbose=0)
    assert res["images"] == 4 and res["crops_per_image"] == 6


def test_bad_arguments(source):
    model = _tiny()
    with pytest.raises(ValueError, match="scheme"):
        evaluate_tta(model, source, "144-crop", preprocessing=UNIT)
    with pytest.raises(ValueError, match="crop_size"):
        evaluate_tta(model, source, "center", crop_size=-1, preprocessing=UNIT)
    with pytest.raises(ValueError, match="batch_size"):
        evaluate_tta(model, source, "center", batch_size=0, preprocessing=UNIT)
    with pytest.raises(ValueError, match="preprocessing"):
        evaluate_tta(model, source, "center")  # not a registry model
    with pytest.raises(ValueError, match="scales"):
        evaluate_tta(_vgg_like(), source, "vgg-dense", scales=(0,), preprocessing=UNIT)
    with pytest.raises(ValueError, match="scales"):
        evaluate_tta(_vgg_like(), source, "vgg-dense", scales=(200,), preprocessing=UNIT)


def test_fully_convolutional_matches_original_and_slides(photos):
    model = _vgg_like()
    fc = fully_convolutional(model)
    assert [l.name for l in fc.layers if isinstance(l, keras.layers.Conv2D)][-3:] == [
        "fc1", "fc2", "predictions"]
    assert fc.get_layer("block1_conv1") is model.get_layer("block1_conv1")  # shared trunk
    x = tf.image.resize(np.stack(photos).astype("float32"), (224, 224)).numpy()
    ours = fc.predict_on_batch(x)
    assert ours.shape == (2, 1, 1, 10)
    np.testing.assert_allclose(ours[:, 0, 0], model.predict_on_batch(x), rtol=1e-5, atol=1e-6)
    # On a larger image, location (i, j) of the class map is the original model on the
    # 224 window at (32 i, 32 j) (the trunk's stride).
    big = tf.image.resize(np.stack(photos).astype("float32"), (288, 256)).numpy()
    maps = fc.predict_on_batch(big)
    assert maps.shape == (2, 3, 2, 10)
    for i in range(3):
        for j in range(2):
            window = big[:, 32 * i:32 * i + 224, 32 * j:32 * j + 224]
            np.testing.assert_allclose(maps[:, i, j], model.predict_on_batch(window),
                                       rtol=1e-5, atol=1e-6)


def test_fully_convolutional_rejects_non_vgg():
    with pytest.raises(ValueError, match="Flatten"):
        fully_convolutional(_tiny())


def test_vgg_dense_evaluation(photos):
    model = _vgg_like()
    imgs = np.stack([tf.image.resize(p, (224, 224)).numpy().round().astype(np.uint8)
                     for p in photos])
    src = tf.data.Dataset.from_tensor_slices((imgs, np.array([3, 4])))
    res = evaluate_tta(model, src, "vgg-dense", scales=(224,), preprocessing=TORCH, verbose=0,
                       return_probabilities=True)
    assert res["crops_per_image"] == 2
    # At Q = 224 on 224 images: the original model, averaged with its mirror.
    x = normalize(imgs.astype("float32"), TORCH).numpy()
    expected = (model.predict_on_batch(x) + model.predict_on_batch(x[:, :, ::-1])) / 2
    np.testing.assert_allclose(res["probabilities"], expected, atol=1e-5)
    # Default scales 256/384/512 (x crop/224) on the real photos run and average.
    src = tf.data.Dataset.from_tensor_slices((np.stack(photos), np.array([3, 4])))
    res = evaluate_tta(model, src, "vgg-dense", preprocessing=TORCH, verbose=0,
                       return_probabilities=True)
    assert res["crops_per_image"] == 6
    np.testing.assert_allclose(res["probabilities"].sum(1), 1.0, atol=1e-5)


def test_fully_convolutional_on_keras_cnns_vgg(photos):
    # At 64 px the fc1 grid is 2x2 (7x7 at 224): the same code path, 1/12 of the weights.
    model = keras_cnns.build("vgg11", classes=10, input_shape=(64, 64, 3))
    fc = fully_convolutional(model)
    assert fc.get_layer("fc1").kernel.shape == (2, 2, 512, 4096)
    x = keras_cnns.preprocessing(model)(np.stack(photos)).numpy()
    np.testing.assert_allclose(fc.predict_on_batch(x)[:, 0, 0], model.predict_on_batch(x),
                               rtol=1e-4, atol=1e-6)
    assert fc.predict_on_batch(np.zeros((1, 96, 128, 3), "float32")).shape == (1, 2, 3, 10)
