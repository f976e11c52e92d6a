"""The search spaces the families declare (``Family.search_space``, in each family's
``spec.py`` beside its table), read by name: this module names no family.

Every space lists :class:`Choice` rows derived from the family's own table constants
(``googlenet.INCEPTION_TABLE``, ``squeezenet.VERSIONS`` ...), and a
function turning the picked values into the builder's keyword arguments. Names say what
they tune: ``filters`` for filter counts or widths (``inception_4_filters`` is stage 4's
width multiplier, ``block3_filters`` a third block's width), ``dropout`` for dropout rates.
Every choice list contains the paper's value, its default, so the default trial is the
paper's network.

A hyperparameter whose builder keyword argument (``Choice.kwarg``) the family's builder
does not accept is left out of the space: :func:`hyperparameters` only offers what
builds.
"""

from __future__ import annotations

import inspect
from types import MappingProxyType
from typing import Optional, Tuple

from keras_cnns import registry
from keras_cnns.metadata import (DROPOUTS, WIDTH_FRACTIONS, Choice, SearchSpace,  # noqa: F401
                                 dropout_choice, width_choices)

__all__ = ["Choice", "SearchSpace", "Space", "SPACES", "LEARNING_RATES", "space_for", "hyperparameters",
           "builder_kwargs", "covered_families"]

# Adam's default first, then the usual decades.
LEARNING_RATES = (1e-3, 3e-4, 1e-4)

Space = SearchSpace  # the type's former name here
#: family name -> its declared :class:`SearchSpace` (read-only; declare a space in the
#: family's spec).
SPACES = MappingProxyType({f.name: f.search_space for f in registry.families()
                           if f.search_space is not None})


def space_for(model_name) -> Space:
    """The search space its family declares for registry name ``model_name``
    (``Family.search_space``); ValueError if there is none."""
    info = registry.model_info(model_name)
    family = registry.family_of(model_name)
    if family is not None and family.search_space is not None:
        return family.search_space
    with_space = sorted(SPACES)
    raise ValueError(f"model {model_name!r} (family {info.family!r}) has no search space; "
                     f"families with one: {', '.join(with_space)}")


def _accepted(builder):
    params = inspect.signature(builder).parameters
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        # A wrapper taking **kwargs forwards them to its family's main builder.
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
