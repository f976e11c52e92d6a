"""keras_cnns.precision: the policy scope, a model moved between policies, loss scaling,
and --precision on the command line. The learning checks under mixed_bfloat16 live with
the learning tests (tests/training/test_train_cli.py, tests/models/test_googlenet_learning.py),
the per-family build and gradient step in tests/models/test_matrix.py."""

import keras
import numpy as np
import pytest

import keras_cnns
from keras_cnns import precision as P
from keras_cnns.cli import main
from keras_cnns.cli.common import PRECISIONS as CLI_PRECISIONS


def test_cli_choices_are_the_library_s():
    assert CLI_PRECISIONS == P.PRECISIONS
    assert P.DEFAULT == "float32"


@pytest.mark.parametrize("value, error", [("float64", ValueError), ("bfloat16", ValueError),
                                          (16, TypeError), (None, ValueError)])
def test_bad_precision_is_refused_naming_the_argument(value, error):
    with pytest.raises(error, match="precision.*float32.*mixed_bfloat16.*mixed_float16"):
        P.check_precision(value)
    from keras_cnns.training.run import train

    with pytest.raises(error, match="--precision"):
        train("lenet5", precision=value, output="never-written")


@pytest.mark.parametrize("command", ["train lenet5", "evaluate x.keras", "tune lenet5"])
def test_cli_refuses_an_unknown_precision_in_one_line(command, capsys):
    assert main(command.split() + ["--precision", "float64"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--precision" in err[0] and "mixed_bfloat16" in err[0]


def test_policy_scope_restores_the_previous_policy_even_on_error():
    assert keras.mixed_precision.global_policy().name == "float32"
    with pytest.raises(RuntimeError):
        with P.precision_policy("mixed_float16"):
            assert keras.mixed_precision.global_policy().name == "mixed_float16"
            with P.precision_policy("mixed_bfloat16"):
                assert keras.mixed_precision.global_policy().name == "mixed_bfloat16"
            assert keras.mixed_precision.global_policy().name == "mixed_float16"
            raise RuntimeError("boom")
    assert keras.mixed_precision.global_policy().name == "float32"


@pytest.fixture(scope="module")
def digits_batch(digits_data):
    x = keras_cnns.preprocessing("lenet5")(digits_data[2][:64]).numpy()
    return x, digits_data[3][:64]


@pytest.fixture(scope="module")
def lenets():
    """LeNet-5 built (random weights, seed 0) under each policy."""
    models = {}
    for precision in P.PRECISIONS:
        with P.precision_policy(precision):
            keras.utils.set_random_seed(0)
            models[precision] = keras_cnns.build("lenet5")
    return models


def test_builders_keep_head_and_variables_in_float32(lenets):
    for precision, model in lenets.items():
        assert P.model_precision(model) == precision
        compute = {"float32": "float32", "mixed_bfloat16": "bfloat16",
                   "mixed_float16": "float16"}[precision]
        assert model.get_layer("C1").compute_dtype == compute
        assert model.get_layer("predictions").compute_dtype == "float32"
        assert all(v.dtype == "float32" for v in model.weights)


@pytest.mark.parametrize("saved", P.PRECISIONS)
def test_a_checkpoint_saved_under_one_policy_runs_under_every_other(
        saved, lenets, digits_batch, tmp_path):
    x, _ = digits_batch
    model = lenets[saved]
    path = tmp_path / "m.keras"
    model.save(path)
    reference = np.asarray(model(x))
    # Loaded under another global policy, the checkpoint keeps its own policies...
    other = next(p for p in P.PRECISIONS if p != saved)
    with P.precision_policy(other):
        loaded = keras.saving.load_model(path, safe_mode=True)
    assert P.model_precision(loaded) == saved
    np.testing.assert_array_equal(np.asarray(loaded(x)), reference)
    # ...and with_precision moves its exact weights to any policy.
    for target in P.PRECISIONS:
        moved = P.with_precision(loaded, target)
        assert P.model_precision(moved) == target
        assert moved.get_layer("predictions").compute_dtype == "float32"
        for a, b in zip(moved.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(a, b)
        out = np.asarray(moved(x))
        assert out.dtype == np.float32 and out.shape == reference.shape
        # 16-bit compute: bfloat16 keeps 8 bits of mantissa, float16 11.
        np.testing.assert_allclose(out, reference, atol=0.03)
        np.testing.assert_allclose(out.sum(-1), 1.0, atol=1e-5)
    assert P.with_precision(loaded, saved) is loaded
    assert keras.mixed_precision.global_policy().name == "float32"


def test_mixed_float16_trains_with_loss_scaling(lenets, digits_batch):
    """The recipes wrap the optimizer in LossScaleOptimizer under mixed_float16 only; its
    step is finite and moves the weights."""
    from keras_cnns.training import recipes

    x, y = digits_batch
    kinds = {}
    for precision, model in lenets.items():
        recipes.get("fast").compile(model, steps_per_epoch=1)
        kinds[precision] = isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    model = lenets["mixed_float16"]
    before = [w.copy() for w in model.get_weights()]
    logs = model.train_on_batch(x[:16], y[:16], return_dict=True)
    assert np.isfinite(logs["loss"]), logs
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
    assert kinds == {"float32": False, "mixed_bfloat16": False, "mixed_float16": True}
    assert P.loss_scaled(keras.optimizers.SGD(), "mixed_bfloat16").__class__ is \
        keras.optimizers.SGD
    wrapped = P.loss_scaled(keras.optimizers.SGD(), "mixed_float16")
    assert isinstance(wrapped, keras.optimizers.LossScaleOptimizer)
    assert P.loss_scaled(wrapped, "mixed_float16") is wrapped


def test_lrn_sums_in_float32_under_mixed_float16():
    """Squares of float16 activations overflow (65504): LRN sums them in float32."""
    from keras_cnns.layers import LocalResponseNormalization

    x = np.full((1, 2, 2, 8), 300.0, np.float32)  # 300**2 = 9e4 > float16's max
    ref = np.asarray(LocalResponseNormalization(alpha=1e-4)(x))
    with P.precision_policy("mixed_float16"):
        layer = LocalResponseNormalization(alpha=1e-4)
    out = np.asarray(layer(x))
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out.astype(np.float32), ref, rtol=2e-3)


def test_every_tuning_trial_builds_under_the_search_s_precision():
    """keras-tuner clears the Keras session between trials, which resets the global
    policy: the hypermodel sets it for each build itself."""
    import keras_tuner

    from tuning.hypermodel import HyperCNN

    hyper = HyperCNN("lenet5", 10, (32, 32, 1), precision="mixed_float16")
    keras.backend.clear_session()
    model = hyper.build(keras_tuner.HyperParameters())
    assert keras.mixed_precision.global_policy().name == "float32"
    assert P.model_precision(model) == "mixed_float16"
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)  # Keras' compile
    with pytest.raises(ValueError, match="precision"):
        HyperCNN("lenet5", 10, (32, 32, 1), precision="float16")


def test_the_multi_worker_loop_scales_the_loss_under_mixed_float16(digits_batch):
    """distributed.fit_multi_worker's own step (here under the default strategy) scales
    the loss before the gradient and lets the LossScaleOptimizer unscale it."""
    import tensorflow as tf

    from keras_cnns.training import distributed, recipes

    x, y = digits_batch
    recipe = recipes.get("fast")
    with P.precision_policy("mixed_float16"):
        keras.utils.set_random_seed(0)
        model = keras_cnns.build("lenet5")
    recipe.compile(model, steps_per_epoch=2)
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)
    scaled = []
    scale_loss = model.optimizer.scale_loss
    model.optimizer.scale_loss = lambda loss: scaled.append(loss) or scale_loss(loss)
    before = [w.copy() for w in model.get_weights()]
    train = tf.data.Dataset.from_tensor_slices((x, y)).batch(16).repeat()
    history = distributed.fit_multi_worker(model, tf.distribute.get_strategy(), recipe, train,
                                           tf.data.Dataset.from_tensor_slices((x, y)).batch(32),
                                           epochs=1, steps_per_epoch=2, global_batch=16,
                                           verbose=0)
    assert np.isfinite(history[-1]["loss"]) and np.isfinite(history[-1]["val_loss"])
    assert scaled, "the loop never scaled the loss"
    assert int(model.optimizer.iterations.numpy()) == 2
    assert all(not np.array_equal(a, b) for a, b in zip(before, model.get_weights()))
