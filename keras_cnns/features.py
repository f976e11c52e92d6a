"""Reuse a network as a backbone: named end points, a new classifier, frozen BN."""

import keras

from keras_cnns import registry
from keras_cnns.heads import MAIN, output_keys


def _end_point_names(model, info):
    if info is not None and info.end_points:
        return list(info.end_points)
    return [layer.name for layer in model.layers]


def feature_extractor(model_or_name, end_points=None, name=None, **build_kwargs):
    """A model whose outputs are the dict ``{end_point: tensor}``.

    ``model_or_name`` is a built model or a registry name (built headless with
    ``include_top=False`` unless ``build_kwargs`` say otherwise). ``end_points``
    defaults to each resolution stage's last output (``ModelInfo.stage_outputs``);
    ``model_info(name).end_points`` lists every one a family names.
    """
    info = None
    if isinstance(model_or_name, str):
        build_kwargs.setdefault("include_top", False)
        model = registry.build(model_or_name, **build_kwargs)
        info = registry.model_info(model_or_name)
    elif isinstance(model_or_name, keras.Model):
        if build_kwargs:
            raise TypeError("build keyword arguments apply to a registry name, not a built model")
        model = model_or_name
        try:
            info = registry.model_info(model, name=name)
        except ValueError:
            info = None
    else:
        raise TypeError("model_or_name must be a keras.Model or a registry name, got "
                        f"{type(model_or_name).__name__}")
    if end_points is None:
        if info is None or not info.stage_outputs:
            raise ValueError(f"model {model.name!r} has no registry entry to take default end "
                             "points from; pass end_points=[...] (layer names) or name=")
        end_points = info.stage_outputs
    if isinstance(end_points, str):
        end_points = [end_points]
    layer_names = {layer.name for layer in model.layers}
    missing = [e for e in end_points if e not in layer_names]
    if missing:
        valid = [e for e in _end_point_names(model, info) if e in layer_names]
        raise ValueError(f"unknown end point(s) {missing} for {model.name!r}; valid end points: "
                         f"{', '.join(valid)}")
    outputs = {e: model.get_layer(e).output for e in end_points}
    return keras.Model(model.inputs, outputs, name=f"{model.name}_features")


def replace_classifier(model, classes, classifier_activation="softmax"):
    """The same network with fresh classifiers of ``classes`` outputs (every head of an
    aux model), sharing all other weights: fine-tuning on a new label set."""
    if isinstance(classes, bool) or not isinstance(classes, int):
        raise TypeError(f"classes must be an int, got {type(classes).__name__}")
    if classes < 1:
        raise ValueError(f"classes must be >= 1, got {classes}")
    keys = output_keys(model)
    heads = {k: ("predictions" if k == MAIN else k) for k in keys} if keys else {None: "predictions"}
    names = {layer.name for layer in model.layers}
    if any(h not in names for h in heads.values()):
        raise ValueError(f"model {model.name!r} has no 'predictions' layer; build it with "
                         "include_top=True")
    from keras_cnns.models.common import classifier

    new = {}
    for key, head in heads.items():
        features = model.get_layer(head).input
        new[key] = classifier(features, classes, classifier_activation, name=head)
    outputs = new if keys else new[None]
    return keras.Model(model.inputs, outputs, name=model.name)


def freeze_batch_norm(model):
    """Freeze every BatchNormalization layer (scale, offset and moving statistics): in
    Keras 3 a non-trainable BN also normalises with its moving statistics during
    training, which fine-tuning on small batches wants. Recompile afterwards.
    Returns the number of layers frozen."""
    count = 0
    for layer in model._flatten_layers(include_self=False):
        if isinstance(layer, keras.layers.BatchNormalization):
            layer.trainable = False
            count += 1
    return count
