"""--optimize: BN folded into the conv / dense layer before it (only there), dropout and
aux heads dropped; same outputs as the unfolded model; registered layers only. And the
checked export's argument errors, which need no trained model."""

import keras
import numpy as np
import pytest

import keras_cnns
from keras_cnns.cli import main
from keras_cnns.export import foldable_pairs, optimize_model

from tests.helpers import randomise, small_photos


def bn_count(model):
    return sum(isinstance(layer, keras.layers.BatchNormalization) for layer in model.layers)


def rel_diff(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.abs(a - b).max() / np.abs(b).max()


def direct_conv_bn(model):
    """The BNs whose input comes straight from a conv / dense layer with no activation."""
    out = []
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            src = layer._inbound_nodes[0].input_tensors[0]._keras_history.operation
            act = getattr(getattr(src, "activation", None), "__name__", None)
            if isinstance(src, (keras.layers.Conv2D, keras.layers.Dense)) and act == "linear":
                out.append(layer.name)
    return out


# (name, input side, build kwargs): families with BN, at small inputs.
FAMILIES = [("googlenet_bn", 80, {"aux": True}), ("resnet18", 32, {}),
            ("densenet121", 32, {}), ("inception_v3", 75, {})]


@pytest.mark.parametrize("name, size, kwargs", FAMILIES, ids=[f[0] for f in FAMILIES])
def test_folded_model_equals_the_unfolded_one(name, size, kwargs, photos):
    keras.utils.set_random_seed(0)
    model = keras_cnns.build(name, classes=10, input_shape=(size, size, 3),
                             classifier_activation=None, **kwargs)
    randomise(model)  # BN statistics far from the identity, so a wrong fold shows
    main_head = keras_cnns.inference_model(model)
    folded = optimize_model(model)
    assert folded.name == model.name and len(folded.outputs) == 1  # aux heads dropped
    assert not any(isinstance(layer, keras.layers.Dropout) for layer in folded.layers)
    # Exactly the direct conv -> BN pairs fold; BNs after concatenations / pools stay.
    direct = direct_conv_bn(main_head)
    assert direct and bn_count(folded) == bn_count(main_head) - len(direct)
    remaining = {layer.name for layer in folded.layers
                 if isinstance(layer, keras.layers.BatchNormalization)}
    assert not remaining & set(direct)
    x = keras_cnns.preprocessing(model, image_size=size)(np.stack(photos))
    want = main_head(x, training=False)
    got = folded(x, training=False)
    assert np.abs(np.asarray(want)).max() > 1e-2
    assert rel_diff(got, want) < 1e-5
    if name == "densenet121":  # pre-activation BNs (after concatenations) are kept
        assert bn_count(folded) > 0


def test_fold_rules_on_a_hand_built_graph(photos, tmp_path):
    """Which BNs fold: after Conv2D with and without bias, DepthwiseConv2D (multiplier
    2), SeparableConv2D and Dense, yes; after an activation, a concatenation, a conv
    whose output also feeds another layer, or a conv with an activation, no."""
    L = keras.layers
    inp = keras.Input((16, 16, 3), name="img")
    a = L.Conv2D(4, 3, padding="same", use_bias=False, name="c_nobias")(inp)
    a = L.BatchNormalization(name="bn_nobias")(a)
    b = L.Conv2D(4, 3, padding="same", name="c_bias")(inp)
    b = L.BatchNormalization(center=False, scale=False, name="bn_bias")(b)
    c = L.DepthwiseConv2D(3, depth_multiplier=2, padding="same", name="dw")(a)
    c = L.BatchNormalization(name="bn_dw")(c)
    d = L.SeparableConv2D(6, 3, padding="same", name="sep")(b)
    d = L.BatchNormalization(name="bn_sep")(d)
    e = L.Conv2D(4, 1, activation="relu", name="c_relu")(inp)
    e = L.BatchNormalization(name="bn_after_act_in_conv")(e)
    f = L.Activation("relu", name="relu")(L.Conv2D(4, 1, name="c_then_relu")(inp))
    f = L.BatchNormalization(name="bn_after_activation")(f)
    g = L.Conv2D(4, 1, name="c_shared_out")(inp)
    g2 = L.BatchNormalization(name="bn_shared_out")(g)
    cat = L.Concatenate(name="cat")([c, d, e, f, g, g2])
    cat = L.BatchNormalization(name="bn_after_concat")(cat)
    x = L.GlobalAveragePooling2D()(L.Dropout(0.5)(cat))
    x = L.Dense(5, name="fc")(x)
    x = L.BatchNormalization(name="bn_fc")(x)
    model = keras.Model(inp, L.Softmax()(x), name="hand")
    randomise(model, seed=1)
    pairs = {bn.name for bn in foldable_pairs(model).values()}
    assert pairs == {"bn_nobias", "bn_bias", "bn_dw", "bn_sep", "bn_fc"}
    folded = optimize_model(model)
    kept = {layer.name for layer in folded.layers if isinstance(layer, keras.layers.BatchNormalization)}
    assert kept == {"bn_after_act_in_conv", "bn_after_activation", "bn_shared_out",
                    "bn_after_concat"}
    assert folded.get_layer("c_nobias").use_bias  # the fold gives it a bias
    x = small_photos(photos, 16) / 255.0
    # Logits compared (the softmax would hide errors), through the folded 'fc'.
    logits = keras.Model(model.inputs, model.get_layer("bn_fc").output)
    folded_logits = keras.Model(folded.inputs, folded.get_layer("fc").output)
    assert rel_diff(folded_logits(x), logits(x, training=False)) < 1e-5
    # Registered layers only: saves and loads with safe_mode, same outputs.
    path = tmp_path / "folded.keras"
    folded.save(path)
    loaded = keras.saving.load_model(path, safe_mode=True)
    np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(folded(x)), rtol=1e-6,
                               atol=1e-7)


def test_optimize_rejects_non_models():
    with pytest.raises(TypeError, match="keras.Model"):
        optimize_model("resnet18")


def test_optimized_onnx_export_is_checked_and_reported(tmp_path):
    """--optimize end to end through the checked export: a BN network (random weights,
    so only the agreement with the unfolded Keras model means anything) as ONNX."""
    pytest.importorskip("onnxruntime")
    import json

    keras.utils.set_random_seed(0)
    model = keras_cnns.build("resnet20_cifar", classes=10)
    randomise(model)
    out = tmp_path / "r20.onnx"
    report = keras_cnns.export.export(model, out, "onnx", optimize=True, check_images=64)
    assert json.loads((tmp_path / "r20.onnx.json").read_text()) == report
    assert report["optimize"] and report["images"] == 64
    assert report["agreement"] >= 0.99 and report["max_abs_prob_diff"] < 1e-4
    assert report["size_bytes"] == out.stat().st_size
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r20.onnx", "r20.onnx.json"]


def test_cli_pins_the_library_constants():
    from keras_cnns import export as export_lib
    from keras_cnns.cli import export as cli_export

    assert cli_export.EXPORT_FORMATS == export_lib.EXPORT_FORMATS
    assert cli_export.QUANTIZE_MODES == export_lib.QUANTIZE_MODES
    assert cli_export.DEFAULT_CALIBRATION_IMAGES == export_lib.DEFAULT_CALIBRATION_IMAGES
    assert cli_export.DEFAULT_CHECK_IMAGES == export_lib.DEFAULT_CHECK_IMAGES


@pytest.mark.parametrize("extra, match", [
    (["--format", "onnx", "--quantize", "int8"], "--quantize int8 applies to --format tflite"),
    (["--quantize", "float16"], "--quantize float16 applies to --format tflite"),  # saved_model
    (["--min-agreement", "1.5", "--format", "tflite"], "--min-agreement must be in"),
    (["--calibration-images", "0", "--format", "tflite"], "--calibration-images"),
])
def test_bad_export_arguments_exit_2_before_loading(extra, match, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["export", str(tmp_path / "missing.keras"), str(out), *extra]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and match in err[0], err
    assert not out.exists()
