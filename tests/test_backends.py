"""The zoo on every Keras 3 backend (issue 16): the TensorFlow side (this process) writes
weights, outputs and .keras files; one subprocess per backend (JAX, torch; the backend is
fixed when Keras is imported) runs tests/backend_worker.py over all of them and answers in
JSON; the tests below assert on its numbers, then load the other backends' .keras here."""

import json
import os
import subprocess
import sys
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_cnns
from keras_cnns.layers import (AdaptiveAveragePooling2D, CeilModePooling2D, DropPathSampler,
                               FractalJoin, LocalResponseNormalization, Preprocess,
                               StochasticDepth)
from tests.helpers import REPO, cli_env, randomise

BACKENDS = ("jax", "torch")

NO_TOP = {"include_top": False, "pooling": "avg"}  # their 4096-wide FCs are plain Dense

#: One network per registry family, small: (registry name, build kwargs, input side).
#: AlexNet and VGG without their fully connected layers (tens of millions of plain Dense
#: weights to copy, nothing of the zoo's own); DenseNet and FractalNet are cut down through their builders' own arguments; GoogLeNet
#: (the paper's, with LRN and aux heads) is checked through its .keras file and its fit.
FAMILIES = [
    ("lenet5", {}, 32), ("alexnet", NO_TOP, 67), ("vgg11", NO_TOP, 32), ("nin", {}, 32),
    ("inception_v2", {"depth_multiplier": 0.25}, 32),
    ("resnet20_cifar", {"stochastic_depth": 0.5}, 32),
    ("densenet121", {"blocks": [1, 2, 2, 1], "growth_rate": 8}, 32),
    ("fractalnet", {"channels": [8, 16], "columns": 3}, 32),
    ("squeezenet1_1", {}, 32),
]
GOOGLENET_SIZE = 80  # GoogLeNet(aux=True)'s smallest input is 79


def test_one_network_per_family():
    covered = {keras_cnns.registry.family_of(name).name for name, _, _ in FAMILIES} | {"googlenet"}
    assert covered == {f.name for f in keras_cnns.registry.families()}


def test_network_code_holds_no_tensorflow_import():
    """Layers, blocks, builders, heads and features import no TensorFlow; the
    exceptions, imported inside the methods that use them on the TensorFlow backend
    only: Preprocess's fallback for what only TF has (a graph of unknown image size, the
    gaussian / mitchellcubic resizes), and LRN's TF kernels (faster than its keras.ops
    form there: benchmarks/lrn.py)."""
    import ast

    pkg = os.path.join(REPO, "keras_cnns")
    files = [os.path.join(pkg, f) for f in ("heads.py", "features.py")]
    for sub in ("layers", "blocks", "models"):
        for root, _, names in os.walk(os.path.join(pkg, sub)):
            files += [os.path.join(root, n) for n in names if n.endswith(".py")]
    found = []
    for path in files:
        with open(path) as f:
            tree = ast.parse(f.read())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""]
                if any(n.split(".")[0] == "tensorflow" for n in names):
                    found.append((os.path.relpath(path, REPO), node.lineno))
    assert len(files) > 30
    assert sorted(f for f, _ in found) == ["keras_cnns/layers/lrn.py"] + [
        "keras_cnns/layers/preprocess.py"] * 2, found


def _photos(photos, size, channels=3):
    x = tf.image.resize(np.stack(photos).astype("float32"), (size, size)).numpy()
    if channels == 1:
        x = x.mean(axis=-1, keepdims=True)
    return x / 127.5 - 1.0


def _layers_model():
    """Every registered layer in one small network, uint8 images in."""
    inp = keras.Input((40, 50, 3), dtype="uint8")
    x = Preprocess(24, 24, mean=(127.5,) * 3, std=(127.5,) * 3)(inp)
    x = keras.layers.Conv2D(8, 3, activation="relu")(x)
    x = LocalResponseNormalization.from_caffe(5, alpha=1e-2)(x)
    x = CeilModePooling2D(3, 2, "max")(x)
    x = StochasticDepth(0.5, seed=1)([x, keras.layers.Conv2D(8, 3, padding="same")(x)])
    mask = DropPathSampler(2, global_rate=0.5, seed=2)(x)
    a = keras.layers.Conv2D(8, 3, padding="same")(x)
    b = keras.layers.Conv2D(8, 1)(x)
    x = FractalJoin([0, 1], 2, drop_rate=0.15, seed=3)([a, b, mask])
    x = CeilModePooling2D(3, 2, "avg")(x)
    x = AdaptiveAveragePooling2D(2)(x)
    out = keras.layers.Dense(3)(keras.layers.Flatten()(x))
    return keras.Model(inp, out, name="every_layer")


@pytest.fixture(scope="module")
def run(tmp_path_factory, photos, digits_data):
    """The TensorFlow references, then each backend's worker: ``(dir, {backend: json})``."""
    d = tmp_path_factory.mktemp("backends")
    cpu_start = time.process_time()
    rng = np.random.default_rng(0)
    ref = {"photos": np.stack(photos)}
    # Layers alone, against their TensorFlow outputs (tests/test_layers.py pins those
    # to numpy, both LRN conventions included).
    a = (rng.random((2, 5, 6, 16)) * 40.0).astype("float32")
    pool_in = rng.normal(size=(2, 8, 9, 4)).astype("float32")
    ref.update(activations=a, pool_in=pool_in,
               lrn_tf=np.asarray(LocalResponseNormalization(2, 2.0, 1e-4, 0.75)(a)),
               lrn_caffe=np.asarray(LocalResponseNormalization.from_caffe(5, 1e-4, 0.75)(a)),
               ceil_max=np.asarray(CeilModePooling2D(3, 2, "max")(pool_in)),
               ceil_avg=np.asarray(CeilModePooling2D(3, 2, "avg")(pool_in)),
               adaptive=np.asarray(AdaptiveAveragePooling2D(3)(pool_in)),
               preprocess=np.asarray(Preprocess(32, 48, mean=(1.0, 2.0, 3.0),
                                                std=(2.0, 2.0, 2.0),
                                                color_order="BGR")(ref["photos"])))
    # One network per family: random weights (BN statistics too), outputs on the photos.
    keras.utils.set_random_seed(0)
    spec = {"families": []}
    for name, kwargs, size in FAMILIES:
        channels = keras_cnns.model_info(name).default_input_shape[-1]
        kwargs = dict(kwargs, input_shape=(size, size, channels))
        if kwargs.get("include_top", True):
            kwargs["classes"] = 10
        model = keras_cnns.build(name, **kwargs)
        randomise(model)
        x = _photos(photos, size, channels)
        ref[f"photos_{name}"], ref[f"out_{name}"] = x, np.asarray(model(x, training=False))
        np.savez(d / f"weights-{name}.npz", *model.get_weights())
        spec["families"].append([name, kwargs, size])
        del model
    # .keras files: every registered layer; GoogLeNet (paper, LRN, aux heads).
    layers_model = _layers_model()
    x = tf.image.resize(ref["photos"], (40, 50)).numpy().round().astype("uint8")
    ref["keras_in_layers"], ref["keras_out_layers"] = x, np.asarray(layers_model(x))
    layers_model.save(d / "tf-layers.keras")
    googlenet = keras_cnns.GoogLeNet(aux=True, input_shape=(GOOGLENET_SIZE,) * 2 + (3,),
                                     classes=10)
    randomise(googlenet)
    x = _photos(photos, GOOGLENET_SIZE)
    ref["keras_in_googlenet"] = x
    for k, v in googlenet(x, training=False).items():
        ref[f"keras_out_googlenet_{k}"] = np.asarray(v)
    googlenet.save(d / "tf-googlenet.keras")
    x_tr, y_tr = digits_data[0][:32], digits_data[1][:32]
    ref["digits_x"] = tf.image.resize(x_tr.astype("float32"),
                                      (GOOGLENET_SIZE,) * 2).numpy() / 255.0
    ref["digits_y"] = y_tr
    np.savez(d / "reference.npz", **ref)
    (d / "spec.json").write_text(json.dumps(spec))

    print(f"TensorFlow side: {time.process_time() - cpu_start:.1f} CPU s")
    results = {}
    for backend in BACKENDS:
        env = cli_env(KERAS_BACKEND=backend,
                      PYTHONPATH=os.pathsep.join([REPO, os.environ.get("PYTHONPATH", "")]))
        # XLA's CPU compiles dominate the JAX side (every initializer shape, every
        # jitted function); the lowest optimisation level compiles ~3x faster, and the
        # outputs still agree with TF to 1e-4.
        env.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")
        proc = subprocess.run([sys.executable, os.path.join(REPO, "tests", "backend_worker.py"),
                               str(d)], capture_output=True, text=True, timeout=600, env=env,
                              cwd=str(d))
        lines = proc.stdout.strip().splitlines()
        assert proc.returncode == 0 and lines, (backend, proc.returncode, proc.stderr[-3000:])
        results[backend] = json.loads(lines[-1])
    return d, results


def _ok(value, where):
    assert not (isinstance(value, dict) and "error" in value), (where, value)
    return value


@pytest.mark.slow
@pytest.mark.parametrize("backend", BACKENDS)
def test_network_code_runs_on_the_backend_without_tensorflow(run, backend):
    res = run[1][backend]
    assert res["backend"] == backend
    # Layers, builders and forward passes never import TensorFlow (Keras itself may
    # later, e.g. keras.utils.set_random_seed seeds TF when it is installed).
    assert res["network_code_imports_tensorflow"] is False
    print(backend, "worker CPU seconds:", res["cpu_s"], "total", res["total_cpu_s"])


@pytest.mark.parametrize("backend", BACKENDS)
def test_layers_match_tensorflow(run, backend):
    res = _ok(run[1][backend]["layers"], "layers")
    for key in ("lrn_tf", "lrn_caffe", "ceil_max", "ceil_avg", "adaptive",
                "stochastic_depth_inference"):
        assert res[key] < 1e-5, (backend, key, res[key])
    assert res["stochastic_depth_training_whole"] is True
    # The antialiased resize is each backend's own (torch: PIL-style antialias;
    # JAX: scale_and_translate, as TF's): close, not bit-equal, in 0-255 units.
    assert res["preprocess_mean_abs"] < 0.5, res
    assert res["preprocess_max_abs"] < 8.0, res


@pytest.mark.parametrize("backend", BACKENDS)
def test_every_family_builds_and_matches_tensorflow(run, backend):
    fam = run[1][backend]["families"]
    assert [name for name, _, _ in FAMILIES] == list(fam)
    for name, res in fam.items():
        res = _ok(res, name)
        assert res["rel"] < 1e-4, (backend, name, res)


@pytest.mark.parametrize("backend", BACKENDS)
def test_tensorflow_keras_files_load_with_the_same_outputs(run, backend):
    res = _ok(run[1][backend]["keras_files"], "keras_files")
    assert res["layers"] < 1e-4, (backend, res)
    googlenet = _ok(run[1][backend]["googlenet_aux"], "googlenet_aux")
    assert googlenet["loaded_rel"] < 1e-4, (backend, googlenet)


@pytest.mark.parametrize("backend", BACKENDS)
def test_fit_step_trains_every_layer(run, backend):
    res = _ok(run[1][backend]["fit_layers_model"], "fit")
    assert np.isfinite(res["loss"]) and res["weights_changed"] >= 8, res


@pytest.mark.parametrize("backend", BACKENDS)
def test_googlenet_aux_fits_and_its_total_loss_is_weighted(run, backend):
    res = _ok(run[1][backend]["googlenet_aux"], "googlenet_aux")
    assert res["weights"] == {"main": 1.0, "aux1": 0.3, "aux2": 0.3}
    assert {"main_loss", "aux1_loss", "aux2_loss", "main_accuracy"} <= set(res["history_keys"])
    assert np.isfinite(res["fit_loss"])
    assert res["total_loss"] == pytest.approx(res["expected_total"], rel=1e-4), res
    assert res["head_loss_rel"] < 1e-4 and res["head_accuracy_abs"] < 1e-6, res


@pytest.mark.parametrize("backend", BACKENDS)
def test_keras_file_saved_on_backend_loads_on_tensorflow(run, backend):
    d, _ = run
    # Keras 3.15 saves a model compiled on torch with torch's own optimizer class
    # (keras.src.backend.torch.optimizers.torch_adam): its compile state loads only on
    # torch (here, importing torch after TF crashes in triton). The network loads anywhere.
    model = keras.saving.load_model(d / f"{backend}-googlenet.keras", safe_mode=True,
                                    compile=backend != "torch")
    assert (getattr(model, "optimizer", None) is not None) == (backend != "torch")
    ref = np.load(d / "reference.npz")
    want = np.load(d / f"{backend}-googlenet-out.npz")
    got = model(ref["keras_in_googlenet"], training=False)
    for k in ("main", "aux1", "aux2"):
        b = want[k]
        assert np.abs(np.asarray(got[k]) - b).max() / np.abs(b).max() < 1e-4, (backend, k)
