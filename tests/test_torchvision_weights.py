"""torchvision checkpoints into registry models (keras_cnns.weights.from_torchvision),
checked output for output against torchvision itself on real photos.

Every torchvision model here has random weights (weights=None) and randomised BN
statistics and affine parameters, so a mis-mapped tensor changes the output. The
numeric cases run every covered architecture at a small input except VGG, whose
classifier reads the 7x7 grid of a 224 input: vgg11, vgg11_bn and vgg19_bn run
numerically at 224, the other VGG names get the full name-and-shape check (a torch
model on the meta device, zero-stride arrays, every tensor mapped and assigned).
"""

import os
import re
import sys

# torch 2.14.1's wheel ships Triton (GPU kernels for torch.compile, unused here), whose
# native library segfaults when loaded after TensorFlow's; torchvision imports
# torch._dynamo, which imports Triton if it can. Keep it unloaded.
sys.modules.setdefault("triton", None)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import keras_cnns  # noqa: E402
from keras_cnns import cli  # noqa: E402
from keras_cnns.weights import (TORCHVISION_MODELS, decode_predictions,  # noqa: E402
                                from_torchvision, imagenet_classes, load_state_dict,
                                read_safetensors, torchvision_mapping,
                                torchvision_preprocessing)
from tests.helpers import small_photos  # noqa: E402

torch = torchvision = None


@pytest.fixture(scope="module", autouse=True)
def _import_torch():
    """torch and torchvision, imported when this module's tests start rather than at
    collection: both pytest workers collect every module, and the import costs each
    about 9 s and a few hundred MB that only the worker running this module needs."""
    global torch, torchvision
    import torch
    import torchvision
    yield


TOL = 1e-4  # relative to the output's largest magnitude
TORCH_MEAN = np.array([0.485, 0.456, 0.406], "float32")
TORCH_STD = np.array([0.229, 0.224, 0.225], "float32")

# torchvision name: (input side, torchvision kwargs, build kwargs, checkpoint format)
CASES = {
    "googlenet": (96, dict(transform_input=True, aux_logits=True, init_weights=True),
                  dict(aux=True), "pth"),
    "alexnet": (63, {}, {}, "pth"),  # torchvision's minimum: pool5 is 1x1, pooled to 6x6
    "vgg11": (224, {}, {}, "pth"),  # VGG's classifier reads the 7x7 grid of a 224 input
    # Read as in-memory dicts: writing and reading two more 0.5 GB .pth files costs ~10 s
    # and checks nothing vgg11's (and twelve other models') .pth does not.
    "vgg11_bn": (224, {}, {}, "dict"),
    "vgg19_bn": (224, {}, {}, "dict"),
    "resnet18": (64, {}, {}, "safetensors"),
    "resnet34": (64, {}, {}, "pth"),
    "resnet50": (64, {}, {}, "pth"),
    "resnet101": (64, {}, {}, "dict"),
    "resnet152": (64, {}, {}, "pth"),
    "wide_resnet50_2": (64, {}, {}, "pth"),
    "resnext50_32x4d": (64, {}, {}, "pth"),
    "densenet121": (64, {}, {}, "legacy_pth"),  # the published files' "norm.1" key names
    "densenet169": (64, {}, {}, "pth"),
    "densenet201": (64, {}, {}, "pth"),
    "squeezenet1_0": (64, {}, {}, "pth"),
    "squeezenet1_1": (64, {}, {}, "pth"),
    "inception_v3": (299, dict(transform_input=True, aux_logits=True, init_weights=True),
                     dict(aux=True), "pth"),
}
SHAPE_ONLY = ("vgg13", "vgg13_bn", "vgg16", "vgg16_bn", "vgg19")
# Aux heads: the torch module whose output feeds them, and the head.
AUX_TAPS = {"googlenet": {"aux1": ("inception4a", "aux1"), "aux2": ("inception4d", "aux2")},
            "inception_v3": {"aux": ("Mixed_6e", "AuxLogits")}}


@pytest.fixture(autouse=True)
def _free_models(request):
    yield
    # A full gc.collect() costs ~0.5 s with torch and TF loaded: only after the tests
    # that hold full-size networks.
    big = request.node.originalname in ("test_converted_model_matches_torchvision",
                                        "test_every_tensor_maps_by_name_and_shape")
    keras.backend.clear_session(free_memory=big)


def test_cases_cover_every_torchvision_name():
    assert set(CASES) | set(SHAPE_ONLY) == set(TORCHVISION_MODELS)
    assert not set(CASES) & set(SHAPE_ONLY)


def randomised(model, seed=0):
    """``model`` in eval mode with random BN statistics and affine parameters."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.BatchNorm2d):
                n = m.num_features
                m.running_mean.copy_(torch.rand(n, generator=g) * 0.4 - 0.2)
                m.running_var.copy_(torch.rand(n, generator=g) + 0.5)
                m.weight.copy_(torch.rand(n, generator=g) + 0.5)
                m.bias.copy_(torch.rand(n, generator=g) * 0.4 - 0.2)
    return model.eval()


def torch_model(name, seed=0, **kwargs):
    torch.manual_seed(seed)
    return randomised(torchvision.models.get_model(name, weights=None, **kwargs), seed)


def torch_outputs(model, x_nhwc, taps=None):
    """Main logits and each aux head's logits (computed from hooked features)."""
    features, hooks = {}, []
    for key, (module, _) in (taps or {}).items():
        hooks.append(getattr(model, module).register_forward_hook(
            lambda m, i, o, key=key: features.__setitem__(key, o)))
    try:
        with torch.no_grad():
            out = {"main": model(torch.from_numpy(x_nhwc.transpose(0, 3, 1, 2))).numpy()}
            for key, (_, head) in (taps or {}).items():
                out[key] = getattr(model, head)(features[key]).numpy()
    finally:
        for h in hooks:
            h.remove()
    return out


def rel_error(ours, theirs):
    return float(np.abs(ours - theirs).max() / np.abs(theirs).max())


def inputs(photos, size, preprocessing):
    """(keras input per the conversion's preprocessing, torch input as torchvision's
    published transforms normalise it), from the same real photos."""
    raw = small_photos(photos, size)
    p = preprocessing
    ours = ((raw * p.scale - np.array(p.mean)) / np.array(p.std)).astype("float32")
    theirs = ((raw / 255.0 - TORCH_MEAN) / TORCH_STD).astype("float32")
    return ours, theirs


def save_checkpoint(state_dict, fmt, tmp_path):
    if fmt == "dict":
        return {k: v.numpy() for k, v in state_dict.items()}
    if fmt == "safetensors":
        from safetensors.torch import save_file

        path = tmp_path / "model.safetensors"
        save_file({k: v.contiguous() for k, v in state_dict.items()}, str(path))
        return path
    if fmt == "legacy_pth":
        legacy = re.compile(r"^(.*denselayer\d+\.(?:norm|relu|conv))([12])\.(.*)$")
        state_dict = {legacy.sub(r"\1.\2.\3", k): v for k, v in state_dict.items()}
        assert any(".norm.1." in k for k in state_dict)
    path = tmp_path / "model.pth"
    torch.save(state_dict, path)
    return path


@pytest.mark.parametrize("name", sorted(CASES))
def test_converted_model_matches_torchvision(name, photos, tmp_path):
    size, torch_kwargs, build_kwargs, fmt = CASES[name]
    tm = torch_model(name, **torch_kwargs)
    checkpoint = save_checkpoint(tm.state_dict(), fmt, tmp_path)
    # Zero initialisers (cheap at 224 px): every tensor is overwritten from the checkpoint,
    # and one left unassigned would stay zero and fail the output comparison below.
    model, report = from_torchvision(name, checkpoint, input_shape=(size, size, 3),
                                     classifier_activation=None, return_report=True,
                                     kernel_initializer="zeros", **build_kwargs)
    assert model.name == TORCHVISION_MODELS[name].registry_name == report.registry_name
    assert report.unused == ()
    n_bn = sum(isinstance(m, torch.nn.BatchNorm2d) for m in tm.modules())
    assert len(report.ignored) == n_bn  # num_batches_tracked, one per BN
    assert len(report.loaded) == len(tm.state_dict()) - n_bn
    if fmt == "legacy_pth":
        assert report.renamed and all(re.search(r"\.(norm|conv)\.[12]\.", old)
                                      for old, _ in report.renamed)

    x_ours, x_theirs = inputs(photos, size, report.preprocessing)
    if not TORCHVISION_MODELS[name].transform_input:
        np.testing.assert_allclose(x_ours, x_theirs, atol=1e-5)
    ours = model(x_ours, training=False)
    ours = {k: np.asarray(v) for k, v in ours.items()} if isinstance(ours, dict) \
        else {"main": np.asarray(ours)}
    theirs = torch_outputs(tm, x_theirs, AUX_TAPS.get(name) if build_kwargs.get("aux") else None)
    assert set(ours) == set(theirs)
    for key in theirs:
        assert ours[key].shape == theirs[key].shape == (2, 1000)
        err = rel_error(ours[key], theirs[key])
        assert err < TOL, f"{name} {key}: relative error {err:.2e}"
        assert np.array_equal(ours[key].argmax(-1), theirs[key].argmax(-1))


@pytest.mark.parametrize("name", SHAPE_ONLY)
def test_every_tensor_maps_by_name_and_shape(name):
    """The torch model on the meta device (shapes, no data): every tensor is mapped and
    assigned, none left over. Zero initialisers keep the 224 px build cheap."""
    with torch.device("meta"):
        tm = torchvision.models.get_model(name, weights=None)
    state = {k: np.broadcast_to(np.float32(0), tuple(v.shape)) for k, v in
             tm.state_dict().items()}
    model, report = from_torchvision(name, state, kernel_initializer="zeros",
                                     return_report=True)
    assert model.name == TORCHVISION_MODELS[name].registry_name
    assert report.unused == () and len(report.loaded) + len(report.ignored) == len(state)
    assert sum(int(np.prod(v.shape)) for v in model.trainable_weights) == \
        sum(p.numel() for p in tm.parameters())
    assert not any(np.any(np.asarray(v)) for v in model.weights)  # BN's ones too


# ------------------------------------------------------------------ metadata and labels

def test_class_order_is_torchvisions():
    """torchvision's category names, index for index, are the shipped class index's."""
    from torchvision.models._meta import _IMAGENET_CATEGORIES

    def words(s):
        return re.sub(r"[(),_]", " ", s).lower().split()

    ours = imagenet_classes()
    assert len(_IMAGENET_CATEGORIES) == len(ours) == 1000
    for i, category in enumerate(_IMAGENET_CATEGORIES):
        assert words(category) in (words(ours[i][1]), words(ours[i][2])), (i, category, ours[i])


def test_decode_predictions_reads_converted_outputs(photos):
    tm = torch_model("squeezenet1_1")
    model = from_torchvision("squeezenet1_1", tm.state_dict(), input_shape=(64, 64, 3))
    x_ours, x_theirs = inputs(photos, 64, keras_cnns.model_info("squeezenet1_1").preprocessing)
    probs = np.asarray(model(x_ours, training=False))  # the default softmax head
    theirs = torch.softmax(torch.from_numpy(torch_outputs(tm, x_theirs)["main"]), -1).numpy()
    assert rel_error(probs, theirs) < TOL
    wnid_index = {c[0]: i for i, c in enumerate(imagenet_classes())}
    for row_ours, row_theirs in zip(decode_predictions(probs, top=3), theirs):
        assert wnid_index[row_ours[0][0]] == int(row_theirs.argmax())
        for wnid, _, score in row_ours:
            assert abs(score - row_theirs[wnid_index[wnid]]) < 1e-5


@pytest.mark.parametrize("name, weights", [("googlenet", "GoogLeNet_Weights"),
                                           ("inception_v3", "Inception_V3_Weights"),
                                           ("resnet50", "ResNet50_Weights")])
def test_preprocessing_gives_what_the_published_model_sees(name, weights, photo_batch):
    """torchvision's published transforms (and transform_input for googlenet and
    inception_v3) against the registry model's preprocessing and
    torchvision_preprocessing. The photos are cut to 420x630 so the resized long side is
    a whole number (torchvision truncates it, Preprocess rounds it: on 427x640 the two
    resize to 383 and 384 columns). Preprocess crops at floor((n - crop) / 2),
    torchvision at round((n - crop) / 2): inception_v3's 342 -> 299 puts torchvision's crop
    one row lower, so the rows are aligned before comparing."""
    images = photo_batch[:, 3:423, 5:635]
    w = getattr(torchvision.models, weights).IMAGENET1K_V1
    x = w.transforms()(torch.from_numpy(images).permute(0, 3, 1, 2))
    if TORCHVISION_MODELS[name].transform_input:  # GoogLeNet._transform_input
        x = x * torch.tensor(TORCH_STD / 0.5).view(1, 3, 1, 1) \
            + torch.tensor((TORCH_MEAN - 0.5) / 0.5).view(1, 3, 1, 1)
    theirs = x.permute(0, 2, 3, 1).numpy()
    registry_name = TORCHVISION_MODELS[name].registry_name
    for layer in (keras_cnns.preprocessing(registry_name), torchvision_preprocessing(name)):
        ours = np.asarray(layer(images))
        assert ours.shape == theirs.shape
        crop, resize = w.transforms().crop_size[0], w.transforms().resize_size[0]
        size = (resize, resize * 630 // 420)  # torchvision's resized (h, w)
        dy, dx = (int(round((n - crop) / 2)) - (n - crop) // 2 for n in size)
        diff = np.abs(ours[:, dy:, dx:] - theirs[:, :crop - dy, :crop - dx])
        # torchvision rounds the resized uint8 image to whole grey levels: 0.5 / 255 / std.
        assert diff.max() < 0.5 / 255 / TORCH_STD.min() + 1e-4, diff.max()


def test_mapping_table_is_data():
    rows = torchvision_mapping("alexnet")
    assert ("features.0.weight", "conv1", 0) in rows and ("features.10.bias", "conv5", 1) in rows
    assert ("classifier.1.weight", "fc6", 0) in rows and ("classifier.6.bias", "predictions", 1) \
        in rows
    assert len(rows) == 16


# ----------------------------------------------------------------------- checkpoints

def test_pth_safetensors_and_dict_read_the_same(tmp_path):
    from safetensors.torch import save_file

    state = {"a.weight": torch.randn(3, 4, 2, 2), "b.bias": torch.randn(5).to(torch.float16),
             "c.weight": torch.randn(2, 3).to(torch.bfloat16),
             "d.num_batches_tracked": torch.tensor(7), "e": torch.zeros(0, 3)}
    torch.save(state, tmp_path / "s.pth")
    save_file(state, str(tmp_path / "s.safetensors"))
    expected = {k: v.float().numpy() if v.is_floating_point() else v.numpy()
                for k, v in state.items()}
    for source in (tmp_path / "s.pth", tmp_path / "s.safetensors", state):
        got = load_state_dict(source)
        assert set(got) == set(expected)
        for k in expected:
            assert got[k].shape == expected[k].shape
            np.testing.assert_array_equal(got[k].astype(expected[k].dtype), expected[k])
    assert read_safetensors(tmp_path / "s.safetensors")["c.weight"].dtype == np.float32
    assert int(read_safetensors(tmp_path / "s.safetensors")["d.num_batches_tracked"]) == 7


def test_bad_checkpoint_files(tmp_path):
    (tmp_path / "bad.safetensors").write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{not json")
    with pytest.raises(ValueError, match="not a safetensors file"):
        read_safetensors(tmp_path / "bad.safetensors")
    (tmp_path / "w.npz").write_bytes(b"")
    with pytest.raises(ValueError, match="allowed suffixes"):
        load_state_dict(tmp_path / "w.npz")
    with pytest.raises(FileNotFoundError, match="missing.pth"):
        load_state_dict(tmp_path / "missing.pth")
    with pytest.raises(TypeError, match="checkpoint"):
        load_state_dict(42)


# ---------------------------------------------------------------------------- errors

@pytest.fixture(scope="module")
def squeeze_state():
    return {k: v.numpy() for k, v in torch_model("squeezenet1_1").state_dict().items()}


def convert_small(state, **kwargs):
    return from_torchvision("squeezenet1_1", state, input_shape=(32, 32, 3), **kwargs)


def test_shape_mismatch_names_the_tensor(squeeze_state):
    state = dict(squeeze_state, **{"features.3.squeeze.weight": np.zeros((16, 64, 1, 2))})
    with pytest.raises(ValueError, match=r"'features\.3\.squeeze\.weight' has shape "
                                         r"\(16, 64, 1, 2\).*fire2_squeeze.*\(16, 64, 1, 1\)"):
        convert_small(state)


def test_missing_tensor_names_it(squeeze_state):
    state = {k: v for k, v in squeeze_state.items() if k != "classifier.1.bias"}
    with pytest.raises(ValueError, match=r"lacks tensor 'classifier\.1\.bias'.*conv10"):
        convert_small(state)


def test_unused_tensors_are_reported_and_strict_refuses_them(squeeze_state):
    state = dict(squeeze_state, **{"extra.weight": np.ones(3, "float32")})
    with pytest.warns(UserWarning, match=r"1 checkpoint tensors not used.*extra\.weight"):
        _, report = convert_small(state, return_report=True)
    assert report.unused == ("extra.weight",)
    with pytest.raises(ValueError, match=r"'extra\.weight' is not used"):
        convert_small(state, strict=True)


def test_headless_model_reports_the_classifier_as_unused(squeeze_state):
    with pytest.warns(UserWarning, match="classifier.1.weight"):
        _, report = convert_small(squeeze_state, include_top=False, return_report=True)
    assert report.unused == ("classifier.1.bias", "classifier.1.weight")


def test_aux_heads_are_reported_unless_built():
    tm = torch_model("googlenet", aux_logits=True, init_weights=True)
    with pytest.warns(UserWarning, match="aux=True"):
        _, report = from_torchvision("googlenet", tm.state_dict(), input_shape=(64, 64, 3),
                                     return_report=True)
    assert len(report.unused) == 18 and all(k.startswith(("aux1.", "aux2.")) for k in report.unused)


def test_a_tensor_without_a_place_raises():
    tm = torch_model("googlenet", aux_logits=False, init_weights=True)
    state = {k: v.numpy() for k, v in tm.state_dict().items()}
    state["conv1.conv.bias"] = np.zeros(64, "float32")
    with pytest.raises(ValueError, match=r"'conv1\.conv\.bias' has no place.*no bias"):
        from_torchvision("googlenet", state, input_shape=(64, 64, 3))


def test_vgg_classifier_needs_the_224_grid():
    with torch.device("meta"):
        tm = torchvision.models.vgg11(weights=None)
    state = {k: np.broadcast_to(np.float32(0), tuple(v.shape)) for k, v in
             tm.state_dict().items()}
    with pytest.raises(ValueError, match=r"'classifier\.0\.weight'.*build at 224 px"):
        from_torchvision("vgg11", state, input_shape=(64, 64, 3), kernel_initializer="zeros")


def test_wrong_layouts_and_names_are_refused(squeeze_state):
    with pytest.raises(ValueError, match="googlenet_torchvision"):
        from_torchvision(keras_cnns.build("googlenet", input_shape=(64, 64, 3)), squeeze_state)
    with pytest.raises(ValueError, match="no torchvision conversion for 'resnet50_v2'"):
        from_torchvision("resnet50_v2", squeeze_state)
    with pytest.raises(ValueError, match="lacks tensor 'conv1.weight'"):
        from_torchvision("resnet18", squeeze_state, input_shape=(32, 32, 3))
    with pytest.raises(TypeError, match="build options"):
        from_torchvision(keras_cnns.build("squeezenet1_1", input_shape=(32, 32, 3)),
                         squeeze_state, classes=3)


def test_a_built_model_is_loaded_in_place_and_classes_follow_the_checkpoint(photos):
    tm = torch_model("squeezenet1_1", num_classes=10)
    state = tm.state_dict()
    model = from_torchvision("squeezenet1_1", state, input_shape=(48, 48, 3),
                             classifier_activation=None)
    assert model.output.shape[-1] == 10
    renamed = keras_cnns.SqueezeNet(version="1_1", input_shape=(48, 48, 3), classes=10,
                                    classifier_activation=None, name="mine")
    assert from_torchvision(renamed, state, name="squeezenet1_1") is renamed
    x, _ = inputs(photos, 48, keras_cnns.model_info("squeezenet1_1").preprocessing)
    np.testing.assert_array_equal(np.asarray(model(x)), np.asarray(renamed(x)))


def test_bn_epsilon_is_set_to_torchs(photos):
    """ResNet-18 keras layout: zero conv biases and BN eps 1e-5 make it torchvision's."""
    tm = torch_model("resnet18")
    model, report = from_torchvision("resnet18", tm.state_dict(), input_shape=(32, 32, 3),
                                     return_report=True)
    bns = [layer for layer in model.layers if isinstance(layer, keras.layers.BatchNormalization)]
    assert len(report.epsilon_set) == len(bns) == 20 and all(b.epsilon == 1e-5 for b in bns)
    assert len(report.zero_biases) == 20
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert all(not np.any(np.asarray(c.bias)) for c in convs)


# ------------------------------------------------------------------------------- CLI

def test_cli_convert_writes_a_loadable_keras_file(photos, tmp_path, capsys):
    tm = torch_model("squeezenet1_1")
    torch.save(tm.state_dict(), tmp_path / "sq.pth")
    out = tmp_path / "sq.keras"
    assert cli.main(["convert", "squeezenet1_1", str(tmp_path / "sq.pth"), str(out),
                     "--image-size", "64"]) == 0
    assert "52 tensors loaded" in capsys.readouterr().out
    assert sorted(os.listdir(tmp_path)) == ["sq.keras", "sq.pth"]  # no temporary left
    model = keras.saving.load_model(out, safe_mode=True)
    meta = keras_cnns.read_run_metadata(model)  # the ImageNet names travel in the file
    assert meta["label_source"] == "checkpoint" and meta["class_names"][0] == "tench"
    assert meta["name"] == "squeezenet1_1" and meta["input_shape"] == [64, 64, 3]
    x_ours, x_theirs = inputs(photos, 64, keras_cnns.model_info("squeezenet1_1").preprocessing)
    probs = np.asarray(model(x_ours, training=False))
    theirs = torch.softmax(torch.from_numpy(torch_outputs(tm, x_theirs)["main"]), -1).numpy()
    assert rel_error(probs, theirs) < TOL


@pytest.mark.parametrize("argv, needle", [
    (["convert", "squeezenet1_1", "{tmp}/missing.pth", "{tmp}/o.keras"], "no such file"),
    (["convert", "squeezenet1_1", "{tmp}/sq.pth", "{tmp}/o.h5"], "must end in .keras"),
    (["convert", "resnet50", "{tmp}/sq.pth", "{tmp}/o.keras"], "lacks tensor 'conv1.weight'"),
    (["convert", "lenet5", "{tmp}/sq.pth", "{tmp}/o.keras"], "no torchvision conversion"),
])
def test_cli_convert_errors_are_one_line(argv, needle, squeeze_state, tmp_path, capsys):
    torch.save({k: torch.from_numpy(v) for k, v in squeeze_state.items()}, tmp_path / "sq.pth")
    assert cli.main([a.format(tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and needle in err[0] and err[0].startswith("keras-cnns")
    assert sorted(os.listdir(tmp_path)) == ["sq.pth"]


# ------------------------------------------------------------ the torchvision variants

def test_inception_v3_torchvision_variant():
    model = keras_cnns.build("inception_v3_torchvision", input_shape=(75, 75, 3), classes=3)
    # count_include_pad: explicit zero padding, then a valid 3x3/1 average pool.
    assert model.get_layer("mixed0_branch3_0_avgpool").padding == "valid"
    assert model.get_layer("mixed0_branch3_0_avgpool_pad").padding == ((1, 1), (1, 1))
    assert model.get_layer("Conv2d_1a_3x3_bn").scale  # torchvision's BN learns gamma
    assert not keras_cnns.build("inception_v3", input_shape=(75, 75, 3),
                                classes=3).get_layer("Conv2d_1a_3x3_bn").scale
    with pytest.raises(ValueError, match="minimum input size 299"):
        keras_cnns.build("inception_v3_torchvision", aux=True, input_shape=(298, 298, 3))
    with pytest.raises(ValueError, match="variant='keras'"):
        keras_cnns.build("inception_v3_torchvision", weights="imagenet")


def test_torchvision_preprocessing_options():
    assert torchvision_preprocessing("resnet50", resize=232).crop_fraction == 224 / 232
    assert torchvision_preprocessing("inception_v3").crop_fraction == 299 / 342
    assert torchvision_preprocessing("googlenet").scale == 2 / 255
    with pytest.raises(ValueError, match="resize"):
        torchvision_preprocessing("resnet50", resize=100)
