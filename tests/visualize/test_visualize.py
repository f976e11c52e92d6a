"""keras_cnns.visualize on real photos, and Grad-CAM against a hand-computed case."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_cnns
from keras_cnns import visualize as V
from keras_cnns.models.googlenet import INCEPTION_TABLE


@pytest.fixture(scope="module")
def googlenet():
    keras.utils.set_random_seed(0)
    return keras_cnns.build("googlenet", aux=True)


def read_png(path):
    from PIL import Image

    assert os.path.getsize(path) > 2000
    with Image.open(path) as img:
        assert img.format == "PNG"
        return np.asarray(img.convert("RGB"))


def assert_not_blank(pixels):
    # Many distinct colours and real contrast, not a uniform canvas.
    assert pixels.std() > 10
    assert len(np.unique(pixels.reshape(-1, 3), axis=0)) > 50


# --------------------------------------------------------------------------- feature maps


def test_feature_maps_default_stage_outputs(googlenet, photos, tmp_path):
    path = tmp_path / "fm.png"
    fig = V.feature_maps(googlenet, photos[0], path=path)
    stages = keras_cnns.model_info("googlenet").stage_outputs
    titles = [ax.get_title() for ax in fig.axes]
    assert len(titles) == len(stages)
    for stage, title in zip(stages, titles):
        assert title.startswith(stage + ":")
    assert "inception_5b: 7x7x1024 (64 of 1024 channels)" in titles
    pixels = read_png(path)
    w, h = fig.get_size_inches() * 100
    assert pixels.shape[:2] == (round(h), round(w))
    assert_not_blank(pixels)


def test_feature_maps_layers_and_max_channels(googlenet, photos):
    fig = V.feature_maps(googlenet, photos[1], layers="inception_3a", max_channels=8)
    (ax,) = fig.axes
    assert ax.get_title() == "inception_3a: 28x28x256 (8 of 256 channels)"
    mosaic = ax.get_images()[0].get_array()
    # 8 tiles of 28x28 on one row with 1-pixel gaps; every tile scaled to [0, 1].
    assert mosaic.shape == (28, 8 * 29 - 1)
    tiles = np.asarray(mosaic.filled(np.nan))
    assert np.nanmin(tiles) == 0.0 and np.nanmax(tiles) == 1.0


# --------------------------------------------------------------------------- heat maps


def test_channel_sum_heatmap_is_the_course_method(googlenet, photos, tmp_path):
    assert "neither CAM nor Grad-CAM" in " ".join(V.channel_sum_heatmap.__doc__.split())
    path = tmp_path / "heat.png"
    heat = V.channel_sum_heatmap(googlenet, photos[0], "inception_4e", path=path)
    assert heat.shape == (224, 224) and heat.dtype == np.float32
    assert heat.min() >= 0.0 and heat.max() <= 1.0 and heat.max() > 0.9
    # Independently: the end point's output on the model's own preprocessing.
    x = keras_cnns.preprocessing(googlenet)(photos[0][None])
    fmap = keras_cnns.feature_extractor(googlenet, ["inception_4e"])(x)["inception_4e"]
    total = np.asarray(fmap)[0].sum(-1)
    total = (total - total.min()) / (total.max() - total.min())
    want = tf.image.resize(total[None, :, :, None], (224, 224)).numpy()[0, :, :, 0]
    np.testing.assert_allclose(heat, want, atol=1e-5)
    assert_not_blank(read_png(path))


def test_grad_cam_on_photos(googlenet, photos, tmp_path):
    path = tmp_path / "gradcam.png"
    cam = V.grad_cam(googlenet, photos[1], path=path)
    assert cam.shape == (224, 224) and cam.dtype == np.float32
    assert 0.0 <= cam.min() and cam.max() <= 1.0 and cam.max() > 0.9
    assert cam.std() > 0.01
    assert_not_blank(read_png(path))
    aux = V.grad_cam(googlenet, photos[1], class_index=3, head="aux1", layer="inception_4a")
    assert aux.shape == (224, 224) and 0.0 <= aux.min() and aux.max() <= 1.0
    assert not np.allclose(aux, cam)


def test_model_view_is_the_models_crop(googlenet, photos):
    view = V.model_view(googlenet, photos[0])
    assert view.shape == (224, 224, 3) and view.dtype == np.uint8
    out = V.overlay(view, np.linspace(0, 1, 49, dtype="float32").reshape(7, 7))
    assert out.shape == view.shape and out.dtype == np.uint8


def _two_colour_model():
    """feat = relu(1x1 conv): channel 0 = red, channel 1 = blue; 2x2 max pool; GAP;
    class 0 score = 2 x mean(red), class 1 score = mean(blue); softmax."""
    inputs = keras.Input((32, 32, 3))
    feat = keras.layers.Conv2D(2, 1, activation="relu", name="feat")(inputs)
    pool = keras.layers.MaxPooling2D(2, name="pool")(feat)
    gap = keras.layers.GlobalAveragePooling2D(name="gap")(pool)
    out = keras.layers.Dense(2, activation="softmax", name="predictions")(gap)
    model = keras.Model(inputs, out, name="two_colours")
    model.get_layer("feat").set_weights([np.array([[[[1, 0], [0, 0], [0, 1]]]], "float32"),
                                         np.zeros(2, "float32")])
    model.get_layer("predictions").set_weights([np.array([[2, 0], [0, 1]], "float32"),
                                                np.zeros(2, "float32")])
    return model


def _two_colour_image():
    image = np.zeros((32, 32, 3), np.uint8)
    image[0:8, 0:8, 0] = 200      # red square, top left: the only evidence for class 0
    image[20:32, 16:32, 2] = 200  # blue square, bottom right: class 1
    return image


def test_grad_cam_hand_computed():
    model, image = _two_colour_model(), _two_colour_image()
    # Class 0: d(score0)/d(pool) = 2 / 256 on the red channel, 0 on blue, so
    # alpha = (2/256, 0) and the map is relu(alpha_0 * pool_red) / max: 1 on the 4x4
    # pooled red square, 0 elsewhere, then bilinear to 32x32.
    cam = V.grad_cam(model, image, class_index=0, layer="pool")
    hand = np.zeros((16, 16), "float32")
    hand[0:4, 0:4] = 1.0
    want = tf.image.resize(hand[None, :, :, None], (32, 32)).numpy()[0, :, :, 0]
    np.testing.assert_allclose(cam, want, atol=1e-6)
    assert cam[0:7, 0:7].min() > 0.99
    outside = np.ones_like(cam, bool)
    outside[0:10, 0:10] = False
    assert cam[outside].max() == 0.0
    # The top prediction is class 1 (mean blue 37.5 > 2 x mean red 25): the blue square.
    blue = V.grad_cam(model, image, layer="feat")
    assert blue[20:32, 16:32].min() > 0.99
    assert blue[0:18].max() == 0.0 and blue[:, 0:14].max() == 0.0


def test_grad_cam_default_layer_unregistered_model():
    model, image = _two_colour_model(), _two_colour_image()
    # Not in the registry: default layer = the last 4-D output ("pool").
    np.testing.assert_allclose(V.grad_cam(model, image, class_index=0),
                               V.grad_cam(model, image, class_index=0, layer="pool"))


# --------------------------------------------------------------------------- history


def _history_dict():
    return {"loss": [2.0, 1.5, 1.2], "main_loss": [1.5, 1.1, 0.9],
            "aux1_loss": [1.7, 1.3, 1.0], "main_accuracy": [0.2, 0.4, 0.6],
            "val_loss": [2.1, 1.7, 1.4], "val_main_accuracy": [0.15, 0.35, 0.5],
            "learning_rate": [0.01, 0.01, 0.001]}


def test_plot_history_dict_and_csv(tmp_path):
    fig = V.plot_history(_history_dict(), tmp_path / "h.png")
    titles = sorted(ax.get_title() for ax in fig.axes if ax.get_title())
    assert titles == ["accuracy", "learning rate", "loss"]
    loss_ax = [ax for ax in fig.axes if ax.get_title() == "loss"][0]
    labels = sorted(line.get_label() for line in loss_ax.get_lines())
    assert labels == ["aux1 (train)", "main (train)", "total (train)", "total (val)"]
    assert_not_blank(read_png(tmp_path / "h.png"))
    csv_path = tmp_path / "log.csv"
    keys = list(_history_dict())
    with open(csv_path, "w") as f:
        f.write(",".join(["epoch"] + keys) + "\n")
        for i in range(3):
            f.write(",".join([str(i)] + [str(_history_dict()[k][i]) for k in keys]) + "\n")
    fig2 = V.plot_history(str(csv_path), tmp_path / "h2.png")
    acc = [ax for ax in fig2.axes if ax.get_title() == "accuracy"][0]
    line = [ln for ln in acc.get_lines() if ln.get_label() == "main (val)"][0]
    np.testing.assert_allclose(line.get_ydata(), [0.15, 0.35, 0.5])
    np.testing.assert_allclose(line.get_xdata(), [1, 2, 3])


def test_plot_history_keras_history(digits_data, tmp_path):
    x, y = digits_data[0][:64], digits_data[1][:64]
    inputs = keras.Input((32, 32, 3))
    h = keras.layers.Conv2D(4, 3, strides=2, activation="relu")(keras.layers.Rescaling(1 / 255)(inputs))
    h = keras.layers.GlobalAveragePooling2D()(h)
    model = keras.Model(inputs, {"main": keras.layers.Dense(10, activation="softmax", name="main")(h),
                                 "aux1": keras.layers.Dense(10, activation="softmax", name="aux1")(h)})
    model.compile("adam", loss={"main": "sparse_categorical_crossentropy",
                                "aux1": "sparse_categorical_crossentropy"},
                  loss_weights={"main": 1.0, "aux1": 0.3}, metrics={"main": ["accuracy"]})
    history = model.fit(x, {"main": y, "aux1": y}, epochs=2, batch_size=32, verbose=0,
                        validation_split=0.25)
    fig = V.plot_history(history, tmp_path / "fit.png")
    titles = {ax.get_title() for ax in fig.axes if ax.get_title()}
    assert {"loss", "accuracy"} <= titles
    loss_ax = [ax for ax in fig.axes if ax.get_title() == "loss"][0]
    labels = {line.get_label() for line in loss_ax.get_lines()}
    assert {"total (train)", "total (val)", "main (train)", "aux1 (train)"} <= labels


def test_plot_history_reads_a_runs_history_rows_skipping_text_columns(tmp_path):
    """``train`` draws curves.png from history.csv rows (read_history: epoch int, floats,
    text left as text) through this one plotter."""
    from keras_cnns.training.callbacks import read_history

    csv_path = tmp_path / "history.csv"
    csv_path.write_text("epoch,loss,accuracy,val_loss,val_accuracy,phase\n"
                        "0,2.0,0.3,2.2,0.25,head\n1,1.0,0.6,1.3,0.5,head\n"
                        "2,0.5,0.8,0.9,0.7,all\n")
    rows = read_history(str(csv_path))
    out = tmp_path / "curves.png"
    fig = V.plot_history(rows, out, title="lenet5 on digits (fast recipe)")
    assert fig._suptitle.get_text() == "lenet5 on digits (fast recipe)"
    titles = sorted(ax.get_title() for ax in fig.axes if ax.get_title())
    assert titles == ["accuracy", "loss"]  # no panel for the text column
    loss_ax = [ax for ax in fig.axes if ax.get_title() == "loss"][0]
    val = [ln for ln in loss_ax.get_lines() if ln.get_label() == "total (val)"][0]
    np.testing.assert_allclose(val.get_ydata(), [2.2, 1.3, 0.9])
    np.testing.assert_allclose(val.get_xdata(), [1, 2, 3])
    assert_not_blank(read_png(out))
    # The CSV path itself gives the same curves.
    fig2 = V.plot_history(str(csv_path))
    acc = [ax for ax in fig2.axes if ax.get_title() == "accuracy"][0]
    np.testing.assert_allclose([ln for ln in acc.get_lines()
                                if ln.get_label() == "all (train)"][0].get_ydata(),
                               [0.3, 0.6, 0.8])
    with pytest.raises(ValueError, match="epoch"):
        V.plot_history([{"loss": 1.0}])


def test_no_submodule_shadows_a_function():
    """A submodule named like a function the package exports replaces it on import (the
    keras_cnns.profile trap); every public name stays a function."""
    import importlib
    import importlib.util

    import keras_cnns.visualize as package

    for name in package.__all__:
        assert importlib.util.find_spec(f"keras_cnns.visualize.{name}") is None, name
    for module in ("maps", "gradcam", "history", "architecture", "_common"):
        importlib.import_module(f"keras_cnns.visualize.{module}")
    for name in package.__all__:
        assert callable(getattr(package, name)) and \
            not isinstance(getattr(package, name), type(package)), name


def test_plot_history_bad_input(tmp_path):
    bad = tmp_path / "no_epoch.csv"
    bad.write_text("loss,accuracy\n1.0,0.5\n")
    with pytest.raises(ValueError, match="epoch"):
        V.plot_history(str(bad))
    with pytest.raises(ValueError, match="no such CSV"):
        V.plot_history(str(tmp_path / "missing.csv"))
    with pytest.raises(TypeError, match="history_or_csv"):
        V.plot_history(42)
    with pytest.raises(ValueError, match="path"):
        V.plot_history(_history_dict(), tmp_path / "nodir" / "h.png")


# --------------------------------------------------------------------------- architecture


def test_architecture_googlenet_modules_match_table_1(googlenet, tmp_path):
    items = V.architecture_items(googlenet)
    modules = {it["name"]: it for it in items if it["kind"] == "module"}
    assert list(modules) == [spec.name for spec in INCEPTION_TABLE]
    for spec in INCEPTION_TABLE:
        m = modules[spec.name]
        assert m["branch_widths"] == [spec.b1x1, spec.b3x3, spec.b5x5, spec.pool_proj]
        assert m["branches"] == [[f"1x1 conv {spec.b1x1}"],
                                 [f"1x1 conv {spec.b3x3_reduce}", f"3x3 conv {spec.b3x3}"],
                                 [f"1x1 conv {spec.b5x5_reduce}", f"5x5 conv {spec.b5x5}"],
                                 ["3x3 max pool", f"1x1 conv {spec.pool_proj}"]]
    assert modules["inception_3a"]["output_shape"] == [28, 28, 256]
    # The boxes partition the model: their parameters add up to the whole.
    assert sum(it["params"] for it in items) == googlenet.count_params()
    fig = V.plot_architecture("googlenet", tmp_path / "arch.png")
    assert "Going Deeper with Convolutions" in " ".join(t.get_text() for t in fig.axes[0].texts)
    assert_not_blank(read_png(tmp_path / "arch.png"))


@pytest.mark.parametrize("name, kind, blocks", [
    ("resnet50", "residual", [3, 4, 6, 3]),
    ("densenet121", "dense", [6, 12, 24, 16]),
])
def test_architecture_stage_block_counts(name, kind, blocks):
    model = keras_cnns.build(name, input_shape=(64, 64, 3), include_top=False)
    stages = [it for it in V.architecture_items(model) if it["kind"] == kind]
    assert [it["blocks"] for it in stages] == blocks
    assert [it["name"] for it in stages] == ["conv2", "conv3", "conv4", "conv5"]
    if kind == "residual":
        assert stages[0]["lines"][0] == "3 x [1x1 conv 64, 3x3 conv 64, 1x1 conv 256]"
    else:
        assert stages[0]["lines"][0] == "6 x [1x1 conv 128, 3x3 conv 32]"
        assert stages[0]["output_shape"][-1] == 64 + 6 * 32


def test_architecture_vgg_blocks():
    model = keras_cnns.build("vgg16", input_shape=(32, 32, 3), include_top=False)
    blocks = [it for it in V.architecture_items(model) if it["kind"] == "block"]
    assert [it["lines"][0] for it in blocks] == ["3x3 conv 64 x2", "3x3 conv 128 x2",
                                                 "3x3 conv 256 x3", "3x3 conv 512 x3",
                                                 "3x3 conv 512 x3"]


# --------------------------------------------------------------------------- bad input


def test_bad_layer_names_list_the_end_points(googlenet, photos):
    with pytest.raises(ValueError, match=r"layers: no layer named 'inception_9z'.*valid end "
                                         r"points: conv1, pool1, .*inception_5b"):
        V.feature_maps(googlenet, photos[0], layers=["inception_9z"])
    with pytest.raises(ValueError, match=r"layer: no layer named 'nope'.*inception_4e"):
        V.grad_cam(googlenet, photos[0], layer="nope")
    with pytest.raises(ValueError, match=r"layer: no layer named 'nope'.*inception_4e"):
        V.channel_sum_heatmap(googlenet, photos[0], "nope")
    with pytest.raises(ValueError, match="layers: layer 'predictions' outputs shape"):
        V.feature_maps(googlenet, photos[0], layers="predictions")


def test_bad_images(googlenet, photos):
    with pytest.raises(ValueError, match=r"image must have rank 3.*not a batch"):
        V.grad_cam(googlenet, np.stack(photos))
    with pytest.raises(ValueError, match="image must have dtype uint8"):
        V.feature_maps(googlenet, photos[0].astype("float32"))
    with pytest.raises(ValueError, match=r"image must be RGB"):
        V.channel_sum_heatmap(googlenet, photos[0][:, :, :1])
    with pytest.raises(TypeError, match="image must be a uint8 numpy array"):
        V.grad_cam(googlenet, [[1, 2, 3]])


def test_bad_class_index_and_head(googlenet, photos):
    with pytest.raises(ValueError, match=r"class_index must be in \[0, 999\].*got 1000"):
        V.grad_cam(googlenet, photos[0], class_index=1000)
    with pytest.raises(ValueError, match=r"class_index must be in \[0, 999\].*got -1"):
        V.grad_cam(googlenet, photos[0], class_index=-1)
    with pytest.raises(TypeError, match="class_index must be an int"):
        V.grad_cam(googlenet, photos[0], class_index=2.0)
    with pytest.raises(ValueError, match=r"head must be one of \['aux1', 'aux2', 'main'\]"):
        V.grad_cam(googlenet, photos[0], head="aux3")


def test_unwritable_paths(googlenet, photos, tmp_path):
    with pytest.raises(ValueError, match=r"path .* cannot be written: directory .* does not exist"):
        V.feature_maps(googlenet, photos[0], path=tmp_path / "missing" / "x.png")
    with pytest.raises(ValueError, match="path .* is a directory"):
        V.grad_cam(googlenet, photos[0], path=tmp_path)
    with pytest.raises(ValueError, match="path .* does not exist"):
        V.plot_architecture("googlenet", tmp_path / "missing" / "a.png")
