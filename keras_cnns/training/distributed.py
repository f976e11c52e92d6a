"""Distribution strategies for ``keras-cnns train --strategy``, and the multi-worker loop.

- ``default``: no distribution (``tf.distribute.get_strategy()``).
- ``mirrored``: ``tf.distribute.MirroredStrategy`` over the local GPUs, or over
  ``cpu_replicas`` logical CPU devices (``tf.config.set_logical_device_configuration``;
  must run before TensorFlow initialises its devices). ``model.fit`` is used.
- ``multi-worker``: ``tf.distribute.MultiWorkerMirroredStrategy`` from ``TF_CONFIG``,
  exactly as on a cluster. In Keras 3.15 ``model.fit`` under this strategy fails
  (keras-team/keras#20585: "Attempt to convert a value (PerReplica:{...})" in the
  trainer; checked on this version), so :func:`fit_multi_worker` trains with a loop on
  ``strategy.run`` using the same model, optimiser (gradients all-reduced by Keras'
  TF optimiser in replica context), losses, loss weights and L2 terms, with the
  per-replica sums reduced across workers.

In every case the model, optimiser and metrics are built inside ``strategy.scope()``
and the batch size given is the GLOBAL batch, split evenly across replicas.
"""

from __future__ import annotations

import json
import os
import time

import numpy as np

from keras_cnns.validation import check_positive_int

__all__ = ["STRATEGIES", "make_strategy", "tf_config", "is_chief", "task_id",
           "fit_multi_worker"]

STRATEGIES = ("default", "mirrored", "multi-worker")


def tf_config():
    """The parsed ``TF_CONFIG`` (``{}`` when unset)."""
    raw = os.environ.get("TF_CONFIG", "")
    if not raw.strip():
        return {}
    try:
        return json.loads(raw)
    except json.JSONDecodeError as err:
        raise ValueError(f"--strategy multi-worker: TF_CONFIG is not valid JSON ({err})") from None


def task_id():
    task = tf_config().get("task", {})
    return task.get("type", "worker"), int(task.get("index", 0))


def is_chief():
    """True for the chief: task type ``chief``, or ``worker`` 0 when the cluster has no
    chief (TensorFlow's convention)."""
    cfg = tf_config()
    if not cfg:
        return True
    kind, index = task_id()
    if kind == "chief":
        return True
    return kind == "worker" and index == 0 and "chief" not in cfg.get("cluster", {})


def configure_cpu_replicas(n):
    """Split the CPU into ``n`` logical devices; raises ValueError if TF has started."""
    import tensorflow as tf

    cpus = tf.config.list_physical_devices("CPU")
    try:
        tf.config.set_logical_device_configuration(
            cpus[0], [tf.config.LogicalDeviceConfiguration() for _ in range(n)])
    except RuntimeError as err:
        raise ValueError(f"--cpu-replicas {n}: TensorFlow's devices are already initialised "
                         f"in this process ({err}); pass it on a fresh process") from None
    return [d.name for d in tf.config.list_logical_devices("CPU")]


def make_strategy(kind="default", cpu_replicas=None):
    """``(strategy, description)`` for ``--strategy kind`` (see the module doc)."""
    import tensorflow as tf

    if kind not in STRATEGIES:
        raise ValueError(f"--strategy must be one of {', '.join(STRATEGIES)}, got {kind!r}")
    if cpu_replicas is not None:
        check_positive_int("--cpu-replicas", cpu_replicas)
        if kind != "mirrored":
            raise ValueError(f"--cpu-replicas needs --strategy mirrored (got --strategy {kind})")
    if kind == "default":
        return tf.distribute.get_strategy(), "default (1 replica)"
    if kind == "mirrored":
        if cpu_replicas:
            devices = configure_cpu_replicas(int(cpu_replicas))[:int(cpu_replicas)]
        else:
            gpus = tf.config.list_logical_devices("GPU")
            devices = [d.name for d in gpus] or [tf.config.list_logical_devices("CPU")[0].name]
        strategy = tf.distribute.MirroredStrategy(
            devices=devices, cross_device_ops=tf.distribute.ReductionToOneDevice()
            if not any("GPU" in d for d in devices) else None)
        return strategy, f"mirrored over {', '.join(devices)}"
    cfg = tf_config()
    if not cfg.get("cluster") or not cfg.get("task"):
        raise ValueError("--strategy multi-worker needs TF_CONFIG with 'cluster' and 'task' "
                         "(see docs/distributed.md)")
    strategy = tf.distribute.MultiWorkerMirroredStrategy()
    kind_, index = task_id()
    n = sum(len(v) for v in cfg["cluster"].values() if isinstance(v, list))
    return strategy, f"multi-worker: task {kind_}:{index} of {n} workers"


def weights_fingerprint(model):
    """``(sum |w|, sha256 of the float32 bytes)`` over all weights: equal across workers
    after synchronous training."""
    import hashlib

    h = hashlib.sha256()
    total = 0.0
    for w in model.get_weights():
        w = np.ascontiguousarray(np.asarray(w, np.float32))
        h.update(w.tobytes())
        total += float(np.abs(w).sum(dtype=np.float64))
    return total, h.hexdigest()


def fit_multi_worker(model, strategy, recipe, train_ds, eval_ds, epochs, steps_per_epoch,
                     global_batch, callbacks=(), initial_epoch=0, verbose=1):
    """Train ``model`` (compiled by ``recipe.compile`` inside ``strategy.scope()``) for
    ``epochs`` with a ``strategy.run`` loop. ``train_ds`` yields GLOBAL batches forever
    (``repeat``). ``callbacks`` get ``on_train_begin``, ``on_epoch_begin``,
    ``on_train_batch_end`` and ``on_epoch_end`` with Keras-style logs (``loss``,
    ``accuracy`` / ``main_accuracy``..., and ``val_`` versions from a local pass over
    ``eval_ds``). Returns the list of epoch logs.
    """
    import keras
    import tensorflow as tf

    from keras_cnns import heads as aux_lib

    keys = aux_lib.output_keys(model)
    outputs = {k: model.output[k] for k in keys} if keys else {None: model.outputs[0]}
    weights = recipe.loss_weights(model) if keys else {None: 1.0}
    losses = {k: recipe.make_loss(not aux_lib.is_softmax(t)) for k, t in outputs.items()}
    probs = {k: aux_lib.is_softmax(t) for k, t in outputs.items()}
    optimizer = model.optimizer
    scaling = isinstance(optimizer, keras.optimizers.LossScaleOptimizer)
    options = tf.data.Options()
    options.experimental_distribute.auto_shard_policy = \
        tf.data.experimental.AutoShardPolicy.DATA
    dist = strategy.experimental_distribute_dataset(train_ds.with_options(options))
    iterator = iter(dist)

    def head(pred, k):
        return pred if k is None else pred[k]

    def label(y, k):
        return y if k is None else y[k]

    def step_fn(x, y):
        with tf.GradientTape() as tape:
            pred = model(x, training=True)
            per_example = 0.0
            for k in outputs:
                p = tf.cast(head(pred, k), tf.float32)
                yk = label(y, k)
                # Per-example loss, summed over this replica; divided by the GLOBAL batch.
                ce = losses[k].call(yk, p)
                per_example += weights[k] * ce
            loss = tf.nn.compute_average_loss(per_example, global_batch_size=global_batch)
            if model.losses:
                # L2 terms once per step overall: each replica adds 1/replicas of them.
                loss += tf.nn.scale_regularization_loss(tf.add_n(model.losses))
            # mixed_float16: the LossScaleOptimizer scales the loss here and unscales (and
            # skips non-finite steps) in apply_gradients.
            scaled = optimizer.scale_loss(loss) if scaling else loss
        grads = tape.gradient(scaled, model.trainable_variables)
        optimizer.apply_gradients(zip(grads, model.trainable_variables))
        stats = {"loss_sum": tf.reduce_sum(per_example), "count": tf.cast(tf.size(per_example),
                                                                          tf.float32)}
        for k in outputs:
            yk = tf.cast(tf.reshape(label(y, k), [-1]), tf.int64)
            p = tf.cast(head(pred, k), tf.float32)
            stats[f"{k}_correct"] = tf.reduce_sum(tf.cast(tf.equal(tf.argmax(p, -1), yk),
                                                          tf.float32))
            stats[f"{k}_loss"] = tf.reduce_sum(losses[k].call(label(y, k), p))
        return stats

    @tf.function
    def train_step(it):
        x, y = next(it)
        per_replica = strategy.run(step_fn, args=(x, y))
        return {k: strategy.reduce(tf.distribute.ReduceOp.SUM, v, axis=None)
                for k, v in per_replica.items()}

    main = aux_lib.inference_model(model)

    @tf.function(reduce_retracing=True)
    def eval_step(x):
        return main(x, training=False)

    def name(k, metric):
        return metric if k is None else f"{k}_{metric}"

    def evaluate():
        correct = top5 = n = loss = 0.0
        key = aux_lib.MAIN if keys else None
        for x, y in eval_ds:
            y = np.asarray(label(y, key)).reshape(-1)
            p = np.asarray(eval_step(x), np.float32)
            pr = p if probs[key] else tf.nn.softmax(p).numpy()
            correct += float((pr.argmax(-1) == y).sum())
            top = np.argsort(-pr, -1)[:, :5]
            top5 += float((top == y[:, None]).any(1).sum())
            loss += float(-np.log(np.maximum(pr[np.arange(len(y)), y], 1e-12)).sum())
            n += len(y)
        return {name(key, "loss") if keys else "loss": loss / n,
                name(key, "accuracy"): correct / n, name(key, "top5"): top5 / n}

    cbs = keras.callbacks.CallbackList(list(callbacks), model=model)
    cbs.on_train_begin()
    history = []
    for epoch in range(initial_epoch, epochs):
        cbs.on_epoch_begin(epoch)
        bar = keras.utils.Progbar(steps_per_epoch, verbose=verbose) if verbose else None
        totals = {}
        t0 = time.time()
        for step in range(steps_per_epoch):
            stats = {k: float(v) for k, v in train_step(iterator).items()}
            for k, v in stats.items():
                totals[k] = totals.get(k, 0.0) + v
            logs = {"loss": totals["loss_sum"] / totals["count"]}
            cbs.on_train_batch_end(step, logs)
            if bar is not None:
                bar.update(step + 1, [("loss", logs["loss"])])
            if model.stop_training:
                break
        logs = {"loss": totals["loss_sum"] / max(totals["count"], 1.0)}
        for k in outputs:
            logs[name(k, "accuracy")] = totals[f"{k}_correct"] / max(totals["count"], 1.0)
            if keys:
                logs[name(k, "loss")] = totals[f"{k}_loss"] / max(totals["count"], 1.0)
        logs.update({f"val_{k}": v for k, v in evaluate().items()})
        logs["seconds"] = time.time() - t0
        if verbose:
            print(f"epoch {epoch + 1}/{epochs}: " + ", ".join(
                f"{k} {v:.4f}" for k, v in logs.items()), flush=True)
        cbs.on_epoch_end(epoch, logs)
        history.append(logs)
        if model.stop_training:
            break
    if recipe.averaging is not None:
        optimizer.finalize_variable_values(model.trainable_variables)
    cbs.on_train_end()
    return history
