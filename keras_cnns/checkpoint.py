"""What a checkpoint knows about itself: class names, registry name, input size and
preprocessing, stored in the ``.keras`` file (see :class:`keras_cnns.layers.MetadataModel`).

``keras-cnns train`` calls :func:`attach_run_metadata` on the model it builds, so
``best.keras`` / ``last.keras`` copied alone still predict with their class names.
:func:`read_run_metadata` gives what is stored, and with ``resolve=True`` fills the
gaps: the registry entry's preprocessing for a model named after it, and the ImageNet
class names for a 1,000-class model without stored names (``weights="imagenet"``,
converted torchvision weights).
"""

from __future__ import annotations

import dataclasses

__all__ = ["attach_run_metadata", "read_run_metadata", "METADATA_VERSION"]

METADATA_VERSION = 1
IMAGENET_CLASSES = 1000


def _classes(model):
    from keras_cnns import heads

    return int(heads.inference_model(model).outputs[0].shape[-1])


def _preprocessing_dict(p):
    from keras_cnns.metadata import Preprocessing

    if isinstance(p, Preprocessing):
        return {k: (list(v) if isinstance(v, tuple) else v)
                for k, v in dataclasses.asdict(p).items()}
    if isinstance(p, dict):
        return _preprocessing_dict(Preprocessing(**{k: tuple(v) if isinstance(v, list) else v
                                                    for k, v in p.items()}))
    raise TypeError(f"preprocessing must be a keras_cnns.Preprocessing or a dict, got "
                    f"{type(p).__name__}")


def _registry_info(name):
    from keras_cnns import registry

    try:
        return registry.model_info(name)
    except (TypeError, ValueError):
        return None


def attach_run_metadata(model, class_names=None, name=None, preprocessing=None, **extra):
    """``model`` as a :class:`~keras_cnns.layers.MetadataModel` carrying its class names,
    registry ``name`` (default: ``model.name`` if it is one), input size and
    ``preprocessing`` (default: the registry entry's); ``extra`` JSON-safe items (the
    dataset, say) are stored too.

    Returns a new model sharing the layers and weights (call it before ``compile``), or
    ``model`` itself, updated, if it already is a ``MetadataModel``. Raises ValueError
    when ``class_names`` does not match the number of outputs.
    """
    import keras

    from keras_cnns import __version__
    from keras_cnns.layers import MetadataModel

    if not isinstance(model, keras.Model):
        raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
    classes = _classes(model)
    if class_names is not None:
        if isinstance(class_names, str) or not all(isinstance(c, str) for c in class_names):
            raise TypeError("class_names must be a list of strings")
        class_names = list(class_names)
        if len(class_names) != classes:
            raise ValueError(f"class_names has {len(class_names)} names but the model has "
                             f"{classes} outputs")
    name = name if name is not None else (model.name if _registry_info(model.name) else None)
    info = _registry_info(name) if name is not None else None
    if name is not None and info is None:
        raise ValueError(f"name {name!r} is not a registry name")
    if preprocessing is None and info is not None:
        preprocessing = info.preprocessing
    record = {"version": METADATA_VERSION, "keras_cnns": __version__, "name": name,
              "class_names": class_names,
              "input_shape": [d if d is None else int(d) for d in model.inputs[0].shape[1:]],
              "preprocessing": None if preprocessing is None else _preprocessing_dict(preprocessing)}
    record.update(extra)
    if isinstance(model, MetadataModel):
        model.run_metadata = record
        return model
    return MetadataModel(model.input, model.output, name=model.name, run_metadata=record)


def read_run_metadata(model, resolve=True):
    """The metadata ``model`` carries (a dict, or ``None`` without any).

    ``resolve=True`` always returns a complete dict: ``name`` (the stored one, else
    ``model.name`` if it is a registry name, else ``None``), ``class_names`` (stored;
    else the ImageNet names for 1,000 outputs; else ``None``), ``input_shape``,
    ``preprocessing`` (a :class:`~keras_cnns.Preprocessing`, or ``None`` when unknown)
    and ``label_source`` (``"checkpoint"``, ``"imagenet"`` or ``None``).
    """
    from keras_cnns.metadata import Preprocessing

    stored = getattr(model, "run_metadata", None)
    stored = dict(stored) if isinstance(stored, dict) else None
    if not resolve:
        return stored
    out = dict(stored or {})
    name = out.get("name")
    if name is None and _registry_info(model.name) is not None:
        name = model.name
    out["name"] = name
    out.setdefault("input_shape", [d if d is None else int(d) for d in model.inputs[0].shape[1:]])
    p = out.get("preprocessing")
    if p is not None:
        p = Preprocessing(**{k: tuple(v) if isinstance(v, list) else v for k, v in p.items()})
    elif name is not None:
        p = _registry_info(name).preprocessing
    out["preprocessing"] = p
    names = out.get("class_names")
    source = "checkpoint" if names else None
    if not names and _classes(model) == IMAGENET_CLASSES:
        from keras_cnns.weights.labels import imagenet_classes

        names = [c[1] for c in imagenet_classes()]
        source = "imagenet"
    out["class_names"] = list(names) if names else None
    out["label_source"] = source
    return out
