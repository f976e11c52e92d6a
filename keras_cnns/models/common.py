"""The keras.applications signature, shared by every builder: checks, input, head."""

import math
import os

import keras
from keras import layers

from keras_cnns.validation import (check_bool, check_choice, check_positive_int,  # noqa: F401
                                   check_rate, is_int)

POOLINGS = (None, "avg", "max")
check_dropout = check_rate  # the name the builders use


def check_classifier_activation(value):
    """``None``, a Keras activation name or a callable; an unknown name is a ValueError
    naming the argument (Keras' own error comes from deep inside the Dense layer)."""
    if value is None or callable(value):
        return value
    if not isinstance(value, str):
        raise TypeError(f"classifier_activation must be None, an activation name or a "
                        f"callable, got {type(value).__name__}")
    try:
        keras.activations.get(value)
    except ValueError:
        raise ValueError(f"classifier_activation must be None, a callable or a Keras "
                         f"activation name such as 'softmax', 'sigmoid' or 'linear'; got "
                         f"{value!r}") from None
    return value


def resolve_input_shape(input_shape, input_tensor, default_shape, min_size,
                        require_static=False):
    """Validate ``input_shape`` (HWC) against the model's minimum; ``None`` gives the
    default, or the shape of ``input_tensor``. numpy integers are accepted."""
    if input_tensor is not None and input_shape is None:
        if not hasattr(input_tensor, "shape"):
            raise TypeError(f"input_tensor must be a Keras tensor, got {type(input_tensor).__name__}")
        input_shape = tuple(input_tensor.shape[1:])
    if input_shape is None:
        return tuple(default_shape)
    if not isinstance(input_shape, (tuple, list)):
        raise TypeError(f"input_shape must be a tuple (height, width, channels), "
                        f"got {type(input_shape).__name__}")
    if len(input_shape) != 3:
        raise ValueError(f"input_shape must be rank 3 (height, width, channels), "
                         f"got {tuple(input_shape)}")
    for dim in input_shape:
        if dim is not None and not is_int(dim):
            raise TypeError(f"input_shape entries must be ints or None, got "
                            f"{type(dim).__name__} in {tuple(input_shape)}")
    h, w, c = (None if d is None else int(d) for d in input_shape)
    input_shape = (h, w, c)
    if any(d is not None and d < 1 for d in input_shape):
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


def check_common(*, include_top, weights, pooling, classes, allowed_weights=(None,),
                 classifier_activation=None):
    """The shared arguments. ``weights`` may be one of ``allowed_weights`` or the path
    of a weights file; returns it (a path as a string). ``classes`` may be a numpy int."""
    check_bool("include_top", include_top)
    check_choice("pooling", pooling, POOLINGS)
    check_positive_int("classes", classes)
    check_classifier_activation(classifier_activation)
    if weights in allowed_weights:
        return weights
    named = [repr(w) for w in allowed_weights if w is not None]
    allowed = "None, " + (" or ".join(named) + " or " if named else "") + \
        "the path of a .weights.h5 file"
    if isinstance(weights, (str, os.PathLike)):
        path = os.fspath(weights)
        if os.path.isdir(path):
            raise ValueError(f"weights must be {allowed}; {path!r} is a folder")
        if os.path.isfile(path):
            return path
        if weights == "imagenet":
            raise ValueError(f"weights must be {allowed}; this network has no published "
                             "keras.applications ImageNet file: convert torchvision's "
                             "with keras_cnns.weights.from_torchvision (or 'keras-cnns "
                             "convert'), then pass the .weights.h5 file it writes")
        if isinstance(weights, str) and not os.path.splitext(path)[1] and os.sep not in path:
            raise ValueError(f"weights must be {allowed}; got {path!r}, which is neither a "
                             "known name for this model nor an existing file")
        raise ValueError(f"weights must be {allowed}; {path!r} does not exist")
    raise TypeError(f"weights must be {allowed}, got {type(weights).__name__}")


def make_input(input_shape, input_tensor):
    """The model's input layer and the tensor the network starts from."""
    if input_tensor is None:
        img_input = layers.Input(shape=input_shape)
        return img_input, img_input
    if not keras.backend.is_keras_tensor(input_tensor):
        img_input = layers.Input(tensor=input_tensor, shape=input_shape)
        return img_input, img_input
    return keras.utils.get_source_inputs(input_tensor), input_tensor


def output_dtype():
    """Under a mixed policy the classifier computes in float32: finite, stable softmax."""
    return "float32" if keras.mixed_precision.global_policy().name.startswith("mixed") else None


def classifier(x, classes, classifier_activation, *, name="predictions",
               kernel_initializer="glorot_uniform", bias_initializer="zeros"):
    return layers.Dense(int(classes), activation=classifier_activation, name=name,
                        kernel_initializer=kernel_initializer,
                        bias_initializer=bias_initializer, dtype=output_dtype())(x)


def class_maps_head(x, classifier_activation, *, name="predictions"):
    """The head of the all-convolutional nets (NiN, SqueezeNet): the class maps'
    global average, then ``classifier_activation`` in float32."""
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return layers.Activation(classifier_activation or "linear", name=name,
                             dtype=output_dtype())(x)


def pool_features(x, pooling):
    """The headless model's output: the feature map, or its global avg / max pool."""
    if pooling == "avg":
        return layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if pooling == "max":
        return layers.GlobalMaxPooling2D(name="max_pool")(x)
    return x


def physical_memory():
    """Bytes of RAM on this machine (``None`` where the OS does not say)."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None


def _graph_size(outputs):
    """Per-image output elements of every operation behind ``outputs`` (inputs included),
    the parameters built so far, and the input's shape; ``None`` elements where a size is
    dynamic. A walk over the symbolic graph's history: no tensor is allocated."""
    elements, params, shape = 0, 0, None
    seen, stack = set(), list(keras.tree.flatten(outputs))
    while stack:
        tensor = stack.pop()
        history = getattr(tensor, "_keras_history", None)
        if history is None or id(history.operation) in seen:
            continue
        op = history.operation
        seen.add(id(op))
        node = op._inbound_nodes[history.node_index]
        for out in keras.tree.flatten(node.output_tensors):
            dims = tuple(out.shape[1:])
            if any(d is None for d in dims):
                return None, 0, shape
            elements += math.prod(int(d) for d in dims)
        if not node.input_tensors:
            shape = tuple(keras.tree.flatten(node.output_tensors)[0].shape[1:])
        if isinstance(op, keras.layers.Layer) and op.built:
            params += op.count_params()
        stack.extend(keras.tree.flatten(node.input_tensors))
    return elements, params, shape


def check_fits_in_memory(outputs, extra_params=0, memory=None):
    """Refuse a network whose forward pass for ONE image could never fit in memory: the
    output elements of every layer behind ``outputs`` (what training keeps for
    back-propagation, the count behind
    :meth:`keras_cnns.profiler.Profile.training_memory`) plus the parameters (and
    ``extra_params`` not yet allocated), at 4 bytes, against the machine's RAM.
    Building the graph is symbolic and cheap; this turns the out-of-memory crash of
    the first ``fit``/``predict`` (or of a huge fully connected kernel) into a
    ValueError naming ``input_shape``."""
    memory = physical_memory() if memory is None else memory
    if not memory:
        return
    elements, params, shape = _graph_size(outputs)
    if elements is None:
        return  # a dynamic size: nothing to estimate before the data comes
    need = 4 * (elements + params + int(extra_params))
    if need > memory:
        raise ValueError(f"input_shape {shape}: one image needs about {need:,} bytes "
                         f"({need / 2 ** 30:,.0f} GiB) for the network's activations and "
                         f"weights, more than this machine's {memory:,} bytes "
                         f"({memory / 2 ** 30:,.0f} GiB) of memory; use a smaller "
                         "input_shape")


def flatten(x, units, name="flatten"):
    """``Flatten`` before a fully connected layer of ``units``, refused (see
    :func:`check_fits_in_memory`) before that layer's kernel, which grows with the
    input, is allocated."""
    x = layers.Flatten(name=name)(x)
    check_fits_in_memory(x, extra_params=int(x.shape[-1] or 0) * int(units))
    return x


def finish(inputs, outputs, name, weights, imagenet=None, include_top=True):
    """Create the functional model (refusing one that could never run here, see
    :func:`check_fits_in_memory`) and load ``weights``: a ``.weights.h5`` path, or
    ``"imagenet"``, keras.applications' published file for the registry entry
    ``imagenet`` (its declared ``ModelInfo.imagenet_weights``; with or without the top)."""
    check_fits_in_memory(outputs)
    model = keras.Model(inputs, outputs, name=name)
    if weights == "imagenet":
        # Imported on request only: the weight table is not needed to build.
        from keras_cnns.weights.imagenet import load_imagenet_weights

        load_imagenet_weights(model, imagenet, include_top)
    elif weights is not None:
        load_weights_file(model, weights)
    return model


def gap_head(x, include_top, pooling, classes, classifier_activation):
    """keras.applications' head of the ResNets and DenseNets: global average pool and
    the classifier, or (headless) the feature map, pooled as ``pooling`` says."""
    if not include_top:
        return pool_features(x, pooling)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    return classifier(x, classes, classifier_activation)


def load_weights_file(model, path):
    """``model.load_weights(path)`` with a one-line error naming the file when it is not
    a weights file for this model (garbage, truncated, another architecture)."""
    try:
        model.load_weights(path)
    except (OSError, ValueError, KeyError, TypeError) as err:
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise ValueError(f"weights: {os.fspath(path)!r} is not a weights file for "
                         f"{model.name!r} ({first[:200]})") from None
