"""Search spaces, one per model family, as data beside each family's table.

Every space lists :class:`Choice` rows derived from the family's own table constants
(``googlenet.INCEPTION_TABLE``, ``vgg.WIDTHS``, ``resnet.STAGE_FILTERS`` ...), and a
function turning the picked values into the builder's keyword arguments. Names say what
they tune: ``filters`` for filter counts or widths (``inception_4_filters`` is stage 4's
width multiplier, ``block3_filters`` VGG's third block), ``dropout`` for dropout rates.
Every choice list contains the paper's value, its default, so the default trial is the
paper's network.

A hyperparameter whose builder keyword argument (``Choice.kwarg``) the family's builder
does not accept is left out of the space: :func:`hyperparameters` only offers what
builds.
"""

from __future__ import annotations

import dataclasses
import inspect
from typing import Any, Callable, Optional, Tuple

from keras_cnns import registry
from keras_cnns.metadata import (DROPOUTS, WIDTH_FRACTIONS, Choice, SearchSpace,  # noqa: F401
                                 dropout_choice, width_choices)
from keras_cnns.models import (alexnet, densenet, fractalnet, lenet, nin, resnet,
                               squeezenet, vgg)

__all__ = ["Choice", "SearchSpace", "Space", "SPACES", "LEARNING_RATES", "space_for", "hyperparameters",
           "builder_kwargs", "covered_families"]

# Adam's default first, then the usual decades.
LEARNING_RATES = (1e-3, 3e-4, 1e-4)
@dataclasses.dataclass(frozen=True)
class Space:
    """A family's space: ``rows(info)`` lists its :class:`Choice` rows for one registry
    entry; ``to_kwargs(info, values)`` maps picked values to builder kwargs."""

    family: str
    description: str
    rows: Callable[[registry.ModelInfo], Tuple[Choice, ...]]
    to_kwargs: Callable[[registry.ModelInfo, dict], dict]


_widths = width_choices
_dropout = dropout_choice


# --------------------------------------------------------------------------- LeNet-5

def _lenet_rows(info):
    # Fig. 2: C1 6, C3 16, C5 120 maps; offered at half, the paper's and double.
    return tuple(Choice(f"{conv}_filters", _widths(filters, (0.5, 1.0, 2.0)), filters, "table")
                 for conv, filters, _, _ in lenet.CONV_TABLE)


def _lenet_kwargs(info, v):
    if not any(f"{row[0]}_filters" in v for row in lenet.CONV_TABLE):
        return {}
    return {"table": tuple((conv, v.get(f"{conv}_filters", filters), kernel, pool)
                           for conv, filters, kernel, pool in lenet.CONV_TABLE)}


# --------------------------------------------------------------------------- AlexNet / ZFNet

def _alexnet_layout(info):
    kw = dict(info.build_kwargs)
    if info.name.startswith("zfnet"):
        return alexnet._zf_layout(kw.get("filters", "paper")), 1
    if kw.get("variant") == "torchvision":
        return alexnet.TORCHVISION_LAYOUT, 1
    return alexnet.CAFFE_LAYOUT, kw.get("groups", 2)


def _alexnet_rows(info):
    layout, groups = _alexnet_layout(info)
    rows = [Choice(f"{row.name}_filters", _widths(row.filters, multiple=groups), row.filters,
                   "widths")
            for row in layout if isinstance(row, alexnet.Conv)]
    rows.append(_dropout(0.5))  # section 4.2: dropout 0.5 in fc6 and fc7
    return tuple(rows)


def _alexnet_kwargs(info, v):
    layout, _ = _alexnet_layout(info)
    convs = [row for row in layout if isinstance(row, alexnet.Conv)]
    kwargs = {}
    if any(f"{row.name}_filters" in v for row in convs):
        kwargs["widths"] = tuple(v.get(f"{row.name}_filters", row.filters) for row in convs)
    if "dropout" in v:
        kwargs["dropout"] = v["dropout"]
    return kwargs


# --------------------------------------------------------------------------- VGG

def _vgg_rows(info):
    rows = [Choice(f"block{i}_filters", _widths(w), w, "widths")
            for i, w in enumerate(vgg.WIDTHS, start=1)]
    rows.append(_dropout(0.5))  # section 3.1: dropout 0.5 on fc1 and fc2
    return tuple(rows)


def _vgg_kwargs(info, v):
    kwargs = {}
    if any(f"block{i}_filters" in v for i in range(1, len(vgg.WIDTHS) + 1)):
        kwargs["widths"] = tuple(v.get(f"block{i}_filters", w)
                                 for i, w in enumerate(vgg.WIDTHS, start=1))
    if "dropout" in v:
        kwargs["dropout"] = v["dropout"]
    return kwargs


# --------------------------------------------------------------------------- NiN

def _nin_table(info):
    return nin.CONFIGS[dict(info.build_kwargs).get("config", "imagenet")]


def _nin_rows(info):
    rows = []
    for row in _nin_table(info):
        if isinstance(row, nin.MlpConv):
            rows.append(Choice(f"{row.conv}_filters", _widths(row.filters), row.filters, "table"))
            rows += [Choice(f"{name}_filters", _widths(f), f, "table")
                     for name, f in row.cccp if f is not None]
    rows.append(_dropout(0.5))
    return tuple(rows)


def _nin_kwargs(info, v):
    kwargs = {"dropout": v["dropout"]} if "dropout" in v else {}
    table = _nin_table(info)
    if not any(k.endswith("_filters") for k in v):
        return kwargs
    rows = []
    for row in table:
        if isinstance(row, nin.MlpConv):
            cccp = tuple((name, None if f is None else v.get(f"{name}_filters", f))
                         for name, f in row.cccp)
            row = row._replace(filters=v.get(f"{row.conv}_filters", row.filters), cccp=cccp)
        rows.append(row)
    kwargs["table"] = tuple(rows)
    return kwargs


# --------------------------------------------------------------------------- SqueezeNet

# Section 5.1 / Fig. 2: the squeeze ratio SR (squeeze filters / expand filters, 0.125 in
# SqueezeNet) and the fraction of 3x3 expand filters pct_3x3 (0.5).
SQUEEZE_RATIOS = (0.125, 0.25, 0.5, 0.75)
EXPAND_3X3_FRACTIONS = (0.25, 0.5, 0.75)
EXPAND_MULTIPLIERS = (0.25, 0.5, 1.0)


def _squeezenet_rows(info):
    return (Choice("squeeze_filters_ratio", SQUEEZE_RATIOS, 0.125, "table"),
            Choice("expand_filters_multiplier", EXPAND_MULTIPLIERS, 1.0, "table"),
            Choice("expand3x3_filters_fraction", EXPAND_3X3_FRACTIONS, 0.5, "table"),
            _dropout(0.5))


def _squeezenet_kwargs(info, v):
    kwargs = {"dropout": v["dropout"]} if "dropout" in v else {}
    if "squeeze_filters_ratio" not in v and "expand_filters_multiplier" not in v:
        return kwargs
    sr = v.get("squeeze_filters_ratio", 0.125)
    mult = v.get("expand_filters_multiplier", 1.0)
    pct = v.get("expand3x3_filters_fraction", 0.5)
    rows = []
    for row in squeezenet.VERSIONS[dict(info.build_kwargs).get("version", "1_0")][1]:
        if isinstance(row, squeezenet.Fire):
            e = max(2, int(round((row.expand1x1 + row.expand3x3) * mult)))
            e3 = min(e - 1, max(1, int(round(e * pct))))
            row = row._replace(squeeze=max(1, int(round(sr * e))), expand1x1=e - e3,
                               expand3x3=e3)
        rows.append(row)
    kwargs["table"] = tuple(rows)
    return kwargs


# --------------------------------------------------------------------------- ResNet family

def _is_wrn(info):
    return info.name.startswith(("wrn", "wide_resnet"))


def _resnet_rows(info):
    if _is_wrn(info):
        k = dict(info.build_kwargs).get("width", 2)
        # Section 3: k = 1 is the thin ResNet; offered up to the entry's own k.
        rows = [Choice("widen_filters", tuple(sorted({w for w in (1, 2, 4) if w < k} | {k})),
                       k, "width")]
        if dict(info.build_kwargs).get("depth") not in (50, 101):
            rows.append(_dropout(0.0, values=(0.0, 0.3)))  # section 2.4: 0.3 between convs
        return tuple(rows)
    # He et al. 2015, Table 1: base widths 64-128-256-512 of conv2_x ... conv5_x.
    return tuple(Choice(f"{stage}_filters", _widths(f), f, "stage_filters")
                 for stage, f in zip(resnet.STAGE_NAMES, resnet.STAGE_FILTERS))


def _resnet_kwargs(info, v):
    if _is_wrn(info):
        kwargs = {"width": v["widen_filters"]} if "widen_filters" in v else {}
        if "dropout" in v:
            kwargs["dropout"] = v["dropout"]
        return kwargs
    if not any(f"{s}_filters" in v for s in resnet.STAGE_NAMES):
        return {}
    return {"stage_filters": tuple(v.get(f"{s}_filters", f)
                                   for s, f in zip(resnet.STAGE_NAMES, resnet.STAGE_FILTERS))}


# --------------------------------------------------------------------------- DenseNet

def _densenet_rows(info):
    # Growth rate k: 12, 24 (section 4, CIFAR) and 32 (ImageNet, Table 1).
    k = densenet.GROWTH_RATE
    return (Choice("growth_rate_filters", tuple(sorted({8, 12, 16, 24, k})), k, "growth_rate"),)


def _densenet_kwargs(info, v):
    return {"growth_rate": v["growth_rate_filters"]} if "growth_rate_filters" in v else {}


# --------------------------------------------------------------------------- FractalNet

def _fractalnet_rows(info):
    rows = [Choice(f"block{i}_filters", _widths(c, (0.125, 0.25, 0.5, 1.0)), c, "channels")
            for i, c in enumerate(fractalnet.CHANNELS, start=1)]
    # Section 4: dropout grows by block, 0 % ... 40 %; the last block's rate, linear.
    rows.append(_dropout(fractalnet.BLOCK_DROPOUT[-1], values=(0.0, 0.2, 0.4, 0.5)))
    return tuple(rows)


def _fractalnet_kwargs(info, v):
    kwargs = {}
    n = len(fractalnet.CHANNELS)
    if any(f"block{i}_filters" in v for i in range(1, n + 1)):
        kwargs["channels"] = tuple(v.get(f"block{i}_filters", c)
                                   for i, c in enumerate(fractalnet.CHANNELS, start=1))
    if "dropout" in v:
        last = v["dropout"]
        kwargs["dropout"] = tuple(round(last * b / (n - 1), 4) for b in range(n))
    return kwargs


# --------------------------------------------------------------------------- Inception v2 / v3

INCEPTION_DEPTH_MULTIPLIERS = (0.25, 0.5, 0.75, 1.0)


def _inception_dropout_default(info):
    from keras_cnns.models import inception

    if info.family == "inception_v2":
        variant = dict(info.build_kwargs).get("variant", "paper")
        return inception._V2_VARIANT[variant]["dropout"]
    # TF-Slim's keep_prob 0.8 (0.2); torchvision's Inception3 0.5.
    return inception._V3_VARIANT[dict(info.build_kwargs).get("variant", "keras")]["dropout"]


def _inception_rows(info):
    # TF-Slim's depth_multiplier thins every convolution of the module tables.
    return (Choice("depth_filters_multiplier", INCEPTION_DEPTH_MULTIPLIERS, 1.0,
                   "depth_multiplier"),
            _dropout(_inception_dropout_default(info)))


def _inception_kwargs(info, v):
    kwargs = {}
    if "depth_filters_multiplier" in v:
        kwargs["depth_multiplier"] = v["depth_filters_multiplier"]
    if "dropout" in v:
        kwargs["dropout"] = v["dropout"]
    return kwargs


SPACES = {
    "inception_v2": Space("inception_v2", "TF-Slim depth multiplier (all widths), dropout",
                          _inception_rows, _inception_kwargs),
    "inception_v3": Space("inception_v3", "TF-Slim depth multiplier (all widths), dropout",
                          _inception_rows, _inception_kwargs),
    "lenet": Space("lenet", "filters of C1, C3, C5", _lenet_rows, _lenet_kwargs),
    "alexnet": Space("alexnet", "filters of conv1-conv5, FC dropout",
                     _alexnet_rows, _alexnet_kwargs),
    "vgg": Space("vgg", "filters per block (Table 1 widths), FC dropout",
                 _vgg_rows, _vgg_kwargs),
    "nin": Space("nin", "filters of every mlpconv layer, dropout", _nin_rows, _nin_kwargs),
    "squeezenet": Space("squeezenet", "squeeze ratio, expand width and 3x3 fraction "
                        "(section 5.1), dropout", _squeezenet_rows, _squeezenet_kwargs),
    "resnet": Space("resnet", "base width per stage (ResNet, ResNeXt); widen factor k and "
                    "dropout (Wide ResNet)", _resnet_rows, _resnet_kwargs),
    "densenet": Space("densenet", "growth rate", _densenet_rows, _densenet_kwargs),
    "fractalnet": Space("fractalnet", "filters per block, dropout",
                        _fractalnet_rows, _fractalnet_kwargs),
}


def space_for(model_name) -> Space:
    """The search space its family declares for registry name ``model_name``
    (``Family.search_space``); ValueError if there is none."""
    info = registry.model_info(model_name)
    family = registry.family_of(model_name)
    if family is not None and family.search_space is not None:
        return family.search_space
    if info.family in SPACES:  # families not yet declaring theirs
        return SPACES[info.family]
    with_space = sorted({f.name for f in registry.families() if f.search_space} | set(SPACES))
    raise ValueError(f"model {model_name!r} (family {info.family!r}) has no search space; "
                     f"families with one: {', '.join(with_space)}")


def _accepted(builder):
    params = inspect.signature(builder).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        # ResNeXt50(*args, **kwargs) & co. forward to the family builder.
        return None
    return set(params)


def hyperparameters(model_name, aux=False) -> Tuple[Choice, ...]:
    """The :class:`Choice` rows offered for ``model_name``: the family's rows whose builder
    keyword argument the builder accepts (``aux_dropout`` only with ``aux=True``)."""
    info = registry.model_info(model_name)
    builder, _ = registry.get_builder(model_name)
    accepted = _accepted(builder)
    rows = space_for(model_name).rows(info)
    return tuple(r for r in rows
                 if (accepted is None or r.kwarg in accepted)
                 and (r.kwarg != "aux_dropout" or aux))


def builder_kwargs(model_name, values) -> dict:
    """Builder keyword arguments for picked ``values`` ({name: value})."""
    info = registry.model_info(model_name)
    return space_for(model_name).to_kwargs(info, dict(values))


def covered_families(model_names: Optional[list] = None) -> dict:
    """{registry name: [hyperparameter names]} for every registered model (for docs)."""
    names = model_names or registry.available_models()
    out = {}
    for n in names:
        try:
            space_for(n)
        except ValueError:
            continue
        out[n] = [r.name for r in hyperparameters(n, aux=registry.model_info(n).has_aux)]
    return out
