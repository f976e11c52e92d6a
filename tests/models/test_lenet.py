"""LeNet-5: parameter count, Fig. 2 shapes, bad input, and learning real digits."""

import keras
import numpy as np
import pytest

import keras_cnns as kc
from keras_cnns.models import lenet
from tests.helpers import assert_minimum_input_is_tight


def _shapes(model, names):
    return {n: tuple(model.get_layer(n).output.shape[1:]) for n in names}


@pytest.fixture(scope="module")
def model():
    return kc.build("lenet5")


def test_params_match_paper_count(model):
    # C1 156 + C3 2,416 + C5 48,120 + F6 10,164 + output 850.
    assert model.count_params() == 61_706
    assert kc.model_info("lenet5").params == 61_706
    assert kc.LeNet5(subsampling="max").count_params() == 61_706  # pooling has no weights
    assert kc.profile(model).macs == kc.model_info("lenet5").macs == 416_520


def test_fig2_shapes(model):
    assert model.input.shape[1:] == (32, 32, 1)
    assert _shapes(model, lenet.END_POINTS + ("F6",)) == {
        "C1": (28, 28, 6), "S2": (14, 14, 6), "C3": (10, 10, 16), "S4": (5, 5, 16),
        "C5": (1, 1, 120), "F6": (84,)}
    assert model.output.shape[1:] == (10,)
    assert model.name == "lenet5"
    assert model.get_layer("C1").activation.__name__ == "tanh"


def test_subsampling_kinds():
    avg = kc.LeNet5()
    mx = kc.LeNet5(subsampling="max")
    assert isinstance(avg.get_layer("S2"), keras.layers.AveragePooling2D)
    assert isinstance(mx.get_layer("S4"), keras.layers.MaxPooling2D)


def test_headless_and_classes():
    feats = kc.LeNet5(include_top=False, pooling="avg")
    assert feats.output.shape[1:] == (120,)
    assert kc.LeNet5(classes=3).output.shape[1:] == (3,)


@pytest.mark.parametrize("kwargs, exc", [
    (dict(subsampling="min"), ValueError),
    (dict(input_shape=(31, 31, 1)), ValueError),
    (dict(input_shape=(1, 32, 32)), ValueError),  # channels-first
    (dict(input_shape=(32, 32)), ValueError),
    (dict(classes=0), ValueError),
    (dict(pooling="sum", include_top=False), ValueError),
    (dict(weights="imagenet"), ValueError),
    (dict(weights="/no/such/file.weights.h5"), ValueError),
])
def test_bad_input(kwargs, exc):
    with pytest.raises(exc):
        kc.LeNet5(**kwargs)


@pytest.mark.parametrize("table, exc", [
    (lenet.CONV_TABLE[:2], ValueError),  # C5 missing
    ((("C1", 6, 3, "S2"),) + lenet.CONV_TABLE[1:], ValueError),  # kernels are Fig. 2's
    ((("C1", 0, 5, "S2"),) + lenet.CONV_TABLE[1:], ValueError),
    ((("C1", 6.0, 5, "S2"),) + lenet.CONV_TABLE[1:], TypeError),
    ("C1", TypeError),
])
def test_bad_table(table, exc):
    with pytest.raises(exc):
        kc.LeNet5(table=table)


def test_table_changes_widths():
    model = kc.LeNet5(table=((("C1", np.int64(4), 5, "S2"),) + lenet.CONV_TABLE[1:]))
    assert model.get_layer("C1").output.shape[-1] == 4


def test_dropout_before_f6_and_the_output(model):
    """``dropout=`` (default 0.0: Fig. 2, which has none) adds a Dropout before F6 and one
    before the output; at 0.0 neither exists, so the paper's network is unchanged."""
    trunk = ["C1", "S2", "C3", "S4", "C5", "flatten"]
    assert [lay.name for lay in model.layers][1:] == trunk + ["F6", "predictions"]
    drop = kc.LeNet5(dropout=0.3)
    assert [lay.name for lay in drop.layers][1:] == trunk + [
        "C5_dropout", "F6", "F6_dropout", "predictions"]
    assert drop.get_layer("C5_dropout").rate == drop.get_layer("F6_dropout").rate == 0.3
    assert drop.get_layer("F6").input is drop.get_layer("C5_dropout").output
    assert drop.get_layer("predictions").input is drop.get_layer("F6_dropout").output
    assert drop.count_params() == 61_706  # dropout holds no weights
    # Inference is the paper network's; training drops units.
    paper = kc.LeNet5()
    paper.set_weights(drop.get_weights())
    x = np.random.default_rng(0).normal(size=(4, 32, 32, 1)).astype("float32")
    np.testing.assert_allclose(np.asarray(drop(x, training=False)),
                               np.asarray(paper(x, training=False)), rtol=1e-6)
    assert not np.allclose(np.asarray(drop(x, training=True)), np.asarray(paper(x)))
    for bad, exc in ((1.0, ValueError), (-0.1, ValueError), ("0.5", TypeError)):
        with pytest.raises(exc, match="dropout"):
            kc.LeNet5(dropout=bad)


def test_search_space_covers_dropout():
    """The space searches the builder's ``dropout`` (the paper's 0.0 the default) beside
    the filter counts, and every row the family declares feeds an argument the builder
    has (nothing is dropped silently by the tuner)."""
    import inspect

    from keras_cnns import registry
    from tuning import spaces

    info = kc.model_info("lenet5")
    declared = registry.family_of("lenet5").search_space.rows(info)
    params = inspect.signature(kc.LeNet5).parameters
    assert all(r.kwarg in params for r in declared)
    rows = {r.name: r for r in spaces.hyperparameters("lenet5")}
    assert set(rows) == {r.name for r in declared} == {
        "C1_filters", "C3_filters", "C5_filters", "dropout"}
    assert rows["dropout"].default == 0.0 == params["dropout"].default
    assert spaces.builder_kwargs("lenet5", {"dropout": 0.5}) == {"dropout": 0.5}


def test_min_input_size_is_the_smallest_that_builds(monkeypatch):
    assert_minimum_input_is_tight("lenet5", 32, monkeypatch, channels=1, run=True)


@pytest.mark.slow
def test_learns_digits(digits_data):
    """LeNet-5 on the real 8x8 digits (upsampled to 32x32): >= 97 % held out."""
    x_tr, y_tr, x_te, y_te = digits_data
    keras.utils.set_random_seed(0)
    model = kc.build("lenet5")
    pre = kc.preprocessing(model)  # grey, x * 1.275/255 - 0.1 (paper section II.A)
    x_tr, x_te = pre(x_tr).numpy(), pre(x_te).numpy()
    assert x_tr.shape[1:] == (32, 32, 1)
    assert np.isclose(x_tr.min(), -0.1) and np.isclose(x_tr.max(), 1.175, atol=1e-3)
    model.compile(optimizer=keras.optimizers.Adam(3e-3),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(x_tr, y_tr, epochs=20, batch_size=32, verbose=0)
    _, acc = model.evaluate(x_te, y_te, verbose=0)
    assert acc >= 0.97, acc
