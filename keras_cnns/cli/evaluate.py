"""``keras-cnns evaluate``: held-out top-1 / top-5 of a checkpoint, with test-time crops."""

from __future__ import annotations

from keras_cnns.cli.common import (PROG, UsageError, add_backend_argument,
                                   add_bad_images_argument, add_dataset_arguments,
                                   add_precision_argument, add_split_arguments, load_checkpoint,
                                   select_backend)

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
    p.add_argument("--split", default="test", choices=("test", "validation", "train"),
                   help="the dataset part to score (default test; see 'train --help' for "
                        "how the parts are made)")
    add_split_arguments(p)
    add_bad_images_argument(p)
    p.add_argument("--tta", default="center", choices=TTA_SCHEMES, help="test-time views")
    p.add_argument("--batch-size", type=int, default=144, help="crops per forward pass")
    add_precision_argument(p, "evaluate")
    p.add_argument("--output", default=None,
                   help="JSON file (default: beside CHECKPOINT, named CHECKPOINT.evaluate-"
                        "DATASET-SPLIT-TTA.json)")
    add_backend_argument(p)
    p.set_defaults(func=run)


def _result_path(args):
    import os
    import re

    if args.output is not None:
        return args.output
    dataset = re.sub(r"[^A-Za-z0-9._-]+", "_", os.path.basename(os.path.normpath(args.dataset))
                     if os.path.isdir(args.dataset) else args.dataset).strip("_") or "dataset"
    return (os.path.splitext(args.checkpoint)[0]
            + f".evaluate-{dataset}-{args.split}-{args.tta}.json")


def _check_writable(path):
    """The result's file must be writable before minutes of evaluation, not after."""
    import os

    if path == "" or os.path.isdir(path):
        raise UsageError(f"{PROG}: error: --output {path!r} is a folder; pass a file name "
                         "such as result.json")
    parent = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(parent):
        raise UsageError(f"{PROG}: error: --output {path!r}: folder {parent!r} does not exist")
    from keras_cnns.atomic import check_writable

    check_writable(parent, "--output")


def run(args):
    import json
    import os

    select_backend(args.backend)  # before anything imports Keras

    from keras_cnns.validation import check_positive_int

    check_positive_int("--batch-size", args.batch_size)
    path = _result_path(args)
    if os.path.isfile(args.checkpoint):  # else load_checkpoint names CHECKPOINT
        _check_writable(path)
    model = load_checkpoint(args.checkpoint)

    import tensorflow as tf

    from keras_cnns.precision import model_precision, with_precision

    saved = model_precision(model)
    model = with_precision(model, args.precision)  # the same weights, computed as asked

    from keras_cnns import heads as aux_lib
    from keras_cnns.data import evaluate_tta
    from keras_cnns.training.callbacks import atomic_write_text
    from keras_cnns.training.run import decode_error_message, resolve_dataset

    size = model.inputs[0].shape[1] or 224
    index_dir = os.path.dirname(os.path.abspath(args.checkpoint))
    parts = resolve_dataset(args.dataset, args.data_dir, int(size), args.val_split,
                            args.test_split, args.bad_images, index_dir=index_dir,
                            download=args.download)
    names, desc = parts.class_names, parts.description
    classes = aux_lib.inference_model(model).outputs[0].shape[-1]
    if classes != len(names):
        raise UsageError(f"{PROG}: error: --dataset {args.dataset!r} has {len(names)} classes "
                         f"but the checkpoint's model has {classes} outputs")
    try:
        result = evaluate_tta(model, parts.part(args.split), args.tta,
                              batch_size=args.batch_size, verbose=0, return_probabilities=True)
    except tf.errors.OpError as err:
        raise ValueError(decode_error_message(err, parts, "evaluate")) from None
    except ValueError as err:
        raise UsageError(f"{PROG}: error: --tta {args.tta}: {err}") from None
    out = {"checkpoint": os.path.abspath(args.checkpoint), "model": model.name,
           "dataset": args.dataset, "split": args.split, "split_made": parts.splits[
               "validation" if args.split == "validation" else args.split],
           "tta": args.tta, "precision": args.precision, "checkpoint_precision": saved,
           **parts.skipped_record(), **result}
    print(f"{model.name} on {desc}, {args.split} part, {args.tta}: top-1 "
          f"{result['top1']:.4f}, top-5 {result['top5']:.4f} ({result['images']} images, "
          f"{result['crops_per_image']} view(s) each, {args.precision}, "
          f"{result['seconds']:.1f} s)")
    from keras_cnns.cli.reading import write_class_report  # confusion.png, per_class.csv

    write_class_report(result, names, path, title=f"{model.name}, {args.split}, {args.tta}")
    out = {k: v for k, v in out.items() if k not in ("probabilities", "labels")}
    atomic_write_text(path, json.dumps(out, indent=1) + "\n")
    print(f"wrote {path}")
    return 0
