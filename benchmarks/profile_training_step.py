"""Where a training step spends its time: op types and op names from a tf.profiler trace.

``--inference`` profiles a forward pass (``training=False``) instead.

    python benchmarks/profile_training_step.py [--model googlenet] [--batch 8]
        [--precision float32|mixed_bfloat16] [--steps 3] [--logdir /tmp/kc_profile]

One SGD step (as benchmarks/training.py) in a ``tf.function``, warmed up twice, timed
over ``--steps`` steps, then traced over as many with ``tf.profiler.experimental``. The
trace's XPlane (``*.xplane.pb``) is read back: every TensorFlow op event on the host's
op threads, the executor's container events ("Process") left out, summed per op type and
per op name. Shares are of the summed op time, which exceeds the wall time when ops run
on several threads at once.
"""

import argparse
import collections
import glob
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.tsl.profiler.protobuf import xplane_pb2  # noqa: E402

import keras_cnns  # noqa: E402
from keras_cnns.precision import PRECISIONS, precision_policy  # noqa: E402
from training import keras_step  # noqa: E402  (benchmarks/training.py, beside this file)


def op_times(path):
    """``(seconds per op type, seconds per op name)`` summed over the trace in ``path``."""
    space = xplane_pb2.XSpace()
    with open(path, "rb") as f:
        space.ParseFromString(f.read())
    by_type, by_name = collections.Counter(), collections.Counter()
    for plane in space.planes:
        if plane.name != "/host:CPU":
            continue
        for line in plane.lines:
            if not line.name.startswith("tf_"):  # TensorFlow's op threads
                continue
            for event in line.events:
                name = plane.event_metadata[event.metadata_id].name
                if ":" not in name:
                    continue
                op, kind = name.rsplit(":", 1)
                if kind == "Process":
                    continue
                by_type[kind] += event.duration_ps / 1e12
                by_name[op] += event.duration_ps / 1e12
    return by_type, by_name


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--model", default="googlenet")
    p.add_argument("--batch", type=int, default=8)
    p.add_argument("--size", type=int, default=224)
    p.add_argument("--precision", default="float32", choices=PRECISIONS)
    p.add_argument("--steps", type=int, default=3)
    p.add_argument("--logdir", default="/tmp/kc_profile")
    p.add_argument("--top", type=int, default=15, help="op names listed")
    p.add_argument("--inference", action="store_true",
                   help="profile a forward pass in inference mode instead of a training step")
    args = p.parse_args(argv)

    with precision_policy(args.precision):
        kwargs = {"aux": False} if keras_cnns.model_info(args.model).has_aux else {}
        model = keras_cnns.build(args.model, input_shape=(args.size, args.size, 3),
                                 classes=1000, **kwargs)
    x = tf.random.normal((args.batch, args.size, args.size, 3), seed=0)
    y = tf.constant(np.arange(args.batch) % 1000)
    if args.inference:
        forward = tf.function(lambda x: model(x, training=False))
        step = lambda: forward(x).numpy()  # noqa: E731
    else:
        step = keras_step(model, x, y)  # the training benchmark's step, one compiled function

    for _ in range(2):
        step()
    t = time.perf_counter()
    for _ in range(args.steps):
        step()
    wall = (time.perf_counter() - t) / args.steps
    mode = "inference" if args.inference else "train"
    logdir = os.path.join(args.logdir, f"{args.model}_{args.precision}_{mode}_{args.batch}")
    tf.profiler.experimental.start(logdir)
    for _ in range(args.steps):
        step()
    tf.profiler.experimental.stop()
    path = sorted(glob.glob(os.path.join(logdir, "**", "*.xplane.pb"), recursive=True),
                  key=os.path.getmtime)[-1]
    by_type, by_name = op_times(path)
    total = sum(by_type.values())
    print(f"{args.model} {args.precision} {mode}, batch {args.batch}, {args.size} px: wall "
          f"{wall:.3f} s/step; summed op time {total / args.steps:.3f} s/step; trace {path}")
    print("\n| op type | share | ms/step |\n|---|---|---|")
    for kind, sec in by_type.most_common():
        if sec / total >= 0.001:
            print(f"| {kind} | {100 * sec / total:.1f} % | {1000 * sec / args.steps:.1f} |")
    print(f"\n| op name (top {args.top}) | share |\n|---|---|")
    for name, sec in by_name.most_common(args.top):
        print(f"| {name} | {100 * sec / total:.1f} % |")


if __name__ == "__main__":
    main()
