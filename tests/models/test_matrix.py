"""One matrix over every registry entry (keras.applications' style of test).

The ``name`` fixture is module-scoped and parametrised, so pytest runs every check of one
entry together and then frees its models: holding all 40 default-size models at once
(VGG-19 alone is 144 M parameters) took 20 GB. clear_session suffices; Python's own gc
collects the rest (an explicit gc.collect per entry cost 14 % of the matrix's time). The checks other than the reference count
run at the entry's minimum input size with 3 classes, on real photos.
"""


import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_cnns
from keras_cnns.precision import precision_policy
from tests.helpers import small_photos, zero_initialised_weights

# ResNet-1202 (4,212 layers) takes about half a minute per build: its own module
# (tests/models/test_resnet_cifar.py) runs this matrix's checks on a single build.
BUILT_ELSEWHERE = ("resnet1202_cifar",)
NAMES = [n for n in keras_cnns.available_models() if n not in BUILT_ELSEWHERE]
CLASSES = 3
_CACHE = {}
# Drop-path silences whole columns for a step by design (FractalNet section 3.1), and
# stochastic depth whole residual branches (Huang et al. 2016: for two samples, each of
# ResNet-110's last blocks is dropped for both a quarter of the time), which would leave
# them without a gradient: the gradient check runs with them off.
GRADIENT_CHECK_KWARGS = {"fractalnet": dict(local_drop=0.0, global_drop=0.0),
                         "resnet110_stochastic_depth_cifar": dict(stochastic_depth=None)}


def info_of(name):
    return keras_cnns.model_info(name)


def small_size(name):
    return max(info_of(name).min_input_size, 32)


def small_shape(name):
    return (small_size(name), small_size(name), info_of(name).default_input_shape[-1])


def default_model(name):
    """The entry as keras_cnns.build(name) makes it. Only its counts and shapes are read,
    so its weights are zeros (tests.helpers.zero_initialised_weights)."""
    if ("default", name) not in _CACHE:
        with zero_initialised_weights():
            _CACHE[("default", name)] = keras_cnns.build(name)
    return _CACHE[("default", name)]


def small_model(name):
    """The entry at its minimum input size (32 at least), 3 classes, on an input_tensor."""
    if ("small", name) not in _CACHE:
        keras.utils.set_random_seed(0)
        tensor = keras.Input(small_shape(name))
        model = keras_cnns.build(name, input_tensor=tensor, classes=CLASSES)
        assert model.inputs[0] is tensor
        _CACHE[("small", name)] = model
    return _CACHE[("small", name)]


def _configuration(name):
    info = info_of(name)
    return (info.family, info.builder, tuple(sorted(dict(info.build_kwargs))), info.layout)


def representatives():
    """One entry per builder configuration (family, builder, the build arguments it sets,
    layout), the smallest: the others differ from it only in depth or width, through the
    same code (resnet18 stands for ResNet-34 to -152, vgg11 for VGG-13 to -19...). The
    checks that rebuild a model for a second time (a save/load round trip, max pooling)
    run on these; every entry still gets the reference count, its end points, the
    minimum size, a forward and training step, the bad arguments and average pooling."""
    best = {}
    for name in NAMES:
        key = _configuration(name)
        if key not in best or info_of(name).params < info_of(best[key]).params:
            best[key] = name
    return sorted(best.values())


REPRESENTATIVES = representatives()


@pytest.fixture(scope="module", params=NAMES)
def name(request):
    yield request.param
    _CACHE.clear()
    keras.backend.clear_session()


def real_batch(photos, name, n=2):
    size = small_size(name)
    x = small_photos(photos, size, n) / 127.5 - 1.0
    if info_of(name).default_input_shape[-1] == 1:
        x = x.mean(axis=-1, keepdims=True)
    return x.astype("float32")


def main_output(out):
    return out["main"] if isinstance(out, dict) else out


def test_registry_is_populated():
    families = {info_of(n).family for n in NAMES}
    assert len(NAMES) >= 3 and "googlenet" in families
    # Every family and builder configuration has its representative.
    assert {info_of(n).family for n in REPRESENTATIVES} == families
    assert {_configuration(n) for n in REPRESENTATIVES} == {_configuration(n) for n in NAMES}
    assert "resnet18" in REPRESENTATIVES and "resnet152" not in REPRESENTATIVES


def test_default_build_matches_reference(name):
    info = info_of(name)
    model = default_model(name)
    assert model.name == name
    assert tuple(model.inputs[0].shape[1:]) == tuple(info.default_input_shape)
    assert model.count_params() == info.params
    prof = keras_cnns.profile(model)
    assert prof.params == model.count_params()
    assert prof.macs == info.macs
    if info.trainable_params is not None:
        assert prof.trainable_params == info.trainable_params
    assert main_output(model.output).shape[-1] == info.default_classes


def _check_headless(name, pooling):
    # The pooled features are the last feature map's channels, as the entry declares.
    with zero_initialised_weights():  # only shapes are read
        model = keras_cnns.build(name, include_top=False, pooling=pooling,
                                 input_shape=small_shape(name))
    assert info_of(name).last_channels is not None, f"{name} declares no last_channels"
    assert tuple(model.output.shape) == (None, info_of(name).last_channels)
    assert model.layers[-1].name == f"{pooling}_pool"


def test_headless_with_average_pooling(name):
    _check_headless(name, "avg")


@pytest.mark.parametrize("name", REPRESENTATIVES, indirect=True)
def test_headless_with_max_pooling(name):
    _check_headless(name, "max")


def test_every_declared_end_point_exists(name):
    info = info_of(name)
    layers = {layer.name: layer for layer in small_model(name).layers}
    assert info.end_points, f"{name} declares no end points"
    missing = [e for e in info.end_points if e not in layers]
    assert not missing, f"{name}: end points not in the model: {missing}"
    assert set(info.stage_outputs) <= set(info.end_points)
    # The stage outputs get smaller (or stay) in resolution, stage by stage.
    grids = [layers[s].output.shape[1] for s in info.stage_outputs]
    assert grids == sorted(grids, reverse=True), (name, grids)


# A bad shared argument is refused before anything is built, naming the argument: a
# wrong value is a ValueError, a wrong type a TypeError (keras_cnns.validation).
BAD_ARGUMENTS = [
    (dict(classes=0), ValueError, "classes"),
    (dict(classes=2.5), TypeError, "classes"),
    (dict(pooling="median", include_top=False), ValueError, "pooling"),
    (dict(include_top="yes"), TypeError, "include_top"),
    (dict(weights="no_such_weights"), ValueError, "weights"),
    (dict(classifier_activation="softmaxx"), ValueError, "classifier_activation"),
    (dict(input_shape=(3, 224, 224)), ValueError, "input_shape"),
]


@pytest.mark.parametrize("kwargs, error, match", BAD_ARGUMENTS,
                         ids=[next(iter(k)) + f"-{i}" for i, (k, _, _) in enumerate(BAD_ARGUMENTS)])
def test_bad_argument_is_rejected(name, kwargs, error, match):
    kwargs = dict(kwargs)
    if "input_shape" in kwargs and info_of(name).default_input_shape[-1] == 1:
        kwargs["input_shape"] = (1, 32, 32)  # channels-first for a grey model
    with pytest.raises(error, match=match):
        keras_cnns.build(name, **kwargs)


def test_minimum_size_custom_classes_and_input_tensor(name):
    info = info_of(name)
    channels = info.default_input_shape[-1]
    model = small_model(name)
    assert tuple(model.inputs[0].shape[1:]) == small_shape(name)
    assert main_output(model.output).shape[-1] == CLASSES
    if info.min_input_size > 1:
        low = info.min_input_size - 1
        with pytest.raises(ValueError, match="minimum"):
            keras_cnns.build(name, input_shape=(low, low, channels), classes=CLASSES)


def test_forward_and_one_training_step(name, photos):
    model = small_model(name)
    x = real_batch(photos, name)
    out = model(x, training=False)
    for value in (out.values() if isinstance(out, dict) else [out]):
        assert np.all(np.isfinite(np.asarray(value)))
    if name in GRADIENT_CHECK_KWARGS:
        model = keras_cnns.build(name, input_shape=small_shape(name), classes=CLASSES,
                                 **GRADIENT_CHECK_KWARGS[name])
    y = tf.constant([0, 2])
    with tf.GradientTape() as tape:
        out = model(x, training=True)
        heads = out.values() if isinstance(out, dict) else [out]
        loss = tf.add_n([tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, h))
                         for h in heads])
    grads = tape.gradient(loss, model.trainable_weights)
    dead = [w.path for w, g in zip(model.trainable_weights, grads)
            if g is None or not np.any(np.asarray(g))]
    assert not dead, f"{len(dead)} trainable weights got no gradient, e.g. {dead[:5]}"


@pytest.mark.parametrize("name", REPRESENTATIVES, indirect=True)
def test_keras_round_trip_safe_mode(name, photos, tmp_path):
    model = small_model(name)
    path = tmp_path / f"{name}.keras"
    model.save(path)
    again = keras.saving.load_model(path, safe_mode=True)
    x = real_batch(photos, name)
    a, b = model(x, training=False), again(x, training=False)
    if isinstance(a, dict):
        assert set(a) == set(b)
        pairs = [(a[k], b[k]) for k in a]
    else:
        pairs = [(a, b)]
    for u, v in pairs:
        np.testing.assert_array_equal(np.asarray(u), np.asarray(v))


def one_per_family():
    """The smallest entry (fewest parameters) of each family."""
    seen = {}
    for name in NAMES:
        family = info_of(name).family
        if family not in seen or info_of(name).params < info_of(seen[family]).params:
            seen[family] = name
    return sorted(seen.values())


def biases_into_batch_norm(model):
    """Paths of the biases of layers feeding a BatchNormalization: BN subtracts the batch
    mean, so their gradient is zero (float32 rounding leaves ~1e-9; bfloat16 exactly 0)."""
    paths = set()
    for layer in model.layers:
        bias = getattr(layer, "bias", None)
        nodes = getattr(layer, "_outbound_nodes", [])
        if bias is not None and nodes and all(
                isinstance(n.operation, keras.layers.BatchNormalization) for n in nodes):
            paths.add(bias.path)
    return paths


@pytest.mark.parametrize("name", one_per_family())
def test_mixed_bfloat16_forward_and_one_training_step(name, photos):
    """Each family under mixed_bfloat16 (keras_cnns.precision): 16-bit convolutions, float32
    variables, heads and loss; one real gradient step changes every trainable weight's
    gradient from zero, and the global policy is float32 again afterwards."""
    with precision_policy("mixed_bfloat16"):
        keras.utils.set_random_seed(0)
        model = keras_cnns.build(name, input_shape=small_shape(name), classes=CLASSES,
                                 **GRADIENT_CHECK_KWARGS.get(name, {}))
    assert keras.mixed_precision.global_policy().name == "float32"
    convs = [layer for layer in model.layers if isinstance(layer, keras.layers.Conv2D)]
    assert convs and all(layer.compute_dtype == "bfloat16" for layer in convs)
    assert all(v.dtype == "float32" for v in model.trainable_weights)
    x = real_batch(photos, name)
    y = tf.constant([0, 2])
    with tf.GradientTape() as tape:
        out = model(x, training=True)
        heads = list(out.values()) if isinstance(out, dict) else [out]
        assert all(h.dtype == tf.float32 for h in heads)
        loss = tf.add_n([tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(y, h))
                         for h in heads])
    assert np.isfinite(float(loss))
    grads = tape.gradient(loss, model.trainable_weights)
    exempt = biases_into_batch_norm(model)
    assert all(np.all(np.isfinite(np.asarray(g))) for g in grads if g is not None)
    dead = [w.path for w, g in zip(model.trainable_weights, grads)
            if w.path not in exempt and (g is None or not np.any(np.asarray(g)))]
    assert not dead, f"{len(dead)} trainable weights got no finite gradient, e.g. {dead[:5]}"


@pytest.mark.parametrize("name", one_per_family())
def test_mixed_float16(name, photos):
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        model = keras_cnns.build(name, input_shape=small_shape(name), classes=CLASSES)
        out = main_output(model(real_batch(photos, name), training=False))
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert out.dtype == tf.float32
    assert np.all(np.isfinite(np.asarray(out)))
