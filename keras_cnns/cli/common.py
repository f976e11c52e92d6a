"""What every ``keras-cnns`` command shares: the program name, the one-line usage error,
the error-to-exit-status mapping and a few argument helpers.

Nothing here imports TensorFlow or Keras at module level: the parsers of every command
are built from this module alone, so ``--help`` and the metadata commands start at once.
The library is imported inside the functions that run a command.
"""

from __future__ import annotations

import argparse
import os
import sys

PROG = "keras-cnns"

#: Exceptions whose message is the whole story for the user: one line, exit status 2.
USER_ERRORS = (ValueError, TypeError, FileNotFoundError, FileExistsError)


class UsageError(Exception):
    """Bad arguments: reported on one line, exit status 2."""


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors raise :class:`UsageError` instead of exiting, so
    :func:`run_command` reports every bad argument the same way."""

    def error(self, message):
        raise UsageError(f"{self.prog}: {message}")


def run_command(func, args):
    """Call ``func(args)`` and map its outcome to an exit status: 0 (or what it returns),
    2 with one line on stderr for bad input, 130 on Ctrl-C. No traceback for bad input."""
    try:
        status = func(args)
    except UsageError as err:
        print(str(err), file=sys.stderr)
        return 2
    except USER_ERRORS as err:
        print(f"{PROG}: error: {err}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    return int(status or 0)


def quiet_tensorflow(verbose=False):
    """Silence TensorFlow's C++ start-up lines (oneDNN notices, cpu_feature_guard) unless
    the user set ``TF_CPP_MIN_LOG_LEVEL`` or asked for ``--verbose``. Must run before
    TensorFlow is imported; it has no effect afterwards."""
    if not verbose:
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


BACKENDS = ("tensorflow", "jax", "torch")


def add_backend_argument(p):
    p.add_argument("--backend", default=None, choices=BACKENDS,
                   help="Keras backend (sets KERAS_BACKEND before Keras is imported; "
                        "default: $KERAS_BACKEND, else Keras' own default, tensorflow)")


def select_backend(name):
    """Set ``KERAS_BACKEND`` to ``name`` before Keras is imported (``None``: leave the
    user's environment alone) and return the backend the command will run on. Keras fixes
    its backend when first imported, so a process that already imported it with another
    backend cannot switch: that is a :class:`UsageError`."""
    if name is not None:
        if name not in BACKENDS:
            raise UsageError(f"{PROG}: error: --backend must be one of {', '.join(BACKENDS)}, "
                             f"got {name!r}")
        os.environ["KERAS_BACKEND"] = name
    if "keras" in sys.modules:
        current = sys.modules["keras"].backend.backend()
        if name is not None and current != name:
            raise UsageError(f"{PROG}: error: --backend {name}: Keras is already imported "
                             f"in this process with the {current} backend")
        return current
    return os.environ.get("KERAS_BACKEND") or "tensorflow"


class VersionAction(argparse.Action):
    """``--version``, reading ``keras_cnns.__version__`` only when asked for."""

    def __init__(self, option_strings, dest=argparse.SUPPRESS, default=argparse.SUPPRESS,
                 help="show the version and exit"):
        super().__init__(option_strings, dest=dest, default=default, nargs=0, help=help)

    def __call__(self, parser, namespace, values, option_string=None):
        from keras_cnns import __version__

        print(f"{parser.prog} {__version__}")
        parser.exit()


# --------------------------------------------------------------------------- argument helpers

def add_model_argument(p, metavar="MODEL", dest="model"):
    p.add_argument(dest, metavar=metavar, help="registry name (see 'keras-cnns list')")


def add_dataset_arguments(p, folder_help="a folder PATH (root/split/label/img or "
                                         "root/label/img)", download=True):
    p.add_argument("--dataset", default="digits",
                   help=f"'digits' (scikit-learn's, offline; default), a tfds name such as "
                        f"cifar10 or cifar100, or {folder_help}")
    p.add_argument("--data-dir", default=None, help="tfds data directory (prepared data)")
    if download:
        p.add_argument("--download", action="store_true",
                       help="let tfds download and prepare a --dataset that is not in "
                            "--data-dir yet (needs the network; CIFAR-10 is 163 MB)")


def add_bad_images_argument(p):
    p.add_argument("--bad-images", default="fail", choices=("fail", "skip"),
                   help="unreadable image files in a folder dataset (all are checked before "
                        "any work): fail (default; lists them and exits 2) or skip (leaves "
                        "them out, recorded as skipped_images / skipped_files)")


def add_split_arguments(p):
    p.add_argument("--val-split", type=float, default=0.1,
                   help="fraction carved out for validation where the dataset has no "
                        "validation part (tfds train, folder train/ or a flat folder; "
                        "stratified, fixed seed; default 0.1)")
    p.add_argument("--test-split", type=float, default=0.1,
                   help="fraction carved out for test where a folder has no test/ part "
                        "(default 0.1)")


def add_image_size_argument(p):
    p.add_argument("--image-size", type=int, default=None,
                   help="input side in pixels (default: the model's own)")


#: keras_cnns.precision.PRECISIONS, spelled out so that the parser needs no import of the
#: library (tests/test_precision.py pins the two together).
PRECISIONS = ("float32", "mixed_bfloat16", "mixed_float16")


def add_precision_argument(p, what="compute"):
    p.add_argument("--precision", default="float32", choices=PRECISIONS,
                   help=f"Keras dtype policy to {what} under (default float32); "
                        "mixed_bfloat16 pays on CPUs with AVX512_BF16 or AMX, mixed_float16 "
                        "on GPUs with tensor cores (docs/precision.md)")


def load_checkpoint(path, flag="CHECKPOINT"):
    """``keras.saving.load_model(path, safe_mode=True)``, with one-line errors."""
    if not os.path.exists(path):
        raise UsageError(f"{PROG}: error: {flag} {path!r}: no such file")
    if os.path.isdir(path):
        raise UsageError(f"{PROG}: error: {flag} {path!r} is a directory; pass a .keras file "
                         "(best.keras or last.keras of a run)")
    import keras

    import keras_cnns.layers  # noqa: F401  (registers the custom layers)
    import keras_cnns.training  # noqa: F401  (registers the losses / schedules)

    try:
        model = keras.saving.load_model(path, safe_mode=True)
    except Exception as err:  # corrupt zip, wrong format, unknown layer...
        first = (str(err).strip().splitlines() or [""])[0][:200]
        hint = ("; in Python, 'import keras_cnns' before keras.saving.load_model so that "
                "Keras finds the package's classes" if "Could not locate" in str(err) else "")
        raise UsageError(f"{PROG}: error: {flag} {path!r} is not a loadable .keras model "
                         f"({type(err).__name__}: {first}){hint}") from None
    if keras.backend.backend() == "torch" and getattr(model, "_jit_compile", None):
        # Compiled on TF / JAX, the file says jit_compile=True, which on torch means
        # torch.compile; Keras' own torch default is eager.
        model.jit_compile = False
    return model
