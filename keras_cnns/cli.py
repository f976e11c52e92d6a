"""The ``keras-cnns`` command: thin wrappers that parse, call the library and print.

Each subcommand here is a function ``_cmd_<name>(args)`` with its parser built in
``_add_<name>``. Other packages add theirs through :data:`PLUGINS`: modules with an
``add_parsers(subparsers)`` function that registers subcommands with
``set_defaults(func=...)``. Errors the user can fix print one line on stderr and exit
with status 2 (raise :class:`UsageError` or ``ValueError``); nothing prints a traceback
for bad input.
"""

from __future__ import annotations

import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PROG = "keras-cnns"


class UsageError(Exception):
    """Bad arguments: reported on one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


# --------------------------------------------------------------------------- list / info / summary


def _add_list(sub):
    p = sub.add_parser("list", help="list the registered networks",
                       description="List the registered networks, optionally filtered by a "
                                   "shell-style pattern such as 'resnet*'.")
    p.add_argument("pattern", nargs="?", default=None, help="fnmatch pattern, e.g. 'vgg*'")


def _cmd_list(args):
    import keras_cnns

    for name in keras_cnns.available_models(args.pattern):
        print(name)


def _add_info(sub):
    p = sub.add_parser("info", help="metadata, and the built model against its reference",
                       description="Print a network's metadata and check its built parameter "
                                   "count and multiply-adds against the reference.")
    p.add_argument("name", help="registry name (see 'keras-cnns list')")


def _cmd_info(args):
    import keras_cnns

    info = keras_cnns.model_info(args.name)
    model = keras_cnns.build(args.name)
    prof = keras_cnns.profile(model)

    def check(built, ref):
        return "ok" if ref is None or built == ref else f"MISMATCH (reference {ref:,})"

    print(f"{info.name}: {info.paper} ({', '.join(info.authors.split(', ')[:3])}"
          f"{' et al.' if info.authors.count(',') > 2 else ''}, {info.year})")
    if info.arxiv:
        print(f"  arXiv:           {info.arxiv}")
    print(f"  layout:          {info.layout}")
    print(f"  input:           {'x'.join(map(str, info.default_input_shape))} "
          f"(minimum side {info.min_input_size})")
    print(f"  parameters:      {prof.params:,} built, {info.params:,} reference "
          f"[{check(prof.params, info.params)}]")
    if info.trainable_params is not None:
        print(f"  trainable:       {prof.trainable_params:,} built [{check(prof.trainable_params, info.trainable_params)}]")
    if info.params_with_aux:
        print(f"  with aux heads:  {info.params_with_aux:,} (loss weights "
              f"{dict(info.aux_loss_weights)})")
    print(f"  multiply-adds:   {prof.macs:,} built, {info.macs:,} reference "
          f"[{check(prof.macs, info.macs)}]")
    p = info.preprocessing
    print(f"  preprocessing:   {p.mode}: {p.color_order}, scale {p.scale:g}, mean {p.mean}, "
          f"std {p.std}, crop fraction {p.crop_fraction:g}, {p.interpolation}")
    if info.reported:
        print("  reported error:  " + ", ".join(f"{k} {v}%" for k, v in info.reported.items()))


def _add_summary(sub):
    p = sub.add_parser("summary", help="per-layer output shapes, parameters and multiply-adds",
                       description="Print every layer's output shape, parameters and "
                                   "multiply-adds, with totals.")
    p.add_argument("name", help="registry name")
    p.add_argument("--image-size", type=int, default=None,
                   help="input side in pixels (default: the model's own)")
    p.add_argument("--aux", action="store_true", help="build with the aux heads")


def _cmd_summary(args):
    import keras_cnns

    kwargs = {}
    if args.image_size is not None:
        info = keras_cnns.model_info(args.name)
        kwargs["input_shape"] = (args.image_size, args.image_size, info.default_input_shape[-1])
    if args.aux:
        kwargs["aux"] = True
    model = keras_cnns.build(args.name, **kwargs)
    print(keras_cnns.profile(model))


# --------------------------------------------------------------------------- demo


def _add_demo(sub):
    p = sub.add_parser("demo", help="GoogLeNet with aux heads on real digits: fit, evaluate, "
                                    "export, reload, predict",
                       description="The end-to-end demo, offline: build GoogLeNet with aux "
                                   "heads, fit it briefly on scikit-learn's real handwritten "
                                   "digits, evaluate, export a SavedModel, reload it and "
                                   "predict.")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--image-size", type=int, default=96)
    p.add_argument("--variant", default="bn", help="GoogLeNet variant (paper, bn, torchvision)")
    p.add_argument("--output", default="demo_output", help="directory for the SavedModel")
    p.add_argument("--seed", type=int, default=0)


def _cmd_demo(args):
    from keras_cnns.demo import run_demo

    run_demo(epochs=args.epochs, image_size=args.image_size, variant=args.variant,
             output=args.output, seed=args.seed)


SUBCOMMANDS = ("list", "info", "summary", "demo")
# Modules contributing subcommands (train, evaluate, export, tune, ...), in help order.
PLUGINS = ("keras_cnns.training.cli", "tuning.cli", "keras_cnns.visualize_cli",
           "keras_cnns.weights.cli")


def build_parser():
    parser = _Parser(prog=PROG, description="The classic CNNs, paper-exact, in Keras 3.")
    from keras_cnns import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    sub.required = True
    for name in SUBCOMMANDS:
        globals()[f"_add_{name}"](sub)
        sub.choices[name].set_defaults(func=globals()[f"_cmd_{name}"])
    import importlib
    import importlib.util

    for module in PLUGINS:
        if importlib.util.find_spec(module.rsplit(".", 1)[0]) is None:
            continue
        try:
            spec = importlib.util.find_spec(module)
        except ModuleNotFoundError:
            spec = None
        if spec is not None:
            importlib.import_module(module).add_parsers(sub)
    return parser


def main(argv=None):
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        status = args.func(args)
    except UsageError as err:
        print(str(err), file=sys.stderr)
        return 2
    except (ValueError, TypeError, FileNotFoundError, FileExistsError) as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return int(status or 0)


if __name__ == "__main__":
    sys.exit(main())
