"""The keras.applications signature, shared by every builder: validation, input, head."""

import os

import keras
from keras import layers

POOLINGS = (None, "avg", "max")


def check_dropout(arg, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{arg} must be a float in [0, 1), got {type(value).__name__}")
    if not 0.0 <= value < 1.0:
        raise ValueError(f"{arg} must be in [0, 1), got {value!r}")
    return float(value)


def check_choice(arg, value, allowed):
    if value not in allowed:
        raise ValueError(f"{arg} must be one of {', '.join(map(repr, allowed))}; got {value!r}")
    return value


def check_positive_int(arg, value):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{arg} must be an int, got {type(value).__name__}")
    if value < 1:
        raise ValueError(f"{arg} must be >= 1, got {value}")
    return value


def resolve_input_shape(input_shape, input_tensor, default_shape, min_size,
                        require_static=False):
    """Validate ``input_shape`` (HWC) against the model's minimum; ``None`` gives the
    default, or the shape of ``input_tensor``."""
    if input_tensor is not None and input_shape is None:
        if not hasattr(input_tensor, "shape"):
            raise TypeError(f"input_tensor must be a Keras tensor, got {type(input_tensor).__name__}")
        input_shape = tuple(input_tensor.shape[1:])
    if input_shape is None:
        return tuple(default_shape)
    if not isinstance(input_shape, (tuple, list)):
        raise TypeError(f"input_shape must be a tuple (height, width, channels), "
                        f"got {type(input_shape).__name__}")
    input_shape = tuple(input_shape)
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be rank 3 (height, width, channels), "
                         f"got {input_shape}")
    h, w, c = input_shape
    for dim in (h, w, c):
        if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int) or dim < 1):
            raise ValueError(f"input_shape entries must be positive ints or None, got {input_shape}")
    if c is None:
        raise ValueError(f"input_shape needs a known channel count (last axis), got {input_shape}")
    expected_c = default_shape[-1]
    if c != expected_c and h in (1, 3) and (w is None or w > 4) and c > 4:
        raise ValueError(f"input_shape {input_shape} looks channels-first; keras_cnns models "
                         f"take channels-last (height, width, channels), "
                         f"e.g. {tuple(default_shape)}")
    if require_static and (h is None or w is None):
        raise ValueError(f"input_shape {input_shape} needs a static height and width for "
                         "this configuration")
    for arg, dim in (("height", h), ("width", w)):
        if dim is not None and dim < min_size:
            raise ValueError(f"input_shape {arg} {dim} is below this model's minimum input "
                             f"size {min_size}; allowed: >= {min_size}")
    return input_shape


def check_common(*, include_top, weights, pooling, classes, allowed_weights=(None,)):
    if not isinstance(include_top, bool):
        raise TypeError(f"include_top must be a bool, got {type(include_top).__name__}")
    check_choice("pooling", pooling, POOLINGS)
    check_positive_int("classes", classes)
    if weights in allowed_weights:
        return weights
    if isinstance(weights, (str, os.PathLike)):
        if os.path.isfile(weights):
            return os.fspath(weights)
        raise ValueError(f"weights must be None, {' or '.join(repr(w) for w in allowed_weights if w)} "
                         f"or the path of an existing weights file; {os.fspath(weights)!r} "
                         "does not exist" if len(allowed_weights) > 1 else
                         f"weights must be None or the path of an existing weights file; "
                         f"{os.fspath(weights)!r} does not exist")
    raise TypeError(f"weights must be None or a path, got {type(weights).__name__}")


def make_input(input_shape, input_tensor):
    """The model's input layer and the tensor the network starts from."""
    if input_tensor is None:
        img_input = layers.Input(shape=input_shape)
        return img_input, img_input
    if not keras.backend.is_keras_tensor(input_tensor):
        img_input = layers.Input(tensor=input_tensor, shape=input_shape)
        return img_input, img_input
    return keras.utils.get_source_inputs(input_tensor), input_tensor


def _output_dtype():
    # Under a mixed policy the classifier computes in float32: finite, stable softmax.
    return "float32" if keras.mixed_precision.global_policy().name.startswith("mixed") else None


def classifier(x, classes, classifier_activation, *, name="predictions", kernel_initializer="glorot_uniform",
               bias_initializer="zeros"):
    return layers.Dense(classes, activation=classifier_activation, name=name,
                        kernel_initializer=kernel_initializer,
                        bias_initializer=bias_initializer, dtype=_output_dtype())(x)


def pool_features(x, pooling):
    """The headless model's output: the feature map, or its global avg / max pool."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x


def finish(inputs, outputs, name, weights):
    """Create the functional model and load ``weights`` (a ``.weights.h5`` path)."""
    model = keras.Model(inputs, outputs, name=name)
    if weights is not None:
        model.load_weights(weights)
    return model
