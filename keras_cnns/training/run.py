"""``train()``: one training run into an output directory, as ``keras-cnns train`` does.

Artefacts in ``output``: ``best.keras`` and ``last.keras`` (atomic), ``history.csv``
(``epoch`` + Keras log names), ``logs/`` (TensorBoard), ``curves.png``,
``results.json`` (``model``, ``dataset``, ``epochs``, ``top1``, ``top5``, ``command``
and more), ``run.json`` (what the directory holds, checked on reuse) and ``backup/``
(the resumable state: weights, optimiser, finished epochs).
"""

from __future__ import annotations

import contextlib
import json
import os
import shlex
import sys
import time

import numpy as np

from keras_cnns.atomic import directory_lock
from keras_cnns.validation import check_positive_int

__all__ = ["train", "TrainingDiverged", "resolve_dataset", "held_out_metrics", "RUN_FILE"]

RUN_FILE = "run.json"
HELD_OUT_SPLITS = ("test", "validation", "val")


class TrainingDiverged(RuntimeError):
    """The loss became NaN / infinite; the message says where and what was kept."""


def _count(ds):
    n = int(ds.cardinality().numpy())
    if n >= 0:
        return n
    return sum(1 for _ in ds)


def resolve_dataset(dataset, data_dir=None, image_size=32):
    """``(train source, held-out source, class names, description)`` for ``--dataset``:
    ``"digits"``, a local folder (``root/split/label/img`` with a ``test`` /
    ``validation`` / ``val`` split, or ``root/label/img``, of which every 10th file is
    held out), or a tfds name (prepared in ``data_dir``)."""
    from keras_cnns import data

    if dataset == "digits":
        return (data.digits(image_size, "train"), data.digits(image_size, "test"),
                [str(i) for i in range(10)], "digits (scikit-learn, 1,437 train / 360 held out)")
    if os.path.isdir(dataset):
        try:
            tops = sorted(e.name for e in os.scandir(dataset) if e.is_dir())
            held = [s for s in HELD_OUT_SPLITS if s in tops]
            if "train" in tops and held:
                train = data.image_folder(dataset, split="train")
                test = data.image_folder(dataset, split=held[0])
                return train, test, list(train.class_names), \
                    f"folder {dataset} (train / {held[0]})"
            full = data.image_folder(dataset)
        except ValueError as err:
            raise ValueError(f"--dataset {dataset!r}: {err}") from None
        names = list(full.class_names)
        indexed = full.enumerate()
        train = indexed.filter(lambda i, e: i % 10 != 0).map(lambda i, e: e)
        test = indexed.filter(lambda i, e: i % 10 == 0).map(lambda i, e: e)
        return train, test, names, f"folder {dataset} (every 10th file held out)"
    if os.sep in dataset or dataset.startswith("."):
        raise ValueError(f"--dataset {dataset!r}: no such directory")
    try:
        train = data.load(dataset, "train", data_dir=data_dir)
        names = list(train.class_names)
        test, err = None, None
        for split in HELD_OUT_SPLITS:
            try:
                test = data.load(dataset, split, data_dir=data_dir)
                break
            except ValueError as e:
                err = e
        if test is None:
            raise ValueError(f"no held-out split ({', '.join(HELD_OUT_SPLITS)}): {err}")
    except ValueError as err:
        raise ValueError(f"--dataset {dataset!r}: {err} (use 'digits', a folder, or a tfds "
                         "name prepared in --data-dir)") from None
    return train, test, names, f"tfds {dataset}"


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
        return old
    if os.path.isdir(output) and any(f in os.listdir(output) for f in
                                     ("best.keras", "last.keras", "history.csv", "backup")):
        if not overwrite:
            raise ValueError(f"--output {output!r} holds training files but no {RUN_FILE}; "
                             "choose another --output (or --overwrite)")
    return None


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
          overwrite=False, strategy="default", cpu_replicas=None, verbose=1, command=None):
    """Train registry model ``model_name`` on ``dataset`` with ``recipe`` into
    ``output``; returns the ``results.json`` dict. Raises ValueError (naming the flag)
    for bad input and :class:`TrainingDiverged` for a NaN loss."""
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
    size = int(image_size or info.default_input_shape[0])
    if size < info.min_input_size:
        raise ValueError(f"--image-size {size} is below {model_name}'s minimum input size "
                         f"{info.min_input_size}")
    if aux and not info.has_aux:
        raise ValueError(f"--aux: {model_name} has no aux heads (models with aux heads: "
                         f"{', '.join(n for n in registry.available_models() if registry.model_info(n).has_aux)})")
    aux = info.has_aux if aux is None else bool(aux)
    strat, strat_desc = distributed.make_strategy(strategy, cpu_replicas)
    replicas = strat.num_replicas_in_sync
    if batch_size % replicas:
        raise ValueError(f"--batch-size {batch_size} (global) is not divisible by the "
                         f"{replicas} replicas of --strategy {strategy}")
    chief = distributed.is_chief() if strategy == "multi-worker" else True
    train_src, test_src, class_names, data_desc = resolve_dataset(dataset, data_dir, size)
    classes = len(class_names)
    meta = {"model": model_name, "dataset": dataset, "image_size": size, "aux": aux,
            "classes": classes, "recipe": rec.name}
    output = os.path.abspath(output)
    # One run at a time per --output (the chief's lock; dropped by the OS if it dies).
    with contextlib.ExitStack() as lock:
        if chief:
            lock.enter_context(directory_lock(output, "--output"))
            _check_output(output, meta, resume, overwrite)
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
            rec.compile(model, steps_per_epoch=steps)
        if chief:
            if overwrite:
                _clear_run(output)
            os.makedirs(output, exist_ok=True)
            cb.atomic_write_text(os.path.join(output, RUN_FILE), json.dumps(meta, indent=1) + "\n")
        train_ds = train_pipeline(train_src, model, batch_size, augment=rec.augment, seed=seed,
                                  repeat=True)
        eval_ds = eval_pipeline(test_src, model, batch_size)
        if verbose:
            print(f"train {model_name} ({model.count_params():,} parameters, input {size}x{size}x"
                  f"{channels}, {classes} classes{', aux heads' if aux else ''}) on {data_desc}",
                  flush=True)
            print(rec.describe(), flush=True)
            print(f"strategy {strat_desc}; global batch {batch_size} "
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
        best = None
        if initial and os.path.exists(os.path.join(output, "best.json")):
            with open(os.path.join(output, "best.json")) as f:
                best = json.load(f).get(monitor)
        callbacks = [guard]
        if workdir:
            callbacks += [cb.AtomicCheckpoint(output, monitor=monitor, mode="max", guard=guard,
                                              best=best),
                          cb.HistoryCSV(os.path.join(output, "history.csv"), initial, guard=guard)]
        callbacks += rec.callbacks(monitor="val_main_loss" if aux else "val_loss", verbose=verbose)

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
                      callbacks=callbacks, verbose=verbose, shuffle=False)
        if guard.diverged is not None:
            d = guard.diverged
            kept = os.path.join(output, "last.keras")
            kept = (f"last good checkpoint kept: {kept}" if os.path.exists(kept)
                    else "no epoch finished, so no checkpoint was written")
            raise TrainingDiverged(f"training diverged: the loss became {d['loss']} at epoch "
                                   f"{d['epoch'] + 1}, batch {d['batch'] + 1}; stopped. {kept} "
                                   "(lower the learning rate, or check the data)")
        finished = max(initial, epochs)
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
        results = {
            "model": model_name, "dataset": dataset, "epochs": finished,
            "top1": metrics["top1"], "top5": metrics["top5"],
            "command": command or " ".join(shlex.quote(a) for a in sys.argv),
            "held_out_images": metrics["images"], "recipe": rec.name, "image_size": size,
            "aux": aux, "batch_size": batch_size, "replicas": replicas, "strategy": strategy,
            "seed": seed, "classes": class_names, "seconds": round(time.time() - t_start, 1),
        }
        if not chief:
            return results
        rows = cb.read_history(os.path.join(output, "history.csv"))
        if rows:
            plot_history(rows, os.path.join(output, "curves.png"),
                         title=f"{model_name} on {dataset} ({rec.name} recipe)")
        cb.atomic_write_text(os.path.join(output, "results.json"), json.dumps(results, indent=1) + "\n")
        if verbose:
            print(f"held-out top-1 {metrics['top1']:.4f}, top-5 {metrics['top5']:.4f} on "
                  f"{metrics['images']} images; wrote {output}/best.keras, last.keras, "
                  "history.csv, curves.png, results.json", flush=True)
        return results
