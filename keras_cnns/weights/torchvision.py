"""torchvision checkpoints into the matching registry models, tensor for tensor.

:func:`from_torchvision` builds (or takes) the registry model whose layout is the
torchvision architecture's and loads a torchvision state dict into it. The mapping is
data: one function per family lists ``(torch module, keras layer, kind)`` rows
(:class:`Spec`) derived from the family's own tables or the built model's layer names;
one expander turns a row into tensors with their layout changes:

- convolution kernels OIHW -> HWIO (grouped convolutions too: ``(O, I/g, H, W)`` ->
  ``(H, W, I/g, O)``); a keras bias the torch layer lacks is set to zero;
- ``nn.Linear`` weights ``(out, in)`` -> ``(in, out)``; the first FC after a flatten of a
  ``C x H x W`` map has its rows permuted from torch's CHW order to Keras' HWC order
  (a 256x6x6 or 512x7x7 map before the first FC, GoogLeNet's aux 128x4x4);
- BN ``weight``/``bias``/``running_mean``/``running_var`` -> gamma/beta/moving mean/
  moving variance; ``num_batches_tracked`` is ignored (and reported); BN layers whose
  epsilon differs from torch's are set to torch's (keras.applications' layouts use
  1.001e-5, torch 1e-5), which makes every conversion exact up to
  float rounding.

Every tensor of the model must be fed (else ValueError naming the tensor), every shape
must match (ValueError naming the tensor and both shapes); checkpoint tensors the model
does not use are reported (a warning and :attr:`ConversionReport.unused`), never dropped
silently. Class order is ImageNet's sorted-wnid order in both, so
:func:`keras_cnns.weights.decode_predictions` reads converted outputs.

Checkpoints: ``.pth``/``.pt`` (read by ``torch.load(weights_only=True)``; PyTorch is the
optional ``torch`` extra), ``.safetensors`` (read with numpy alone) or a dict of arrays.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import struct
import warnings
from typing import Callable, Mapping, NamedTuple, Optional, Tuple

import numpy as np

from keras_cnns import registry
from keras_cnns.metadata import TorchMap, TorchvisionArch  # noqa: F401  (re-exported)

__all__ = ["TorchvisionArch", "TorchMap", "Conversion", "TORCHVISION_MODELS", "Spec", "ConversionReport",
           "from_torchvision", "torchvision_mapping", "torchvision_preprocessing",
           "load_state_dict", "read_safetensors"]


Spec = TorchMap  # the row type, as families declare it (keras_cnns.metadata)


def _layer_names(model):
    return {layer.name for layer in model.layers}


# ------------------------------------------------------------------ per-family mappings

# ------------------------------------------------------------------------ the arch table

@dataclasses.dataclass(frozen=True)
class Conversion:
    """One torchvision architecture and the registry model it loads into: the mapping
    (the family's ``torchvision_mapping``), the torch key of its classifier weight (the
    class count is read from it), torch's BN epsilon (None: no BN), whether its
    convolutions have biases (if not, a keras conv bias is set to zero), the published
    evaluation transforms (resize, crop), whether the published weights run with
    ``transform_input=True`` and the renames of the published files' older keys
    (see :class:`keras_cnns.metadata.TorchvisionArch`)."""

    registry_name: str
    specs: Callable
    classifier: str
    bn_epsilon: Optional[float]
    conv_bias: bool = False
    crop: int = 224
    resize: int = 256
    transform_input: bool = False
    legacy_keys: Tuple[Tuple[str, str], ...] = ()


def _arch_table():
    """torchvision name -> :class:`Conversion`: every registry entry that declares a
    ``torchvision`` layout."""
    t = {}
    for name in registry.available_models():
        info, family = registry.model_info(name), registry.family_of(name)
        if info.torchvision is None:
            continue
        fields = dataclasses.asdict(info.torchvision)
        tv = fields.pop("name")
        if tv in t:
            raise ValueError(f"torchvision {tv!r} is claimed by {t[tv].registry_name!r} "
                             f"and {name!r}")
        t[tv] = Conversion(name, family.torchvision_mapping, **fields)
    return t


#: torchvision architecture name -> :class:`TorchvisionArch`.
TORCHVISION_MODELS = _arch_table()
_BY_REGISTRY = {arch.registry_name: (tv, arch) for tv, arch in TORCHVISION_MODELS.items()}


def _resolve_name(name):
    """``(torchvision name, arch)`` of a torchvision name or a target registry name."""
    if name in TORCHVISION_MODELS:
        return name, TORCHVISION_MODELS[name]
    if name in _BY_REGISTRY:
        return _BY_REGISTRY[name]
    raise ValueError(f"no torchvision conversion for {name!r}; allowed: torchvision names "
                     f"{', '.join(sorted(TORCHVISION_MODELS))} or their registry models "
                     f"{', '.join(sorted(_BY_REGISTRY))}")


def _resolve_model(model, name):
    info = registry.model_info(model, name=name)
    if info.name not in _BY_REGISTRY:
        hint = ""
        for tv, arch in TORCHVISION_MODELS.items():
            if tv == info.name:
                hint = f"; torchvision's {tv!r} layout is registry model {arch.registry_name!r}"
        raise ValueError(f"model {info.name!r} has no torchvision layout{hint}. Models that "
                         f"take torchvision checkpoints: {', '.join(sorted(_BY_REGISTRY))}")
    tv, arch = _BY_REGISTRY[info.name]
    return info, tv, arch


# ------------------------------------------------------------------------- checkpoints

_ST_DTYPES = {"F64": "<f8", "F32": "<f4", "F16": "<f2", "I64": "<i8", "I32": "<i4",
              "I16": "<i2", "I8": "i1", "U64": "<u8", "U32": "<u4", "U16": "<u2", "U8": "u1",
              "BOOL": "?", "BF16": "<u2"}


def read_safetensors(path):
    """A ``.safetensors`` file as ``{name: numpy array}``, read with numpy alone.

    Format: an 8-byte little-endian header length, a JSON header ``{name: {"dtype",
    "shape", "data_offsets": [begin, end]}}`` (offsets into the data after the header),
    then the raw little-endian data. BF16 becomes float32 (exactly).
    """
    path = os.fspath(path)
    size = os.path.getsize(path)
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise ValueError(f"{path!r} is not a safetensors file: shorter than 8 bytes")
        (n,) = struct.unpack("<Q", head)
        if n > size - 8:
            raise ValueError(f"{path!r} is not a safetensors file: header length {n} exceeds "
                             f"the file ({size} bytes)")
        try:
            header = json.loads(f.read(n).decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise ValueError(f"{path!r} is not a safetensors file: bad JSON header "
                             f"({err})") from None
        if not isinstance(header, dict):
            raise ValueError(f"{path!r} is not a safetensors file: the header is not an object")
        data_size = size - 8 - n
        out = {}
        for key, meta in header.items():
            if key == "__metadata__":
                continue
            try:
                dtype, shape, (begin, end) = meta["dtype"], meta["shape"], meta["data_offsets"]
            except (KeyError, TypeError, ValueError):
                raise ValueError(f"safetensors tensor {key!r}: malformed header entry "
                                 f"{meta!r}") from None
            if dtype not in _ST_DTYPES:
                raise ValueError(f"safetensors tensor {key!r}: unsupported dtype {dtype!r}; "
                                 f"allowed: {', '.join(_ST_DTYPES)}")
            np_dtype = np.dtype(_ST_DTYPES[dtype])
            count = int(np.prod(shape, dtype=np.int64)) if shape else 1
            if not 0 <= begin <= end <= data_size or end - begin != count * np_dtype.itemsize:
                raise ValueError(f"safetensors tensor {key!r}: data offsets [{begin}, {end}] "
                                 f"do not hold {dtype} {list(shape)}")
            f.seek(8 + n + begin)
            arr = np.frombuffer(f.read(end - begin), dtype=np_dtype)
            if dtype == "BF16":  # the high half of a float32
                arr = (arr.astype(np.uint32) << 16).view(np.float32)
            out[key] = arr.reshape(shape)
    return out


def _read_pth(path):
    try:
        import torch
    except ImportError as err:
        raise ImportError(f"reading {os.fspath(path)!r} needs PyTorch: pip install "
                          "'keras-cnns[torch]' (or pass a .safetensors file)") from err
    path = os.fspath(path)
    if os.path.getsize(path) == 0:
        raise ValueError(f"{path!r} is not a PyTorch checkpoint: the file is empty")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # pickle, zip and EOF errors of a garbage file
        raise ValueError(f"{path!r} is not a readable PyTorch state dict (torch.load with "
                         f"weights_only=True failed: {type(err).__name__}); expected a "
                         "torchvision .pth/.pt or a .safetensors file") from None


def _to_numpy(key, value):
    if hasattr(value, "detach"):  # a torch tensor
        t = value.detach().cpu()
        if t.is_floating_point() and t.element_size() < 4:
            t = t.float()  # numpy has no bfloat16
        return t.numpy()
    try:
        arr = np.asarray(value)
    except Exception:  # noqa: BLE001
        arr = None
    if arr is None or arr.dtype == object:
        raise ValueError(f"checkpoint entry {key!r} is not an array "
                         f"(got {type(value).__name__})")
    return arr


PTH_SUFFIXES = (".pth", ".pt", ".bin")
SAFETENSORS_SUFFIXES = (".safetensors",)


def load_state_dict(checkpoint):
    """A torchvision state dict as ``{key: numpy array}`` from a ``.pth``/``.pt`` file
    (``torch.load(..., weights_only=True)``), a ``.safetensors`` file, or a mapping of
    arrays (numpy arrays or torch tensors). A checkpoint that wraps its state dict
    under ``"state_dict"`` or ``"model"`` is unwrapped."""
    if isinstance(checkpoint, (str, os.PathLike)):
        path = os.fspath(checkpoint)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"checkpoint {path!r}: no such file")
        lower = path.lower()
        if lower.endswith(SAFETENSORS_SUFFIXES):
            obj = read_safetensors(path)
        elif lower.endswith(PTH_SUFFIXES):
            obj = _read_pth(path)
        else:
            raise ValueError(f"checkpoint {path!r}: unknown format; allowed suffixes: "
                             f"{', '.join(PTH_SUFFIXES + SAFETENSORS_SUFFIXES)}")
    elif isinstance(checkpoint, Mapping):
        obj = checkpoint
    else:
        raise TypeError(f"checkpoint must be a path or a mapping of arrays, got "
                        f"{type(checkpoint).__name__}")
    if not isinstance(obj, Mapping):
        raise ValueError(f"checkpoint holds a {type(obj).__name__}, not a state dict")
    for wrapper in ("state_dict", "model"):
        if isinstance(obj.get(wrapper), Mapping):
            obj = obj[wrapper]
            break
    out = {}
    for key, value in obj.items():
        if not isinstance(key, str):
            raise ValueError(f"checkpoint key {key!r} is not a string")
        out[key] = _to_numpy(key, value)
    return out


def _normalise_keys(state, legacy_keys=()):
    """Strip nn.DataParallel's ``module.`` prefix and apply the architecture's declared
    ``legacy_keys`` renames (:class:`keras_cnns.metadata.TorchvisionArch`)."""
    renamed = []
    if state and all(k.startswith("module.") for k in state):  # nn.DataParallel
        renamed += [(k, k[len("module."):]) for k in state]
        state = {k[len("module."):]: v for k, v in state.items()}
    patterns = [(re.compile(pattern), replacement) for pattern, replacement in legacy_keys]
    out = {}
    for key, value in state.items():
        new = key
        for pattern, replacement in patterns:
            new = pattern.sub(replacement, new)
        if new != key:
            renamed.append((key, new))
        if new in out:
            raise ValueError(f"checkpoint holds tensor {new!r} twice (as {key!r} too)")
        out[new] = value
    return out, tuple(renamed)


# ----------------------------------------------------------------------- the conversion

def _oihw_to_hwio(a):
    return np.transpose(a, (2, 3, 1, 0))


def _linear(a):
    return np.transpose(a)


def _chw_linear(h, w, c):
    def convert(a):  # rows of the flattened CHW map -> HWC
        out = a.shape[0]
        return a.reshape(out, c, h, w).transpose(2, 3, 1, 0).reshape(h * w * c, out)
    return convert


def _same(a):
    return a


class _Tensor(NamedTuple):
    key: str            # torch key
    layer: str          # keras layer name
    weight: str         # keras weight name
    variable: object
    torch_shape: tuple  # the shape torch must hold
    convert: Callable
    optional: bool      # absent -> zeros (a conv bias the torch architecture lacks)


def _variables(layer):
    return {w.name: w for w in layer.weights}


def _expand(model, spec, conv_bias):
    """``(tensors, forbidden keys)`` of one :class:`Spec`; forbidden keys are torch
    tensors the keras layer has no place for (e.g. a bias where keras has none).
    ``conv_bias``: torch's convolutions have biases (required then; else a keras bias
    is zero unless the checkpoint holds one)."""
    try:
        layer = model.get_layer(spec.keras)
    except ValueError:
        raise ValueError(f"model {model.name!r} has no layer {spec.keras!r} (for torch "
                         f"module {spec.torch!r}); was it built with other options?") from None
    v = _variables(layer)
    t = spec.torch
    tensors, forbidden = [], []
    if spec.kind == "conv":
        kh, kw, cin, cout = tuple(v["kernel"].shape)
        tensors.append(_Tensor(f"{t}.weight", layer.name, "kernel", v["kernel"],
                               (cout, cin, kh, kw), _oihw_to_hwio, False))
        if "bias" in v:
            tensors.append(_Tensor(f"{t}.bias", layer.name, "bias", v["bias"], (cout,), _same,
                                   not conv_bias))
        else:
            forbidden.append((f"{t}.bias", f"keras layer {layer.name!r} has no bias"))
    elif spec.kind == "bn":
        for weight, suffix in (("gamma", "weight"), ("beta", "bias"),
                               ("moving_mean", "running_mean"),
                               ("moving_variance", "running_var")):
            if weight in v:
                tensors.append(_Tensor(f"{t}.{suffix}", layer.name, weight, v[weight],
                                       tuple(v[weight].shape), _same, False))
            else:
                forbidden.append((f"{t}.{suffix}", f"keras layer {layer.name!r} has no "
                                                   f"{weight} (BN without it)"))
    elif spec.kind == "dense":
        fan_in, out = tuple(v["kernel"].shape)
        convert = _linear
        if spec.flatten is not None:
            h, w, c = (int(d) for d in model.get_layer(spec.flatten).input.shape[1:])
            convert = _chw_linear(h, w, c)
        tensors.append(_Tensor(f"{t}.weight", layer.name, "kernel", v["kernel"], (out, fan_in),
                               convert, False))
        if "bias" in v:
            tensors.append(_Tensor(f"{t}.bias", layer.name, "bias", v["bias"], (out,), _same,
                                   False))
    else:  # pragma: no cover
        raise ValueError(f"unknown spec kind {spec.kind!r}")
    mapped = {x.weight for x in tensors}
    extra = sorted(set(v) - mapped)
    if extra:
        raise ValueError(f"keras layer {layer.name!r} holds weights {extra} that no torch "
                         f"tensor of {t!r} maps to")
    return tensors, forbidden


def _plan(model, info, arch):
    specs = arch.specs(model, info)
    covered = {}
    for spec in specs:
        if spec.keras in covered:  # pragma: no cover
            raise ValueError(f"mapping feeds keras layer {spec.keras!r} twice")
        covered[spec.keras] = spec
    for layer in model.layers:
        if layer.weights and layer.name not in covered:
            raise ValueError(f"keras layer {layer.name!r} of {model.name!r} has no torchvision "
                             "tensor mapped to it: this model is not the torchvision layout")
    tensors, forbidden = [], []
    for spec in specs:
        t, f = _expand(model, spec, arch.conv_bias)
        tensors += t
        forbidden += f
    return specs, tensors, forbidden


def torchvision_mapping(name_or_model, name=None):
    """The conversion's tensor table for a built model (or a registry / torchvision
    name, built at its defaults): ``(torch key, keras layer, weight index)`` rows, the
    index into ``layer.weights``."""
    if isinstance(name_or_model, str):
        _, arch = _resolve_name(name_or_model)
        model = registry.build(arch.registry_name)
        info = registry.model_info(arch.registry_name)
    else:
        model = name_or_model
        info, _, arch = _resolve_model(model, name)
    _, tensors, _ = _plan(model, info, arch)
    rows = []
    for x in tensors:
        weights = model.get_layer(x.layer).weights
        index = next(i for i, w in enumerate(weights) if w is x.variable)
        rows.append((x.key, x.layer, index))
    return rows


@dataclasses.dataclass(frozen=True)
class ConversionReport:
    """What :func:`from_torchvision` did: the torch keys loaded, ``ignored``
    (``num_batches_tracked``), ``unused`` (checkpoint tensors the model has no place
    for), keras layers whose bias was set to zero (no torch bias), BN layers whose
    epsilon was set to torch's, renamed legacy keys, and the input ``preprocessing`` the
    published torchvision weights expect."""

    torchvision_name: str
    registry_name: str
    loaded: Tuple[str, ...]
    ignored: Tuple[str, ...]
    unused: Tuple[str, ...]
    zero_biases: Tuple[str, ...]
    epsilon_set: Tuple[str, ...]
    renamed: Tuple[Tuple[str, str], ...]
    preprocessing: registry.Preprocessing

    def __str__(self):
        parts = [f"{len(self.loaded)} tensors loaded into {self.registry_name!r}",
                 f"{len(self.ignored)} num_batches_tracked ignored"]
        if self.zero_biases:
            parts.append(f"{len(self.zero_biases)} biases set to zero")
        if self.epsilon_set:
            parts.append(f"BN epsilon set to torch's in {len(self.epsilon_set)} layers")
        if self.renamed:
            parts.append(f"{len(self.renamed)} legacy keys renamed")
        if self.unused:
            parts.append(f"{len(self.unused)} unused: {_short_list(self.unused)}")
        return "; ".join(parts)


def _short_list(keys, n=6):
    keys = list(keys)
    return ", ".join(keys[:n]) + (f", ... ({len(keys) - n} more)" if len(keys) > n else "")


def _preprocessing(arch, resize=None):
    fraction = arch.crop / (arch.resize if resize is None else resize)
    if arch.transform_input:
        # transform_input=True: torchvision turns its normalised input back into
        # (x / 255 - 0.5) / 0.5, so the network itself reads "tf" inputs.
        return registry.tf_preprocessing(crop_fraction=fraction)
    return registry.torch_preprocessing(crop_fraction=fraction)


def torchvision_preprocessing(name_or_model, name=None, resize=None):
    """A :class:`~keras_cnns.layers.Preprocess` layer giving a converted model the input
    the published torchvision weights expect: resize the shorter side (``resize``,
    default the IMAGENET1K_V1 transforms' 256, 342 for inception_v3; torchvision's
    IMAGENET1K_V2 ResNet weights use 232), centre-crop (224; 299), bilinear with
    antialiasing, ImageNet mean/std on [0, 1] RGB; for googlenet and inception_v3
    (``transform_input=True``) RGB scaled to [-1, 1]. A built model's own input size
    replaces the crop (same crop/resize ratio)."""
    from keras_cnns.layers import Preprocess

    if resize is not None and (isinstance(resize, bool) or not isinstance(resize, int)
                               or resize < 1):
        raise ValueError(f"resize must be a positive int (pixels), got {resize!r}")

    if isinstance(name_or_model, str):
        tv, arch = _resolve_name(name_or_model)
        h = w = arch.crop
    else:
        _, tv, arch = _resolve_model(name_or_model, name)
        h, w = name_or_model.inputs[0].shape[1:3]
        if h is None or w is None:
            h = w = arch.crop
    if resize is not None and resize < arch.crop:
        raise ValueError(f"resize must be >= the crop {arch.crop}, got {resize}")
    p = _preprocessing(arch, resize)
    return Preprocess(int(h), int(w), mean=p.mean, std=p.std, scale=p.scale,
                      color_order=p.color_order, crop_fraction=p.crop_fraction,
                      interpolation=p.interpolation, name=f"{tv}_torchvision_preprocessing")


def from_torchvision(name_or_model, checkpoint, *, name=None, strict=False,
                     return_report=False, **build_kwargs):
    """Load a torchvision state dict into the matching registry model.

    ``name_or_model``: a torchvision architecture name (``"resnet50"``, ``"vgg16_bn"``,
    ``"googlenet"``, ``"inception_v3"``, ... see :data:`TORCHVISION_MODELS`) or its
    registry model's name (``"resnet50_torchvision"``), built here with
    ``build_kwargs`` (e.g. ``input_shape``, ``aux=True``, ``classifier_activation``;
    ``classes`` defaults to the checkpoint's); or a built registry model (``name=``
    its registry name if it was renamed), loaded in place.

    ``checkpoint``: a ``.pth``/``.pt`` file (needs PyTorch), a ``.safetensors`` file or
    a mapping of arrays. Raises ValueError naming the tensor on any missing tensor,
    shape mismatch or tensor without a place in the model (nothing is loaded then).
    Unused checkpoint tensors (e.g. aux heads of a model built without them) give a
    warning, or a ValueError with ``strict=True``.

    Returns the model, or ``(model, report)`` with ``return_report=True``
    (:class:`ConversionReport`).
    """
    if isinstance(name_or_model, str):
        if name is not None:
            raise TypeError("name= is for a built model; pass the registry name as the "
                            "first argument instead")
        tv, arch = _resolve_name(name_or_model)
        info = registry.model_info(arch.registry_name)
        model = None
    else:
        if build_kwargs:
            raise TypeError(f"build options {sorted(build_kwargs)} need a name, not a built "
                            "model")
        if not hasattr(name_or_model, "get_layer"):
            raise TypeError(f"name_or_model must be a name or a Keras model, got "
                            f"{type(name_or_model).__name__}")
        model = name_or_model
        info, tv, arch = _resolve_model(model, name)
    if not isinstance(strict, bool):
        raise TypeError(f"strict must be a bool, got {type(strict).__name__}")

    state, renamed = _normalise_keys(load_state_dict(checkpoint), arch.legacy_keys)
    if model is None:
        kwargs = dict(build_kwargs)
        if kwargs.get("include_top", True) and "classes" not in kwargs \
                and arch.classifier in state and state[arch.classifier].ndim >= 1:
            kwargs["classes"] = int(state[arch.classifier].shape[0])
        model = registry.build(arch.registry_name, **kwargs)

    specs, tensors, forbidden = _plan(model, info, arch)
    for key, why in forbidden:
        if key in state:
            raise ValueError(f"checkpoint tensor {key!r} has no place in {model.name!r}: {why}")
    missing = [x for x in tensors if not x.optional and x.key not in state]
    if missing:
        x = missing[0]
        more = f" (and {len(missing) - 1} more: {_short_list(m.key for m in missing[1:])})" \
            if len(missing) > 1 else ""
        raise ValueError(f"checkpoint lacks tensor {x.key!r} for keras layer {x.layer!r} "
                         f"{x.weight}{more}")
    values, zero_biases = [], []
    for x in tensors:
        if x.key not in state:  # optional: a keras bias torch does not have
            values.append((x, np.zeros(tuple(x.variable.shape), "float32")))
            zero_biases.append(x.layer)
            continue
        arr = state[x.key]
        if tuple(arr.shape) != x.torch_shape:
            hint = ""
            if x.weight == "kernel" and len(x.torch_shape) == 2 and x.convert is not _linear:
                hint = (f"; this layer reads a flattened feature map whose size follows the "
                        f"input: build at {info.default_input_shape[0]} px")
            raise ValueError(f"checkpoint tensor {x.key!r} has shape {tuple(arr.shape)}, keras "
                             f"layer {x.layer!r} {x.weight} needs {x.torch_shape} (torch "
                             f"layout){hint}")
        if not np.issubdtype(arr.dtype, np.floating):
            raise ValueError(f"checkpoint tensor {x.key!r} has dtype {arr.dtype}, expected "
                             "floating point")
        values.append((x, x.convert(arr)))

    used = {x.key for x in tensors}
    ignored = tuple(sorted(k for k in state if k.endswith(".num_batches_tracked")
                           and k not in used))
    unused = tuple(sorted(set(state) - used - set(ignored)))
    if unused and strict:
        raise ValueError(f"checkpoint tensor {unused[0]!r} is not used by {model.name!r} "
                         f"(strict=True; {len(unused)} unused: {_short_list(unused)})")

    for x, value in values:
        x.variable.assign(np.ascontiguousarray(value, dtype=x.variable.dtype))
    epsilon_set = []
    if arch.bn_epsilon is not None:
        for spec in specs:
            if spec.kind != "bn":
                continue
            layer = model.get_layer(spec.keras)
            if layer.epsilon != arch.bn_epsilon:
                layer.epsilon = arch.bn_epsilon
                epsilon_set.append(layer.name)
    if epsilon_set:  # compiled predict/evaluate functions baked the old epsilon in
        for attr in ("predict_function", "test_function", "train_function"):
            if getattr(model, attr, None) is not None:
                setattr(model, attr, None)
    report = ConversionReport(
        torchvision_name=tv, registry_name=info.name,
        loaded=tuple(x.key for x in tensors if x.key in state), ignored=ignored,
        unused=unused, zero_biases=tuple(zero_biases), epsilon_set=tuple(epsilon_set),
        renamed=renamed, preprocessing=_preprocessing(arch))
    if unused:
        aux = any(k.startswith(("aux1.", "aux2.", "AuxLogits.")) for k in unused)
        warnings.warn(f"from_torchvision: {len(unused)} checkpoint tensors not used by "
                      f"{model.name!r}: {_short_list(unused)}"
                      + ("; build with aux=True to load the aux heads" if aux else ""),
                      UserWarning, stacklevel=2)
    return (model, report) if return_report else model

