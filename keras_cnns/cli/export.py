"""``keras-cnns export``: a checkpoint as a SavedModel, TFLite or ONNX file, checked
against the Keras model on held-out images, with a report beside it."""

from __future__ import annotations

from keras_cnns.cli.common import PROG, UsageError, add_dataset_arguments, load_checkpoint

#: keras_cnns.export's EXPORT_FORMATS / QUANTIZE_MODES / defaults, spelled out so that
#: the parser needs no TensorFlow (tests/test_export_cli.py pins them together).
EXPORT_FORMATS = ("saved_model", "tflite", "onnx")
QUANTIZE_MODES = ("none", "float16", "dynamic", "int8")
DEFAULT_CALIBRATION_IMAGES = 256
DEFAULT_CHECK_IMAGES = 1000


def add_parsers(sub):
    p = sub.add_parser(
        "export", help="export a checkpoint as a SavedModel, TFLite or ONNX file, checked",
        description="Export a .keras checkpoint for serving, aux heads stripped. "
                    "saved_model: uint8 images of any size (preprocessing in the graph). "
                    "tflite / onnx: uint8 images already resized and centre-cropped to the "
                    "model's input size (their runtimes lack the antialiased resize); "
                    "output 'probabilities'. onnx needs pip install 'keras-cnns[export]'. "
                    "Every export is checked against the Keras model on the dataset's "
                    "held-out images and refused (exit 2, nothing written) below "
                    "--min-agreement; the report goes to OUT.json (OUT/export.json for a "
                    "SavedModel).")
    p.add_argument("checkpoint", metavar="CHECKPOINT", help="a .keras file")
    p.add_argument("out", metavar="OUT", help="output path (directory for saved_model)")
    p.add_argument("--format", default=None, choices=EXPORT_FORMATS,
                   help="default: from OUT's suffix (.tflite, .onnx), else saved_model")
    p.add_argument("--overwrite", action="store_true", help="replace an existing OUT")
    p.add_argument("--optimize", action="store_true",
                   help="fold each BatchNormalization into the conv / dense layer before "
                        "it, drop dropout (same outputs up to float rounding)")
    p.add_argument("--quantize", default="none", choices=QUANTIZE_MODES,
                   help="tflite only: float16 weights, dynamic (int8 weights) or int8 "
                        "(full-integer, calibrated on --dataset's training images)")
    add_dataset_arguments(p, download=False)  # the data the run was trained on
    p.add_argument("--calibration-images", type=int, default=DEFAULT_CALIBRATION_IMAGES,
                   metavar="N", help="training images that calibrate int8 (default "
                                     f"{DEFAULT_CALIBRATION_IMAGES})")
    p.add_argument("--check-images", type=int, default=DEFAULT_CHECK_IMAGES, metavar="N",
                   help=f"held-out images of the check (default at most "
                        f"{DEFAULT_CHECK_IMAGES})")
    p.add_argument("--min-agreement", type=float, default=None, metavar="F",
                   help="refuse an export whose top-1 agreement with the Keras model is "
                        "below F (default 0.99; 0.97 for dynamic and int8)")
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

    from keras_cnns.validation import check_positive_int

    fmt = args.format
    if fmt is None:
        ext = os.path.splitext(args.out)[1].lower()
        fmt = {".tflite": "tflite", ".onnx": "onnx"}.get(ext, "saved_model")
    if args.quantize != "none" and fmt != "tflite":
        raise UsageError(f"{PROG}: error: --quantize {args.quantize} applies to --format "
                         f"tflite only, not {fmt}")
    check_positive_int("--calibration-images", args.calibration_images)
    check_positive_int("--check-images", args.check_images)
    if args.min_agreement is not None and not 0.0 <= args.min_agreement <= 1.0:
        raise UsageError(f"{PROG}: error: --min-agreement must be in [0, 1], got "
                         f"{args.min_agreement:g}")
    if os.path.exists(args.out) and not args.overwrite:
        raise UsageError(f"{PROG}: error: OUT {args.out!r} exists; pass --overwrite to replace it")
    if fmt == "onnx":
        from keras_cnns.export.serving import onnx_available

        reason = onnx_available()
        if reason:
            raise UsageError(f"{PROG}: error: --format onnx: {reason}")
    model = load_checkpoint(args.checkpoint)

    from keras_cnns import export as export_lib

    def say(message):
        print(f"{PROG} export: {message}", flush=True)

    try:
        report = export_lib.export(
            model, args.out, fmt, optimize=args.optimize, quantize=args.quantize,
            dataset=args.dataset, data_dir=args.data_dir,
            calibration_images=args.calibration_images, check_images=args.check_images,
            min_agreement=args.min_agreement, overwrite=args.overwrite, progress=say)
    except export_lib.ExportRefused:
        raise
    except ValueError as err:
        raise UsageError(f"{PROG}: error: --format {fmt}: {err}") from None
    s = model.inputs[0].shape[1]
    what = ("serving_default: uint8 images [N, H, W, 3] of any size -> probabilities"
            if fmt == "saved_model" else
            f"{fmt}: uint8 images [N, {s}, {s}, 3], resized and centre-cropped as the "
            "model's preprocessing says -> probabilities")
    print(f"wrote {os.path.abspath(args.out)} ({what}), {report['size_bytes']:,} bytes")
    print(f"check on {report['images']} held-out images: top-1 Keras {report['keras_top1']:.4f}"
          f", export {report['export_top1']:.4f}, agreement {report['agreement']:.4f} "
          f"(min {report['min_agreement']:g}), max |dp| {report['max_abs_prob_diff']:.2e}")
    print(f"wrote {export_lib.report_path(os.path.abspath(args.out), fmt)}")
    return 0
