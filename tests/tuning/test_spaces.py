"""The search spaces: names, the paper's defaults, and random samples that all build."""

import importlib
import inspect
import random

import keras
import keras_tuner
import numpy as np
import pytest

import keras_cnns
from keras_cnns import registry
from keras_cnns.models import googlenet
from tuning import HyperCNN, spaces

# One registry entry per builder configuration, at a small input (its minimum or a
# little more), aux heads where the model has them. The first group covers every
# family and builder; the second (slow) the remaining configurations.
SMALL = {
    "lenet5": (32, False), "alexnet": (63, False), "zfnet": (32, False), "vgg11": (32, False),
    "nin_cifar": (32, False), "squeezenet1_1": (32, False), "resnet18": (32, False),
    "resnext50_32x4d": (32, False), "wrn28_10": (8, False), "densenet121": (32, False),
    "fractalnet": (32, False), "googlenet": (79, True), "googlenet_torchvision": (63, True),
    "inception_v2": (32, False), "inception_v3": (107, True),
}
SMALL_SLOW = {
    "alexnet_torchvision": (63, False), "vgg11_bn": (32, False), "nin": (32, False),
    "squeezenet1_0": (32, False), "resnet50": (32, False), "resnet50_v2": (32, False),
    "wide_resnet50_2": (32, False), "googlenet_bn": (79, True),
}


def test_every_registered_family_has_a_space():
    for name in keras_cnns.available_models():
        assert isinstance(spaces.space_for(name).description, str), name


def test_small_covers_every_family():
    families = {keras_cnns.model_info(n).family for n in SMALL}
    assert families == {keras_cnns.model_info(n).family for n in keras_cnns.available_models()}


@pytest.mark.parametrize("name", keras_cnns.available_models())
def test_names_say_what_they_tune_and_defaults_are_the_papers(name):
    info = keras_cnns.model_info(name)
    rows = spaces.hyperparameters(name, aux=info.has_aux)
    assert rows, f"{name}: empty space"
    for row in rows:
        assert "filters" in row.name or "dropout" in row.name, row.name
        assert row.default in row.values and len(row.values) >= 2
        if "dropout" in row.name:
            assert all(0.0 <= v < 1.0 for v in row.values)
    assert len({r.name for r in rows}) == len(rows)


def _dropout_arguments(name):
    """The builder's keyword arguments that set a dropout rate (``dropout``,
    ``aux_dropout``), read from its signature; a wrapper taking ``**kwargs`` is read
    through to its family's builders."""
    builder, _ = registry.get_builder(name)
    params = inspect.signature(builder).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        module = importlib.import_module(registry.family_of(name).build_module)
        params = {}
        for other in registry.family_of(name).builders:
            params.update(inspect.signature(getattr(module, other)).parameters)
    return sorted(p for p in params if "dropout" in p)


@pytest.mark.parametrize("name", keras_cnns.available_models())
def test_every_dropout_argument_is_searched(name):
    """A builder's dropout argument is a row of its space (with the entry's aux heads, so
    aux_dropout counts), and a picked rate reaches the builder; the one exception is an
    entry whose builder refuses any rate (WRN-50-2: dropout is the CIFAR WRNs')."""
    info = keras_cnns.model_info(name)
    rows = {r.kwarg: r for r in spaces.hyperparameters(name, aux=info.has_aux)}
    for arg in _dropout_arguments(name):
        if arg not in rows:
            with pytest.raises((ValueError, TypeError), match=arg):
                keras_cnns.build(name, **{arg: 0.3})
            continue
        row = rows[arg]
        assert "dropout" in row.name and all(0.0 <= v < 1.0 for v in row.values)
        picked = next(v for v in row.values if v != row.default)
        defaults = {r.name: r.default for r in rows.values()}
        assert arg in spaces.builder_kwargs(name, {**defaults, row.name: picked}), (name, arg)


def test_googlenet_space_is_stage_multipliers_and_both_dropouts():
    rows = {r.name: r for r in spaces.hyperparameters("googlenet", aux=True)}
    assert set(rows) == {"inception_3_filters", "inception_4_filters", "inception_5_filters",
                         "dropout", "aux_dropout"}
    assert rows["dropout"].default == 0.4 and rows["aux_dropout"].default == 0.7
    assert "aux_dropout" not in {r.name for r in spaces.hyperparameters("googlenet")}
    defaults = {n: r.default for n, r in rows.items()}
    assert spaces.builder_kwargs("googlenet", defaults)["table"] == googlenet.INCEPTION_TABLE
    half = spaces.builder_kwargs("googlenet", {**defaults, "inception_4_filters": 0.5})
    assert half["table"][3] == googlenet.INCEPTION_TABLE[3].scaled(0.5)  # 4b halved
    assert half["table"][0] == googlenet.INCEPTION_TABLE[0]  # 3a kept


def test_fixed_hyperparameters_and_builder_arguments():
    hm = HyperCNN("googlenet", 10, (79, 79, 3), aux=True, dropout=0.5, variant="bn")
    hp = keras_tuner.HyperParameters()
    values = hm.values(hp)
    assert values["dropout"] == 0.5 and "dropout" in hp.values
    assert hm.build_kwargs == {"variant": "bn"} and hm.aux
    assert hm.objective.name == "val_main_accuracy" and hm.objective.direction == "max"
    with pytest.raises(ValueError, match="dropout=0.55 is not one of"):
        HyperCNN("googlenet", 10, (79, 79, 3), dropout=0.55)
    with pytest.raises(ValueError, match="no aux heads"):
        HyperCNN("lenet5", 10, (32, 32, 1), aux=True)


def _random_values(rows, rng):
    return {r.name: rng.choice(r.values) for r in rows}


@pytest.mark.parametrize("name", sorted(SMALL) + [
    pytest.param(n, marks=pytest.mark.slow) for n in sorted(SMALL_SLOW)])
def test_random_samples_build(name):
    """The narrowest pick of every row (where widths round down to a few filters), then
    a random pick."""
    size, aux = {**SMALL, **SMALL_SLOW}[name]
    info = keras_cnns.model_info(name)
    shape = (size, size, info.default_input_shape[-1])
    hm = HyperCNN(name, 5, shape, aux=aux)
    rng = random.Random(f"{name}-0")
    samples = [{r.name: r.values[0] for r in hm.rows}, _random_values(hm.rows, rng)]
    x = np.zeros((1,) + shape, "float32")
    for values in samples:
        keras.backend.clear_session()
        model = hm.build_model(values)
        out = model(x, training=False)
        main = out["main"] if isinstance(out, dict) else out
        assert tuple(main.shape) == (1, 5), (name, values)
        assert np.isfinite(np.asarray(main)).all()
        if aux:
            assert set(out) == set(info.aux_loss_weights)


@pytest.mark.parametrize("name", ["lenet5", "alexnet", "zfnet", "vgg11", "nin_cifar",
                                  "squeezenet1_1", "resnet18", "resnext50_32x4d",
                                  "densenet121", "googlenet"])
def test_the_default_pick_is_the_papers_network(name):
    """Defaults through the space's keyword arguments: the registry's parameter count."""
    info = keras_cnns.model_info(name)
    rows = spaces.hyperparameters(name)
    kwargs = spaces.builder_kwargs(name, {r.name: r.default for r in rows})
    assert kwargs  # the space reaches the builder
    keras.backend.clear_session()
    model = keras_cnns.build(name, **kwargs)
    assert model.count_params() == info.params
