"""One torchvision training step on request, for benchmarks/training.py.

    python benchmarks/torch_worker.py NAME PRECISION BATCH_NPZ THREADS

TensorFlow and torch do not share a process on this machine (importing torchvision
after TensorFlow ends in a segmentation fault), so each torch side runs here: it builds
``torchvision.models.NAME`` and, for every ``step`` line on stdin, runs one SGD step on
the batch in BATCH_NPZ (``x`` NHWC float32, ``y`` int labels) and prints
``SECONDS LOSS``, the step's own time. PRECISION is ``float32`` or ``mixed_bfloat16``
(``torch.autocast("cpu", torch.bfloat16)``).
"""

import sys
import time

import numpy as np
import torch
import torchvision


def make_step(name, precision, x, y):
    torch.manual_seed(0)
    kwargs = {"aux_logits": False, "init_weights": True} if name == "googlenet" else {}
    model = getattr(torchvision.models, name)(weights=None, num_classes=1000, **kwargs)
    model.train()
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    loss_fn = torch.nn.CrossEntropyLoss()
    xt = torch.from_numpy(np.ascontiguousarray(x.transpose(0, 3, 1, 2)))
    yt = torch.from_numpy(y.astype(np.int64))
    bf16 = precision == "mixed_bfloat16"

    def step():
        opt.zero_grad(set_to_none=True)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            out = model(xt)
        loss = loss_fn(out.float(), yt)
        loss.backward()
        opt.step()
        return loss.item()

    return step


def main(argv):
    name, precision, path, threads = argv
    torch.set_num_threads(int(threads))
    batch = np.load(path)
    step = make_step(name, precision, batch["x"], batch["y"])
    print(f"ready torch {torch.__version__} torchvision {torchvision.__version__}", flush=True)
    for line in sys.stdin:
        if line.strip() != "step":
            break
        t = time.perf_counter()
        loss = step()
        print(f"{time.perf_counter() - t:.6f} {loss:.6f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
