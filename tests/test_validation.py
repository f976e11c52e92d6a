"""One validation module: TypeError for a wrong type, ValueError for a wrong value, the
argument named, numpy numbers accepted; and the builders' shared argument checks."""

import numpy as np
import pytest

import keras_cnns
from keras_cnns import profiler
from keras_cnns import validation as v
from keras_cnns.models import common


def test_ints_accept_numpy_and_refuse_bools_and_floats():
    assert v.check_positive_int("classes", np.int64(10)) == 10
    assert type(v.check_positive_int("classes", np.int32(3))) is int
    with pytest.raises(TypeError, match="classes must be an int, got bool"):
        v.check_positive_int("classes", True)
    with pytest.raises(TypeError, match="classes must be an int, got float"):
        v.check_positive_int("classes", 10.0)
    with pytest.raises(ValueError, match="classes must be >= 1, got 0"):
        v.check_positive_int("classes", 0)


def test_floats_rates_and_probabilities():
    assert v.check_rate("dropout", np.float32(0.5)) == 0.5
    with pytest.raises(ValueError, match=r"dropout must be in \[0, 1\), got 1.0"):
        v.check_rate("dropout", 1.0)
    with pytest.raises(TypeError, match="dropout must be a number, got str"):
        v.check_rate("dropout", "0.5")
    with pytest.raises(ValueError, match=r"p must be in \(0, 1\]"):
        v.check_probability("p", 0.0)
    with pytest.raises(ValueError, match="nan"):
        v.check_float("x", float("nan"), minimum=0.0)


def test_choices_tell_type_from_value():
    assert v.check_choice("variant", "bn", ("paper", "bn")) == "bn"
    with pytest.raises(ValueError, match="variant must be one of 'paper', 'bn'; got 'x'"):
        v.check_choice("variant", "x", ("paper", "bn"))
    with pytest.raises(TypeError, match="variant must be one of 'paper', 'bn'; got int 3"):
        v.check_choice("variant", 3, ("paper", "bn"))
    assert v.check_choice("groups", np.int64(2), (1, 2)) == 2
    assert v.check_choice("pooling", None, (None, "avg")) is None
    with pytest.raises(TypeError, match="pooling must be one of None, 'avg'; got list"):
        v.check_choice("pooling", [], (None, "avg"))


def test_int_tuples_and_paths(tmp_path):
    assert v.check_ints("stages", [np.int64(3), 4], length=2) == (3, 4)
    with pytest.raises(ValueError, match="stages must have 4 entries"):
        v.check_ints("stages", (1, 2), length=4)
    with pytest.raises(TypeError, match="stages must be a tuple of ints"):
        v.check_ints("stages", "3463")
    with pytest.raises(ValueError, match="must be a non-empty path"):
        v.check_path("output", "")
    with pytest.raises(ValueError, match="is a folder, expected a file"):
        v.check_path("weights", tmp_path, must_exist=True, kind="file")


def test_build_takes_the_model_name():
    model = keras_cnns.build("googlenet", name="my_googlenet", input_shape=(32, 32, 3))
    assert model.name == "my_googlenet"
    assert keras_cnns.model_info(model, name="googlenet").name == "googlenet"


def test_numpy_integers_for_classes_and_input_shape():
    model = keras_cnns.build("googlenet", classes=np.int64(7),
                             input_shape=(np.int64(40), np.int32(40), np.int64(3)))
    assert model.output.shape[-1] == 7
    assert tuple(model.inputs[0].shape[1:]) == (40, 40, 3)


def test_weights_a_folder_and_an_unknown_activation(tmp_path):
    with pytest.raises(ValueError, match="weights must be .*is a folder"):
        keras_cnns.build("googlenet", weights=tmp_path, input_shape=(32, 32, 3))
    with pytest.raises(ValueError, match="classifier_activation must be .*got 'softmaxx'"):
        keras_cnns.build("googlenet", classifier_activation="softmaxx", input_shape=(32, 32, 3))
    with pytest.raises(TypeError, match="classifier_activation"):
        common.check_classifier_activation(3)


def test_an_input_that_could_never_fit_in_memory():
    with pytest.raises(ValueError, match=r"input_shape \(20000, 20000, 3\).*GiB.*smaller"):
        keras_cnns.build("googlenet", input_shape=(20000, 20000, 3))
    # A flattening net is refused before its fc kernel (it grows with the input) is
    # allocated: no TensorFlow OOM. The message names the estimate and the machine's RAM.
    memory = common.physical_memory()
    with pytest.raises(ValueError) as err:
        keras_cnns.build("vgg16", input_shape=(20000, 20000, 3))
    need = int(str(err.value).split("needs about ")[1].split(" bytes")[0].replace(",", ""))
    assert need > memory and f"{memory:,} bytes" in str(err.value)
    # The estimate is Profile.training_memory's per-image count (batch 1, no slots).
    model = keras_cnns.build("googlenet", input_shape=(64, 64, 3))
    prof = profiler.profile(model)
    small = 4 * (prof.input_elements + sum(r.elements for r in prof.layers) + prof.params)
    with pytest.raises(ValueError, match=f"needs about {small:,} bytes"):
        common.check_fits_in_memory(model.outputs, memory=small - 1)
    common.check_fits_in_memory(model.outputs, memory=small)  # fits: no error
    # A dynamic size cannot be judged before the data comes; it builds.
    assert keras_cnns.build("googlenet", input_shape=(None, None, 3)).count_params() == 6_998_552


def test_garbage_weights_file(tmp_path):
    path = tmp_path / "garbage.weights.h5"
    path.write_bytes(b"not an hdf5 file at all" * 10)
    with pytest.raises(ValueError, match="is not a weights file for 'googlenet'"):
        keras_cnns.build("googlenet", weights=path, input_shape=(32, 32, 3))
