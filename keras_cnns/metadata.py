"""What the package knows about each network, as plain data (no TensorFlow, no Keras).

Every family package ``keras_cnns/models/<family>/`` has a ``spec.py`` that declares one
:class:`Family`: its registry entries (:class:`ModelInfo`, with preprocessing, reference
counts, pretrained files and the torchvision layout), the paper's table for the docs,
errata, recipes, the tuning search space and the torchvision tensor mapping. The
registry, the docs tool, the tuner, the data pipelines, the recipes and the weight
converters read these declarations and name no family themselves (timm's
``default_cfgs``, torchvision's ``Weights`` enums).
"""

from __future__ import annotations

import dataclasses
from types import MappingProxyType
from typing import Any, Callable, Mapping, NamedTuple, Optional, Tuple, Union

__all__ = [
    "Preprocessing", "caffe_preprocessing", "torch_preprocessing", "tf_preprocessing",
    "cifar10_preprocessing",
    "IMAGENET_MEAN_RGB", "IMAGENET_STD_RGB",
    "WeightFile", "KerasWeights", "keras_applications_weights",
    "TorchvisionArch", "TorchMap",
    "ModelInfo",
    "Probe", "Check", "PaperRow", "PaperTable", "Erratum",
    "Choice", "SearchSpace", "DROPOUTS", "WIDTH_FRACTIONS", "width_choices", "dropout_choice",
    "RecipeSpec", "OPTIMIZERS", "SCHEDULES", "WEIGHT_DECAY_MODES", "AVERAGING",
    "Family",
]

IMAGENET_MEAN_RGB = (0.485, 0.456, 0.406)
IMAGENET_STD_RGB = (0.229, 0.224, 0.225)


def _frozen(mapping):
    return MappingProxyType(dict(mapping))


# --------------------------------------------------------------------------- inputs

@dataclasses.dataclass(frozen=True)
class Preprocessing:
    """How raw uint8 images become the model's input.

    ``x = (pixels * scale - mean) / std`` per channel, in ``color_order``, after
    resizing the shorter side to ``size / crop_fraction`` with ``interpolation`` and
    centre-cropping ``size``. ``grayscale`` averages RGB to one channel first.

    ``mode`` names the convention for readers: ``"caffe"`` (BGR, mean subtraction,
    0-255), ``"torch"`` (RGB, 0-1, ImageNet mean/std), ``"tf"`` (RGB, -1..1),
    ``"unit"`` (0-1) or a paper's own (``"lenet"``).
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


def cifar10_preprocessing():
    """fb.resnet.torch's CIFAR-10 normalisation: the training set's per-channel mean and
    std (125.3, 123.0, 113.9 and 63.0, 62.1, 66.7 in 0-255), which the Stochastic Depth,
    WRN and DenseNet authors' code reuse. No crop: the network sees the whole 32x32."""
    return Preprocessing(mode="torch", mean=(125.3 / 255, 123.0 / 255, 113.9 / 255),
                         std=(63.0 / 255, 62.1 / 255, 66.7 / 255), scale=1 / 255,
                         crop_fraction=1.0)


# --------------------------------------------------------------------------- weights

KERAS_APPLICATIONS_URL = "https://storage.googleapis.com/tensorflow/keras-applications/"


@dataclasses.dataclass(frozen=True)
class WeightFile:
    """One published file: its cache file name, download URL and MD5 hash."""

    fname: str
    origin: str
    file_hash: str


@dataclasses.dataclass(frozen=True)
class KerasWeights:
    """keras.applications' published ImageNet pair: with the top and without."""

    top: WeightFile
    notop: WeightFile

    def file(self, include_top):
        return self.top if include_top else self.notop


def keras_applications_weights(subdir, stem, top_hash, notop_hash):
    """The pair keras.applications publishes under ``{subdir}/{stem}_weights_tf_dim_
    ordering_tf_kernels[_notop].h5`` (names and MD5s as in keras/src/applications)."""
    fname = f"{stem}_weights_tf_dim_ordering_tf_kernels.h5"
    notop = f"{stem}_weights_tf_dim_ordering_tf_kernels_notop.h5"
    return KerasWeights(
        WeightFile(fname, f"{KERAS_APPLICATIONS_URL}{subdir}/{fname}", top_hash),
        WeightFile(notop, f"{KERAS_APPLICATIONS_URL}{subdir}/{notop}", notop_hash))


@dataclasses.dataclass(frozen=True)
class TorchvisionArch:
    """The torchvision architecture a registry entry reproduces tensor for tensor.

    ``name`` is torchvision's (``"resnet50"``); ``classifier`` the state-dict key of the
    classifier's weight (its rows give the class count); ``bn_epsilon`` torch's BN
    epsilon, set on the converted model's BN layers (``None``: no BN); ``conv_bias``
    whether torch's convolutions carry biases; ``crop`` / ``resize`` the published
    weights' evaluation transform; ``transform_input`` torchvision's flag that turns
    its ImageNet-normalised input back into ``[-1, 1]`` RGB (GoogLeNet, Inception v3);
    ``legacy_keys`` ``(pattern, replacement)`` regex pairs that rename the published
    files' older state-dict keys to the current module names before mapping.
    """

    name: str
    classifier: str
    bn_epsilon: Optional[float]
    conv_bias: bool = False
    crop: int = 224
    resize: int = 256
    transform_input: bool = False
    legacy_keys: Tuple[Tuple[str, str], ...] = ()


class TorchMap(NamedTuple):
    """One torch module feeding one keras layer. ``kind`` is ``"conv"``, ``"bn"`` or
    ``"dense"``; ``flatten`` names the Flatten layer whose CHW input a dense layer reads
    (its rows are permuted to HWC)."""

    torch: str
    keras: str
    kind: str
    flatten: Optional[str] = None


# --------------------------------------------------------------------------- entries

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

    ``builder`` names the function of the family's build module that builds the entry
    with ``build_kwargs``; ``recipe`` the paper recipe (``--recipe paper``), ``augment``
    the training augmentation preset, ``imagenet_weights`` keras.applications'
    published files and ``torchvision`` the torchvision architecture whose checkpoints
    load into it.
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
    builder: str = ""
    recipe: Optional[str] = None
    augment: str = "resnet"
    imagenet_weights: Optional[KerasWeights] = None
    torchvision: Optional[TorchvisionArch] = None
    macs_with_aux: Optional[int] = None
    last_channels: Optional[int] = None

    def __post_init__(self):
        # Frozen all the way down: nobody edits the reference numbers by accident.
        object.__setattr__(self, "reported", _frozen(self.reported))
        object.__setattr__(self, "build_kwargs", _frozen(self.build_kwargs))
        if self.aux_loss_weights is not None:
            object.__setattr__(self, "aux_loss_weights", _frozen(self.aux_loss_weights))
        object.__setattr__(self, "end_points", tuple(self.end_points))
        object.__setattr__(self, "stage_outputs", tuple(self.stage_outputs))

    @property
    def has_aux(self) -> bool:
        return bool(self.aux_loss_weights)

    @property
    def crop_size(self) -> int:
        return int(self.default_input_shape[0])

    @property
    def pretrained(self) -> Tuple[str, ...]:
        """Where published weights come from: ``"keras.applications"``, ``"torchvision"``."""
        out = []
        if self.imagenet_weights is not None:
            out.append("keras.applications")
        if self.torchvision is not None:
            out.append(f"torchvision:{self.torchvision.name}")
        return tuple(out)

    def replace(self, **changes):
        return dataclasses.replace(self, **changes)


# --------------------------------------------------------------------------- the paper's table

PROBE_KINDS = ("channels", "kernel", "grid", "units", "exists", "count")


@dataclasses.dataclass(frozen=True)
class Probe:
    """Something the docs tool reads off the built model.

    - ``"channels"``: the last axis of the first existing layer's output;
    - ``"kernel"``: the first existing layer's kernel height;
    - ``"grid"``: the first existing layer's output height;
    - ``"units"``: a Dense layer's units;
    - ``"exists"``: 1 if any of the layers exists, else 0;
    - ``"count"``: how many distinct values the regex ``layers[0]``'s first group takes
      over the layer names (``r"conv2_block(\\d+)_out"`` counts conv2_x's blocks).
    """

    kind: str
    layers: Tuple[str, ...]

    def __post_init__(self):
        if self.kind not in PROBE_KINDS:
            raise ValueError(f"kind must be one of {PROBE_KINDS}, got {self.kind!r}")
        object.__setattr__(self, "layers", tuple(self.layers))


@dataclasses.dataclass(frozen=True)
class Check:
    """The paper says ``probe`` reads ``expected``; ``what`` names it where it differs."""

    probe: Probe
    expected: Any
    what: str = ""


@dataclasses.dataclass(frozen=True)
class PaperRow:
    """One row: its ``cells`` (text, or a :class:`Probe` whose measured value is shown)
    and the ``checks`` that decide the last column, "build agrees"."""

    cells: Tuple[Union[str, Probe], ...]
    checks: Tuple[Check, ...] = ()


@dataclasses.dataclass(frozen=True)
class PaperTable:
    title: str
    header: Tuple[str, ...]   # the columns of ``cells``; "build agrees" is appended
    rows: Tuple[PaperRow, ...]


@dataclasses.dataclass(frozen=True)
class Erratum:
    """A difference from the paper, or a mistake of the course material, for the docs.

    ``models``: the registry names it concerns (``None``: every entry of the family).
    ``text`` may hold ``{activations:,}`` / ``{activation_mb:.0f}`` (the built model's
    forward activations, CS231n's count) which the docs tool fills in."""

    text: str
    models: Optional[Tuple[str, ...]] = None

    def applies(self, name):
        return self.models is None or name in self.models


# --------------------------------------------------------------------------- tuning

# Widths as fractions of the paper's (narrower nets train faster; wider ones rarely help
# on small data), and the dropout rates offered wherever a network has dropout.
WIDTH_FRACTIONS = (0.25, 0.5, 1.0)
DROPOUTS = (0.0, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


@dataclasses.dataclass(frozen=True)
class Choice:
    """One hyperparameter: ``name``, the ``values`` offered, the paper's ``default`` and
    the builder keyword argument it feeds (``kwarg``)."""

    name: str
    values: Tuple[Any, ...]
    default: Any
    kwarg: str

    def __post_init__(self):
        if self.default not in self.values:
            raise ValueError(f"{self.name}: default {self.default!r} not in {self.values}")

    def declare(self, hp):
        """Register on a ``keras_tuner.HyperParameters`` and return the current value."""
        return hp.Choice(self.name, list(self.values), default=self.default,
                         ordered=all(isinstance(v, (int, float)) for v in self.values))


@dataclasses.dataclass(frozen=True)
class SearchSpace:
    """A family's tuning space: ``rows(info)`` lists the :class:`Choice` rows for one
    registry entry, ``to_kwargs(info, values)`` maps picked values to builder kwargs.
    Every row's default is the paper's value, so the default trial is the paper's net."""

    description: str
    rows: Callable[[ModelInfo], Tuple[Choice, ...]]
    to_kwargs: Callable[[ModelInfo, dict], dict]


def width_choices(base, fractions=WIDTH_FRACTIONS, multiple=1):
    """``base`` times each fraction, rounded to a ``multiple`` (>= ``multiple``), and
    ``base`` itself, sorted."""
    out = []
    for f in fractions:
        w = max(multiple, int(round(base * f / multiple)) * multiple)
        if w not in out:
            out.append(w)
    if base not in out:
        out.append(base)
    return tuple(sorted(out))


def dropout_choice(default, name="dropout", kwarg="dropout", values=DROPOUTS):
    """The dropout rates offered, the paper's ``default`` among them."""
    return Choice(name, tuple(sorted(set(values) | {default})), default, kwarg)


# --------------------------------------------------------------------------- recipes

OPTIMIZERS = ("sgd", "rmsprop", "adam")
SCHEDULES = ("constant", "step", "multistep", "plateau")
WEIGHT_DECAY_MODES = ("l2", "decoupled")
AVERAGING = (None, "polyak", "ema")


@dataclasses.dataclass(frozen=True)
class RecipeSpec:
    """How a paper trained its network, as data (``keras_cnns.training.recipes.Recipe``
    adds the methods that build Keras objects from it).

    ``learning_rate`` is the initial rate, ``schedule`` one of ``"constant"``,
    ``"step"`` (``schedule_args``: ``rate``, ``every_epochs``), ``"multistep"``
    (``boundaries``, the epochs at which the rate is multiplied by ``factor``; optional
    ``warmup_epochs`` at ``warmup_factor`` times the rate first) or ``"plateau"``
    (``factor``, ``patience``, ``max_drops``, ``monitor``). ``weight_decay`` is the
    papers' coefficient: with ``weight_decay_mode="l2"`` (default) the gradient of
    each kernel gains ``weight_decay * W``; ``"decoupled"`` uses Keras' optimiser
    ``weight_decay`` (on kernels only). ``batch_size`` is the global batch.
    ``aux_loss_weights=None`` takes them from the model's registry entry.
    ``averaging``: ``None``, ``"polyak"`` or ``"ema"`` (both Keras ``use_ema`` with
    ``ema_momentum``; the final weights are the average).
    """

    name: str
    paper: str
    section: str
    optimizer: str
    learning_rate: float
    optimizer_args: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    schedule: str = "constant"
    schedule_args: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    weight_decay: float = 0.0
    weight_decay_mode: str = "l2"
    batch_size: int = 64
    epochs: int = 10
    initializer: Optional[str] = None
    initializer_args: Mapping[str, Any] = dataclasses.field(default_factory=dict)
    loss: str = "sparse_categorical_crossentropy"
    label_smoothing: float = 0.0
    aux_loss_weights: Optional[Mapping[str, float]] = None
    augment: str = "auto"
    eval_scheme: str = "center"
    averaging: Optional[str] = None
    ema_momentum: float = 0.9999
    notes: str = ""

    def __post_init__(self):
        for f in ("optimizer_args", "schedule_args", "initializer_args"):
            object.__setattr__(self, f, _frozen(getattr(self, f)))
        if self.aux_loss_weights is not None:
            object.__setattr__(self, "aux_loss_weights", _frozen(self.aux_loss_weights))
        for arg, allowed in (("optimizer", OPTIMIZERS), ("schedule", SCHEDULES),
                             ("weight_decay_mode", WEIGHT_DECAY_MODES),
                             ("averaging", AVERAGING)):
            if getattr(self, arg) not in allowed:
                raise ValueError(f"{arg} must be one of {allowed}, got {getattr(self, arg)!r}")

    def fields(self):
        """The field values, for building a subclass from this spec."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(RecipeSpec)}

    def schedule_summary(self):
        """The schedule in words, from ``schedule`` and ``schedule_args``."""
        a = self.schedule_args
        if self.schedule == "step":
            return f"x{a['rate']:g} every {a['every_epochs']:g} epochs"
        if self.schedule == "multistep":
            text = f"x{a['factor']:g} at epochs {', '.join(f'{b:g}' for b in a['boundaries'])}"
            if a.get("warmup_epochs"):
                text = (f"x{a.get('warmup_factor', 0.1):g} for the first "
                        f"{a['warmup_epochs']:g} epochs, then " + text)
            return text
        if self.schedule == "plateau":
            return (f"x{a['factor']:g} when {a.get('monitor', 'val_loss')} stalls "
                    f"{a['patience']:g} epochs, at most {a['max_drops']:g} times")
        return "constant"

    def summary(self):
        """One line of the numbers a run uses (the help text of ``--recipe``)."""
        return (f"{self.optimizer} lr {self.learning_rate:g}, {self.schedule_summary()}, "
                f"batch {self.batch_size}, {self.epochs} epochs")


#: The recipe no paper declares (the families declare theirs: ``Family.recipes``), as
#: data here so that the CLI's help reads it without Keras.
FAST_RECIPE = RecipeSpec(
    name="fast",
    paper="(none: a short recipe for small data sets)",
    section="Adam (Kingma & Ba 2014); label smoothing as in Inception v3 section 7",
    optimizer="adam", learning_rate=2e-3,
    schedule="step", schedule_args={"rate": 0.5, "every_epochs": 6},
    weight_decay=0.0, batch_size=32, epochs=30, label_smoothing=0.1,
    augment="lenet", eval_scheme="center",
    notes="Adam 2e-3 halved every 6 epochs, label smoothing 0.1, no weight decay, "
          "LeNet's distortions (small random shifts and scalings, augment 'lenet'), "
          "30 epochs of 32: under a minute on 2 CPU cores for the digits, where "
          "LeNet-5 reaches 98.3-98.6 % held out (seeds 0, 1). Without the "
          "distortions it plateaus at 96.9-97.2 % (train accuracy 100 %).")


# --------------------------------------------------------------------------- the family

@dataclasses.dataclass(frozen=True)
class Family:
    """Everything about one family of networks, declared beside its builder.

    ``build_module`` is imported only when a model is built; ``builders`` are its
    public functions (exported as ``keras_cnns.<Builder>``). ``paper_table(info)``
    gives the paper's table as the docs show it beside the build (or ``None``);
    ``torchvision_mapping(model, info)`` lists the :class:`TorchMap` rows of a built
    model whose entry has a ``torchvision`` layout. ``recipes`` are the paper recipes
    this family's papers define (entries name theirs in ``ModelInfo.recipe``).
    """

    name: str
    title: str
    build_module: str
    builders: Tuple[str, ...]
    models: Tuple[ModelInfo, ...]
    paper_table: Optional[Callable[[ModelInfo], Optional[PaperTable]]] = None
    errata: Tuple[Erratum, ...] = ()
    search_space: Optional[SearchSpace] = None
    torchvision_mapping: Optional[Callable[[Any, ModelInfo], Tuple[TorchMap, ...]]] = None
    recipes: Tuple[RecipeSpec, ...] = ()

    def __post_init__(self):
        object.__setattr__(self, "models", tuple(self.models))
        for info in self.models:
            if not info.builder or info.builder not in self.builders:
                raise ValueError(f"{self.name}: entry {info.name!r} names builder "
                                 f"{info.builder!r}, not one of {self.builders}")
            if info.torchvision is not None and self.torchvision_mapping is None:
                raise ValueError(f"{self.name}: entry {info.name!r} has a torchvision layout "
                                 "but the family declares no torchvision_mapping")
