"""Serving speed, side by side in one run: TF fp32 / bf16, TFLite fp32 / float16 / int8,
ONNX Runtime and torchvision, for the paper GoogLeNet and ResNet-50.

    python benchmarks/serving.py [--models googlenet,resnet50] [--batches 1,16]
        [--threads 2] [--reps 7] [--calibration 32] [--spin] [--quick] [--json PATH]

Every runtime gets ``--threads`` threads (TF intra-op, TFLite/XNNPACK, ONNX Runtime
intra-op, torch) and the same input: a fixed batch of the two scikit-learn sample
photos, centre-cropped to 224 px (uint8 for the exports, which normalise in the graph;
float32 NCHW, ImageNet-normalised, for torch). Weights are random (same architecture,
same arithmetic; torchvision's are its own random ones); the int8 file is calibrated on
``--calibration`` crops of the photos (random boxes and flips).

- ``tf_fp32``: ``tf.function`` of the fixed-size serving graph (uint8 -> softmax), the
  checkpoint as it is; ``tf_fp32_folded``: the same after ``optimize_model`` (BN folded);
- ``tf_bf16``: the network built under ``mixed_bfloat16`` with the same weights;
- ``tflite_fp32`` / ``tflite_float16`` / ``tflite_int8``: ``write_tflite`` of the
  folded model, run by the TFLite interpreter (XNNPACK) with ``invoke()``;
- ``tflite_fp32_lrn_op`` / ``tflite_int8_lrn_op`` (only when named in ``--runtimes``):
  the same files with LRN left as TFLite's LOCAL_RESPONSE_NORMALIZATION op, the form
  before ``keras_cnns.layers.lrn.decomposed``;
- ``onnxruntime``: ``write_onnx`` of the folded model, CPU provider;
- ``torchvision``: ``torchvision.models.googlenet`` (aux off, as torchvision serves it)
  / ``resnet50`` in ``eval()`` under ``torch.inference_mode()``. torchvision's GoogLeNet
  is not the paper's (BN instead of LRN, 3x3 where the paper has 5x5): see REFERENCE.

Each runtime is warmed up (3 calls), then ``--reps`` rounds; in a round every runtime
runs once, in an order rotated from round to round (interleaved, so a load swing on the
shared machine hits all of them). Reported: images/s from the median call, and each
runtime's paired ratio against ``tf_fp32`` (median over rounds of tf_fp32 seconds /
runtime seconds in the same round).
"""

import argparse
import contextlib
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from unittest import mock

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
# torch's wheel ships Triton, whose native library segfaults when loaded after
# TensorFlow's; torchvision imports it through torch._dynamo if it can. Keep it unloaded
# (as tests/test_torchvision_weights.py does).
sys.modules.setdefault("triton", None)
# Threads that wait by sleeping, not spinning (torch's OpenMP, ONNX Runtime's pool):
# on a shared, oversubscribed machine a spinning 2-thread pool waits for a descheduled
# partner, and torch ran 3x slower at 2 threads than at 1 (measured at load average
# 8-10 on 2 cores). --spin turns this off (set OMP_WAIT_POLICY yourself to override).
SPIN = "--spin" in sys.argv[1:]
if not SPIN:
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402

NETWORKS = {"googlenet": ("googlenet", "googlenet"), "resnet50": ("resnet50", "resnet50")}
BASELINE = "tf_fp32"


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default="googlenet,resnet50")
    p.add_argument("--batches", default="1,16")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--reps", type=int, default=7, help="interleaved rounds (>= 1)")
    p.add_argument("--calibration", type=int, default=32, help="int8 calibration crops")
    p.add_argument("--runtimes", default=None, help="comma-separated subset (default all)")
    p.add_argument("--quick", action="store_true", help="smoke run: 2 rounds, batch 1")
    p.add_argument("--spin", action="store_true",
                   help="let torch's OpenMP and ONNX Runtime threads spin while waiting "
                        "(their default; faster on an idle machine, much slower on a busy one)")
    p.add_argument("--json", default=None, help="also write the results to this path")
    args = p.parse_args(argv)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    if not args.models or any(m not in NETWORKS for m in args.models):
        p.error(f"--models must be a subset of {', '.join(NETWORKS)}")
    args.batches = [int(b) for b in args.batches.split(",")]
    if args.quick:
        args.reps, args.batches = 2, [1]
    if args.reps < 1 or args.threads < 1 or min(args.batches) < 1 or args.calibration < 1:
        p.error("--reps, --threads, --batches and --calibration must be >= 1")
    if args.runtimes:
        args.runtimes = [r.strip() for r in args.runtimes.split(",") if r.strip()]
    return args


def cpu_flags():
    want = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16",
            "amx_bf16", "amx_int8", "amx_tile")
    try:
        with open("/proc/cpuinfo") as f:
            text = f.read()
    except OSError:
        return {"model": platform.processor(), "flags": []}
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines()
                  if line.startswith("model name")), platform.processor())
    flags = set()
    for line in text.splitlines():
        if line.startswith("flags"):
            flags |= set(line.split(":", 1)[1].split())
    return {"model": model, "flags": [f for f in want if f in flags],
            "cores": os.cpu_count()}


def photo_batch(size, n):
    """``n`` uint8 224 px centre crops of the two sample photos (alternating)."""
    import tensorflow as tf
    from sklearn.datasets import load_sample_images

    crops = []
    for img in load_sample_images().images:
        h, w = img.shape[:2]
        s = min(h, w)
        sq = img[(h - s) // 2:(h - s) // 2 + s, (w - s) // 2:(w - s) // 2 + s]
        crops.append(tf.cast(tf.round(tf.image.resize(sq.astype("float32"), (size, size),
                                                      antialias=True)), tf.uint8).numpy())
    return np.stack([crops[i % 2] for i in range(n)])


def calibration_crops(size, n, seed=0):
    import tensorflow as tf
    from sklearn.datasets import load_sample_images

    rng = np.random.default_rng(seed)
    photos = load_sample_images().images
    out = []
    for i in range(n):
        img = photos[i % 2]
        h, w = img.shape[:2]
        s = int(rng.uniform(0.4, 1.0) * min(h, w))
        y, x = rng.integers(0, h - s + 1), rng.integers(0, w - s + 1)
        crop = img[y:y + s, x:x + s]
        if rng.random() < 0.5:
            crop = crop[:, ::-1]
        out.append(tf.cast(tf.round(tf.image.resize(crop.astype("float32"), (size, size),
                                                    antialias=True)), tf.uint8).numpy())
    return np.stack(out)


# --------------------------------------------------------------------------- runtimes

def tf_runner(serving):
    import tensorflow as tf

    fn = tf.function(lambda x: serving(x, training=False)["probabilities"])
    return lambda x: fn(tf.constant(x)).numpy()


def tflite_runner(path, threads, batch):
    from keras_cnns.export import tflite_interpreter

    interp = tflite_interpreter(path, num_threads=threads)
    inp = interp.get_input_details()[0]
    out = interp.get_output_details()[0]
    interp.resize_tensor_input(inp["index"], [batch, *inp["shape"][1:]])
    interp.allocate_tensors()

    def run(x):
        interp.set_tensor(inp["index"], x)
        interp.invoke()
        return interp.get_tensor(out["index"])

    return run


def onnx_runner(path, threads):
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    if not SPIN:
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    session = ort.InferenceSession(path, options, providers=["CPUExecutionProvider"])
    return lambda x: session.run(["probabilities"], {"images": x})[0]


def torch_runner(tv_name, threads):
    import torch
    import torchvision

    torch.set_num_threads(threads)
    kwargs = {"aux_logits": False, "init_weights": False} if tv_name == "googlenet" else {}
    model = getattr(torchvision.models, tv_name)(weights=None, **kwargs).eval()
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)

    def run(x):
        with torch.inference_mode():
            t = torch.from_numpy(x).permute(0, 3, 1, 2).float().div(255.0)
            return torch.softmax(model((t - mean) / std), dim=1).numpy()

    return run


def build_runtimes(name, batches, args, workdir, say):
    """``{runtime: {batch: fn(x)}}`` and file sizes for one network."""
    import keras

    import keras_cnns
    from keras_cnns import export as ex

    keras.utils.set_random_seed(0)
    model = keras_cnns.build(NETWORKS[name][0], classes=1000)
    size = int(model.inputs[0].shape[1])
    folded = ex.optimize_model(model)
    want = args.runtimes
    rts, sizes = {}, {}

    def wanted(rt):
        return want is None or rt in want

    if wanted("tf_fp32"):
        fn = tf_runner(ex.fixed_size_serving_model(model))
        rts["tf_fp32"] = {b: fn for b in batches}
    if wanted("tf_fp32_folded"):
        fn = tf_runner(ex.fixed_size_serving_model(folded))
        rts["tf_fp32_folded"] = {b: fn for b in batches}
    if wanted("tf_bf16"):
        keras.mixed_precision.set_global_policy("mixed_bfloat16")
        try:
            bf16 = keras_cnns.build(NETWORKS[name][0], classes=1000)
        finally:
            keras.mixed_precision.set_global_policy("float32")
        bf16.set_weights(model.get_weights())
        fn = tf_runner(ex.fixed_size_serving_model(bf16))
        rts["tf_bf16"] = {b: fn for b in batches}
    serving = ex.fixed_size_serving_model(folded)
    calibration = None
    for quant in ("none", "float16", "int8"):
        rt = "tflite_fp32" if quant == "none" else f"tflite_{quant}"
        if not wanted(rt):
            continue
        if quant == "int8":
            calibration = calibration_crops(size, args.calibration)
        path = os.path.join(workdir, f"{name}_{quant}.tflite")
        t = time.perf_counter()
        ex.write_tflite(serving, path, quant, calibration)
        say(f"{name}: wrote {rt} ({os.path.getsize(path) / 1e6:.1f} MB, "
            f"{time.perf_counter() - t:.0f} s)")
        sizes[rt] = os.path.getsize(path)
        rts[rt] = {b: tflite_runner(path, args.threads, b) for b in batches}
    # Opt-in (named in --runtimes only): the files with LRN as TFLite's own
    # LOCAL_RESPONSE_NORMALIZATION op, as they were before keras_cnns.layers.lrn's
    # decomposed form, for a paired comparison.
    for quant in ("none", "int8"):
        rt = f"tflite_{'fp32' if quant == 'none' else quant}_lrn_op"
        if want is None or rt not in want:
            continue
        calibration = calibration_crops(size, args.calibration) if quant == "int8" else None
        path = os.path.join(workdir, f"{name}_{quant}_lrn_op.tflite")
        with mock.patch("keras_cnns.layers.lrn.decomposed",
                        lambda integer=False: contextlib.nullcontext()):
            ex.write_tflite(serving, path, quant, calibration)
        sizes[rt] = os.path.getsize(path)
        rts[rt] = {b: tflite_runner(path, args.threads, b) for b in batches}
    if wanted("onnxruntime") and ex.onnx_available() is None:
        path = os.path.join(workdir, f"{name}.onnx")
        ex.write_onnx(serving, path)
        sizes["onnxruntime"] = os.path.getsize(path)
        fn = onnx_runner(path, args.threads)
        rts["onnxruntime"] = {b: fn for b in batches}
    if wanted("torchvision"):
        try:
            fn = torch_runner(NETWORKS[name][1], args.threads)
            rts["torchvision"] = {b: fn for b in batches}
        except ImportError as err:
            say(f"torchvision skipped: {err}")
    return rts, sizes, size


def interleaved(fns, x, reps):
    """Warm each up, then ``reps`` rounds of one call each in a rotating order:
    ``{runtime: [seconds per round]}``."""
    names = list(fns)
    for n in names:
        for _ in range(3):
            fns[n](x)
    times = {n: [] for n in names}
    for r in range(reps):
        k = r % len(names)
        for n in names[k:] + names[:k]:
            t = time.perf_counter()
            fns[n](x)
            times[n].append(time.perf_counter() - t)
    return times


def main(argv=None):
    args = parse_args(argv)
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)

    def say(msg):
        print(msg, file=sys.stderr, flush=True)

    result = {"cpu": cpu_flags(), "threads": args.threads, "reps": args.reps, "spin": SPIN,
              "tensorflow": tf.__version__, "command": " ".join(["python", *sys.argv]),
              "load_average_start": os.getloadavg(), "rows": []}
    with tempfile.TemporaryDirectory() as workdir:
        for name in args.models:
            rts, sizes, size = build_runtimes(name, args.batches, args, workdir, say)
            for batch in args.batches:
                x = photo_batch(size, batch)
                times = interleaved({rt: fns[batch] for rt, fns in rts.items()}, x, args.reps)
                base = times.get(BASELINE)
                for rt, ts in times.items():
                    row = {"network": name, "batch": batch, "runtime": rt,
                           "images_per_s": batch / statistics.median(ts), "seconds": ts,
                           "file_bytes": sizes.get(rt)}
                    if base:
                        row["paired_vs_tf_fp32"] = statistics.median(
                            b / t for b, t in zip(base, ts))
                    result["rows"].append(row)
                    say(f"{name} b{batch} {rt:15s} {row['images_per_s']:8.2f} img/s"
                        + (f"  x{row['paired_vs_tf_fp32']:.2f} vs tf_fp32" if base else ""))
    result["load_average_end"] = os.getloadavg()
    print(table(result))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=1)


def table(result):
    lines = ["| network | batch | runtime | img/s | paired ratio vs TF fp32 | file MB |",
             "|---|---|---|---|---|---|"]
    for r in result["rows"]:
        mb = "" if r["file_bytes"] is None else f"{r['file_bytes'] / 1e6:.1f}"
        ratio = f"{r['paired_vs_tf_fp32']:.2f}" if "paired_vs_tf_fp32" in r else ""
        lines.append(f"| {r['network']} | {r['batch']} | {r['runtime']} | "
                     f"{r['images_per_s']:.2f} | {ratio} | {mb} |")
    return "\n".join(lines)


if __name__ == "__main__":
    main()
