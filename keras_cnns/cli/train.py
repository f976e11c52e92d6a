"""``keras-cnns train``: a registry model with its paper's recipe or a fast one, resumable.
Bad input exits 2 with one line naming the flag; a diverged run exits 1."""

from __future__ import annotations

import argparse

from keras_cnns.cli.common import (PROG, UsageError, add_backend_argument,
                                   add_bad_images_argument, add_dataset_arguments,
                                   add_image_size_argument, add_model_argument,
                                   add_precision_argument, add_split_arguments,
                                   select_backend)


def add_parsers(sub):
    p = sub.add_parser(
        "train", help="train a registry model (paper or fast recipe), resumable",
        description="Train a registry model on digits, a tfds dataset or an image folder, "
                    "as its paper did (--recipe paper) or quickly (--recipe fast). Writes "
                    "best.keras, last.keras, history.csv, TensorBoard logs, curves.png and "
                    "results.json into --output; --resume continues a killed run at its "
                    "last finished epoch.")
    add_model_argument(p)
    add_dataset_arguments(p)
    add_split_arguments(p)
    add_bad_images_argument(p)
    p.add_argument("--recipe", default="fast", help=recipe_help())
    p.add_argument("--epochs", type=int, default=None, help="default: the recipe's")
    p.add_argument("--batch-size", type=int, default=None,
                   help="GLOBAL batch, split across replicas (default: the recipe's)")
    add_image_size_argument(p)
    ft = p.add_argument_group("fine-tuning and recipe overrides (docs/finetune.md)")
    ft.add_argument("--init", default=None, metavar="SOURCE",
                    help="start from trained weights: 'imagenet', a .keras checkpoint, a "
                         ".weights.h5 file or a torchvision .pth/.safetensors file; a "
                         "classifier whose class count differs is initialised fresh")
    ft.add_argument("--freeze", default="none", metavar="none|backbone|bn|END_POINT",
                    help="backbone: train only the classifier heads; bn: every BatchNorm in "
                         "inference mode; END_POINT: freeze up to and including it (frozen "
                         "BatchNorm runs in inference mode)")
    ft.add_argument("--unfreeze-after", type=int, default=None, metavar="EPOCHS",
                    help="two phases: the head alone for EPOCHS epochs, then the whole network "
                         "at the learning rate / 10 (or --finetune-lr)")
    ft.add_argument("--finetune-lr", type=float, default=None,
                    help="phase two's learning rate (with --unfreeze-after)")
    ft.add_argument("--optimizer", default=None,
                    choices=("sgd", "momentum", "adam", "adamw", "rmsprop"),
                    help="override the recipe's optimiser (momentum: SGD with momentum 0.9; "
                         "adamw: Adam with decoupled weight decay)")
    ft.add_argument("--lr", type=float, default=None, help="override the learning rate")
    ft.add_argument("--weight-decay", type=float, default=None,
                    help="override the weight decay")
    ft.add_argument("--label-smoothing", type=float, default=None,
                    help="override the label smoothing (0 <= s < 1)")
    p.add_argument("--aux", action=argparse.BooleanOptionalAction, default=None,
                   help="train with the aux heads (default: on for models that have them)")
    p.add_argument("--early-stopping", type=int, default=None, metavar="PATIENCE",
                   help="stop after PATIENCE epochs without a better validation accuracy")
    p.add_argument("--seed", type=int, default=0)
    add_precision_argument(p, "train")
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
    add_backend_argument(p)
    p.add_argument("--verbose", type=int, default=1, choices=(0, 1, 2),
                   help="Keras verbosity: 1 progress bars (default), 2 one line per epoch "
                        "(TensorFlow's own start-up log: 'keras-cnns --verbose train ...')")
    p.set_defaults(func=run)


def recipe_help():
    """``--recipe``'s help, read off the recipes' data (``registry.recipe_specs``): every
    recipe's optimiser, learning rate, schedule, batch and epochs."""
    from keras_cnns import registry

    rows = [f"{name}{' (default)' if name == 'fast' else ''}: {spec.summary()}"
            for name, spec in registry.recipe_specs().items()]
    return ("'paper' (the model family's own recipe, 'keras-cnns info MODEL' names it) "
            "or a recipe: " + "; ".join(rows) + ". --epochs, --batch-size, --lr and "
            "--optimizer override them")


def run(args):
    import os
    import shlex
    import sys

    backend = select_backend(args.backend)  # before anything imports Keras
    if backend != "tensorflow" and (args.strategy != "default" or args.cpu_replicas):
        raise UsageError(f"{PROG}: error: --strategy {args.strategy} / --cpu-replicas need "
                         f"the tensorflow backend (tf.distribute), not {backend}")

    from keras_cnns.training.run import TrainingDiverged, train

    if args.cpu_replicas is not None:
        # Logical devices must exist before TensorFlow initialises its runtime.
        from keras_cnns.training.distributed import make_strategy  # noqa: F401
    output = args.output if args.output is not None else os.path.join("runs", args.model)
    command = " ".join(shlex.quote(a) for a in [PROG] + sys.argv[1:])
    try:
        train(args.model, dataset=args.dataset, data_dir=args.data_dir, recipe=args.recipe,
              epochs=args.epochs, batch_size=args.batch_size, image_size=args.image_size,
              aux=args.aux, seed=args.seed, output=output, resume=args.resume,
              overwrite=args.overwrite, strategy=args.strategy, cpu_replicas=args.cpu_replicas,
              verbose=args.verbose, command=command, val_split=args.val_split,
              test_split=args.test_split, bad_images=args.bad_images,
              early_stopping=args.early_stopping, precision=args.precision,
              download=args.download, init=args.init, freeze=args.freeze,
              unfreeze_after=args.unfreeze_after, finetune_lr=args.finetune_lr,
              optimizer=args.optimizer, lr=args.lr, weight_decay=args.weight_decay,
              label_smoothing=args.label_smoothing)
    except TrainingDiverged as err:
        print(f"{PROG} train: {err}", file=sys.stderr)
        return 1
    return 0
