"""``keras-cnns export``: a checkpoint as a SavedModel, TFLite or ONNX file."""

from __future__ import annotations

from keras_cnns.cli.common import PROG, UsageError, load_checkpoint

EXPORT_FORMATS = ("saved_model", "tflite", "onnx")


def add_parsers(sub):
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
    p.set_defaults(func=run)


def run(args):
    import os

    from keras_cnns.atomic import check_writable, directory_lock, sweep_temp_files

    if not args.out:
        raise UsageError(f"{PROG}: error: OUT must name a file or folder, got ''")
    out = os.path.abspath(args.out)
    parent, base = os.path.dirname(out), os.path.basename(out)
    if os.path.isfile(args.checkpoint):
        check_writable(parent, "OUT")  # before loading and converting, not after
    # One export per target at a time; temp files a killed export left are swept.
    with directory_lock(parent, "OUT", lock_name=f".{base}.lock", label=args.out):
        sweep_temp_files(parent, [base])
        return _run(args)


def _run(args):
    import os

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
