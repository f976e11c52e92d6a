"""Training steps in float32 and bfloat16: the zoo against keras.applications and
torchvision, side by side in one process.

    python benchmarks/training.py [--models googlenet,googlenet_bn,resnet50,vgg16]
        [--batch 16] [--reps 5] [--size 224] [--no-torch] [--json PATH]

Sides per network (where the other library has the network):

- ``ours``: ``keras_cnns.build(name)`` (GoogLeNet without its aux heads, as torchvision's
  ``aux_logits=False``), under ``float32`` and under ``mixed_bfloat16``
  (:mod:`keras_cnns.precision`: bfloat16 compute, float32 variables, head and loss);
- ``keras.applications``: ResNet50 and VGG16, under the same two policies;
- ``torchvision``: googlenet (its BN variant: against ``googlenet_bn`` and the paper
  ``googlenet``), resnet50, vgg16; float32, and bfloat16 through
  ``torch.autocast("cpu", torch.bfloat16)``, ``torch.set_num_threads(os.cpu_count())``,
  each in its own worker process (benchmarks/torch_worker.py: torchvision and TensorFlow
  crash in one process here), idle while the other sides run, with
  ``OMP_WAIT_POLICY=PASSIVE`` unless set (spinning OpenMP threads slowed torch 5-7x on a
  busy machine).

One step: forward in training mode, sparse categorical cross-entropy, backward, SGD
(lr 0.01, momentum 0.9); TensorFlow in a ``tf.function`` with ``GradientTape`` (no XLA:
Keras' default on CPU), the loss fetched to the host; torch in eager mode with
``loss.item()``, timed inside the worker. Every side is warmed up twice; then ``--reps`` rounds, each running
every side once, in an order that rotates from round to round. Reported: the median
images/s per side, and paired ratios, the median over rounds of the two sides' time
ratio in the same round (less exposed to a shared machine's load swings): bf16 / fp32
for each side, ours / keras.applications and ours / torchvision at each precision.

The CPU's model name and its AVX-512 / AMX flags (``/proc/cpuinfo``) are printed first:
bfloat16 pays where the CPU has AVX512_BF16 or AMX (docs/precision.md).
"""

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras  # noqa: E402
import keras_cnns  # noqa: E402
from keras_cnns.precision import precision_policy  # noqa: E402

MODELS = ("googlenet", "googlenet_bn", "resnet50", "vgg16")
APPLICATIONS = {"resnet50": "ResNet50", "vgg16": "VGG16"}
TORCHVISION = {"googlenet": "googlenet", "googlenet_bn": "googlenet", "resnet50": "resnet50",
               "vgg16": "vgg16"}
CPU_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "avx512_fp16",
             "amx_tile", "amx_bf16", "amx_int8")
PRECISIONS = {"fp32": "float32", "bf16": "mixed_bfloat16"}


def cpu_description(path="/proc/cpuinfo"):
    """``(model name, the CPU_FLAGS present)`` from /proc/cpuinfo (Linux)."""
    try:
        with open(path) as f:
            text = f.read()
    except OSError:
        return platform.processor() or "unknown", []
    model = next((line.split(":", 1)[1].strip() for line in text.splitlines()
                  if line.startswith("model name")), "unknown")
    flags = next((line.split(":", 1)[1].split() for line in text.splitlines()
                  if line.startswith("flags")), [])
    return model, [f for f in CPU_FLAGS if f in flags]


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--models", default=",".join(MODELS),
                   help=f"comma-separated subset of {', '.join(MODELS)}")
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--reps", type=int, default=5, help="timed rounds (>= 1)")
    p.add_argument("--size", type=int, default=224, help="input side in pixels")
    p.add_argument("--no-torch", action="store_true", help="leave torchvision out")
    p.add_argument("--json", default=None, help="also write the results to this path")
    args = p.parse_args(argv)
    args.models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in args.models if m not in MODELS]
    if unknown or not args.models:
        p.error(f"--models must be a subset of {', '.join(MODELS)}; got {unknown or 'none'}")
    for name in ("batch", "reps", "size"):
        if getattr(args, name) < 1:
            p.error(f"--{name} must be >= 1")
    return args


# --------------------------------------------------------------------------- TensorFlow

def sgd_step(model, loss_fn):
    """One training step in a ``tf.function``: forward in training mode, ``loss_fn`` in
    float32, backward, SGD (lr 0.01, momentum 0.9). The benchmarks' common step."""
    opt = keras.optimizers.SGD(learning_rate=0.01, momentum=0.9)
    opt.build(model.trainable_variables)

    @tf.function
    def step(x, y):
        with tf.GradientTape() as tape:
            loss = loss_fn(y, tf.cast(model(x, training=True), tf.float32))
        grads = tape.gradient(loss, model.trainable_variables)
        opt.apply_gradients(zip(grads, model.trainable_variables))
        return loss

    return step


def keras_step(model, x, y):
    step = sgd_step(model, keras.losses.SparseCategoricalCrossentropy())
    return lambda: float(step(x, y))


def build_keras(side, name, precision, size):
    with precision_policy(precision):
        keras.utils.set_random_seed(0)
        shape = (size, size, 3)
        if side == "ours":
            kwargs = {"aux": False} if keras_cnns.model_info(name).has_aux else {}
            return keras_cnns.build(name, input_shape=shape, classes=1000, **kwargs)
        return getattr(keras.applications, APPLICATIONS[name])(
            weights=None, input_shape=shape, classes=1000)


# --------------------------------------------------------------------------- torch

class TorchSide:
    """A torchvision side in its own process (benchmarks/torch_worker.py): importing
    torchvision after TensorFlow crashes here. A call runs one step there; the time
    recorded is the step's own, measured in the worker (``last_seconds``)."""

    def __init__(self, name, precision, path):
        worker = os.path.join(os.path.dirname(os.path.abspath(__file__)), "torch_worker.py")
        # OpenMP's threads spin while they wait; on a shared machine whose cores are all
        # busy that made torch's steps 5-7x slower here (googlenet, batch 8: 30-43 s
        # against 6.5 s passive). TensorFlow's Eigen pool does not spin that way.
        env = dict(os.environ)
        env.setdefault("OMP_WAIT_POLICY", "PASSIVE")
        self.proc = subprocess.Popen(
            [sys.executable, worker, name, precision, path, str(os.cpu_count())],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env)
        line = self.proc.stdout.readline()
        if not line.startswith("ready"):
            raise RuntimeError(f"torch worker {name} {precision} did not start: {line!r}")
        self.version = line.split(maxsplit=1)[1].strip()
        self.last_seconds = None

    def __call__(self):
        self.proc.stdin.write("step\n")
        self.proc.stdin.flush()
        seconds, loss = self.proc.stdout.readline().split()
        self.last_seconds = float(seconds)
        return float(loss)

    def close(self):
        if self.proc.poll() is None:
            self.proc.stdin.close()
            self.proc.wait(timeout=60)


# --------------------------------------------------------------------------- harness

def make_sides(name, args, x, y, path):
    """``{label: step function}`` for one network: ours, keras.applications, torchvision,
    each under fp32 and bf16."""
    sides = {}
    for short, precision in PRECISIONS.items():
        sides[f"ours {short}"] = keras_step(build_keras("ours", name, precision, args.size),
                                            tf.constant(x), tf.constant(y))
        if name in APPLICATIONS:
            sides[f"keras.applications {short}"] = keras_step(
                build_keras("apps", name, precision, args.size), tf.constant(x), tf.constant(y))
        if not args.no_torch and name in TORCHVISION:
            sides[f"torchvision {short}"] = TorchSide(TORCHVISION[name], precision, path)
    return sides


def interleave(sides, reps, desc):
    labels = list(sides)
    for label in labels:
        for _ in range(2):
            loss = sides[label]()
        scalar = np.isscalar(loss) or getattr(loss, "shape", None) == ()
        if scalar and not np.isfinite(float(loss)):  # a training step's loss
            raise RuntimeError(f"{desc} {label}: loss {loss}")
    times = {label: [] for label in labels}
    for r in range(reps):
        k = r % len(labels)
        for label in labels[k:] + labels[:k]:
            t = time.perf_counter()
            sides[label]()
            seconds = time.perf_counter() - t
            times[label].append(getattr(sides[label], "last_seconds", None) or seconds)
        print(f"  {desc} round {r + 1}/{reps}: " + ", ".join(
            f"{label} {times[label][-1]:.2f} s" for label in labels), flush=True)
    return times


def paired(times, a, b):
    """Median over rounds of time(b) / time(a): how much faster a is than b."""
    return statistics.median(tb / ta for ta, tb in zip(times[a], times[b]))


def bench(name, args):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(args.batch, args.size, args.size, 3)).astype("float32")
    y = rng.integers(0, 1000, args.batch).astype("int32")
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "batch.npz")
        np.savez(path, x=x, y=y)
        sides = make_sides(name, args, x, y, path)
        try:
            times = interleave(sides, args.reps, name)
        finally:
            for side in sides.values():
                if isinstance(side, TorchSide):
                    side.close()
    row = {"network": name, "batch": args.batch, "size": args.size, "reps": args.reps,
           "seconds": times,
           "images_per_s": {k: args.batch / statistics.median(v) for k, v in times.items()},
           "ratios": {}}
    for lib in ("ours", "keras.applications", "torchvision"):
        if f"{lib} fp32" in times:
            row["ratios"][f"{lib} bf16 / fp32"] = paired(times, f"{lib} bf16", f"{lib} fp32")
    for other in ("keras.applications", "torchvision"):
        for short in PRECISIONS:
            if f"{other} {short}" in times:
                row["ratios"][f"ours / {other} {short}"] = paired(times, f"ours {short}",
                                                                   f"{other} {short}")
    if "torchvision fp32" in times:
        row["ratios"]["ours bf16 / torchvision fp32"] = paired(times, "ours bf16",
                                                               "torchvision fp32")
    del sides
    keras.backend.clear_session()
    gc.collect()
    return row


def main(argv=None):
    args = parse_args(argv)
    model, flags = cpu_description()
    torch_version = None
    if not args.no_torch:
        torch_version = subprocess.run(
            [sys.executable, "-c", "import torch, torchvision; print(torch.__version__, "
             "torchvision.__version__)"], capture_output=True, text=True).stdout.strip()
    print(f"CPU: {model}, {os.cpu_count()} logical CPUs; flags: {' '.join(flags) or 'none'}")
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, torch {torch_version}; "
          f"batch {args.batch}, {args.size} px, {args.reps} rounds; load average "
          f"{os.getloadavg()[0]:.1f}", flush=True)
    start = time.perf_counter()
    rows = [bench(name, args) for name in args.models]
    elapsed = time.perf_counter() - start
    print("\n| network | side | images/s |\n|---|---|---|")
    for row in rows:
        for label, ips in row["images_per_s"].items():
            print(f"| {row['network']} | {label} | {ips:.2f} |")
    print("\n| network | paired ratio | value |\n|---|---|---|")
    for row in rows:
        for label, ratio in row["ratios"].items():
            print(f"| {row['network']} | {label} | {ratio:.2f} |")
    print(f"\nElapsed {elapsed / 60:.1f} min; load average {os.getloadavg()[0]:.1f}.")
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"command": " ".join([os.path.basename(sys.argv[0])] + sys.argv[1:]),
                       "cpu": model, "cpu_flags": flags, "tensorflow": tf.__version__,
                       "keras": keras.__version__, "torch": torch_version,
                       "cpus": os.cpu_count(), "rows": rows, "elapsed_s": elapsed}, fh,
                      indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
