"""``keras-cnns tune MODEL`` (also ``python -m tuning MODEL``): a keras-tuner search of the
family's space (:mod:`tuning.spaces`)."""

from __future__ import annotations

import argparse

from keras_cnns.cli.common import (add_bad_images_argument, add_dataset_arguments,
                                   add_image_size_argument, add_precision_argument,
                                   add_split_arguments)


def add_parsers(sub):
    p = sub.add_parser(
        "tune", help="search a network's filter counts and dropout with keras-tuner",
        description="Search a network's filter counts, widths and dropout (its family's "
                    "space, see docs/tuning.md) with keras-tuner. The search lives in "
                    "DIRECTORY/PROJECT_NAME and resumes when the same command runs again. "
                    "Writes run.json (the data, skipped images), trials.csv, trials.png and "
                    "best.keras there. Distributed: set "
                    "KERASTUNER_TUNER_ID, KERASTUNER_ORACLE_IP and KERASTUNER_ORACLE_PORT "
                    "on every process (chief: KERASTUNER_TUNER_ID=chief).")
    p.add_argument("model", help="registry name (see 'keras-cnns list')")
    add_dataset_arguments(p)
    add_split_arguments(p)
    add_bad_images_argument(p)
    p.add_argument("--tuner", default="random", help="random (default), hyperband, bayesian")
    p.add_argument("--max-trials", type=int, default=10,
                   help="trials of random and bayesian search (default 10)")
    p.add_argument("--max-epochs", type=int, default=None,
                   help="hyperband's epoch budget per model (default 3 x --epochs)")
    p.add_argument("--epochs", type=int, default=2, help="epochs per trial (default 2)")
    p.add_argument("--batch-size", type=int, default=32)
    add_image_size_argument(p)
    p.add_argument("--aux", action=argparse.BooleanOptionalAction, default=False,
                   help="train with the aux heads (GoogLeNet); the objective is then "
                        "val_main_accuracy")
    p.add_argument("--augment", default="none",
                   help="training augmentation preset (keras_cnns.data.PRESETS, or 'auto'; "
                        "default none)")
    p.add_argument("--seed", type=int, default=None)
    add_precision_argument(p, "train every trial")
    p.add_argument("--directory", default="tuning_runs", help="default: tuning_runs")
    p.add_argument("--project-name", default=None, help="default: the model name")
    p.add_argument("--steps-per-epoch", type=int, default=None)
    p.add_argument("--validation-steps", type=int, default=None)
    p.add_argument("--quiet", action="store_true", help="no per-epoch progress")
    p.set_defaults(func=run)


def _load_data(args, size):
    """The train and validation parts (the objective never sees the test part)."""
    from keras_cnns.training.run import resolve_dataset

    parts = resolve_dataset(args.dataset, args.data_dir, size, args.val_split, args.test_split,
                            args.bad_images, download=args.download)
    if parts.skipped:
        first = ", ".join(list(parts.skipped)[:3])
        print(f"--bad-images skip: left out {len(parts.skipped)} unreadable image file(s): "
              f"{first}{' ...' if len(parts.skipped) > 3 else ''}", flush=True)
    return parts


def _write_run_record(args, parts, project_dir):
    """``run.json`` in the search folder, like train's: the data the search saw (the
    parts' sizes and the skipped images: ``skipped_images`` count, ``skipped_files``)."""
    import json
    import os
    import shlex
    import sys

    from keras_cnns.atomic import atomic_write

    os.makedirs(project_dir, exist_ok=True)
    record = {"model": args.model, "dataset": args.dataset, "tuner": args.tuner,
              "bad_images": args.bad_images, "splits": parts.splits,
              **parts.skipped_record(),
              "command": "keras-cnns " + " ".join(shlex.quote(a) for a in sys.argv[1:])}
    atomic_write(os.path.join(project_dir, "run.json"), json.dumps(record, indent=1) + "\n")


def run(args):
    import contextlib
    import os

    import keras_cnns
    from keras_cnns.validation import check_positive_int
    from tuning.searcher import TUNERS, distributed_role

    # Bad arguments first, before data or TensorFlow work.
    role = distributed_role()
    if args.tuner not in TUNERS:
        raise ValueError(f"--tuner must be one of {', '.join(TUNERS)}; got {args.tuner!r}")
    check_positive_int("--max-trials", args.max_trials)
    info = keras_cnns.model_info(args.model)
    size = args.image_size or info.crop_size
    parts = _load_data(args, size)
    project_dir = os.path.join(args.directory, args.project_name or args.model)
    with contextlib.ExitStack() as stack:
        if role != "worker":  # workers share the chief's folder
            from keras_cnns.atomic import check_writable, directory_lock, sweep_temp_files

            check_writable(project_dir, "--directory")
            stack.enter_context(directory_lock(project_dir, "--directory"))
            sweep_temp_files(project_dir, ["trials.csv", "trials.png", "best.keras",
                                           "best.json", "oracle.json", "tuner0.json",
                                           "search.json", "run.json"])
            _write_run_record(args, parts, project_dir)
        return _search(args, role, parts.train, parts.val, project_dir)


def _search(args, role, train, validation, project_dir):
    import os

    from tuning.searcher import search

    best_hp, _, table = search(
        args.model, train, validation, tuner=args.tuner, max_trials=args.max_trials,
        max_epochs=args.max_epochs, epochs=args.epochs, batch_size=args.batch_size,
        image_size=args.image_size, aux=args.aux, augment=args.augment,
        directory=args.directory, project_name=args.project_name, seed=args.seed,
        steps_per_epoch=args.steps_per_epoch, validation_steps=args.validation_steps,
        verbose=2 if args.quiet else 1, precision=args.precision)
    print()
    if role == "worker":
        print(f"worker {os.environ['KERASTUNER_TUNER_ID']} done; the chief writes the results "
              f"to {project_dir}")
        return 0
    print(f"Trials ({table.objective[0]}, {table.objective[1]}imise):")
    print(table)
    if best_hp is not None:
        best = table.best
        print(f"\nbest: trial {best['trial_id']}, {table.objective[0]} {best['score']:.4f}, "
              f"{best['params']:,} parameters" if best and best.get("params") is not None else "")
        print(f"wrote {os.path.join(project_dir, 'trials.csv')}, trials.png, best.keras")
    return 0
