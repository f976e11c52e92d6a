"""``keras-cnns evaluate``: held-out top-1 / top-5 of a checkpoint, with test-time crops."""

from __future__ import annotations

from keras_cnns.cli.common import (PROG, UsageError, add_backend_argument,
                                   add_dataset_arguments, load_checkpoint, select_backend)

#: keras_cnns.data.SCHEMES, spelled out so that the parser needs no TensorFlow
#: (tests/test_cli.py pins the two together).
TTA_SCHEMES = ("center", "alexnet-10", "googlenet-144", "vgg-dense")


def add_parsers(sub):
    p = sub.add_parser(
        "evaluate", help="held-out top-1 / top-5 of a checkpoint, with test-time crops",
        description="Evaluate a .keras checkpoint on a dataset's held-out split with a "
                    "test-time scheme; prints the metrics and writes them as JSON next to "
                    "the checkpoint (or to --output).")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a .keras file")
    add_dataset_arguments(p)
    p.add_argument("--tta", default="center", choices=TTA_SCHEMES, help="test-time views")
    p.add_argument("--batch-size", type=int, default=144, help="crops per forward pass")
    p.add_argument("--output", default=None, help="JSON file (default: beside CHECKPOINT)")
    add_backend_argument(p)
    p.set_defaults(func=run)


def run(args):
    import json
    import os

    select_backend(args.backend)  # before anything imports Keras

    from keras_cnns.validation import check_positive_int

    check_positive_int("--batch-size", args.batch_size)
    model = load_checkpoint(args.checkpoint)

    from keras_cnns import heads as aux_lib
    from keras_cnns.data import evaluate_tta
    from keras_cnns.training.callbacks import atomic_write_text
    from keras_cnns.training.run import resolve_dataset

    size = model.inputs[0].shape[1] or 224
    _, test, names, desc = resolve_dataset(args.dataset, args.data_dir, int(size))
    classes = aux_lib.inference_model(model).outputs[0].shape[-1]
    if classes != len(names):
        raise UsageError(f"{PROG}: error: --dataset {args.dataset!r} has {len(names)} classes "
                         f"but the checkpoint's model has {classes} outputs")
    try:
        result = evaluate_tta(model, test, args.tta, batch_size=args.batch_size, verbose=0)
    except ValueError as err:
        raise UsageError(f"{PROG}: error: --tta {args.tta}: {err}") from None
    out = {"checkpoint": os.path.abspath(args.checkpoint), "model": model.name,
           "dataset": args.dataset, "tta": args.tta, **result}
    print(f"{model.name} on {desc}, {args.tta}: top-1 {result['top1']:.4f}, top-5 "
          f"{result['top5']:.4f} ({result['images']} images, {result['crops_per_image']} "
          f"view(s) each, {result['seconds']:.1f} s)")
    path = args.output or (os.path.splitext(args.checkpoint)[0] + f".evaluate-{args.tta}.json")
    atomic_write_text(path, json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")
    return 0
