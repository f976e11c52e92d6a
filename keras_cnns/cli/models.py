"""``keras-cnns list``, ``info`` and ``summary``: the registry's metadata, and the built
model against it.

``list`` and ``info NAME`` read only :mod:`keras_cnns.registry` metadata
(``available_models``, ``model_info``): nothing is built. ``info NAME --check`` and
``summary`` build the network.
"""

from __future__ import annotations

from keras_cnns.cli.common import add_image_size_argument


def add_parsers(sub):
    p = sub.add_parser("list", help="list the registered networks, one line each",
                       description="List the registered networks, one line each: name, "
                                   "family, paper year, parameters, input size and the "
                                   "pretrained weights available. PATTERN filters the names "
                                   "(shell-style, e.g. 'resnet*').")
    p.add_argument("pattern", nargs="?", default=None, help="fnmatch pattern, e.g. 'vgg*'")
    group = p.add_mutually_exclusive_group()
    group.add_argument("--json", action="store_true",
                       help="print the full metadata of each entry as a JSON list")
    group.add_argument("--names", action="store_true", help="print the names only")
    p.set_defaults(func=run_list)

    p = sub.add_parser("info", help="a network's metadata (--check: build it and compare)",
                       description="Print a network's registry metadata without building it. "
                                   "With --check, build it and check its parameter count "
                                   "and multiply-adds against the reference.")
    p.add_argument("name", help="registry name (see 'keras-cnns list')")
    p.add_argument("--check", action="store_true",
                   help="build the model and compare its parameters and multiply-adds with "
                        "the reference")
    p.set_defaults(func=run_info)

    p = sub.add_parser("summary", help="per-layer output shapes, parameters and multiply-adds",
                       description="Print every layer's output shape, parameters and "
                                   "multiply-adds, with totals.")
    p.add_argument("name", help="registry name")
    add_image_size_argument(p)
    p.add_argument("--aux", action="store_true", help="build with the aux heads")
    p.set_defaults(func=run_summary)


# --------------------------------------------------------------------------- metadata

def pretrained_sources(name):
    """The pretrained weights available for registry entry ``name``, as short labels:
    ``"imagenet (keras.applications)"`` for ``build(name, weights="imagenet")``, and
    ``"torchvision <arch> (keras-cnns convert)"`` for a convertible torchvision checkpoint.

    Read off the entry's declaration (``ModelInfo.imagenet_weights`` and
    ``ModelInfo.torchvision``), so it loads no framework.
    """
    from keras_cnns.registry import model_info

    info = model_info(name)
    sources = []
    if info.imagenet_weights is not None:
        sources.append("imagenet (keras.applications)")
    if info.torchvision is not None:
        sources.append(f"torchvision {info.torchvision.name} (keras-cnns convert)")
    return tuple(sources)


def _count(n):
    for div, unit in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if n >= div:
            return f"{n / div:.1f}{unit}"
    return str(n)


def _shape(shape):
    return "x".join(map(str, shape))


def describe(info):
    """One line about a :class:`~keras_cnns.registry.ModelInfo` (without its name)."""
    parts = [info.family or "-", str(info.year), f"{_count(info.params)} params",
             f"input {_shape(info.default_input_shape)}"]
    sources = pretrained_sources(info.name)
    if sources:
        parts.append("pretrained: " + ", ".join(sources))
    return ", ".join(parts)


def json_safe(value):
    """``dataclasses.asdict`` that also turns the read-only mappings of a ModelInfo into
    dicts and tuples into lists, so ``json.dumps`` takes the result."""
    import dataclasses

    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_safe(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if hasattr(value, "items"):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def metadata(info):
    """The full metadata of one entry as JSON-safe data: every ModelInfo field, plus the
    pretrained sources."""
    return {**json_safe(info), "pretrained": list(pretrained_sources(info.name))}


# --------------------------------------------------------------------------- commands

def run_list(args):
    import json

    from keras_cnns.registry import available_models, model_info

    names = available_models(args.pattern)
    if args.names:
        for name in names:
            print(name)
    elif args.json:
        print(json.dumps([metadata(model_info(n)) for n in names], indent=1))
    else:
        width = max((len(n) for n in names), default=0)
        for name in names:
            print(f"{name:<{width}}  {describe(model_info(name))}")
    return 0


def _authors(info):
    authors = info.authors.split(", ")
    return ", ".join(authors[:3]) + (" et al." if len(authors) > 3 else "")


def run_info(args):
    from keras_cnns.registry import model_info, recipe_specs

    info = model_info(args.name)
    prof = None
    if args.check:
        import keras_cnns

        prof = keras_cnns.profile(keras_cnns.build(args.name))

    def figure(label, ref, attr):
        built = None if prof is None else getattr(prof, attr)
        if built is None:
            return f"  {label:<17}{ref:,} reference"
        status = "ok" if ref is None or built == ref else f"MISMATCH (reference {ref:,})"
        ref_text = "" if ref is None else f", {ref:,} reference"
        return f"  {label:<17}{built:,} built{ref_text} [{status}]"

    print(f"{info.name}: {info.paper} ({_authors(info)}, {info.year})")
    if info.arxiv:
        print(f"  arXiv:           {info.arxiv}")
    print(f"  family:          {info.family}")
    print(f"  layout:          {info.layout}")
    print(f"  input:           {_shape(info.default_input_shape)} "
          f"(minimum side {info.min_input_size})")
    print(figure("parameters:", info.params, "params"))
    if info.trainable_params is not None:
        print(figure("trainable:", info.trainable_params, "trainable_params"))
    if info.params_with_aux:
        print(f"  with aux heads:  {info.params_with_aux:,} (loss weights "
              f"{dict(info.aux_loss_weights)})")
    print(figure("multiply-adds:", info.macs, "macs"))
    if info.macs_with_aux:
        print(f"  with aux heads:  {info.macs_with_aux:,} multiply-adds (as trained; the "
              "figure above is without them, as at test time)")
    if info.recipe:
        spec = recipe_specs().get(info.recipe)
        summary = f": {spec.summary()}" if spec is not None else ""
        print(f"  paper recipe:    {info.recipe}{summary} (keras-cnns train {info.name} "
              "--recipe paper)")
    p = info.preprocessing
    print(f"  preprocessing:   {p.mode}: {p.color_order}, scale {p.scale:g}, mean {p.mean}, "
          f"std {p.std}, crop fraction {p.crop_fraction:g}, {p.interpolation}")
    if info.stage_outputs:
        print(f"  stage outputs:   {', '.join(info.stage_outputs)}")
    sources = pretrained_sources(info.name)
    print(f"  pretrained:      {', '.join(sources) if sources else 'none'}")
    if info.reported:
        print("  reported error:  " + ", ".join(f"{k} {v}%" for k, v in info.reported.items()))
    if info.notes:
        print(f"  notes:           {info.notes}")
    if prof is None:
        print(f"  (reference figures; 'keras-cnns info {info.name} --check' builds the model "
              "and compares)")
    return 0


def run_summary(args):
    import keras_cnns

    kwargs = {}
    if args.image_size is not None:
        info = keras_cnns.model_info(args.name)
        kwargs["input_shape"] = (args.image_size, args.image_size, info.default_input_shape[-1])
    if args.aux:
        kwargs["aux"] = True
    print(keras_cnns.profile(keras_cnns.build(args.name, **kwargs)))
    return 0
