"""The ``train``, ``evaluate`` and ``export`` subcommands (a :data:`keras_cnns.cli.PLUGINS`
module). Bad input exits 2 with one line naming the flag; a diverged run exits 1."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys

from keras_cnns.cli import PROG, UsageError

EXPORT_FORMATS = ("saved_model", "tflite", "onnx")


def add_parsers(sub):
    _add_train(sub)
    _add_evaluate(sub)
    _add_export(sub)


# --------------------------------------------------------------------------- train

def _add_train(sub):
    p = sub.add_parser(
        "train", help="train a registry model (paper or fast recipe), resumable",
        description="Train a registry model on digits, a tfds dataset or an image folder, "
                    "as its paper did (--recipe paper) or quickly (--recipe fast). Writes "
                    "best.keras, last.keras, history.csv, TensorBoard logs, curves.png and "
                    "results.json into --output; --resume continues a killed run at its "
                    "last finished epoch.")
    p.add_argument("model", metavar="MODEL", help="registry name (see 'keras-cnns list')")
    p.add_argument("--dataset", default="digits",
                   help="'digits' (offline, default), a tfds name, or a folder PATH "
                        "(root/split/label/img or root/label/img)")
    p.add_argument("--data-dir", default=None, help="tfds data directory (prepared data)")
    p.add_argument("--recipe", default="fast",
                   help="'paper' (the model family's recipe), 'fast' (Adam 1e-3; default), "
                        "or a recipe name: alexnet, vgg, googlenet, inception_v3, resnet")
    p.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    p.add_argument("--batch-size", type=int, default=None,
                   help="GLOBAL batch, split across replicas (default: the recipe's)")
    p.add_argument("--image-size", type=int, default=None,
                   help="input side in pixels (default: the model's own)")
    p.add_argument("--aux", action=argparse.BooleanOptionalAction, default=None,
                   help="train with the aux heads (default: on for models that have them)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--output", default=None, help="run directory (default: runs/MODEL)")
    p.add_argument("--resume", action="store_true",
                   help="continue the run in --output from its last finished epoch")
    p.add_argument("--overwrite", action="store_true",
                   help="discard a previous run in --output and start over")
    p.add_argument("--strategy", default="default", choices=("default", "mirrored",
                                                             "multi-worker"),
                   help="tf.distribute strategy; multi-worker reads TF_CONFIG "
                        "(docs/distributed.md)")
    p.add_argument("--cpu-replicas", type=int, default=None,
                   help="with --strategy mirrored: split the CPU into N logical devices")
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2),
                   help="Keras verbosity: 1 progress bars (default), 2 one line per epoch")
    p.set_defaults(func=_cmd_train)


def _cmd_train(args):
    from keras_cnns.training.run import TrainingDiverged, train

    if args.cpu_replicas is not None:
        # Logical devices must exist before TensorFlow initialises its runtime.
        from keras_cnns.training.distributed import make_strategy  # noqa: F401
    output = args.output or os.path.join("runs", args.model)
    command = " ".join(shlex.quote(a) for a in [PROG] + sys.argv[1:])
    try:
        train(args.model, dataset=args.dataset, data_dir=args.data_dir, recipe=args.recipe,
              epochs=args.epochs, batch_size=args.batch_size, image_size=args.image_size,
              aux=args.aux, seed=args.seed, output=output, resume=args.resume,
              overwrite=args.overwrite, strategy=args.strategy, cpu_replicas=args.cpu_replicas,
              verbose=args.verbose, command=command)
    except TrainingDiverged as err:
        print(f"{PROG} train: {err}", file=sys.stderr)
        return 1
    return 0


# --------------------------------------------------------------------------- evaluate

def load_checkpoint(path, flag="CHECKPOINT"):
    """``keras.saving.load_model(path, safe_mode=True)``, with one-line errors."""
    import keras

    import keras_cnns  # noqa: F401  (registers the custom layers)
    import keras_cnns.training  # noqa: F401  (registers the losses / schedules)

    if not os.path.exists(path):
        raise UsageError(f"{PROG}: error: {flag} {path!r}: no such file")
    if os.path.isdir(path):
        raise UsageError(f"{PROG}: error: {flag} {path!r} is a directory; pass a .keras file "
                         "(best.keras or last.keras of a run)")
    try:
        return keras.saving.load_model(path, safe_mode=True)
    except Exception as err:  # corrupt zip, wrong format, unknown layer...
        first = (str(err).strip().splitlines() or [""])[0][:200]
        raise UsageError(f"{PROG}: error: {flag} {path!r} is not a loadable .keras model "
                         f"({type(err).__name__}: {first})") from None


def _add_evaluate(sub):
    from keras_cnns.data import SCHEMES

    p = sub.add_parser(
        "evaluate", help="held-out top-1 / top-5 of a checkpoint, with test-time crops",
        description="Evaluate a .keras checkpoint on a dataset's held-out split with a "
                    "test-time scheme; prints the metrics and writes them as JSON next to "
                    "the checkpoint (or to --output).")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a .keras file")
    p.add_argument("--dataset", default="digits", help="'digits', a tfds name or a folder PATH")
    p.add_argument("--data-dir", default=None)
    p.add_argument("--tta", default="center", choices=SCHEMES, help="test-time views")
    p.add_argument("--batch-size", type=int, default=144, help="crops per forward pass")
    p.add_argument("--output", default=None, help="JSON file (default: beside CHECKPOINT)")
    p.set_defaults(func=_cmd_evaluate)


def _cmd_evaluate(args):
    from keras_cnns.data import evaluate_tta
    from keras_cnns.training.callbacks import atomic_write_text
    from keras_cnns.training.run import resolve_dataset

    if args.batch_size < 1:
        raise UsageError(f"{PROG}: error: --batch-size must be a positive integer, "
                         f"got {args.batch_size}")
    model = load_checkpoint(args.checkpoint)
    size = model.inputs[0].shape[1] or 224
    _, test, names, desc = resolve_dataset(args.dataset, args.data_dir, int(size))
    from keras_cnns import heads as aux_lib

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


# --------------------------------------------------------------------------- export

def _add_export(sub):
    p = sub.add_parser(
        "export", help="export a checkpoint as a SavedModel, TFLite or ONNX file",
        description="Export a .keras checkpoint for serving, aux heads stripped. "
                    "saved_model: uint8 images of any size (preprocessing in the graph). "
                    "tflite / onnx: uint8 images already resized and centre-cropped to the "
                    "model's input size (their runtimes lack the antialiased resize); "
                    "output 'probabilities'. onnx needs pip install 'keras-cnns[export]'.")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a .keras file")
    p.add_argument("out", metavar="OUT", help="output path (directory for saved_model)")
    p.add_argument("--format", default=None, choices=EXPORT_FORMATS,
                   help="default: from OUT's suffix (.tflite, .onnx), else saved_model")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    p.set_defaults(func=_cmd_export)


def _cmd_export(args):
    from keras_cnns import export as export_lib

    fmt = args.format
    if fmt is None:
        ext = os.path.splitext(args.out)[1].lower()
        fmt = {".tflite": "tflite", ".onnx": "onnx"}.get(ext, "saved_model")
    if fmt == "onnx":
        reason = export_lib.onnx_available()
        if reason:
            raise UsageError(f"{PROG}: error: --format onnx: {reason}")
    if os.path.exists(args.out) and not args.overwrite:
        raise UsageError(f"{PROG}: error: OUT {args.out!r} exists; pass --overwrite to replace it")
    model = load_checkpoint(args.checkpoint)
    fn = {"saved_model": export_lib.export_saved_model, "tflite": export_lib.export_tflite,
          "onnx": export_lib.export_onnx}[fmt]
    try:
        path = fn(model, args.out, overwrite=args.overwrite)
    except ValueError as err:
        raise UsageError(f"{PROG}: error: --format {fmt}: {err}") from None
    if fmt == "saved_model":
        print(f"wrote {path} (serving_default: uint8 images [N, H, W, 3] of any size -> "
              "probabilities)")
    else:
        s = model.inputs[0].shape[1]
        print(f"wrote {path} ({fmt}: uint8 images [N, {s}, {s}, 3], resized and centre-"
              "cropped as the model's preprocessing says -> probabilities)")
    return 0
