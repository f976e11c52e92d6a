"""Run by tests/test_backends.py in a subprocess whose ``KERAS_BACKEND`` is jax or torch
(the backend is fixed when Keras is imported): every check in one process, against the
references the TensorFlow side wrote into ``DIR``. Prints one JSON object (the last line
of stdout); the test asserts on it, so a failure names the check and the number.

    python tests/backend_worker.py DIR     (WORKER_ONLY=families,layers: those checks only)
"""

import json
import os
import sys
import time
import traceback

import numpy as np


def rel(a, b):
    """max |a - b| / max |b|: the relative error the tests bound."""
    a, b = np.asarray(a, "float64"), np.asarray(b, "float64")
    if a.shape != b.shape:
        return float("inf")
    return float(np.abs(a - b).max() / max(np.abs(b).max(), 1e-12))


def outputs(model, x):
    out = model(x, training=False)
    if isinstance(out, dict):
        return {k: np.asarray(keras.ops.convert_to_numpy(v)) for k, v in out.items()}
    return np.asarray(keras.ops.convert_to_numpy(out))


def rel_outputs(got, want):
    if isinstance(want, dict):
        return max(rel(got[k], want[k]) for k in want)
    return rel(got, want)


def check(results, key, fn):
    """``results[key] = fn()``; an exception becomes ``{"error": ...}`` with its last
    lines, so one failing check does not hide the others."""
    try:
        results[key] = fn()
    except Exception as err:  # noqa: BLE001 (reported to the parent, which fails on it)
        results[key] = {"error": f"{type(err).__name__}: {err}"[:500],
                        "trace": traceback.format_exc()[-1500:]}


def layer_checks(ref):
    from keras_cnns.layers import (AdaptiveAveragePooling2D, CeilModePooling2D,
                                   LocalResponseNormalization, Preprocess, StochasticDepth)

    a = ref["activations"]
    out = {
        "lrn_tf": rel(LocalResponseNormalization(2, 2.0, 1e-4, 0.75)(a), ref["lrn_tf"]),
        "lrn_caffe": rel(LocalResponseNormalization.from_caffe(5, 1e-4, 0.75, 1.0)(a),
                         ref["lrn_caffe"]),
        "ceil_max": rel(CeilModePooling2D(3, 2, "max")(ref["pool_in"]), ref["ceil_max"]),
        "ceil_avg": rel(CeilModePooling2D(3, 2, "avg")(ref["pool_in"]), ref["ceil_avg"]),
        "adaptive": rel(AdaptiveAveragePooling2D(3)(ref["pool_in"]), ref["adaptive"]),
    }
    # uint8 photos of any size -> 32 x 48, antialiased bilinear: 0-255 scale, so absolute.
    pre = Preprocess(32, 48, mean=(1.0, 2.0, 3.0), std=(2.0, 2.0, 2.0), color_order="BGR")
    got = np.asarray(keras.ops.convert_to_numpy(pre(ref["photos"])))
    out["preprocess_max_abs"] = float(np.abs(got - ref["preprocess"]).max())
    out["preprocess_mean_abs"] = float(np.abs(got - ref["preprocess"]).mean())
    sd = StochasticDepth(0.5, seed=1)
    s, r = ref["pool_in"], ref["pool_in"] * 0 + 1.0
    out["stochastic_depth_inference"] = rel(sd([s, r]), s + 0.5)
    train = np.asarray(keras.ops.convert_to_numpy(sd([s, r], training=True)))
    # At training each sample is its shortcut or shortcut + residual, whole.
    out["stochastic_depth_training_whole"] = bool(all(
        np.allclose(t, x) or np.allclose(t, x + 1.0) for t, x in zip(train, s)))
    return out


def family_checks(ref, spec, backend):
    """Each family's network: builds, takes the TF build's weights, same outputs."""
    import keras_cnns

    out = {}
    for name, kwargs, size in spec["families"]:
        def one():
            t = time.process_time()
            # On JAX every initializer of a new shape is an XLA compile (about 0.3 s of
            # CPU each); the weights are overwritten from TF anyway, so build without
            # drawing them (a real build with initializers is the .keras load below).
            if backend == "jax":
                with keras.StatelessScope():
                    model = keras_cnns.build(name, **kwargs)
            else:
                model = keras_cnns.build(name, **kwargs)
            weights = np.load(os.path.join(DIR, f"weights-{name}.npz"))
            model.set_weights([weights[f"arr_{i}"] for i in range(len(weights.files))])
            x = ref[f"photos_{name}"]
            # predict: one jitted function (on JAX cheaper than eager op-by-op compiles)
            got = model.predict(x, batch_size=len(x), verbose=0)
            return {"rel": rel_outputs(got, ref[f"out_{name}"]), "layers": len(model.layers),
                    "cpu_s": round(time.process_time() - t, 2)}
        check(out, name, one)
    return out


def keras_file_checks(ref):
    """The TF-saved .keras of every registered layer (GoogLeNet's is in googlenet_aux)."""
    model = keras.saving.load_model(os.path.join(DIR, "tf-layers.keras"), safe_mode=True)
    return {"layers": rel(outputs(model, ref["keras_in_layers"]), ref["keras_out_layers"])}


def fit_layers_model(ref):
    """One fit step of the model holding every registered layer (training paths of
    StochasticDepth, DropPathSampler and FractalJoin under the backend's trainer)."""
    model = keras.saving.load_model(os.path.join(DIR, "tf-layers.keras"), safe_mode=True)
    model.compile(optimizer="sgd", loss="mse")
    x = ref["keras_in_layers"]
    y = np.zeros((len(x),) + tuple(model.output.shape[1:]), "float32")
    before = [np.array(w) for w in model.get_weights()]
    hist = model.fit(x, y, batch_size=len(x), epochs=1, verbose=0)
    changed = sum(not np.array_equal(a, np.asarray(b)) for a, b in
                  zip(before, model.get_weights()))
    return {"loss": float(hist.history["loss"][-1]), "weights_changed": int(changed)}


def googlenet_aux(ref, backend):
    """GoogLeNet(aux=True) (the paper's, with LRN), saved on TF: loads with the TF outputs;
    compiled with aux_loss_weights and fitted on digits, its total loss against
    cross-entropy by hand, as the TF test does. One load and one predict function (JAX
    compiles each), so the outputs are compared after compile, before fit."""
    import keras_cnns

    model = keras.saving.load_model(os.path.join(DIR, "tf-googlenet.keras"), safe_mode=True)
    weights = keras_cnns.aux_loss_weights(model)
    model.compile(optimizer=keras.optimizers.Adam(1e-3),
                  loss={k: "sparse_categorical_crossentropy" for k in model.output},
                  loss_weights=weights, metrics={k: ["accuracy"] for k in model.output})
    x0 = ref["keras_in_googlenet"]
    loaded_rel = rel_outputs(model.predict(x0, batch_size=len(x0), verbose=0), {
        k: ref[f"keras_out_googlenet_{k}"] for k in model.output})
    x, y = ref["digits_x"], ref["digits_y"]
    history = model.fit(x, {k: y for k in model.output}, batch_size=32, epochs=1, verbose=0)
    result = model.evaluate(x, {k: y for k in model.output}, batch_size=len(x), verbose=0,
                            return_dict=True)
    preds = model.predict(x, batch_size=len(x), verbose=0)
    ce = {k: float(np.mean(-np.log(preds[k].astype("float64")[np.arange(len(y)), y])))
          for k in preds}
    expected = sum(weights[k] * ce[k] for k in ce)
    out = {"loaded_rel": loaded_rel, "weights": weights, "history_keys": sorted(history.history),
           "fit_loss": float(history.history["loss"][-1]),
           "total_loss": float(result["loss"]), "expected_total": expected,
           "head_loss_rel": max(abs(result[f"{k}_loss"] - ce[k]) / ce[k] for k in ce),
           "head_accuracy_abs": max(abs(result[f"{k}_accuracy"] - float(np.mean(
               np.argmax(preds[k], axis=1) == y))) for k in ce)}
    # The reverse trip: this backend's .keras, for the TF side to load.
    model.save(os.path.join(DIR, f"{backend}-googlenet.keras"))
    np.savez(os.path.join(DIR, f"{backend}-googlenet-out.npz"),
             **model.predict(x0, batch_size=len(x0), verbose=0))
    return out


if __name__ == "__main__":
    DIR = sys.argv[1]
    start = time.process_time()
    import keras

    backend = keras.backend.backend()
    results = {"backend": backend, "import_cpu_s": round(time.process_time() - start, 2)}
    ref = np.load(os.path.join(DIR, "reference.npz"))
    with open(os.path.join(DIR, "spec.json")) as f:
        spec = json.load(f)
    only = os.environ.get("WORKER_ONLY")
    for key, fn in [("layers", lambda: layer_checks(ref)),
                    ("families", lambda: family_checks(ref, spec, backend)),
                    ("network_code_imports_tensorflow", lambda: "tensorflow" in sys.modules),
                    ("keras_files", lambda: keras_file_checks(ref)),
                    ("fit_layers_model", lambda: fit_layers_model(ref)),
                    ("googlenet_aux", lambda: googlenet_aux(ref, backend))]:
        if only and key not in only.split(","):
            continue
        t = time.process_time()
        check(results, key, fn)
        results.setdefault("cpu_s", {})[key] = round(time.process_time() - t, 2)
    results["total_cpu_s"] = round(time.process_time() - start, 2)
    print(json.dumps(results))
