"""Zoo networks against keras.applications: the same graph must not run slower.

    python benchmarks/zoo_vs_keras_applications.py [--batch 32] [--reps 5]
        [--models vgg16,resnet50,inception_v3,densenet121] [--no-train | --no-infer]
        [--quick] [--json PATH]

For each network, ours (``keras_cnns.build(name)``) and keras.applications' (both
``weights=None``, 1000 classes, softmax, 224 px; 299 px for Inception v3) are built,
ours gets theirs' weights (``set_weights``: same values, so the comparison cannot be
moved by initialisers) and both run through one harness:

- inference: ``tf.function(lambda x: model(x, training=False))`` (no XLA), one batch
  per call, result fetched with ``.numpy()``;
- training: one SGD step (lr 0.01, momentum 0.9, categorical cross-entropy,
  ``training=True``) in a ``tf.function`` with ``GradientTape``, its loss fetched.

Each function is traced and run twice before timing. Then, ``--reps`` times, one timed
call per side, alternating which side goes first (A B, B A, ...); the median per side
gives images/s and ``ratio = ours / theirs`` (target 1.00, investigate below 0.95);
``paired ratio`` is the median over reps of ``theirs seconds / ours seconds`` of the
two back-to-back calls, which a shared machine's load swings move less. The JSON
also keeps every call's seconds and ``ratio_best`` (fastest call against fastest).

Machine limit: the median of several ``4096x4096 @ 4096x4096`` float32 matmuls
(MAC/s = 4096**3 / s), timed in the same run before each network and at the end; each
network is set against the better of the two medians that bracket it. A network's
achieved MAC/s is ``keras_cnns.profile(model).macs * images/s`` for inference and
``3 * macs * images/s`` for training (convention: backward = 2x forward, one product
each for input and weight gradients); it is reported as a fraction of the matmul rate.
"""

import argparse
import gc
import json
import os
import platform
import statistics
import sys
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tqdm import tqdm  # noqa: E402

import keras  # noqa: E402
import keras_cnns  # noqa: E402
from training import sgd_step  # noqa: E402  (benchmarks/training.py, beside this file)

APPLICATIONS = {
    "vgg16": ("VGG16", 224),
    "resnet50": ("ResNet50", 224),
    "inception_v3": ("InceptionV3", 299),
    "densenet121": ("DenseNet121", 224),
}
MATMUL_N = 4096
TRAIN_MAC_FACTOR = 3


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--reps", type=int, default=5, help="timed calls per side (>= 1)")
    p.add_argument("--models", default=",".join(APPLICATIONS),
                   help=f"comma-separated subset of {', '.join(APPLICATIONS)}")
    p.add_argument("--no-train", action="store_true", help="inference only")
    p.add_argument("--no-infer", action="store_true", help="training only")
    p.add_argument("--quick", action="store_true",
                   help="smoke run: batch 4, 2 reps, 2 matmuls (figures not meaningful)")
    p.add_argument("--matmul-reps", type=int, default=7)
    p.add_argument("--json", default=None, help="also write the results to this path")
    args = p.parse_args(argv)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in args.models if m not in APPLICATIONS]
    if unknown or not args.models:
        p.error(f"--models must be a subset of {', '.join(APPLICATIONS)}; got {unknown or 'none'}")
    if args.quick:
        args.batch, args.reps, args.matmul_reps = 4, 2, 2
    for name in ("batch", "reps", "matmul_reps"):
        if getattr(args, name) < 1:
            p.error(f"--{name.replace('_', '-')} must be >= 1")
    if args.no_train and args.no_infer:
        p.error("--no-train and --no-infer leave nothing to measure")
    return args


def matmul_peak(reps):
    """Median MAC/s of a float32 ``N x N @ N x N`` matmul (N = 4096)."""
    a = tf.random.normal((MATMUL_N, MATMUL_N), seed=1)
    b = tf.random.normal((MATMUL_N, MATMUL_N), seed=2)
    mm = tf.function(lambda u, v: tf.reduce_sum(tf.matmul(u, v)))
    mm(a, b).numpy()
    times = []
    for _ in tqdm(range(reps), desc="matmul 4096^3", leave=False):
        t = time.perf_counter()
        mm(a, b).numpy()
        times.append(time.perf_counter() - t)
    return MATMUL_N ** 3 / statistics.median(times)


def build_pair(name):
    app, size = APPLICATIONS[name]
    theirs = getattr(keras.applications, app)(weights=None, input_shape=(size, size, 3),
                                              classes=1000, classifier_activation="softmax")
    ours = keras_cnns.build(name, weights=None, input_shape=(size, size, 3), classes=1000,
                            classifier_activation="softmax")
    ours.set_weights(theirs.get_weights())
    return ours, theirs, size


def infer_fn(model):
    f = tf.function(lambda x: model(x, training=False))
    return lambda x, y: f(x).numpy()


def train_fn(model):
    step = sgd_step(model, keras.losses.CategoricalCrossentropy())
    return lambda x, y: step(x, y).numpy()


def alternate(fns, x, y, reps, desc):
    """Warm up both, then ``reps`` timed calls each, alternating the order; returns the
    per-side lists of seconds."""
    for fn in fns:
        fn(x, y)
        fn(x, y)
    times = [[], []]
    for r in tqdm(range(reps), desc=desc, leave=False):
        order = (0, 1) if r % 2 == 0 else (1, 0)
        for side in order:
            t = time.perf_counter()
            fns[side](x, y)
            times[side].append(time.perf_counter() - t)
    return times


def bench_network(name, args):
    ours, theirs, size = build_pair(name)
    rng = np.random.default_rng(0)
    x = tf.constant(rng.normal(size=(args.batch, size, size, 3)).astype("float32"))
    y = tf.one_hot(rng.integers(0, 1000, args.batch), 1000)
    diff = float(np.max(np.abs(ours(x[:2], training=False).numpy()
                               - theirs(x[:2], training=False).numpy())))
    macs = keras_cnns.profile(ours).macs
    row = {"network": name, "input": size, "batch": args.batch, "reps": args.reps,
           "macs_per_image": macs, "max_abs_output_diff": diff}
    modes = ([] if args.no_infer else [("inference", infer_fn, 1)]) + \
            ([] if args.no_train else [("training", train_fn, TRAIN_MAC_FACTOR)])
    for mode, make, factor in modes:
        times = alternate((make(ours), make(theirs)), x, y, args.reps, f"{name} {mode}")
        ours_ips, theirs_ips = (args.batch / statistics.median(t) for t in times)
        row[mode] = {
            "ours_images_per_s": ours_ips, "theirs_images_per_s": theirs_ips,
            "ratio": ours_ips / theirs_ips,
            # Each rep's two calls ran back to back, under the same load: the median of
            # the per-rep ratios is less exposed to load swings than the ratio of medians.
            "ratio_paired": statistics.median(b / a for a, b in zip(*times)),
            # Fastest call per side (JSON only: on a shared machine one lucky call in
            # a quiet moment decides it, so it measures the load swings, not the code).
            "ratio_best": min(times[1]) / min(times[0]),
            "ours_seconds": times[0], "theirs_seconds": times[1],
            "ours_macs_per_s": factor * macs * ours_ips,
            "theirs_macs_per_s": factor * macs * theirs_ips,
        }
        tqdm.write(f"{name} {mode}: ours {ours_ips:.2f} img/s, theirs {theirs_ips:.2f} img/s, "
                   f"ratio {row[mode]['ratio']:.3f} (paired {row[mode]['ratio_paired']:.3f})")
    del ours, theirs
    keras.backend.clear_session()
    gc.collect()
    return row


def table(rows):
    lines = ["| network | mode | ours img/s | theirs img/s | ratio | paired ratio | "
             "ours GMAC/s | matmul GMAC/s | % of matmul |",
             "|---|---|---|---|---|---|---|---|---|"]
    for row in rows:
        for mode in ("inference", "training"):
            if mode not in row:
                continue
            m = row[mode]
            lines.append(f"| {row['network']} ({row['input']} px) | {mode} | "
                         f"{m['ours_images_per_s']:.2f} | {m['theirs_images_per_s']:.2f} | "
                         f"{m['ratio']:.3f} | {m['ratio_paired']:.3f} | "
                         f"{m['ours_macs_per_s'] / 1e9:.1f} | "
                         f"{row['matmul_macs_per_s'] / 1e9:.1f} | "
                         f"{100 * m['ours_fraction_of_matmul']:.0f} % |")
    return "\n".join(lines)


def main(argv=None):
    args = parse_args(argv)
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, {os.cpu_count()} CPUs, "
          f"load average {os.getloadavg()[0]:.1f}; batch {args.batch}, {args.reps} reps",
          flush=True)
    start = time.perf_counter()
    # The matmul is timed before each network and at the end; a network is compared
    # with the better of the two medians that bracket it (on a shared machine the
    # available compute drifts, so a distant measurement would mislead).
    peaks, rows = [], []
    for name in tqdm(args.models, desc="networks"):
        peaks.append(matmul_peak(args.matmul_reps))
        tqdm.write(f"matmul: {peaks[-1] / 1e9:.1f} GMAC/s")
        rows.append(bench_network(name, args))
    peaks.append(matmul_peak(args.matmul_reps))
    tqdm.write(f"matmul: {peaks[-1] / 1e9:.1f} GMAC/s")
    for i, row in enumerate(rows):
        row["matmul_macs_per_s"] = peak = max(peaks[i], peaks[i + 1])
        for mode in ("inference", "training"):
            if mode in row:
                for side in ("ours", "theirs"):
                    m = row[mode]
                    m[f"{side}_fraction_of_matmul"] = m[f"{side}_macs_per_s"] / peak
    elapsed = time.perf_counter() - start
    print()
    print(table(rows))
    print(f"\nTraining MAC/s counts 3x the forward multiply-adds. Elapsed {elapsed / 60:.1f} min; "
          f"load average {os.getloadavg()[0]:.1f}.")
    low = [f"{r['network']} {m}" for r in rows for m in ("inference", "training")
           if m in r and min(r[m]["ratio"], r[m]["ratio_paired"]) < 0.95]
    if low:
        print(f"ratio or paired ratio below 0.95: {', '.join(low)}")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"command": " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]),
                       "tensorflow": tf.__version__, "keras": keras.__version__,
                       "python": platform.python_version(), "cpus": os.cpu_count(),
                       "matmul_macs_per_s": peaks, "rows": rows,
                       "elapsed_s": elapsed}, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
