"""Recipes: the papers' figures, their schedules' learning rates at chosen epochs, the L2
weight decay entering the loss exactly once per kernel, and compile on aux models."""

import math

import keras
import numpy as np
import pytest

import keras_cnns
from keras_cnns import recipes
from keras_cnns.training import (SparseCategoricalCrossentropyLS, StepDecay,
                                 apply_l2_weight_decay, kernel_variables, l2_penalty)


def test_recipes_are_importable_from_the_package_and_frozen():
    assert keras_cnns.recipes is recipes
    r = recipes.get("alexnet")
    with pytest.raises(Exception):
        r.learning_rate = 1.0  # frozen dataclass
    assert set(recipes.available_recipes()) >= {"alexnet", "vgg", "googlenet", "inception_v3",
                                                "resnet", "fast"}
    for name in recipes.available_recipes():
        assert recipes.get(name).section  # every recipe cites its paper section


@pytest.mark.parametrize("name, opt, lr, wd, batch, extra", [
    ("alexnet", "sgd", 0.01, 5e-4, 128, {"momentum": 0.9}),
    ("vgg", "sgd", 0.01, 5e-4, 256, {"momentum": 0.9}),
    ("googlenet", "sgd", 0.01, 2e-4, 32, {"momentum": 0.9}),
    ("inception_v3", "rmsprop", 0.045, 4e-5, 32, {"rho": 0.9, "epsilon": 1.0,
                                                   "global_clipnorm": 2.0}),
    ("resnet", "sgd", 0.1, 1e-4, 256, {"momentum": 0.9}),
])
def test_recipe_figures_match_the_reference_table(name, opt, lr, wd, batch, extra):
    r = recipes.get(name)
    assert (r.optimizer, r.learning_rate, r.weight_decay, r.batch_size) == (opt, lr, wd, batch)
    for k, v in extra.items():
        assert r.optimizer_args[k] == v
    o = r.make_optimizer(steps_per_epoch=10)
    assert type(o).__name__.lower() == opt


def test_paper_details():
    assert recipes.get("inception_v3").label_smoothing == 0.1
    assert dict(recipes.get("inception_v3").aux_loss_weights) == {"main": 1.0, "aux": 0.4}
    assert recipes.get("googlenet").averaging == "polyak"
    assert recipes.get("inception_v3").averaging == "ema"
    assert recipes.get("resnet").initializer == "HeNormal"
    assert recipes.get("alexnet").initializer_args["stddev"] == 0.01
    assert recipes.get("vgg").epochs == 74 and recipes.get("alexnet").epochs == 90
    assert recipes.get("fast").optimizer == "adam" and recipes.get("fast").learning_rate == 2e-3
    assert recipes.get("fast").learning_rate_at(8) == pytest.approx(1e-3)
    assert recipes.get("fast").learning_rate_at(12) == pytest.approx(5e-4)
    assert recipes.get("resnet50").name == "resnet"  # by model name / family
    assert recipes.get("vgg16_bn").name == "vgg"
    with pytest.raises(ValueError, match="unknown recipe"):
        recipes.get("nope")
    with pytest.raises(ValueError, match="no paper recipe"):
        recipes.for_model("lenet5")


@pytest.mark.parametrize("name, epoch, expected", [
    # GoogLeNet section 6: 4 % less every 8 epochs.
    ("googlenet", 0, 0.01), ("googlenet", 7, 0.01), ("googlenet", 8, 0.0096),
    ("googlenet", 16, 0.01 * 0.96 ** 2), ("googlenet", 40, 0.01 * 0.96 ** 5),
    # Inception v3 section 8: 0.045, x0.94 every 2 epochs.
    ("inception_v3", 0, 0.045), ("inception_v3", 1, 0.045), ("inception_v3", 2, 0.0423),
    ("inception_v3", 11, 0.045 * 0.94 ** 5), ("inception_v3", 99, 0.045 * 0.94 ** 49),
])
def test_step_schedules_give_the_papers_rate(name, epoch, expected):
    r = recipes.get(name)
    steps = 37
    sched = r.learning_rate_schedule(steps_per_epoch=steps)
    assert isinstance(sched, StepDecay)
    for step in (epoch * steps, epoch * steps + steps - 1):  # first and last step of the epoch
        assert float(sched(step)) == pytest.approx(expected, rel=1e-5)
    assert r.learning_rate_at(epoch) == pytest.approx(expected, rel=1e-12)
    # Survives serialisation (it is in the optimiser's config inside .keras files).
    again = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(sched))
    assert float(again(epoch * steps)) == pytest.approx(expected, rel=1e-5)


def _drive_plateau(recipe, val_losses):
    """Run the recipe's ReduceLROnPlateau on a real optimiser with given val losses;
    return the learning rate in force during each epoch."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    model.compile(optimizer=recipe.make_optimizer(), loss="mse")
    (cb,) = recipe.callbacks(monitor="val_loss", verbose=0)
    cb.set_model(model)
    cb.on_train_begin()
    rates = []
    for epoch, v in enumerate(val_losses):
        rates.append(float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)))
        cb.on_epoch_end(epoch, {"val_loss": v})
    return rates


@pytest.mark.parametrize("name", ["alexnet", "vgg", "resnet"])
def test_plateau_schedule_divides_by_ten_at_most_three_times(name):
    r = recipes.get(name)
    p = r.schedule_args["patience"]
    # Improves for 5 epochs, then a flat validation loss forever.
    losses = [1.0 - 0.1 * i for i in range(5)] + [0.6] * (5 * (p + 1))
    rates = _drive_plateau(r, losses)
    lr0 = r.learning_rate
    assert rates[0] == pytest.approx(lr0)
    assert rates[5 + p - 1] == pytest.approx(lr0)  # still waiting
    # The first plateau is detected after epoch 4 + patience: /10 from then on.
    first = 4 + p + 1
    assert rates[first] == pytest.approx(lr0 / 10, rel=1e-5)
    assert r.learning_rate_at(first, plateau_epochs=[first - 1]) == pytest.approx(lr0 / 10)
    assert min(rates) == pytest.approx(lr0 / 1000, rel=1e-5)  # three drops, no fourth
    assert r.learning_rate_at(100, plateau_epochs=range(0, 100, 10)) == pytest.approx(lr0 / 1000)


# --------------------------------------------------------------------------- weight decay

def small_model():
    """Conv (bias) -> BN -> nested sub-model (Dense used once) -> Dense: kernels 3."""
    inner_in = keras.Input((8,))
    inner = keras.Model(inner_in, keras.layers.Dense(6, name="inner_dense")(inner_in),
                        name="inner")
    x_in = keras.Input((6, 6, 2))
    x = keras.layers.Conv2D(4, 3, name="conv")(x_in)
    x = keras.layers.BatchNormalization(name="bn")(x)
    x = keras.layers.Flatten()(x)
    x = keras.layers.Dense(8, activation="relu", name="fc")(x)
    x = inner(x)
    y = keras.layers.Dense(3, activation="softmax", name="predictions")(x)
    return keras.Model(x_in, y, name="small")


def test_l2_enters_the_loss_exactly_once_per_kernel(tmp_path):
    keras.utils.set_random_seed(0)
    model = small_model()
    wd = 0.05
    assert apply_l2_weight_decay(model, wd) == 4  # conv, fc, inner_dense, predictions
    names = sorted(v.path for _, _, v in kernel_variables(model))
    assert all(n.endswith("kernel") for n in names) and len(set(names)) == 4
    by_hand = 0.5 * wd * sum(float(np.sum(np.square(model.get_layer(n).kernel.numpy())))
                             for n in ("conv", "fc", "predictions"))
    by_hand += 0.5 * wd * float(np.sum(np.square(
        model.get_layer("inner").get_layer("inner_dense").kernel.numpy())))
    assert len(model.losses) == 4
    assert float(sum(model.losses)) == pytest.approx(by_hand, rel=1e-6)
    assert l2_penalty(model, wd) == pytest.approx(by_hand, rel=1e-6)

    # The compiled loss is cross-entropy + the penalty, once.
    recipes.get("fast").replace(weight_decay=wd, label_smoothing=0.0,
                                schedule="constant").compile(model)
    x = np.random.default_rng(0).normal(size=(5, 6, 6, 2)).astype("float32")
    y = np.array([0, 1, 2, 0, 1])
    p = np.asarray(model(x, training=False))
    ce = float(np.mean(-np.log(p[np.arange(5), y])))
    assert model.evaluate(x, y, verbose=0, return_dict=True)["loss"] == \
        pytest.approx(ce + by_hand, rel=1e-5)

    # The gradient of a kernel gains wd * W; biases and BN get nothing.
    import tensorflow as tf

    with tf.GradientTape(persistent=True) as tape:
        pred = model(x, training=False)
        loss_ce = keras.losses.sparse_categorical_crossentropy(y, pred)
        loss_ce = tf.reduce_mean(loss_ce)
        total = loss_ce + tf.add_n(model.losses)
    conv = model.get_layer("conv")
    bn = model.get_layer("bn")
    for var in (conv.kernel, conv.bias, bn.gamma, bn.beta):
        g_total = tape.gradient(total, var.value)
        g_ce = tape.gradient(loss_ce, var.value)
        extra = wd * var.numpy() if var is conv.kernel else 0.0
        np.testing.assert_allclose(g_total.numpy(), g_ce.numpy() + extra, rtol=1e-5, atol=1e-7)

    # Survives .keras save / load (safe mode): same penalty, same loss.
    path = tmp_path / "m.keras"
    model.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    assert len(loaded.losses) == 4
    assert float(sum(loaded.losses)) == pytest.approx(by_hand, rel=1e-6)
    assert loaded.evaluate(x, y, verbose=0, return_dict=True)["loss"] == \
        pytest.approx(ce + by_hand, rel=1e-5)

    # Applying again replaces, never doubles.
    apply_l2_weight_decay(model, wd)
    assert float(sum(model.losses)) == pytest.approx(by_hand, rel=1e-6)
    apply_l2_weight_decay(model, 0.0)
    assert model.losses == []


def test_decoupled_weight_decay_by_name_spares_biases_and_bn():
    keras.utils.set_random_seed(0)
    model = small_model()
    r = recipes.get("resnet").replace(weight_decay_mode="decoupled")
    r.compile(model)
    opt = model.optimizer
    assert opt.weight_decay == pytest.approx(1e-4)
    assert model.losses == []  # not in the loss
    kernels = {id(v) for _, _, v in kernel_variables(model)}
    for v in model.trainable_variables:
        assert opt._use_weight_decay(v) == (id(v) in kernels), v.path


def test_label_smoothing_loss_matches_keras_categorical():
    y = np.array([0, 2, 1])
    logits = np.random.default_rng(1).normal(size=(3, 4)).astype("float32")
    ours = SparseCategoricalCrossentropyLS(0.1, from_logits=True)(y, logits)
    ref = keras.losses.CategoricalCrossentropy(from_logits=True, label_smoothing=0.1)(
        np.eye(4)[y], logits)
    assert float(ours) == pytest.approx(float(ref), rel=1e-6)
    again = keras.losses.deserialize(keras.losses.serialize(SparseCategoricalCrossentropyLS(0.1)))
    assert again.label_smoothing == 0.1


# --------------------------------------------------------------------------- aux compile

def aux_toy():
    """A registry-free dict-output model: the aux head is useless (zero input)."""
    x_in = keras.Input((4,))
    h = keras.layers.Dense(8, activation="relu", name="h")(x_in)
    main = keras.layers.Dense(3, activation="softmax", name="predictions")(h)
    zero = keras.layers.Dense(3, kernel_initializer="zeros", trainable=False, name="z")(x_in)
    aux = keras.layers.Dense(3, activation="softmax", name="aux_out")(zero)
    return keras.Model(x_in, {"main": main, "aux1": aux}, name="toy")


def test_compile_aux_model_weights_and_per_head_metrics():
    keras.utils.set_random_seed(0)
    model = aux_toy()
    recipes.get("fast").replace(learning_rate=0.05, schedule="constant", label_smoothing=0.0).compile(
        model, aux_loss_weights={"main": 1.0, "aux1": 0.3})
    rng = np.random.default_rng(0)
    x = rng.normal(size=(256, 4)).astype("float32")
    y = np.argmax(x[:, :3], axis=1)
    hist = model.fit(x, {"main": y, "aux1": y}, epochs=15, batch_size=32, verbose=0)
    logs = model.evaluate(x, {"main": y, "aux1": y}, verbose=0, return_dict=True)
    # The main head learns, the aux head (zero input) stays at chance: metrics are per head.
    assert logs["main_accuracy"] > 0.85
    assert logs["aux1_accuracy"] < 0.5
    assert "main_top5" not in logs or logs["main_top5"] == 1.0
    total = logs["main_loss"] + 0.3 * logs["aux1_loss"]
    assert logs["loss"] == pytest.approx(total, rel=1e-4)
    assert "main_accuracy" in hist.history


def test_compile_googlenet_takes_the_registry_weights():
    model = keras_cnns.build("googlenet", aux=True, classes=10, input_shape=(96, 96, 3))
    recipes.get("googlenet").compile(model, steps_per_epoch=10)
    assert recipes.get("googlenet").loss_weights(model) == {"main": 1.0, "aux1": 0.3,
                                                           "aux2": 0.3}
    # SGD with the 4 %-every-8-epochs schedule, Polyak (EMA) averaging.
    assert model.optimizer.use_ema
    assert float(model.optimizer.learning_rate) == pytest.approx(0.01)
    assert len(model.losses) == len(kernel_variables(model)) > 60
    assert math.isfinite(float(sum(model.losses)))


# --------------------------------------------------------------------------- multistep

def test_multistep_schedule_steps_epochs_and_warm_up():
    from keras_cnns.metadata import SCHEDULES, RecipeSpec
    from keras_cnns.training import MultiStepDecay

    assert "multistep" in SCHEDULES
    steps = 50
    sched = MultiStepDecay(0.1, (3, 4.5), 0.1, steps, warmup_epochs=0.5, warmup_factor=0.2)
    by_step = {0: 0.02, 24: 0.02, 25: 0.1, 149: 0.1, 150: 0.01, 224: 0.01, 225: 0.001,
               10_000: 0.001}
    for step, lr in by_step.items():
        assert float(sched(step)) == pytest.approx(lr, rel=1e-6), step
    again = keras.optimizers.schedules.deserialize(keras.optimizers.schedules.serialize(sched))
    assert [float(again(s)) for s in by_step] == pytest.approx(list(by_step.values()))
    # The recipe's figures give the same rates per epoch (at each epoch's first step).
    spec = RecipeSpec(name="t", paper="p", section="s", optimizer="sgd", learning_rate=0.1,
                      schedule="multistep",
                      schedule_args={"boundaries": (3, 4.5), "factor": 0.1,
                                     "warmup_epochs": 0.5, "warmup_factor": 0.2})
    r = recipes.Recipe.from_spec(spec)
    for epoch in range(7):
        assert r.learning_rate_at(epoch) == pytest.approx(float(sched(epoch * steps)))
    assert isinstance(r.learning_rate_schedule(steps_per_epoch=steps), MultiStepDecay)
    with pytest.raises(ValueError, match="steps_per_epoch"):
        r.learning_rate_schedule()
    with pytest.raises(ValueError, match="boundaries must increase"):
        MultiStepDecay(0.1, (5, 3), 0.1, steps)
    with pytest.raises(TypeError, match="boundaries"):
        MultiStepDecay(0.1, 5, 0.1, steps)
    with pytest.raises(ValueError, match="factor"):
        MultiStepDecay(0.1, (5,), 0.0, steps)


def _recipe_help():
    from keras_cnns.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.choices and "train" in a.choices)
    action = next(a for a in sub.choices["train"]._actions if "--recipe" in a.option_strings)
    return action.help


@pytest.mark.parametrize("name", recipes.available_recipes())
def test_the_recipe_help_states_the_recipes_numbers(name, capsys):
    # Issue 12 section 5: --recipe's help is read off the data, never written apart.
    r = recipes.get(name)
    rows = {row.split(":", 1)[0].replace(" (default)", ""): row.split(":", 1)[1]
            for row in _recipe_help().split("recipe: ", 1)[1].rsplit(". --epochs", 1)[0]
            .split("; ")}
    row = rows[name]
    assert f"{r.optimizer} lr {r.learning_rate:g}," in row
    assert f"batch {r.batch_size}," in row and row.endswith(f" {r.epochs} epochs")
    args = dict(r.schedule_args)
    numbers = {"step": ("rate", "every_epochs"), "plateau": ("factor", "patience", "max_drops"),
               "multistep": ("factor",), "constant": ()}[r.schedule]
    for key in numbers:
        assert f"{args[key]:g}" in row, (key, row)
    for boundary in args.get("boundaries", ()):
        assert f"{boundary:g}" in row
    # The paper recipe of a model is named with the same numbers by `keras-cnns info`.
    users = [m for m in keras_cnns.available_models() if keras_cnns.model_info(m).recipe == name]
    if users:
        from keras_cnns.cli import main

        assert main(["info", users[0]]) == 0
        assert f"paper recipe:    {name}:{row} (" in capsys.readouterr().out


def test_the_fast_recipe_help_is_not_the_old_hand_written_figure():
    assert "fast (default): adam lr 0.002, x0.5 every 6 epochs, batch 32, 30 epochs" \
        in _recipe_help()
