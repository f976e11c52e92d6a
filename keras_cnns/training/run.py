"""``train()``: one training run into an output directory, as ``keras-cnns train`` does.

Artefacts in ``output``: ``best.keras`` and ``last.keras`` (atomic), ``history.csv``
(``epoch`` + Keras log names), ``logs/`` (TensorBoard), ``curves.png``,
``results.json`` (``model``, ``dataset``, ``epochs``, ``top1``, ``top5``, ``precision``,
``command`` and more), ``run.json`` (what the directory holds, checked on reuse) and
``backup/`` (the resumable state: weights, optimiser, finished epochs).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sys
import time

import numpy as np

from keras_cnns.atomic import check_writable, directory_lock, sweep_temp_files
from keras_cnns.precision import check_precision, precision_policy
from keras_cnns.validation import check_positive_int

__all__ = ["train", "TrainingDiverged", "resolve_dataset", "held_out_metrics", "RUN_FILE",
           "DataSplits", "decode_error_message", "SPLIT_SEED"]

RUN_FILE = "run.json"


class TrainingDiverged(RuntimeError):
    """The loss became NaN / infinite; the message says where and what was kept."""


def _count(ds):
    n = int(ds.cardinality().numpy())
    if n >= 0:
        return n
    return sum(1 for _ in ds)


#: The fixed seed of carved splits: independent of --seed, so the validation and test
#: images stay the same across runs and training seeds.
SPLIT_SEED = 0
VAL_SPLITS = ("validation", "val")
BAD_IMAGES = ("fail", "skip")


class DataSplits:
    """What :func:`resolve_dataset` gives: ``train``, ``val`` and ``test`` sources,
    ``class_names``, ``description``, ``splits`` (how the parts were made, for
    run.json), ``skipped`` (``{path: reason}`` of unreadable images left out),
    ``stats`` (``{path: (size, mtime_ns)}`` of the folder images, to name a file that
    breaks mid-run) and ``class_index`` (folders: the name -> index mapping)."""

    def __init__(self, train, val, test, class_names, description, splits, skipped=None,
                 stats=None, class_index=None):
        self.train, self.val, self.test = train, val, test
        self.class_names, self.description, self.splits = class_names, description, splits
        self.skipped = dict(sorted((skipped or {}).items()))
        self.stats = stats or {}
        self.class_index = class_index

    def part(self, name):
        """``"train"``, ``"validation"`` (or ``"val"``) or ``"test"``."""
        if name in ("val", "validation"):
            return self.val
        if name in ("train", "test"):
            return getattr(self, name)
        raise ValueError(f"--split must be one of train, validation, test; got {name!r}")

    def skipped_record(self):
        """``skipped_images`` (count) and ``skipped_files`` (the first 100) for JSON."""
        return {"skipped_images": len(self.skipped), "skipped_files": list(self.skipped)[:100]}


def _check_fraction(flag, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1:
        raise ValueError(f"{flag} must be a fraction between 0 and 1 (exclusive), got {value!r}")
    return float(value)


def resolve_dataset(dataset, data_dir=None, image_size=32, val_split=0.1, test_split=0.1,
                    bad_images="fail", index_dir=None, progress=None, download=False):
    """The train / validation / test parts of ``--dataset`` (:class:`DataSplits`):

    - ``"digits"``: the fixed three-way split of :func:`keras_cnns.data.digits`;
    - a folder: ``train/``, ``val/`` (or ``validation/``) and ``test/`` where present, a
      missing validation (test) part carved out of ``train/`` by ``val_split``
      (``test_split``); a flat ``label/img`` tree split three ways by both; carved
      parts are stratified by class with the fixed :data:`SPLIT_SEED`;
    - a tfds name (prepared in ``data_dir``): its ``test`` split for test (else its
      ``validation``), its ``validation`` split for validation when that is not the
      test part, else the last ``val_split`` of ``train``.

    ``download``: a tfds dataset not yet prepared in ``data_dir`` is downloaded and
    prepared there (``--download``; offline it must be prepared already).
    ``bad_images``: ``"fail"`` (unreadable images raise, listed) or ``"skip"``.
    ``index_dir``: where a folder's ``class_index.json`` is read from (never written
    here; ``train`` writes it into its output)."""
    from keras_cnns import data
    from keras_cnns.data import sources

    if bad_images not in BAD_IMAGES:
        raise ValueError(f"--bad-images must be one of {', '.join(BAD_IMAGES)}; got "
                         f"{bad_images!r}")
    val_split = _check_fraction("--val-split", val_split)
    test_split = _check_fraction("--test-split", test_split)
    if dataset == "digits":
        return DataSplits(data.digits(image_size, "train"), data.digits(image_size, "validation"),
                          data.digits(image_size, "test"), [str(i) for i in range(10)],
                          "digits (scikit-learn; 1,221 train / 216 validation / 360 test)",
                          {"train": "digits train (1,221)", "validation": "digits validation "
                           "(216)", "test": "digits test (360)"})
    if os.path.isdir(dataset):
        on_error = "raise" if bad_images == "fail" else "skip"
        try:
            return _folder_splits(dataset, val_split, test_split, on_error, index_dir,
                                  progress)
        except sources.BadImages as err:
            raise sources.BadImages(dataset, err.reasons, "pass --bad-images skip to leave "
                                    "them out") from None
        except ValueError as err:
            raise ValueError(f"--dataset {dataset!r}: {err}") from None
    if os.sep in dataset or dataset.startswith("."):
        raise ValueError(f"--dataset {dataset!r}: no such directory")
    try:
        return _tfds_splits(dataset, data_dir, val_split, download)
    except ValueError as err:
        raise ValueError(f"--dataset {dataset!r}: {err} (use 'digits', a folder, or a tfds "
                         "name prepared in --data-dir)") from None


def _folder_splits(root, val_split, test_split, on_error, index_dir, progress):
    from keras_cnns.data import sources

    tops = sorted(e.name for e in os.scandir(root) if e.is_dir() and not e.name.startswith("."))
    val_name = next((s for s in VAL_SPLITS if s in tops), None)
    skipped, stats = {}, {}

    def load(split):
        ds = sources.image_folder(root, split=split, on_error=on_error, index_dir=index_dir,
                                  progress=progress)
        skipped.update(ds.errors.reasons)
        stats.update(ds.stats)
        return ds

    nested = "train" in tops and any(e.is_dir() for e in os.scandir(os.path.join(root, "train")))
    if nested:
        train = load("train")
        val = load(val_name) if val_name else None
        test = load("test") if "test" in tops else None
        splits = {"train": "train/", "validation": f"{val_name}/" if val_name else None,
                  "test": "test/" if test is not None else None}
        fractions = [f for f, part in ((test_split, test), (val_split, val)) if part is None]
        if fractions:
            parts = sources.split_indices(train.labels, fractions, SPLIT_SEED)
            rest = sources.folder_subset(train, parts[-1])
            carved = [sources.folder_subset(train, p) for p in parts[:-1]]
            if test is None:
                test = carved.pop(0)
                splits["test"] = (f"{test_split:g} of train/, stratified, seed {SPLIT_SEED} "
                                  f"({len(test.files)} images)")
            if val is None:
                val = carved.pop(0)
                splits["validation"] = (f"{val_split:g} of train/, stratified, seed "
                                        f"{SPLIT_SEED} ({len(val.files)} images)")
            train = rest
        desc = f"folder {root} (train / {splits['validation']} / {splits['test']})"
    else:
        full = load(None)
        test_idx, val_idx, train_idx = sources.split_indices(full.labels,
                                                             [test_split, val_split], SPLIT_SEED)
        train, val, test = (sources.folder_subset(full, i) for i in (train_idx, val_idx,
                                                                      test_idx))
        splits = {"train": f"the rest ({len(train_idx)} images)",
                  "validation": f"{val_split:g}, stratified, seed {SPLIT_SEED} "
                                f"({len(val_idx)} images)",
                  "test": f"{test_split:g}, stratified, seed {SPLIT_SEED} ({len(test_idx)} "
                          "images)"}
        desc = (f"folder {root} (flat; split {len(train_idx)} train / {len(val_idx)} "
                f"validation / {len(test_idx)} test)")
    for name, part in (("validation", val), ("test", test)):
        if not part.files:
            raise ValueError(f"the {name} part is empty ({splits[name]}); add images or raise "
                             f"--{'val' if name == 'validation' else 'test'}-split")
    return DataSplits(train, val, test, list(train.class_names), desc, splits, skipped, stats,
                      dict(train.class_index))


def _tfds_splits(name, data_dir, val_split, download=False):
    from keras_cnns import data

    def load(split):
        # Prepared once (by the first load, with ``download``); found prepared after.
        return data.load(name, split, data_dir=data_dir, download=download)

    def try_load(split):
        try:
            return load(split)
        except ValueError as err:
            if "is not a split" in str(err):
                return None
            raise

    full = load("train")
    names = list(full.class_names)
    test_name = next((s for s in ("test",) + VAL_SPLITS if try_load(s) is not None), None)
    if test_name is None:
        raise ValueError(f"no test or validation split ({', '.join(('test',) + VAL_SPLITS)})")
    test = load(test_name)
    val_name = None
    if test_name == "test":
        val_name = next((s for s in VAL_SPLITS if try_load(s) is not None), None)
    if val_name is not None:
        train, val = full, load(val_name)
        splits = {"train": "train", "validation": val_name, "test": test_name}
    else:
        cut = 100 - int(round(val_split * 100))
        if not 0 < cut < 100:
            raise ValueError(f"--val-split {val_split:g} leaves no whole percent of train")
        train = load(f"train[:{cut}%]")
        val = load(f"train[{cut}%:]")
        splits = {"train": f"train[:{cut}%]", "validation": f"train[{cut}%:]",
                  "test": test_name}
    return DataSplits(train, val, test, names, f"tfds {name} ({splits['train']} / "
                      f"{splits['validation']} / {splits['test']})", splits)


def decode_error_message(err, splits, what):
    """One line for a ``tf.errors`` error out of the input pipeline, naming the image
    files that changed since the scan (or the tfds record)."""
    from keras_cnns.data import sources

    reason = sources._first_line(err)
    bad = sources.find_changed(splits.stats) if splits.stats else {}
    if bad:
        listed = "; ".join(f"{p}: {r}" for p, r in list(bad.items())[:3])
        more = f" (and {len(bad) - 3} more)" if len(bad) > 3 else ""
        return f"{what} stopped: an image became unreadable: {listed}{more}"
    return f"{what} stopped: the input pipeline failed to read a record ({reason})"


def held_out_metrics(model, eval_ds):
    """Top-1 / top-5 fractions of the main head on ``eval_ds`` (``(x, y)`` batches,
    ``y`` a label or a dict with ``"main"``)."""
    import keras
    import tensorflow as tf

    from keras_cnns import heads as aux_lib
    from keras_cnns.training.recipes import _outputs_probabilities

    main = aux_lib.inference_model(model)
    probs = _outputs_probabilities(main.outputs[0])

    @tf.function(reduce_retracing=True)
    def tf_predict(x):
        y = tf.cast(main(x, training=False), tf.float32)
        return y if probs else tf.nn.softmax(y, -1)

    def predict(x):
        if keras.backend.backend() == "tensorflow":
            return tf_predict(x)
        # JAX / torch: the model cannot run inside a tf.function.
        y = np.asarray(main.predict_on_batch(np.asarray(x)), np.float32)
        if probs:
            return y
        e = np.exp(y - y.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    top1 = top5 = n = 0
    for x, y in eval_ds:
        if isinstance(y, dict):
            y = y[aux_lib.MAIN]
        y = np.asarray(y).reshape(-1)
        p = np.asarray(predict(x))
        top1 += int((p.argmax(-1) == y).sum())
        top5 += int((np.argsort(-p, -1)[:, :5] == y[:, None]).any(1).sum())
        n += len(y)
    if n == 0:
        raise ValueError("the held-out set is empty")
    return {"top1": top1 / n, "top5": top5 / n, "images": n}


def _check_output(output, meta, resume, overwrite):
    """Refuse an output directory holding another run, unless --resume matches it."""
    path = os.path.join(output, RUN_FILE)
    if os.path.exists(path):
        with open(path) as f:
            old = json.load(f)
        old.setdefault("precision", "float32")  # runs written before --precision existed
        same = all(old.get(k) == meta[k] for k in ("model", "dataset", "image_size", "aux",
                                                   "classes"))
        if overwrite:
            return old
        if not same:
            diff = ", ".join(f"{k} {old.get(k)!r} (now {meta[k]!r})"
                             for k in ("model", "dataset", "image_size", "aux", "classes")
                             if old.get(k) != meta[k])
            raise ValueError(f"--output {output!r} holds another run ({diff}); choose another "
                             "--output (or pass --overwrite to replace it)")
        if not resume:
            raise ValueError(f"--output {output!r} already holds a run of {meta['model']!r}; "
                             "pass --resume to continue it, or --overwrite to start over")
        if old["precision"] != meta["precision"]:
            # The backup holds the optimiser's state, loss-scaled or not.
            raise ValueError(f"--precision {meta['precision']}: the run in --output {output!r} "
                             f"was trained with --precision {old['precision']}; resume it with "
                             "that (or --overwrite)")
        return old
    if os.path.isdir(output) and any(f in os.listdir(output) for f in
                                     ("best.keras", "last.keras", "history.csv", "backup")):
        if not overwrite:
            raise ValueError(f"--output {output!r} holds training files but no {RUN_FILE}; "
                             "choose another --output (or --overwrite)")
    return None


RUN_FILES = ("best.keras", "last.keras", "best.json", "history.csv", "results.json",
             "curves.png", RUN_FILE, "class_index.json")


def sweep_run_temp_files(output):
    """Temp files a killed run left in ``output`` and its ``backup/`` (our writers' name
    patterns only)."""
    removed = sweep_temp_files(output, RUN_FILES)
    removed += sweep_temp_files(os.path.join(output, "backup"), ["training_metadata.json"],
                                [r"epoch-\d{5}\.weights\.h5"])
    return removed


def _clear_run(output):
    import shutil

    for f in ("best.keras", "last.keras", "best.json", "history.csv", "results.json",
              "curves.png", RUN_FILE):
        p = os.path.join(output, f)
        if os.path.exists(p):
            os.unlink(p)
    for d in ("backup", "logs"):
        shutil.rmtree(os.path.join(output, d), ignore_errors=True)


def train(model_name, dataset="digits", data_dir=None, recipe="fast", epochs=None,
          batch_size=None, image_size=None, aux=None, seed=0, output="run", resume=False,
          overwrite=False, strategy="default", cpu_replicas=None, verbose=1, command=None,
          val_split=0.1, test_split=0.1, bad_images="fail", early_stopping=None,
          precision="float32", download=False, init=None, freeze="none",
          unfreeze_after=None, finetune_lr=None, optimizer=None, lr=None, weight_decay=None,
          label_smoothing=None):
    """Train registry model ``model_name`` on ``dataset`` with ``recipe`` into
    ``output``; returns the ``results.json`` dict. Raises ValueError (naming the flag)
    for bad input and :class:`TrainingDiverged` for a NaN loss.

    The dataset's validation part (:func:`resolve_dataset`) alone chooses
    ``best.keras``, drives plateau schedules and ``early_stopping`` (patience in
    epochs, on the validation accuracy); the test part is scored once, at the end,
    with the best checkpoint.

    ``precision``: ``"float32"``, ``"mixed_bfloat16"`` or ``"mixed_float16"``
    (:mod:`keras_cnns.precision`): Keras' global dtype policy while the model is built
    and trained, restored afterwards.

    Fine-tuning (:mod:`keras_cnns.training.finetune`): ``init`` (``"imagenet"``, a
    ``.keras`` / ``.weights.h5`` / torchvision file), ``freeze`` (``none``,
    ``backbone``, ``bn`` or an end point), ``unfreeze_after`` (epochs of phase one;
    phase two trains everything at ``finetune_lr``, default the learning rate / 10);
    recipe overrides ``optimizer``, ``lr``, ``weight_decay``, ``label_smoothing``."""
    precision = check_precision(precision, "--precision")
    ft = dict(init=init, freeze=freeze, unfreeze_after=unfreeze_after,
              finetune_lr=finetune_lr, optimizer=optimizer, lr=lr,
              weight_decay=weight_decay, label_smoothing=label_smoothing)
    with precision_policy(precision):
        return _train(model_name, dataset, data_dir, recipe, epochs, batch_size, image_size,
                      aux, seed, output, resume, overwrite, strategy, cpu_replicas, verbose,
                      command, val_split, test_split, bad_images, early_stopping, precision,
                      download, ft)


def _train(model_name, dataset, data_dir, recipe, epochs, batch_size, image_size, aux, seed,
           output, resume, overwrite, strategy, cpu_replicas, verbose, command, val_split,
           test_split, bad_images, early_stopping, precision, download, ft):
    import keras

    from keras_cnns import registry
    from keras_cnns.training import callbacks as cb
    from keras_cnns.training import distributed
    from keras_cnns.training.recipes import RECIPES, for_model, get
    from keras_cnns.visualize import plot_history

    t_start = time.time()
    # ---- arguments, before any heavy work
    try:
        info = registry.model_info(model_name)
    except (ValueError, TypeError) as err:
        raise ValueError(f"MODEL: {err}") from None
    try:
        rec = for_model(model_name) if recipe == "paper" else (
            RECIPES["fast"] if recipe == "fast" else get(recipe))
    except ValueError as err:
        raise ValueError(f"--recipe {recipe!r}: {err}") from None
    for flag, value in (("--epochs", epochs), ("--batch-size", batch_size),
                        ("--image-size", image_size)):
        if value is not None:
            check_positive_int(flag, value)
    epochs = int(epochs or rec.epochs)
    batch_size = int(batch_size or rec.batch_size)
    # The recipe as it runs: the banner, run.json and the schedules see the overrides.
    rec = rec.replace(epochs=epochs, batch_size=batch_size)
    from keras_cnns.training import finetune

    rec = finetune.override_recipe(rec, ft["optimizer"], ft["lr"], ft["weight_decay"],
                                   ft["label_smoothing"])
    plan = finetune.check_plan(ft, rec, model_name)
    size = int(image_size or info.default_input_shape[0])
    if size < info.min_input_size:
        raise ValueError(f"--image-size {size} is below {model_name}'s minimum input size "
                         f"{info.min_input_size}")
    if size > info.default_input_shape[0]:
        # Above the model's own size, refuse an input that could never fit in memory
        # before the data is resized to it (the builders' estimate,
        # keras_cnns.models.common.check_fits_in_memory; a symbolic build, no tensor).
        try:
            registry.build(model_name, input_shape=(size, size, info.default_input_shape[-1]),
                           weights=None)
        except ValueError as err:
            raise ValueError(f"--image-size {size}: {err}") from None
    if aux and not info.has_aux:
        raise ValueError(f"--aux: {model_name} has no aux heads (models with aux heads: "
                         f"{', '.join(n for n in registry.available_models() if registry.model_info(n).has_aux)})")
    aux = info.has_aux if aux is None else bool(aux)
    strat, strat_desc = distributed.make_strategy(strategy, cpu_replicas)
    replicas = strat.num_replicas_in_sync
    if batch_size % replicas:
        raise ValueError(f"--batch-size {batch_size} (global) is not divisible by the "
                         f"{replicas} replicas of --strategy {strategy}")
    if early_stopping is not None:
        check_positive_int("--early-stopping", early_stopping)
    chief = distributed.is_chief() if strategy == "multi-worker" else True
    if not isinstance(output, (str, os.PathLike)) or not os.fspath(output):
        raise ValueError(f"--output must name a folder, got {output!r}")
    output = os.path.abspath(output)
    if resume and overwrite:
        raise ValueError("--resume and --overwrite contradict each other: --resume continues "
                         "the run in --output, --overwrite discards it; pass one")
    if chief:
        check_writable(output, "--output")  # before minutes of work, not after
    # One run at a time per --output (the chief's lock; dropped by the OS if it dies),
    # taken first so a second run does not scan the images for nothing.
    with contextlib.ExitStack() as lock:
        if chief:
            lock.enter_context(directory_lock(output, "--output"))
        # Every image is checked before anything is written (nothing but the lock, gone
        # again, under --output on a bad file with --bad-images fail).
        parts = resolve_dataset(dataset, data_dir, size, val_split, test_split, bad_images,
                                index_dir=output if os.path.isdir(output) else None,
                                progress=None if verbose else False, download=download)
        train_src, val_src, test_src = parts.train, parts.val, parts.test
        class_names, data_desc = parts.class_names, parts.description
        classes = len(class_names)
        if parts.skipped and verbose:
            first = ", ".join(list(parts.skipped)[:3])
            print(f"--bad-images skip: left out {len(parts.skipped)} unreadable image file(s): "
                  f"{first}{' ...' if len(parts.skipped) > 3 else ''}", flush=True)
        meta = {"model": model_name, "dataset": dataset, "image_size": size, "aux": aux,
                "classes": classes, "recipe": rec.name, "precision": precision}
        if chief:
            old_run = _check_output(output, meta, resume, overwrite)
            if resume and old_run:
                plan.check_resume(old_run, output)
            sweep_run_temp_files(output)
        n_train = _count(train_src)
        steps = n_train // batch_size
        if steps < 1:
            raise ValueError(f"--batch-size {batch_size} is larger than the {n_train} training images")

        # ---- model, optimiser, metrics inside the strategy's scope
        from keras_cnns.data import eval_pipeline, train_pipeline

        keras.utils.set_random_seed(seed)
        channels = info.default_input_shape[-1]
        kwargs = dict(classes=classes, input_shape=(size, size, channels))
        if info.has_aux:
            kwargs["aux"] = aux
        kwargs.update(rec.build_kwargs(model_name))
        with strat.scope():
            try:
                model = registry.build(model_name, **kwargs)
            except ValueError as err:
                raise ValueError(f"MODEL {model_name} at --image-size {size}"
                                 f"{' with --aux' if aux else ''}: {err}") from None
            init_report = (finetune.load_init(ft["init"], model_name, model, class_names)
                           if ft["init"] is not None else None)
            # Class names, registry name, input size, preprocessing: in every .keras saved.
            from keras_cnns.checkpoint import attach_run_metadata
            model = attach_run_metadata(model, class_names=class_names, name=model_name,
                                        dataset=dataset)
            done = (cb.AtomicBackupAndRestore(os.path.join(output, "backup")).restored_epoch()
                    if resume else 0)
            freeze_desc = finetune.prepare_phase(model, model_name, plan, done, init_report)
            plan.recipe(done).compile(model, steps_per_epoch=steps)
        if chief:
            if overwrite:
                _clear_run(output)
            os.makedirs(output, exist_ok=True)
            if parts.class_index is not None:
                from keras_cnns.data import sources

                sources.class_index(output, parts.class_names)  # kept beside the run
            record = dict(meta, epochs=epochs, batch_size=batch_size, seed=seed,
                          optimizer=rec.optimizer, learning_rate=rec.learning_rate,
                          schedule=rec.schedule, schedule_args=dict(rec.schedule_args),
                          weight_decay=rec.weight_decay, augment=rec.augment,
                          early_stopping=early_stopping, splits=parts.splits,
                          **parts.skipped_record(), **plan.record(init_report))
            cb.atomic_write_text(os.path.join(output, RUN_FILE),
                                 json.dumps(record, indent=1) + "\n")
        train_ds = train_pipeline(train_src, model, batch_size, augment=rec.augment, seed=seed,
                                  repeat=True)
        eval_ds = eval_pipeline(val_src, model, batch_size)
        test_ds = eval_pipeline(test_src, model, batch_size)
        if verbose:
            print(f"train {model_name} ({model.count_params():,} parameters, input {size}x{size}x"
                  f"{channels}, {classes} classes{', aux heads' if aux else ''}) on {data_desc}",
                  flush=True)
            print(rec.describe(), flush=True)
            for line in plan.banner(init_report, freeze_desc):
                print(line, flush=True)
            print(f"precision {precision}; strategy {strat_desc}; global batch {batch_size} "
                  f"({batch_size // replicas} per replica), {steps} steps per epoch, {epochs} "
                  f"epochs -> {output}", flush=True)

        # ---- callbacks: artefacts of an epoch are written before the backup commits it
        monitor = "val_main_accuracy" if aux else "val_accuracy"
        guard = cb.NaNGuard()
        workdir = output if chief else None
        backup = cb.AtomicBackupAndRestore(os.path.join(output, "backup"), guard=guard)
        initial = backup.restored_epoch() if (resume and os.path.isdir(backup.backup_dir)) else 0
        if not resume and os.path.isdir(backup.backup_dir) and chief:
            import shutil

            shutil.rmtree(backup.backup_dir)
        if resume and verbose:
            if not initial:
                print(f"--resume: no backup in {output}, starting at epoch 1", flush=True)
            elif initial >= epochs:
                print(f"resuming: {initial} finished epoch(s) in {backup.backup_dir}; the run is "
                      f"complete (--epochs {epochs}), evaluating only", flush=True)
            else:
                print(f"resuming: {initial} finished epoch(s) in {backup.backup_dir}; continuing at "
                      f"epoch {initial + 1}", flush=True)
        # best.keras / best.json are re-derived from the backup's commit at fit start.
        committed = (backup.committed_best() or {}) if initial else {}
        callbacks, history = [guard], None
        if workdir:
            checkpoint = cb.AtomicCheckpoint(output, monitor=monitor, mode="max", guard=guard,
                                             best=committed.get("value"),
                                             tie_monitor="val_main_loss" if aux else "val_loss",
                                             best_tie=committed.get("tie"))
            backup.checkpoint = checkpoint
            history = cb.HistoryCSV(os.path.join(output, "history.csv"), initial, guard=guard)
            callbacks += [checkpoint, history]
        callbacks += rec.callbacks(monitor="val_main_loss" if aux else "val_loss", verbose=verbose)
        stopper = None
        if early_stopping is not None:
            # The validation part's metric (eval_ds); the test part is scored once, at the end.
            stopper = keras.callbacks.EarlyStopping(monitor=monitor, mode="max",
                                                    patience=int(early_stopping),
                                                    verbose=verbose)
            callbacks.append(stopper)

        import tensorflow as tf

        try:
            for start, end, phase in plan.phases(initial, epochs):
                if phase is not None and history is not None:
                    history.extra = {"phase": phase}
                if start > initial:  # phase two begins in this run: unfreeze, recompile
                    if guard.diverged is not None:
                        break
                    with strat.scope():
                        finetune.unfreeze(model, keep_bn_frozen=plan.freeze == "bn")
                        plan.recipe(start).compile(model, steps_per_epoch=steps)
                    backup.skip_restore = True  # the backup holds phase one's optimiser
                    model._initial_epoch = None
                    if verbose:
                        print(f"--unfreeze-after {plan.unfreeze_after}: phase 2 at epoch "
                              f"{start + 1}, whole network, learning rate "
                              f"{plan.recipe(start).learning_rate:g}", flush=True)
                _fit(model, strat, rec, strategy, workdir, start, backup, train_ds, eval_ds,
                     end, steps, batch_size, list(callbacks), verbose, chief, output)
                if stopper is not None and stopper.stopped_epoch:
                    break  # --early-stopping ended the run: no further phase
        except tf.errors.OpError as err:
            kept = os.path.join(output, "last.keras")
            kept = (f"; the last good checkpoint is kept ({kept}; fix or remove the file, "
                    "then --resume)" if os.path.exists(kept)
                    else "; no epoch had finished, so no checkpoint was written")
            raise ValueError(decode_error_message(err, parts, "training") + kept) from None
        if guard.diverged is not None:
            d = guard.diverged
            kept = os.path.join(output, "last.keras")
            kept = (f"last good checkpoint kept: {kept}" if os.path.exists(kept)
                    else "no epoch finished, so no checkpoint was written")
            raise TrainingDiverged(f"training diverged: the loss became {d['loss']} at epoch "
                                   f"{d['epoch'] + 1}, batch {d['batch'] + 1}; stopped. {kept} "
                                   "(lower the learning rate, or check the data)")
        finished = max(initial, epochs)
        if stopper is not None and stopper.stopped_epoch:
            finished = stopper.stopped_epoch + 1  # Keras' 0-based epoch of the stop
        if rec.averaging is not None and chief:
            cb.atomic_save_model(model, os.path.join(output, "last.keras"))  # averaged weights
        metrics = held_out_metrics(model, eval_ds)
        fingerprint = distributed.weights_fingerprint(model)
        task = distributed.task_id() if strategy == "multi-worker" else ("worker", 0)
        if strategy == "multi-worker":
            # One parseable line per worker: the weights must agree after synchronous training.
            print("worker-summary " + json.dumps({"task": f"{task[0]}:{task[1]}", "chief": chief,
                                                  "top1": metrics["top1"],
                                                  "weights_abs_sum": fingerprint[0],
                                                  "weights_sha256": fingerprint[1]}), flush=True)
        # The test part, scored once, with the checkpoint the validation part chose.
        best_path = os.path.join(output, "best.keras")
        best_epoch = None
        if chief and os.path.exists(best_path):
            model.load_weights(best_path)
            metrics = held_out_metrics(model, eval_ds)
            with open(os.path.join(output, "best.json")) as f:
                best_epoch = int(json.load(f)["epoch"]) + 1
        try:
            test = held_out_metrics(model, test_ds)
        except tf.errors.OpError as err:
            raise ValueError(decode_error_message(err, parts, "the test evaluation")) from None
        results = {
            "model": model_name, "dataset": dataset, "epochs": finished,
            "best_epoch": best_epoch, "val_top1": metrics["top1"], "val_top5": metrics["top5"],
            "test_top1": test["top1"], "test_top5": test["top5"],
            "top1": test["top1"], "top5": test["top5"],
            "command": command or " ".join(shlex.quote(a) for a in sys.argv),
            "val_images": metrics["images"], "test_images": test["images"],
            "held_out_images": test["images"], "splits": parts.splits,
            **parts.skipped_record(), "recipe": rec.name, "image_size": size,
            "aux": aux, "batch_size": batch_size, "replicas": replicas, "strategy": strategy,
            "seed": seed, "classes": class_names, "precision": precision,
            # --early-stopping's patience, and whether it ended the run before --epochs.
            "early_stopping": early_stopping,
            "stopped_early": early_stopping is not None and finished < epochs,
            "seconds": round(time.time() - t_start, 1),
        }
        if not chief:
            return results
        rows = cb.read_history(os.path.join(output, "history.csv"))
        if rows:
            plot_history(rows, os.path.join(output, "curves.png"),
                         title=f"{model_name} on {dataset} ({rec.name} recipe)")
        cb.atomic_write_text(os.path.join(output, "results.json"), json.dumps(results, indent=1) + "\n")
        if verbose:
            print(f"best epoch {best_epoch}: validation top-1 {metrics['top1']:.4f} "
                  f"({metrics['images']} images); test top-1 {test['top1']:.4f}, top-5 "
                  f"{test['top5']:.4f} ({test['images']} images); wrote {output}/best.keras, "
                  "last.keras, history.csv, curves.png, results.json", flush=True)
        return results


def _fit(model, strat, rec, strategy, workdir, initial, backup, train_ds, eval_ds, epochs, steps,
         batch_size, callbacks, verbose, chief, output):
    import keras

    from keras_cnns.training import distributed

    if strategy == "multi-worker":
        if workdir:
            callbacks.append(backup)  # on_train_begin restores, on_epoch_end commits
        elif initial:
            # Other workers restore from the chief's backup (shared --output).
            backup.set_model(model)
            backup._load_model()
        distributed.fit_multi_worker(model, strat, rec, train_ds, eval_ds, epochs, steps,
                                     batch_size, callbacks=callbacks, initial_epoch=initial,
                                     verbose=verbose if chief else 0)
    else:
        callbacks.append(keras.callbacks.TensorBoard(os.path.join(output, "logs")))
        callbacks.append(backup)  # last: commits the epoch
        model.fit(train_ds, epochs=epochs, steps_per_epoch=steps, validation_data=eval_ds,
                  callbacks=callbacks, verbose=verbose, shuffle=False, initial_epoch=initial)
