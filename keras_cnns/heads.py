"""Multi-output (aux-head) models: loss weights, the main-head model, label fan-out."""

import keras

from keras_cnns import registry

MAIN = "main"


def output_keys(model):
    """The output dict's keys of an aux model, or ``None`` for a single-output model."""
    if isinstance(model.output, dict):
        return list(model.output)
    return None


def has_aux(model):
    keys = output_keys(model)
    return bool(keys) and len(keys) > 1


def aux_loss_weights(model, name=None):
    """``loss_weights`` for ``compile``: ``{"main": 1.0, "aux1": 0.3, "aux2": 0.3}`` for
    GoogLeNet (section 5), ``{"main": 1.0, "aux": 0.4}`` for Inception v3 (TF-Slim).

    The weights come from the model's registry entry (found by ``model.name``, or
    ``name=`` for a renamed model), restricted to the model's actual outputs.
    """
    keys = output_keys(model)
    if not keys:
        raise ValueError(f"model {model.name!r} has a single output; aux loss weights apply "
                         "to models built with aux=True")
    info = registry.model_info(model, name=name)
    if not info.aux_loss_weights:
        raise ValueError(f"model {info.name!r} has no aux heads in its registry entry")
    missing = [k for k in keys if k not in info.aux_loss_weights]
    if missing:
        raise ValueError(f"outputs {missing} of {model.name!r} have no loss weight; "
                         f"known: {sorted(info.aux_loss_weights)}")
    return {k: float(info.aux_loss_weights[k]) for k in keys}


def inference_model(model):
    """The single-output model of the main head, sharing the weights (aux heads dropped).

    A single-output model is returned as it is.
    """
    keys = output_keys(model)
    if not keys:
        return model
    if MAIN not in keys:
        raise ValueError(f"model {model.name!r} has outputs {keys} but no {MAIN!r} head")
    return keras.Model(model.inputs, model.output[MAIN], name=model.name)


def fan_out_labels(keys):
    """A ``tf.data`` map function ``(x, y) -> (x, {key: y for key in keys})``.

    ``dataset.map(fan_out_labels(model))`` feeds every head of an aux model the same
    label; ``keys`` may be the model itself.
    """
    if isinstance(keys, keras.Model):
        keys = output_keys(keys) or []
    keys = tuple(keys)
    if not keys:
        raise ValueError("fan_out_labels needs an aux model or a list of output names")

    def fan_out(x, y, *rest):
        return (x, {k: y for k in keys}, *rest)

    return fan_out


def is_softmax(tensor_or_model):
    """Whether a model's (single) output, or a Keras tensor, is a softmax: the layer that
    produced it is a ``Softmax`` or has ``activation="softmax"``. Otherwise the head
    gives logits (``classifier_activation=None``), and losses, metrics, evaluation and
    export must apply the softmax themselves."""
    tensor = tensor_or_model
    if isinstance(tensor_or_model, keras.Model):
        outputs = tensor_or_model.outputs
        if len(outputs) != 1:
            raise ValueError(f"model {tensor_or_model.name!r} has {len(outputs)} outputs; pass "
                             "one output tensor (or inference_model(model))")
        tensor = outputs[0]
    history = getattr(tensor, "_keras_history", None)
    layer = getattr(history, "operation", None)
    if isinstance(layer, keras.layers.Softmax):
        return True
    act = getattr(layer, "activation", None)
    return getattr(act, "__name__", None) == "softmax"
