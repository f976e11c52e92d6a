"""SavedModel export: preprocessing in the graph, aux stripped, loadable without keras_cnns."""

import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

import keras_cnns
from keras_cnns.export import serving_model


@pytest.fixture(scope="module")
def aux_model():
    keras.utils.set_random_seed(3)
    return keras_cnns.GoogLeNet(aux=True, classes=10, input_shape=(96, 96, 3))


def keras_reference(model, images):
    """What the export must compute, by the public pieces: main head after preprocessing."""
    x = keras_cnns.preprocessing(model)(images)
    return np.asarray(keras_cnns.inference_model(model)(x, training=False))


LOADER = textwrap.dedent("""
    import json, sys
    import numpy as np
    import tensorflow as tf
    import keras
    from sklearn.datasets import load_sample_images
    path, out = sys.argv[1], sys.argv[2]
    images = np.stack(load_sample_images().images).astype("uint8")
    loaded = tf.saved_model.load(path)
    sig = loaded.signatures["serving_default"]
    a = {k: v.numpy().tolist() for k, v in sig(images=tf.constant(images)).items()}
    layer = keras.layers.TFSMLayer(path, call_endpoint="serving_default")
    b = {k: np.asarray(v).tolist() for k, v in layer(images).items()}
    spec = sig.structured_input_signature[1]["images"]
    json.dump({"saved_model": a, "tfsm": b, "dtype": spec.dtype.name,
               "shape": spec.shape.as_list(),
               "imports_keras_cnns": "keras_cnns" in sys.modules}, open(out, "w"))
""")


def load_in_fresh_process(path, tmp_path):
    script = tmp_path / "load.py"
    script.write_text(LOADER)
    out = tmp_path / "out.json"
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
    subprocess.run([sys.executable, str(script), str(path), str(out)], check=True, env=env,
                   timeout=300, cwd=str(tmp_path))
    return json.loads(out.read_text())


def test_export_reloads_in_a_fresh_process_and_agrees(aux_model, photo_batch, tmp_path):
    path = keras_cnns.export_saved_model(aux_model, tmp_path / "export")
    got = load_in_fresh_process(path, tmp_path)
    assert got["dtype"] == "uint8" and got["shape"] == [None, None, None, 3]
    assert not got["imports_keras_cnns"]
    want = keras_reference(aux_model, photo_batch)  # the photos at their own 427x640
    for source in ("saved_model", "tfsm"):
        assert set(got[source]) == {"probabilities"}
        probs = np.asarray(got[source]["probabilities"])
        assert probs.shape == (2, 10)
        np.testing.assert_allclose(probs, want, atol=1e-5)


def test_logits_get_a_softmax_and_headless_gives_features(photo_batch, tmp_path):
    logits = keras_cnns.GoogLeNet(classes=4, input_shape=(64, 64, 3), classifier_activation=None)
    serving, key = serving_model(logits)
    assert key == "probabilities"
    probs = np.asarray(serving(photo_batch)["probabilities"])
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-5)
    raw = keras_reference(logits, photo_batch)
    e = np.exp(raw - raw.max(axis=1, keepdims=True))
    np.testing.assert_allclose(probs, e / e.sum(axis=1, keepdims=True), atol=1e-6)
    headless = keras_cnns.GoogLeNet(include_top=False, pooling="avg", input_shape=(64, 64, 3))
    serving, key = serving_model(headless, name="googlenet")
    assert key == "features"
    assert np.asarray(serving(photo_batch)["features"]).shape == (2, 1024)


def test_export_is_atomic_and_refuses_to_overwrite(tmp_path, monkeypatch):
    model = keras_cnns.GoogLeNet(classes=3, input_shape=(64, 64, 3))
    target = tmp_path / "export"
    keras_cnns.export_saved_model(model, target)
    # The folder gets the usual permissions (the umask's), not mkdtemp's private 0700.
    mask = os.umask(0)
    os.umask(mask)
    assert (target.stat().st_mode & 0o777) == (0o777 & ~mask)
    stamp = (target / "saved_model.pb").stat().st_mtime_ns
    with pytest.raises(FileExistsError):
        keras_cnns.export_saved_model(model, target)
    # A failure half-way leaves the existing export as it was, and no debris.
    def boom(archive, directory, **kwargs):
        open(os.path.join(directory, "partial"), "w").close()
        raise RuntimeError("disk full")
    monkeypatch.setattr(type(keras.export.ExportArchive()), "write_out", boom)
    with pytest.raises(RuntimeError, match="disk full"):
        keras_cnns.export_saved_model(model, target, overwrite=True)
    assert (target / "saved_model.pb").stat().st_mtime_ns == stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]
    monkeypatch.undo()
    keras_cnns.export_saved_model(model, target, overwrite=True)
    assert (target / "saved_model.pb").stat().st_mtime_ns != stamp
    assert sorted(p.name for p in tmp_path.iterdir()) == ["export"]


def test_export_rejects_non_models(tmp_path):
    with pytest.raises(TypeError, match="keras.Model"):
        keras_cnns.export_saved_model("googlenet", tmp_path / "x")


def _tflite_ops(path):
    import collections

    from keras_cnns.export import tflite_interpreter

    interp = tflite_interpreter(path)
    return interp, collections.Counter(op["op_name"] for op in interp._get_ops_details())


def test_float_tflite_lrn_is_basic_ops_and_computes_the_layer(photos, tmp_path):
    """TFLite exports trace LRN from basic ops (keras_cnns.layers.lrn.decomposed): no
    LOCAL_RESPONSE_NORMALIZATION op (TFLite's reference kernel, outside XNNPACK) and,
    at beta 0.75, no POW either; the file computes the Keras model's function."""
    from helpers import small_photos

    from keras_cnns.export.serving import write_tflite
    from keras_cnns.layers import LocalResponseNormalization

    keras.utils.set_random_seed(0)
    images = keras.Input((32, 32, 3), dtype="uint8", name="images")
    x = keras.layers.Conv2D(24, 3, activation="relu")(keras.ops.cast(images, "float32"))
    x = LocalResponseNormalization(2, 1.0, 1e-4, 0.75)(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    serving = keras.Model(images, {"probabilities": keras.layers.Dense(5, "softmax")(x)})
    batch = small_photos(photos, 32).round().astype("uint8")
    want = np.asarray(serving(batch)["probabilities"])
    path = str(tmp_path / "lrn.tflite")
    write_tflite(serving, path)
    interp, ops = _tflite_ops(path)
    assert "LOCAL_RESPONSE_NORMALIZATION" not in ops and "POW" not in ops
    assert ops["RSQRT"] == 2 and ops["CONV_2D"] == 2  # the network's conv and the band sum
    got = interp.get_signature_runner("serving_default")(images=batch)["probabilities"]
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7)


def test_int8_tflite_googlenet_keeps_only_lrn_pow_in_float(photos, tmp_path):
    """In the full-integer GoogLeNet file the LRN window sums are int8 convolutions and
    only LRN's POW stays float (TFLite's int8 RSQRT was slower than a float POW)."""
    from helpers import small_photos

    from keras_cnns.export import fixed_size_serving_model
    from keras_cnns.export.report import _float_ops
    from keras_cnns.export.serving import write_tflite

    keras.utils.set_random_seed(0)
    model = keras_cnns.build("googlenet", input_shape=(32, 32, 3), classes=10, aux=False)
    serving = fixed_size_serving_model(model)
    images = small_photos(photos, 32).round().astype("uint8")
    path = str(tmp_path / "int8.tflite")
    write_tflite(serving, path, "int8", images)
    interp, ops = _tflite_ops(path)
    assert "LOCAL_RESPONSE_NORMALIZATION" not in ops and ops["POW"] == 2
    assert _float_ops(path) == {"POW": 2}  # every CONV_2D (band sums too) in int8
    got = interp.get_signature_runner("serving_default")(images=images)["probabilities"]
    want = np.asarray(serving(images)["probabilities"])
    assert got.shape == want.shape and np.allclose(got.sum(1), 1, atol=0.02)
