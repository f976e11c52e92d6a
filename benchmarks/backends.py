"""Training and inference images/s of paper GoogLeNet and ResNet-50 on each Keras 3 backend.

    python benchmarks/backends.py [--batch 8] [--size 224] [--reps 3] [--warmup 1]
                                  [--backends tensorflow,jax,torch] [--models googlenet,resnet50]

One run, one line per backend and network, side by side. Each backend runs in its own
subprocess (Keras fixes its backend when imported), one after the other, on the same
random batch (seed 0). Per network: ``predict_on_batch`` (inference) and
``train_on_batch`` (one SGD-momentum step, sparse cross-entropy) are each warmed up
``--warmup`` times (JAX's XLA compile, TF's tracing), then timed ``--reps`` times; the
median call gives images/s. The first-call time (build + compile + one step) is printed
too: on JAX it is dominated by XLA compiles. Keras' defaults per backend: XLA
(``jit_compile``) on JAX and on TensorFlow where it applies, eager on torch.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import time

WORKER = "--worker"


def worker(backend, models, batch, size, reps, warmup):
    os.environ["KERAS_BACKEND"] = backend
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np

    import keras
    import keras_cnns

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (batch, size, size, 3)).astype("float32")
    y = rng.integers(0, 1000, batch)
    rows = []
    for name in models:
        keras.utils.set_random_seed(0)
        start = time.perf_counter()
        model = keras_cnns.build(name, input_shape=(size, size, 3))
        model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                      loss="sparse_categorical_crossentropy")
        built = time.perf_counter() - start
        row = {"backend": backend, "model": name, "build_s": built}
        for mode, call in (("inference", lambda m=model: m.predict_on_batch(x)),
                           ("training", lambda m=model: m.train_on_batch(x, y))):
            start = time.perf_counter()
            for _ in range(warmup):
                call()
            row[f"{mode}_first_s"] = time.perf_counter() - start
            times = []
            for _ in range(reps):
                start = time.perf_counter()
                call()
                times.append(time.perf_counter() - start)
            row[f"{mode}_img_s"] = batch / statistics.median(times)
        rows.append(row)
        del model
        keras.backend.clear_session()
    print(json.dumps(rows), flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--reps", type=int, default=3)
    ap.add_argument("--warmup", type=int, default=1)
    ap.add_argument("--backends", default="tensorflow,jax,torch")
    ap.add_argument("--models", default="googlenet,resnet50")
    ap.add_argument("--json", default=None, help="also write the rows here")
    args = ap.parse_args(argv)
    if min(args.batch, args.size, args.reps, args.warmup) < 1:
        ap.error("--batch, --size, --reps and --warmup must be positive")
    rows = []
    print(f"batch {args.batch}, {args.size} px, {args.warmup} warm-up + {args.reps} timed "
          "calls (median)", flush=True)
    print(f"{'backend':<11} {'network':<10} {'train img/s':>11} {'infer img/s':>11} "
          f"{'build s':>8} {'1st train s':>11}", flush=True)
    env = dict(os.environ, CUDA_VISIBLE_DEVICES="", PYTHONUNBUFFERED="1")
    for backend in args.backends.split(","):
        proc = subprocess.run(
            [sys.executable, os.path.abspath(__file__), WORKER, backend, args.models,
             str(args.batch), str(args.size), str(args.reps), str(args.warmup)],
            capture_output=True, text=True, env=env)
        if proc.returncode != 0:
            print(f"{backend:<11} failed: {proc.stderr.strip().splitlines()[-1:]}", flush=True)
            continue
        for row in json.loads(proc.stdout.strip().splitlines()[-1]):
            rows.append(row)
            print(f"{backend:<11} {row['model']:<10} {row['training_img_s']:>11.2f} "
                  f"{row['inference_img_s']:>11.2f} {row['build_s']:>8.1f} "
                  f"{row['training_first_s']:>11.1f}", flush=True)
    if args.json:
        from keras_cnns.atomic import atomic_write

        atomic_write(args.json, json.dumps(rows, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == WORKER:
        b, m, batch, size, reps, warmup = sys.argv[2:8]
        worker(b, m.split(","), int(batch), int(size), int(reps), int(warmup))
    else:
        sys.exit(main())
