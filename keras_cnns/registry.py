"""The model registry: names, builders and the metadata that travels with each model.

Every registered variant has one :class:`ModelInfo`. A model built through the
registry is named after its entry, so :func:`model_info` finds the metadata from the
model itself (``model.name``); a model the user renamed needs the name passed.
"""

from __future__ import annotations

import dataclasses
import difflib
import fnmatch
from types import MappingProxyType
from typing import Any, Callable, Mapping, Optional, Tuple

__all__ = [
    "Preprocessing",
    "ModelInfo",
    "register_model",
    "available_models",
    "build",
    "model_info",
    "get_builder",
]

IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
IMAGENET_STD_RGB = (0.229, 0.224, 0.225)


@dataclasses.dataclass(frozen=True)
class Preprocessing:
    """How raw uint8 images become the model's input.

    ``x = (pixels * scale - mean) / std`` per channel, in ``color_order``, after
    resizing the shorter side to ``size / crop_fraction`` with ``interpolation`` and
    centre-cropping ``size``. ``grayscale`` averages RGB to one channel first.

    ``mode`` names the convention for readers: ``"caffe"`` (BGR, mean subtraction,
    0-255), ``"torch"`` (RGB, 0-1, ImageNet mean/std), ``"tf"`` (RGB, -1..1) or
    ``"unit"`` (0-1).
    """

    mode: str
    mean: Tuple[float, ...] = (0.0, 0.0, 0.0)
    std: Tuple[float, ...] = (1.0, 1.0, 1.0)
    scale: float = 1.0
    color_order: str = "RGB"
    crop_fraction: float = 0.875
    interpolation: str = "bilinear"
    grayscale: bool = False

    def __post_init__(self):
        if self.color_order not in ("RGB", "BGR"):
            raise ValueError(f"color_order must be 'RGB' or 'BGR', got {self.color_order!r}")
        if not 0.0 < self.crop_fraction <= 1.0:
            raise ValueError(f"crop_fraction must be in (0, 1], got {self.crop_fraction!r}")


def caffe_preprocessing(mean_bgr=(104.0, 117.0, 123.0), crop_fraction=224 / 256):
    """Caffe's convention: BGR, 0-255, per-channel mean subtracted."""
    return Preprocessing(mode="caffe", mean=tuple(mean_bgr), color_order="BGR",
                         crop_fraction=crop_fraction)


def torch_preprocessing(crop_fraction=224 / 256, interpolation="bilinear"):
    """torchvision's convention: RGB scaled to [0, 1], ImageNet mean and std."""
    return Preprocessing(mode="torch", mean=IMAGENET_MEAN_RGB, std=IMAGENET_STD_RGB,
                         scale=1.0 / 255.0, crop_fraction=crop_fraction,
                         interpolation=interpolation)


def tf_preprocessing(crop_fraction=0.875):
    """Inception's convention: RGB scaled to [-1, 1]."""
    return Preprocessing(mode="tf", mean=(1.0, 1.0, 1.0), scale=2.0 / 255.0,
                         crop_fraction=crop_fraction)


@dataclasses.dataclass(frozen=True)
class ModelInfo:
    """Metadata for one registered variant, at its default configuration.

    ``params`` is Keras' ``count_params()`` of the default build (BN moving statistics
    included); ``params_with_aux`` the same with every aux head; ``trainable_params``
    the trainable count (comparable with torchvision's ``num_params``). ``macs`` counts
    convolution and dense multiply-adds at ``default_input_shape``. ``reported`` holds
    the paper's error figures in percent. ``end_points`` names every layer a user may
    tap (TF-Slim style); ``stage_outputs`` the last output of each resolution stage,
    the default of ``feature_extractor``.
    """

    name: str
    paper: str
    authors: str
    year: int
    arxiv: Optional[str]
    default_input_shape: Tuple[int, int, int]
    min_input_size: int
    params: int
    params_with_aux: Optional[int]
    macs: int
    reported: Mapping[str, float]
    preprocessing: Preprocessing
    family: str = ""
    trainable_params: Optional[int] = None
    aux_loss_weights: Optional[Mapping[str, float]] = None
    default_classes: int = 1000
    layout: str = ""
    end_points: Tuple[str, ...] = ()
    stage_outputs: Tuple[str, ...] = ()
    build_kwargs: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    notes: str = ""

    def __post_init__(self):
        # Frozen all the way down: nobody edits the reference numbers by accident.
        object.__setattr__(self, "reported", MappingProxyType(dict(self.reported)))
        object.__setattr__(self, "build_kwargs", MappingProxyType(dict(self.build_kwargs)))
        if self.aux_loss_weights is not None:
            object.__setattr__(self, "aux_loss_weights",
                               MappingProxyType(dict(self.aux_loss_weights)))

    @property
    def has_aux(self) -> bool:
        return bool(self.aux_loss_weights)

    @property
    def crop_size(self) -> int:
        return int(self.default_input_shape[0])


_REGISTRY: dict = {}


def register_model(info: ModelInfo, builder: Callable[..., Any]) -> ModelInfo:
    """Register ``builder`` under ``info.name``; ``info.build_kwargs`` select the variant."""
    if info.name in _REGISTRY:
        raise ValueError(f"model {info.name!r} is already registered")
    _REGISTRY[info.name] = (info, builder)
    return info


def _ensure_loaded():
    # The model families register themselves on import.
    from keras_cnns import models  # noqa: F401


def available_models(pattern: Optional[str] = None):
    """Sorted registry names, filtered by an fnmatch ``pattern`` (e.g. ``"resnet*"``)."""
    _ensure_loaded()
    if pattern is not None and not isinstance(pattern, str):
        raise TypeError(f"pattern must be a string or None, got {type(pattern).__name__}")
    names = sorted(_REGISTRY)
    if pattern:
        names = [n for n in names if fnmatch.fnmatchcase(n, pattern)]
    return names


def _lookup(name: str):
    _ensure_loaded()
    if not isinstance(name, str):
        raise TypeError(f"model name must be a string, got {type(name).__name__}")
    if name not in _REGISTRY:
        close = difflib.get_close_matches(name, list(_REGISTRY), n=5, cutoff=0.4)
        hint = f"; closest: {', '.join(close)}" if close else ""
        raise ValueError(f"unknown model {name!r}{hint}. "
                         f"See keras_cnns.available_models() for all {len(_REGISTRY)} names.")
    return _REGISTRY[name]


def get_builder(name: str):
    """The builder function and its variant keyword arguments for ``name``."""
    info, builder = _lookup(name)
    return builder, dict(info.build_kwargs)


def build(name: str, **kwargs):
    """Build the registered model ``name``; ``kwargs`` go to its builder.

    >>> model = build("googlenet", aux=True)
    """
    info, builder = _lookup(name)
    merged = dict(info.build_kwargs)
    merged.update(kwargs)
    merged.setdefault("name", name)
    return builder(**merged)


def model_info(name_or_model, name: Optional[str] = None) -> ModelInfo:
    """The :class:`ModelInfo` of a registry name, or of a model (found by ``model.name``).

    A model the user renamed needs ``name=`` to say which entry it is.
    """
    if name is not None:
        return _lookup(name)[0]
    if isinstance(name_or_model, str):
        return _lookup(name_or_model)[0]
    model_name = getattr(name_or_model, "name", None)
    if model_name is None:
        raise TypeError("model_info expects a registry name or a Keras model, got "
                        f"{type(name_or_model).__name__}")
    _ensure_loaded()
    if model_name not in _REGISTRY:
        raise ValueError(f"model {model_name!r} is not a registry name; it was probably "
                         "renamed. Pass the registry name: model_info(model, name='googlenet')")
    return _REGISTRY[model_name][0]
