"""Mixed precision: the ``--precision`` of ``train``, ``evaluate`` and ``tune``.

``float32`` (default), ``mixed_bfloat16`` or ``mixed_float16``, Keras' dtype policies
(https://keras.io/api/mixed_precision/policy/): under a mixed policy the layers compute
in 16 bits and keep their variables in float32. What stays in float32 under every policy:

- the classifier (its Dense or the class-map activation, so the softmax) and every other
  output layer: ``keras_cnns.models.common.output_dtype``;
- LRN's sum of squares (squares overflow float16): ``layers.LocalResponseNormalization``;
- the losses (Keras casts the predictions to the loss's float32).

``mixed_float16`` trains with loss scaling (``keras.optimizers.LossScaleOptimizer``):
its 5 exponent bits underflow small gradients. bfloat16 has float32's exponent and needs
none. A checkpoint keeps the policies it was saved with; :func:`with_precision` gives
the same weights under another policy (float32 variables in every case, so the weights
carry over unchanged).

Nothing here imports Keras at module level: the CLI checks ``--precision`` before
TensorFlow loads.
"""

from __future__ import annotations

import contextlib

from keras_cnns.validation import check_choice

__all__ = ["PRECISIONS", "DEFAULT", "check_precision", "precision_policy", "model_precision",
           "with_precision", "loss_scaled"]

PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")
DEFAULT = "float32"


def check_precision(value, arg="precision"):
    """``value`` if it is one of :data:`PRECISIONS` (ValueError / TypeError naming ``arg``)."""
    return check_choice(arg, value, PRECISIONS)


@contextlib.contextmanager
def precision_policy(precision=DEFAULT):
    """Keras' global dtype policy set to ``precision`` inside the block, and the previous
    one restored after it, whatever happens: the policy is process-wide, and must not
    leak into the next model built (tests share a process)."""
    import keras

    check_precision(precision)
    old = keras.mixed_precision.global_policy()
    keras.mixed_precision.set_global_policy(precision)
    try:
        yield precision
    finally:
        keras.mixed_precision.set_global_policy(old)


def _policy_name(layer):
    policy = getattr(layer, "dtype_policy", None)
    return getattr(policy, "name", None) or "float32"


def model_precision(model):
    """The policy ``model``'s layers compute under: the mixed policy any of its layers has,
    else ``"float32"`` (the float32 heads of a mixed model do not count)."""
    import keras

    # An InputLayer takes the global policy whatever the model was saved with.
    names = {_policy_name(layer) for layer in model.layers
             if not isinstance(layer, keras.layers.InputLayer)}
    mixed = sorted(n for n in names if n.startswith("mixed"))
    return mixed[0] if mixed else "float32"


def _output_layer_names(model):
    import keras

    names = set()
    for tensor in keras.tree.flatten(model.outputs):
        history = getattr(tensor, "_keras_history", None)
        if history is not None:
            names.add(history[0].name)
    return names


def with_precision(model, precision):
    """``model`` computing under ``precision``, with the same weights: ``model`` itself if
    it already does, else a functional copy whose layers take ``precision``, except the
    output layers and any layer a mixed model kept in float32 (its classifier), which stay
    float32 as the builders make them. The variables are float32 under every policy, so
    the weights are copied exactly."""
    import keras

    precision = check_precision(precision)
    current = model_precision(model)
    if current == precision:
        return model
    if not isinstance(model, keras.Model) or not hasattr(model, "_run_through_graph"):
        raise ValueError(f"precision {precision!r}: only a functional model can change its "
                         f"precision (this one computes under {current!r})")
    outputs = _output_layer_names(model)
    policies = {layer.name: _policy_name(layer) for layer in model.layers}
    config = model.get_config()
    for entry in config["layers"]:
        if entry.get("class_name") == "InputLayer":
            continue
        name = entry["config"]["name"]
        was = policies.get(name, "float32")
        pinned = name in outputs or (current != "float32" and was == "float32")
        target = "float32" if pinned else precision
        if was != target:
            entry["config"]["dtype"] = keras.dtype_policies.serialize(
                keras.dtype_policies.get(target))
    with precision_policy(precision):
        again = model.__class__.from_config(config)
    again.set_weights(model.get_weights())
    return again


def loss_scaled(optimizer, precision):
    """``optimizer`` wrapped in ``keras.optimizers.LossScaleOptimizer`` for
    ``mixed_float16`` (dynamic loss scaling), as it is otherwise."""
    import keras

    if check_precision(precision) == "mixed_float16" and not isinstance(
            optimizer, keras.optimizers.LossScaleOptimizer):
        return keras.optimizers.LossScaleOptimizer(optimizer)
    return optimizer
