"""The model registry: names, builders and the metadata that travels with each model.

The registry is a leaf. It reads every family's ``spec.py`` (plain data: see
:mod:`keras_cnns.metadata`) and nothing else, so listing the networks and reading
their metadata loads neither TensorFlow nor Keras; a family's build module is imported
only when one of its networks is built. A model built through the registry is named
after its entry, so :func:`model_info` finds the metadata from the model itself
(``model.name``); a model the user renamed needs the name passed.
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
from typing import Callable, Optional

from keras_cnns import models as _models
from keras_cnns.metadata import (IMAGENET_MEAN_RGB, IMAGENET_STD_RGB, Family, ModelInfo,
                                 Preprocessing, caffe_preprocessing, tf_preprocessing,
                                 torch_preprocessing)
from keras_cnns.validation import check_str

__all__ = [
    "Preprocessing", "ModelInfo", "Family", "register_model", "available_models", "build",
    "model_info", "get_builder", "families", "family_of", "caffe_preprocessing",
    "torch_preprocessing", "tf_preprocessing", "IMAGENET_MEAN_RGB", "IMAGENET_STD_RGB",
]

# name -> (ModelInfo, Family or None, builder callable or None). A declared family's
# builder is resolved on first use; register_model() entries carry theirs.
_ENTRIES: dict = {}
_FAMILIES: dict = {}
_LOADED = False


def _add(info, family, builder):
    if info.name in _ENTRIES:
        raise ValueError(f"model {info.name!r} is already registered")
    _ENTRIES[info.name] = [info, family, builder]


def register_family(family: Family) -> Family:
    """Add a family's declared entries (``spec.FAMILY``)."""
    if family.name in _FAMILIES:
        raise ValueError(f"family {family.name!r} is already registered")
    _FAMILIES[family.name] = family
    for info in family.models:
        _add(info, family, None)
    return family


def register_model(info: ModelInfo, builder: Callable) -> ModelInfo:
    """Register a network of your own: ``builder(**info.build_kwargs, **kwargs)`` builds
    it, and :func:`build`, :func:`model_info` and the tools that read the registry then
    know it by ``info.name``."""
    if not isinstance(info, ModelInfo):
        raise TypeError(f"info must be a ModelInfo, got {type(info).__name__}")
    if not callable(builder):
        raise TypeError(f"builder must be callable, got {type(builder).__name__}")
    _ensure_loaded()
    _add(info, None, builder)
    return info


def _ensure_loaded():
    global _LOADED
    if _LOADED:
        return
    _LOADED = True
    for package in _models.FAMILIES:
        spec = importlib.import_module(f"keras_cnns.models.{package}.spec")
        register_family(spec.FAMILY)


def families():
    """Every declared :class:`Family`, in the order of ``keras_cnns.models.FAMILIES``."""
    _ensure_loaded()
    return tuple(_FAMILIES.values())


def recipe_specs():
    """Every training recipe as data (:class:`~keras_cnns.metadata.RecipeSpec`), by name:
    ``fast`` and those the families declare (``Family.recipes``). No Keras is loaded;
    ``keras_cnns.recipes`` builds its :class:`Recipe` objects from these."""
    from keras_cnns.metadata import FAST_RECIPE

    out = {FAST_RECIPE.name: FAST_RECIPE}
    for family in families():
        for spec in family.recipes:
            if spec.name in out:
                raise ValueError(f"recipe {spec.name!r} is declared twice")
            out[spec.name] = spec
    return dict(sorted(out.items()))


def available_models(pattern: Optional[str] = None):
    """Sorted registry names, filtered by an fnmatch ``pattern`` (e.g. ``"resnet*"``)."""
    _ensure_loaded()
    if pattern is not None:
        check_str("pattern", pattern)
    names = sorted(_ENTRIES)
    if pattern:
        names = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
    return names


def _entry(name):
    _ensure_loaded()
    check_str("model name", name)
    if name not in _ENTRIES:
        close = difflib.get_close_matches(name, list(_ENTRIES), n=5, cutoff=0.4)
        hint = f"; closest: {', '.join(close)}" if close else ""
        raise ValueError(f"unknown model {name!r}{hint}. "
                         f"See keras_cnns.available_models() for all {len(_ENTRIES)} names.")
    return _ENTRIES[name]


def family_of(name) -> Optional[Family]:
    """The :class:`Family` declaring registry entry ``name`` (``None`` for an entry
    added with :func:`register_model`)."""
    return _entry(name)[1]


def get_builder(name: str):
    """The builder function and its variant keyword arguments for ``name``."""
    entry = _entry(name)
    info, family, builder = entry
    if builder is None:
        module = importlib.import_module(family.build_module)
        builder = entry[2] = getattr(module, info.builder)
    return builder, dict(info.build_kwargs)


def build(model: str, /, **kwargs):
    """Build the registered network ``model``; ``kwargs`` go to its builder (including
    ``name=``, the Keras model's name, by default the registry name).

    >>> model = build("googlenet", aux=True)
    """
    builder, merged = get_builder(model)
    merged.update(kwargs)
    merged.setdefault("name", model)
    shape = merged.get("input_shape")
    if merged.get("weights") == "imagenet" and shape is not None and len(shape) == 3 \
            and shape[-1] is not None and shape[-1] != 3:
        # Before building (and long before any download).
        raise ValueError(f"weights='imagenet' needs 3 input channels (the published file "
                         f"was trained on RGB images), got input_shape {tuple(shape)}; pass "
                         "weights=None or an RGB input_shape")
    return builder(**merged)


def model_info(name_or_model, name: Optional[str] = None) -> ModelInfo:
    """The :class:`ModelInfo` of a registry name, or of a model (found by ``model.name``).

    A model the user renamed needs ``name=`` to say which entry it is.
    """
    if name is not None:
        return _entry(name)[0]
    if isinstance(name_or_model, str):
        return _entry(name_or_model)[0]
    model_name = getattr(name_or_model, "name", None)
    if not isinstance(model_name, str):
        raise TypeError("model_info expects a registry name or a Keras model, got "
                        f"{type(name_or_model).__name__}")
    _ensure_loaded()
    if model_name not in _ENTRIES:
        raise ValueError(f"model {model_name!r} is not a registry name; it was probably "
                         "renamed. Pass the registry name: model_info(model, name='googlenet')")
    return _ENTRIES[model_name][0]
