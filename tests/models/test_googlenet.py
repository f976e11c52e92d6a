"""GoogLeNet against the paper's Table 1, the reference counts and the Keras traps."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_cnns
from keras_cnns.models import googlenet

# Table 1 of the paper: output size of every end point at 224.
TABLE1 = {
    "conv1": (112, 112, 64), "pool1": (56, 56, 64), "conv2_reduce": (56, 56, 64),
    "conv2": (56, 56, 192), "pool2": (28, 28, 192),
    "inception_3a": (28, 28, 256), "inception_3b": (28, 28, 480), "pool3": (14, 14, 480),
    "inception_4a": (14, 14, 512), "inception_4b": (14, 14, 512),
    "inception_4c": (14, 14, 512), "inception_4d": (14, 14, 528),
    "inception_4e": (14, 14, 832), "pool4": (7, 7, 832),
    "inception_5a": (7, 7, 832), "inception_5b": (7, 7, 1024),
}


@pytest.fixture(scope="module")
def paper_aux():
    return keras_cnns.GoogLeNet(aux=True)


@pytest.mark.parametrize("name", ["googlenet", "googlenet_bn", "googlenet_torchvision"])
def test_counts_match_reference(name):
    info = keras_cnns.model_info(name)
    plain = keras_cnns.build(name)
    assert plain.name == name
    prof = keras_cnns.profile(plain)
    assert plain.count_params() == info.params
    assert prof.params == info.params
    assert prof.trainable_params == info.trainable_params
    assert prof.macs == info.macs
    with_aux = keras_cnns.build(name, aux=True)
    assert with_aux.count_params() == info.params_with_aux


def test_paper_reference_numbers_are_the_papers():
    info = keras_cnns.model_info("googlenet")
    assert (info.params, info.params_with_aux, info.macs) == (6_998_552, 13_378_280,
                                                              1_582_671_872)
    assert keras_cnns.model_info("googlenet_torchvision").trainable_params == 6_624_904
    assert info.reported["top5_144crop"] == 7.89 and info.year == 2014
    with pytest.raises(dataclasses_frozen_error()):
        info.params = 1


def dataclasses_frozen_error():
    import dataclasses

    return dataclasses.FrozenInstanceError


def test_end_points_match_table1(paper_aux):
    for name, shape in TABLE1.items():
        assert tuple(paper_aux.get_layer(name).output.shape[1:]) == shape, name
    assert set(TABLE1) == set(googlenet.END_POINTS)


def test_inception_modules_follow_the_table(paper_aux):
    for spec in googlenet.INCEPTION_TABLE:
        n = spec.name
        assert paper_aux.get_layer(f"{n}_1x1").filters == spec.b1x1
        assert paper_aux.get_layer(f"{n}_3x3_reduce").filters == spec.b3x3_reduce
        assert paper_aux.get_layer(f"{n}_3x3").filters == spec.b3x3
        assert paper_aux.get_layer(f"{n}_5x5").kernel_size == (5, 5)
        assert paper_aux.get_layer(f"{n}_5x5").filters == spec.b5x5
        assert paper_aux.get_layer(f"{n}_pool_proj").filters == spec.pool_proj
        assert paper_aux.get_layer(n).output.shape[-1] == spec.out_channels
    norms = [lay for lay in paper_aux.layers
             if isinstance(lay, keras_cnns.layers.LocalResponseNormalization)]
    assert [n.name for n in norms] == ["norm1", "norm2"]
    assert norms[0].alpha == pytest.approx(2e-5) and norms[0].bias == 1.0


def test_aux_heads_sit_on_4a_and_4d_as_the_paper_describes(paper_aux):
    assert set(paper_aux.output) == {"main", "aux1", "aux2"}
    assert tuple(paper_aux.get_layer("aux1_pool").output.shape[1:]) == (4, 4, 512)
    assert tuple(paper_aux.get_layer("aux2_pool").output.shape[1:]) == (4, 4, 528)
    assert paper_aux.get_layer("aux1_pool").input is paper_aux.get_layer("inception_4a").output
    assert paper_aux.get_layer("aux2_pool").input is paper_aux.get_layer("inception_4d").output
    aux1 = sum(paper_aux.get_layer(f"aux1{s}").count_params() for s in ("_conv", "_fc", ""))
    aux2 = sum(paper_aux.get_layer(f"aux2{s}").count_params() for s in ("_conv", "_fc", ""))
    assert (aux1, aux2) == (3_188_840, 3_190_888)
    assert paper_aux.get_layer("aux1_dropout").rate == 0.7
    assert keras_cnns.aux_loss_weights(paper_aux) == {"main": 1.0, "aux1": 0.3, "aux2": 0.3}


def test_variants_differ_where_they_should():
    tv = keras_cnns.GoogLeNet(variant="torchvision", input_shape=(96, 96, 3), classes=7)
    assert tv.get_layer("inception_3a_5x5_conv").kernel_size == (3, 3)
    assert tv.get_layer("pool4").pool_size == (2, 2)
    assert not any(isinstance(lay, keras_cnns.layers.LRN) for lay in tv.layers)
    bn = keras_cnns.GoogLeNet(variant="bn", input_shape=(96, 96, 3), classes=7)
    assert bn.get_layer("conv1_bn") is not None and not bn.get_layer("conv1_conv").use_bias
    assert bn.get_layer("inception_5b_5x5_conv").kernel_size == (5, 5)


def test_predictions_layer_and_dict_outputs(photos):
    from tests.helpers import small_photos

    plain = keras_cnns.GoogLeNet(input_shape=(96, 96, 3), classes=10)
    assert plain.layers[-1].name == "predictions"
    x = small_photos(photos, 96)
    p = plain.predict(x, verbose=0)
    assert p.shape == (2, 10)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, rtol=1e-5)
    aux = keras_cnns.GoogLeNet(aux=True, input_shape=(96, 96, 3), classes=10)
    out = aux(x, training=False)
    assert isinstance(out, dict) and set(out) == {"main", "aux1", "aux2"}
    assert isinstance(aux.predict(x, verbose=0), dict)


@pytest.mark.parametrize("pooling, shape", [(None, (7, 7, 1024)), ("avg", (1024,)),
                                            ("max", (1024,))])
def test_headless(pooling, shape):
    model = keras_cnns.GoogLeNet(include_top=False, pooling=pooling)
    assert tuple(model.output.shape[1:]) == shape


def test_input_sizes_down_to_the_documented_minimum(photos):
    from tests.helpers import small_photos

    assert googlenet.min_input_size() == 32
    low = googlenet.min_input_size(aux=True)
    # 79 -> conv1 40 -> pool1 20 -> pool2 10 -> pool3 5: the 4a grid holds one 5x5 window;
    # 78 -> 39 -> 19 -> 9 -> 4 does not.
    assert low == 79
    for size, aux in ((32, False), (low, True), (150, True)):
        model = keras_cnns.GoogLeNet(input_shape=(size, size, 3), classes=5, aux=aux)
        out = model.predict(small_photos(photos, size), verbose=0)
        main = out["main"] if aux else out
        assert main.shape == (2, 5) and np.all(np.isfinite(main))
    with pytest.raises(ValueError, match="minimum input size 32"):
        keras_cnns.GoogLeNet(input_shape=(31, 31, 3))
    with pytest.raises(ValueError, match=f"minimum input size {low}"):
        keras_cnns.GoogLeNet(input_shape=(low - 1, low - 1, 3), aux=True)
    # Without the top, the input may be of any size.
    headless = keras_cnns.GoogLeNet(include_top=False, input_shape=(None, None, 3),
                                    pooling="avg")
    assert headless(np.zeros((1, 120, 90, 3), "float32")).shape == (1, 1024)


def test_input_tensor():
    tensor = keras.Input((64, 64, 3))
    model = keras_cnns.GoogLeNet(input_tensor=tensor, classes=3)
    assert model.inputs[0] is tensor and model.output.shape == (None, 3)


@pytest.mark.parametrize("kwargs, err, match", [
    (dict(input_shape=(3, 224, 224)), ValueError, "channels-first"),
    (dict(input_shape=(224, 224)), ValueError, "rank 3"),
    (dict(input_shape=(16, 16, 3)), ValueError, "minimum"),
    (dict(input_shape="224"), TypeError, "input_shape"),
    (dict(classes=0), ValueError, "classes"),
    (dict(classes=2.5), TypeError, "classes"),
    (dict(dropout=1.0), ValueError, "dropout"),
    (dict(dropout=-0.1), ValueError, "dropout"),
    (dict(aux=True, aux_dropout=1.5), ValueError, "aux_dropout"),
    (dict(pooling="mean", include_top=False), ValueError, "pooling.*'avg'"),
    (dict(variant="v9"), ValueError, "variant.*'paper'"),
    (dict(weights="/no/such/file.weights.h5"), ValueError, "weights"),
    (dict(weights=3), TypeError, "weights"),
    (dict(aux=True, include_top=False), ValueError, "aux=True"),
])
def test_bad_input(kwargs, err, match):
    with pytest.raises(err, match=match):
        keras_cnns.GoogLeNet(**kwargs)


def test_weights_file_round_trip(tmp_path, photos):
    from tests.helpers import small_photos

    model = keras_cnns.GoogLeNet(input_shape=(64, 64, 3), classes=4)
    path = tmp_path / "g.weights.h5"
    model.save_weights(path)
    again = keras_cnns.GoogLeNet(input_shape=(64, 64, 3), classes=4, weights=str(path))
    x = small_photos(photos, 64)
    np.testing.assert_array_equal(model.predict(x, verbose=0), again.predict(x, verbose=0))


def test_keras_round_trip_safe_mode(tmp_path, photos):
    from tests.helpers import small_photos

    model = keras_cnns.GoogLeNet(aux=True, input_shape=(80, 80, 3), classes=6)
    path = tmp_path / "g.keras"
    model.save(path)
    again = keras.saving.load_model(path, safe_mode=True)
    x = small_photos(photos, 80)
    a, b = model.predict(x, verbose=0), again.predict(x, verbose=0)
    for key in ("main", "aux1", "aux2"):
        np.testing.assert_array_equal(a[key], b[key])
    assert keras_cnns.aux_loss_weights(again) == {"main": 1.0, "aux1": 0.3, "aux2": 0.3}
    single = keras_cnns.inference_model(again)
    assert len(single.outputs) == 1
    np.testing.assert_array_equal(single.predict(x, verbose=0), a["main"])


def test_inference_model_shares_weights():
    model = keras_cnns.GoogLeNet(aux=True, input_shape=(80, 80, 3), classes=6)
    single = keras_cnns.inference_model(model)
    assert single.get_layer("predictions") is model.get_layer("predictions")
    assert single.count_params() == model.count_params() - sum(
        model.get_layer(f"aux{i}{s}").count_params() for i in (1, 2) for s in ("_conv", "_fc", ""))
    plain = keras_cnns.GoogLeNet(input_shape=(80, 80, 3))
    assert keras_cnns.inference_model(plain) is plain
    with pytest.raises(ValueError, match="single output"):
        keras_cnns.aux_loss_weights(plain)


def test_renamed_model_needs_its_name():
    model = keras_cnns.GoogLeNet(aux=True, input_shape=(80, 80, 3), name="mine")
    with pytest.raises(ValueError, match="renamed"):
        keras_cnns.aux_loss_weights(model)
    assert keras_cnns.aux_loss_weights(model, name="googlenet")["aux2"] == 0.3


def test_compiled_total_loss_is_main_plus_weighted_aux(digits_data):
    """Keras 3 has routed losses and metrics to the wrong head before: check by hand."""
    x_tr, y_tr, _, _ = digits_data
    x = tf.image.resize(x_tr[:96].astype("float32"), (80, 80)).numpy() / 255.0
    y = y_tr[:96]
    keras.utils.set_random_seed(1)
    model = keras_cnns.GoogLeNet(aux=True, variant="bn", input_shape=(80, 80, 3), classes=10)
    weights = keras_cnns.aux_loss_weights(model)
    model.compile(
        optimizer=keras.optimizers.Adam(1e-3),
        loss={k: "sparse_categorical_crossentropy" for k in model.output},
        loss_weights=weights,
        metrics={k: ["accuracy"] for k in model.output},
        # Eager: the loss and metric routing under test is the same Python either way,
        # and three traces of the three-headed model took most of this test's time.
        run_eagerly=True)
    ds = tf.data.Dataset.from_tensor_slices((x, y)).batch(32).map(
        keras_cnns.fan_out_labels(model))
    history = model.fit(ds, epochs=1, verbose=0)
    assert {"main_loss", "aux1_loss", "aux2_loss", "main_accuracy"} <= set(history.history)
    # Make aux1 answer "3" for everything: its accuracy must be the share of 3s.
    w, b = model.get_layer("aux1").get_weights()
    b = np.full_like(b, -10.0)
    b[3] = 10.0
    model.get_layer("aux1").set_weights([np.zeros_like(w), b])
    result = model.evaluate(x, {k: y for k in model.output}, batch_size=len(x), verbose=0,
                            return_dict=True)
    preds = model.predict(x, batch_size=len(x), verbose=0)
    # Cross-entropy by hand, unclipped (Keras computes it from the softmax's logits).
    ce = {k: float(np.mean(-np.log(preds[k].astype("float64")[np.arange(len(y)), y])))
          for k in preds}
    expected = ce["main"] + 0.3 * ce["aux1"] + 0.3 * ce["aux2"]
    assert result["loss"] == pytest.approx(expected, rel=1e-4)
    for k in ("main", "aux1", "aux2"):
        assert result[f"{k}_loss"] == pytest.approx(ce[k], rel=1e-4)
        acc = float(np.mean(np.argmax(preds[k], axis=1) == y))
        assert result[f"{k}_accuracy"] == pytest.approx(acc, abs=1e-6), k
    assert result["aux1_accuracy"] == pytest.approx(np.mean(y == 3), abs=1e-6)
    assert result["main_accuracy"] != pytest.approx(result["aux1_accuracy"], abs=1e-6)


@pytest.mark.parametrize("name", ["googlenet", "googlenet_bn", "googlenet_torchvision"])
def test_multiply_adds_with_the_aux_heads(name):
    """Each aux head at 224: a 1x1 conv to 128 on the 4x4 pooled grid, FC 2048 -> 1024,
    FC 1024 -> 1000 (section 5); on 4a (512 channels) and 4d (528)."""
    aux = sum(4 * 4 * c * 128 + 2048 * 1024 + 1024 * 1000 for c in (512, 528))
    info = keras_cnns.model_info(name)
    assert info.macs_with_aux == info.macs + aux
    model = keras_cnns.build(name, aux=True)
    assert keras_cnns.profile(model).macs == info.macs_with_aux
    assert model.count_params() == info.params_with_aux


def test_readme_says_which_multiply_adds_are_without_and_with_aux():
    """README's GoogLeNet table gives two multiply-add figures per variant: the column
    says which is without the aux heads (model_info's macs, the paper's test-time net)
    and which with them (macs_with_aux, what profile(GoogLeNet(aux=True)) counts)."""
    import os

    from tests.helpers import REPO

    with open(os.path.join(REPO, "README.md"), encoding="utf-8") as f:
        text = f.read()
    lines = text[text.index("## GoogLeNet variants"):].splitlines()
    header = next(line for line in lines if line.startswith("| name |"))
    column = header.strip(" |").split(" | ")[-1]
    assert column.index("without aux") < column.index("/ with aux"), column
    for name in ("googlenet", "googlenet_bn", "googlenet_torchvision"):
        info = keras_cnns.model_info(name)
        row = next(line for line in lines if line.startswith(f"| `{name}` |"))
        assert row.strip(" |").split(" | ")[-1] == f"{info.macs:,} / {info.macs_with_aux:,}"
    paper = keras_cnns.model_info("googlenet")
    assert (paper.macs, paper.macs_with_aux) == (1_582_671_872, 1_591_044_096)
    # The quick start profiles GoogLeNet(aux=True), so it quotes the with-aux figure.
    assert "GoogLeNet(aux=True)" in text
    assert "1,591,044,096 multiply-adds at 224 (aux heads included)" in text
