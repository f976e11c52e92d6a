"""``keras-cnns predict``: top-k class names and probabilities for image files."""

from __future__ import annotations

from keras_cnns.cli.common import (PROG, UsageError, add_backend_argument,
                                   add_precision_argument, load_checkpoint, select_backend)

#: keras_cnns.data.SCHEMES, spelled out so that the parser needs no TensorFlow
#: (tests/test_predict.py pins the two together).
TTA_SCHEMES = ("center", "alexnet-10", "googlenet-144", "vgg-dense")

BAD_IMAGES = ("fail", "skip")
PROGRESS_FROM = 50  # images: a progress bar on folders at least this large


def add_parsers(sub):
    p = sub.add_parser(
        "predict", help="top-k class names and probabilities for image files or folders",
        description="Predict image files (folders are searched recursively) with a .keras "
                    "checkpoint (its stored class names and preprocessing) or a registry "
                    "name with published ImageNet weights. Prints a table; --json / --csv "
                    "write the predictions.")
    p.add_argument("model", metavar="CHECKPOINT_OR_NAME",
                   help="a .keras file, or a registry name with ImageNet weights")
    p.add_argument("paths", metavar="PATH", nargs="+", help="image files or folders")
    p.add_argument("--top-k", type=int, default=5, help="labels per image (default 5)")
    p.add_argument("--tta", default="center", choices=TTA_SCHEMES, help="test-time views")
    p.add_argument("--batch-size", type=int, default=64, help="crops per forward pass")
    p.add_argument("--json", default=None, metavar="OUT",
                   help="write [{image, predictions: [{label, index, probability}]}] here")
    p.add_argument("--csv", default=None, metavar="OUT", help="write one row per image here")
    p.add_argument("--bad-images", default="fail", choices=BAD_IMAGES,
                   help="an undecodable file: fail (exit 2, listing them) or skip (reported)")
    add_precision_argument(p, "predict")
    add_backend_argument(p)
    p.set_defaults(func=run)


def _check_out(flag, path):
    import os

    if path is None:
        return None
    parent = os.path.dirname(os.path.abspath(path))
    if os.path.isdir(path) or not os.path.isdir(parent):
        raise UsageError(f"{PROG}: error: {flag} {path!r}: not a file in an existing folder")
    return path


def _load(spec):
    import os

    if os.path.exists(spec) or spec.endswith(".keras"):
        return load_checkpoint(spec, flag="CHECKPOINT_OR_NAME")
    from keras_cnns import registry

    try:
        info = registry.model_info(spec)
    except ValueError as err:
        raise UsageError(f"{PROG}: error: CHECKPOINT_OR_NAME {spec!r}: no such file, and "
                         f"{err}") from None
    if info.imagenet_weights is None:
        raise UsageError(f"{PROG}: error: CHECKPOINT_OR_NAME {spec!r} has no published ImageNet "
                         "weights; pass a .keras checkpoint (keras-cnns train / convert)")
    return registry.build(spec, weights="imagenet")


def csv_text(records, top_k):
    """One row per image: ``image``, then ``label_i``, ``probability_i``, ``index_i``."""
    import csv
    import io

    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    header = ["image"]
    for i in range(1, top_k + 1):
        header += [f"label_{i}", f"probability_{i}", f"index_{i}"]
    writer.writerow(header)
    for r in records:
        row = [r["image"]]
        for p in r["predictions"]:
            row += [p["label"], f"{p['probability']:.6g}", p["index"]]
        writer.writerow(row)
    return buf.getvalue()


def table_text(records):
    """image, then the top-k ``label probability`` pairs, one image a line."""
    if not records:
        return "(no predictions)"
    width = min(60, max(len(str(r["image"])) for r in records))
    k = max(len(r["predictions"]) for r in records)
    lines = [f"{'image':<{width}}  " + "  ".join(f"top-{i + 1}" for i in range(k))]
    for r in records:
        cells = [f"{p['label']} {p['probability']:.3f}" for p in r["predictions"]]
        lines.append(f"{str(r['image']):<{width}}  " + "  ".join(cells))
    return "\n".join(lines)


def run(args):
    import json
    import sys

    from keras_cnns.validation import check_positive_int

    select_backend(args.backend)  # before anything imports Keras
    check_positive_int("--top-k", args.top_k)
    check_positive_int("--batch-size", args.batch_size)
    _check_out("--json", args.json)
    _check_out("--csv", args.csv)
    from keras_cnns.inference import bad_images_message, collect_images

    files = collect_images(args.paths)
    model = _load(args.model)
    from keras_cnns.precision import with_precision

    model = with_precision(model, args.precision)  # the same weights, computed as asked

    from keras_cnns.atomic import atomic_write
    from keras_cnns.inference import predict_images

    verbose = 1 if len(files) >= PROGRESS_FROM else 0
    try:
        records, bad = predict_images(model, files, top_k=args.top_k, tta=args.tta,
                                      batch_size=args.batch_size, verbose=verbose)
    except ValueError as err:
        raise UsageError(f"{PROG}: error: {err}") from None
    if bad and args.bad_images == "fail":
        raise UsageError(f"{PROG}: error: {bad_images_message(bad)} (--bad-images skip leaves "
                         "them out)")
    print(table_text(records))
    if bad:
        print(f"skipped {bad_images_message(bad)}", file=sys.stderr)
    if args.json:
        atomic_write(args.json, json.dumps(records, indent=1) + "\n")
        print(f"wrote {args.json}")
    if args.csv:
        atomic_write(args.csv, csv_text(records, max(len(r["predictions"]) for r in records)
                                        if records else args.top_k))
        print(f"wrote {args.csv}")
    return 0
