"""``keras-cnns convert``: a torchvision checkpoint into a ``.keras`` model. Bad input
exits 2 with one line on stderr."""

from __future__ import annotations

from keras_cnns.cli.common import PROG, UsageError, add_image_size_argument


def add_parsers(sub):
    p = sub.add_parser(
        "convert", help="convert a torchvision checkpoint (.pth, .safetensors) to .keras",
        description="Build the registry model matching a torchvision architecture, load a "
                    "torchvision state dict into it (every tensor checked by name and "
                    "shape) and save it as a .keras file (written to a temporary file, then "
                    "renamed). See docs/pretrained.md.")
    p.add_argument("name", metavar="NAME",
                   help="torchvision architecture (resnet50, vgg16_bn, googlenet, "
                        "inception_v3, ...) or its registry name (resnet50_torchvision)")
    p.add_argument("checkpoint", metavar="CHECKPOINT",
                   help="torchvision state dict: .pth/.pt (needs PyTorch) or .safetensors")
    p.add_argument("output", metavar="OUT.keras", help="the .keras file to write")
    p.add_argument("--aux", action="store_true",
                   help="keep the aux heads (googlenet, inception_v3) and load them too")
    add_image_size_argument(p)
    p.add_argument("--strict", action="store_true",
                   help="fail when the checkpoint holds tensors the model does not use")
    p.set_defaults(func=run)


def run(args):
    import os
    import sys
    import warnings

    if not args.output.endswith(".keras"):
        raise UsageError(f"{PROG} convert: error: OUT.keras {args.output!r} must end in .keras")
    out_dir = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(out_dir):
        raise UsageError(f"{PROG} convert: error: OUT.keras {args.output!r}: directory "
                         f"{out_dir!r} does not exist")
    if not os.path.isfile(args.checkpoint):
        raise UsageError(f"{PROG} convert: error: CHECKPOINT {args.checkpoint!r}: no such file")

    from keras_cnns import registry
    from keras_cnns.atomic import atomic_save_model
    from keras_cnns.weights.torchvision import TORCHVISION_MODELS, _resolve_name, from_torchvision

    if args.name not in TORCHVISION_MODELS:
        _resolve_name(args.name)  # ValueError listing the allowed names
    kwargs = {}
    if args.aux:
        _, arch = _resolve_name(args.name)
        if not registry.model_info(arch.registry_name).has_aux:
            with_aux = sorted(n for n in TORCHVISION_MODELS if registry.model_info(
                _resolve_name(n)[1].registry_name).has_aux)
            raise UsageError(f"{PROG} convert: error: --aux: {args.name} has no aux heads "
                             f"(networks with aux heads: {', '.join(with_aux)})")
        kwargs["aux"] = True
    if args.image_size is not None:
        _, arch = _resolve_name(args.name)
        channels = registry.model_info(arch.registry_name).default_input_shape[-1]
        kwargs["input_shape"] = (args.image_size, args.image_size, channels)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # unused tensors: printed below
            model, report = from_torchvision(args.name, args.checkpoint, strict=args.strict,
                                             return_report=True, **kwargs)
    except ImportError as err:
        raise UsageError(f"{PROG} convert: error: {err}") from None
    if report.unused:
        print(f"{PROG} convert: warning: {len(report.unused)} checkpoint tensors not used: "
              f"{', '.join(report.unused[:6])}{' ...' if len(report.unused) > 6 else ''}",
              file=sys.stderr)
    from keras_cnns import heads
    from keras_cnns.checkpoint import attach_run_metadata  # ImageNet names travel with it
    from keras_cnns.weights.labels import imagenet_classes

    names = [c[1] for c in imagenet_classes()]
    classes = heads.inference_model(model).outputs[0].shape[-1]
    model = attach_run_metadata(model, class_names=names if classes == len(names) else None,
                                source=f"torchvision {args.name}")
    atomic_save_model(model, args.output)
    print(f"{args.output}: {report}")
    return 0
