"""Fine-tuning for ``keras-cnns train`` (issue 13): ``--init``, ``--freeze``,
``--unfreeze-after`` and the recipe overrides (``--optimizer``, ``--lr``, ...).

The keras.io transfer-learning guide's recipe: initialise from trained weights, give the
new label set a fresh classifier, train the head with the backbone frozen (its
BatchNorm layers in inference mode), then optionally the whole network at a tenth of
the learning rate.
"""

from __future__ import annotations

import os

__all__ = ["INIT_HELP", "FREEZE_MODES", "OPTIMIZER_CHOICES", "load_init", "apply_freeze",
           "unfreeze", "override_recipe", "head_layers", "InitReport"]

INIT_HELP = ("'imagenet', a .keras checkpoint, a .weights.h5 file, or a torchvision "
             ".pth/.pt/.safetensors file")
FREEZE_MODES = ("none", "backbone", "bn")
OPTIMIZER_CHOICES = ("sgd", "momentum", "adam", "adamw", "rmsprop")


class InitReport(dict):
    """``{"source", "loaded", "new", "loaded_layers", "new_layers"}``: tensors (and
    layers) taken from the source, and those freshly initialised (the classifiers)."""

    def describe(self):
        new = ", ".join(self["new_layers"]) or "none"
        return (f"init from {self['source']}: loaded {self['loaded']} tensors "
                f"({len(self['loaded_layers'])} layers); new (fresh) {self['new']} tensors: "
                f"{new}")


def _bad_init(source, why):
    return ValueError(f"--init {source!r}: {why} (allowed: {INIT_HELP})")


def _weighted(model):
    return [layer for layer in model.layers if layer.weights]


def _source_model(source, model_name, kwargs):
    """The model holding the source's weights (its own head)."""
    import keras

    from keras_cnns import registry

    if not isinstance(source, (str, os.PathLike)):
        raise _bad_init(source, "not a file name")
    source = os.fspath(source)
    info = registry.model_info(model_name)
    if source == "imagenet":
        if info.imagenet_weights is None:
            have = [n for n in registry.available_models()
                    if registry.model_info(n).imagenet_weights is not None]
            raise ValueError(f"--init imagenet: {model_name} has no keras.applications "
                             f"ImageNet weights (models with them: {', '.join(have) or 'none'})")
        kw = dict(kwargs, classes=1000, weights="imagenet")
        kw.pop("kernel_initializer", None)
        return registry.build(model_name, **kw)
    if not os.path.isfile(source):
        raise _bad_init(source, "no such file")
    lower = source.lower()
    if lower.endswith(".keras"):
        try:
            src = keras.saving.load_model(source, safe_mode=True, compile=False)
        except Exception as err:  # noqa: BLE001 - any unreadable file: one line
            raise _bad_init(source, f"not a loadable .keras file ({str(err).splitlines()[0]})") \
                from None
        from keras_cnns.checkpoint import read_run_metadata

        stored = read_run_metadata(src).get("name")
        if stored is not None and stored != model_name:
            raise ValueError(f"--init {source!r} is a {stored} checkpoint, MODEL is "
                             f"{model_name}")
        return src
    if lower.endswith(".weights.h5"):
        # Keras' .weights.h5 holds no class count or layer names (its paths are by layer
        # type and order): load what fits into the dataset's build, and report the layers
        # the loader skipped on a shape mismatch (still as initialised) as new.
        import warnings

        import numpy as np

        src = registry.build(model_name, **kwargs)
        before = {layer.name: [np.array(w) for w in layer.get_weights()]
                  for layer in _weighted(src)}
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                src.load_weights(source, skip_mismatch=True)
        except (OSError, ValueError, KeyError) as err:
            raise _bad_init(source, f"does not fit {model_name} "
                            f"({str(err).splitlines()[0]})") from None
        skipped = {layer.name for layer in _weighted(src)
                   if all(np.array_equal(a, b) for a, b in zip(before[layer.name],
                                                               layer.get_weights()))}
        if len(skipped) == len(before):
            raise _bad_init(source, f"no tensor of it fits {model_name}")
        src._init_skipped = skipped
        return src
    if lower.endswith((".pth", ".pt", ".safetensors")):
        from keras_cnns.weights import from_torchvision

        kw = {k: v for k, v in kwargs.items() if k in ("input_shape", "aux")}
        try:
            return from_torchvision(model_name, source, **kw)
        except (ValueError, TypeError) as err:
            raise _bad_init(source, str(err).splitlines()[0]) from None
    raise _bad_init(source, "unknown kind of file")


def load_init(source, model_name, model, class_names=None):
    """Copy the weights of ``source`` into ``model`` (built for the dataset): layer by
    layer in order, every layer whose tensors have the same shapes. The classifiers
    (main and aux) keep their fresh initialisation when the source's classes differ
    from ``class_names`` (by count, or by the names the source stores; a source without
    names counts as the same classes when the count agrees). Returns an
    :class:`InitReport`."""
    from keras_cnns.checkpoint import read_run_metadata
    from keras_cnns.heads import MAIN, output_keys

    from keras_cnns import registry

    info = registry.model_info(model_name)
    kwargs = {"input_shape": tuple(int(d) for d in model.inputs[0].shape[1:])}
    if info.has_aux:
        from keras_cnns.heads import output_keys

        kwargs["aux"] = bool(output_keys(model))
    src = _source_model(source, model_name, dict(kwargs, classes=_classes(model)))
    src_names = read_run_metadata(src)["class_names"]
    fresh = set(getattr(src, "_init_skipped", ()))
    if class_names is not None and src_names is not None and list(src_names) != list(class_names):
        fresh = {n for n in head_layers(model, aux_branches=False)}
        fresh |= {k for k in (output_keys(model) or ()) if k != MAIN}
    ours, theirs = _weighted(model), _weighted(src)
    if [type(a).__name__ for a in ours] != [type(b).__name__ for b in theirs]:
        raise ValueError(f"--init {source!r}: its layers are not those of {model_name} "
                         f"({len(theirs)} weighted layers, {model_name} has {len(ours)})")
    loaded = new = 0
    loaded_layers, new_layers = [], []
    for a, b in zip(ours, theirs):
        wa, wb = a.get_weights(), b.get_weights()
        if a.name not in fresh and len(wa) == len(wb) and \
                all(x.shape == y.shape for x, y in zip(wa, wb)):
            a.set_weights(wb)
            loaded += len(wa)
            loaded_layers.append(a.name)
        else:
            new += len(wa)
            new_layers.append(a.name)
    return InitReport(source=os.fspath(source), loaded=loaded, new=new,
                      loaded_layers=loaded_layers, new_layers=new_layers)


def _classes(model):
    from keras_cnns import heads

    return int(heads.inference_model(model).outputs[0].shape[-1])


def head_layers(model, new_layers=(), aux_branches=True):
    """Names of the layers ``--freeze backbone`` leaves trainable: the classifier
    (``predictions``, else the last weighted layer), every aux-head branch, and the
    layers ``--init`` initialised fresh."""
    from keras_cnns import heads

    names = set(new_layers)
    weighted = _weighted(model)
    try:
        pred = model.get_layer("predictions")
        names.add(pred.name if pred.weights else weighted[-1].name)
    except ValueError:
        names.add(weighted[-1].name)
    main = heads.inference_model(model)
    if aux_branches and main is not model:
        main_ids = {id(layer) for layer in main._flatten_layers(include_self=False)}
        names |= {layer.name for layer in model.layers if id(layer) not in main_ids}
    return names


def apply_freeze(model, mode, model_name, new_layers=()):
    """``--freeze``: ``none``, ``backbone`` (only :func:`head_layers` train), ``bn``
    (every BatchNormalization frozen) or an end point of ``model_info(model_name)``
    (it and every layer before it frozen). A frozen BatchNormalization runs in inference
    mode in Keras 3 (moving statistics used, not updated): the keras.io guide's fix.
    Call before compile. Returns a one-line description."""
    import keras

    from keras_cnns import registry
    from keras_cnns.features import freeze_batch_norm

    if mode in (None, "none"):
        return "freeze none"
    if mode == "bn":
        return f"freeze bn: {freeze_batch_norm(model)} BatchNormalization layers frozen"
    if mode == "backbone":
        keep = head_layers(model, new_layers)
        frozen = [layer for layer in model.layers if layer.name not in keep]
        for layer in frozen:
            layer.trainable = False
        return (f"freeze backbone: {sum(1 for f in frozen if f.weights)} weighted layers "
                f"frozen; training {', '.join(sorted(keep))}")
    info = registry.model_info(model_name)
    valid = [e for e in (info.end_points or ()) if e in {la.name for la in model.layers}]
    if not isinstance(mode, str) or mode not in valid:
        raise ValueError(f"--freeze {mode!r}: not none, backbone, bn or an end point of "
                         f"{model_name}; end points: {', '.join(valid)}")
    target = model.get_layer(mode)
    upstream = _ancestors(model, target)
    for layer in model.layers:
        if id(layer) in upstream:
            layer.trainable = False
    n_bn = sum(1 for layer in model.layers if id(layer) in upstream
               and isinstance(layer, keras.layers.BatchNormalization))
    return (f"freeze {mode}: {sum(1 for la in model.layers if id(la) in upstream and la.weights)}"
            f" weighted layers up to and including {mode} frozen ({n_bn} BatchNorm in "
            "inference mode)")


def _ancestors(model, target):
    """ids of ``target`` and every layer feeding it (its end point's sub-graph)."""
    seen, stack = set(), [target]
    while stack:
        layer = stack.pop()
        if id(layer) in seen:
            continue
        seen.add(id(layer))
        for node in layer._inbound_nodes:
            for t in node.input_tensors:
                stack.append(t._keras_history.operation)
    return seen


def unfreeze(model, keep_bn_frozen=False):
    """Phase two of ``--unfreeze-after``: every layer trainable again (BatchNorm stays
    frozen under ``--freeze bn``). Recompile afterwards."""
    import keras

    for layer in model._flatten_layers(include_self=False):
        if keep_bn_frozen and isinstance(layer, keras.layers.BatchNormalization):
            continue
        layer.trainable = True


def _positive(flag, value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{flag} must be a positive number, got {value!r}")
    return float(value)


def override_recipe(rec, optimizer=None, lr=None, weight_decay=None, label_smoothing=None):
    """``rec`` with the command line's overrides (``momentum``: SGD with momentum 0.9;
    ``adamw``: Adam with decoupled weight decay, Loshchilov & Hutter 2019)."""
    changes = {}
    if optimizer is not None:
        if optimizer not in OPTIMIZER_CHOICES:
            raise ValueError(f"--optimizer must be one of {', '.join(OPTIMIZER_CHOICES)}; got "
                             f"{optimizer!r}")
        base = {"momentum": "sgd", "adamw": "adam"}.get(optimizer, optimizer)
        changes["optimizer"] = base
        changes["optimizer_args"] = {"momentum": 0.9} if optimizer == "momentum" else {}
        if optimizer == "adamw":
            changes["weight_decay_mode"] = "decoupled"
    if lr is not None:
        changes["learning_rate"] = _positive("--lr", lr)
    if weight_decay is not None:
        if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)) \
                or weight_decay < 0:
            raise ValueError(f"--weight-decay must be >= 0, got {weight_decay!r}")
        changes["weight_decay"] = float(weight_decay)
    if label_smoothing is not None:
        if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, (int, float)) \
                or not 0 <= label_smoothing < 1:
            raise ValueError(f"--label-smoothing must be in [0, 1), got {label_smoothing!r}")
        changes["label_smoothing"] = float(label_smoothing)
    return rec.replace(**changes) if changes else rec


class Plan:
    """The fine-tuning choices of one run: ``freeze``, ``unfreeze_after``, the phase-two
    learning rate, and the recipe of each phase."""

    def __init__(self, ft, rec):
        self.init = ft["init"]
        self.freeze = ft["freeze"] if ft["freeze"] is not None else "none"
        self.unfreeze_after = ft["unfreeze_after"]
        self.rec = rec
        self.finetune_lr = (ft["finetune_lr"] if ft["finetune_lr"] is not None
                            else rec.learning_rate / 10)
        if self.unfreeze_after and self.freeze == "none":
            self.freeze = "backbone"  # phase one is the head alone (the keras.io guide)

    def phase(self, epoch):
        """1 or 2 for (0-based) ``epoch`` under --unfreeze-after, else None."""
        if not self.unfreeze_after:
            return None
        return 1 if epoch < self.unfreeze_after else 2

    def recipe(self, epoch):
        return (self.rec.replace(learning_rate=float(self.finetune_lr))
                if self.phase(epoch) == 2 else self.rec)

    def phases(self, initial, epochs):
        """``(start, end, phase)`` fits from finished epoch ``initial`` to ``epochs``."""
        e1 = self.unfreeze_after
        if not e1 or initial >= e1 or epochs <= e1:
            return [(initial, epochs, self.phase(initial))]
        return [(initial, e1, 1), (e1, epochs, 2)]

    def record(self, init_report):
        out = {"init": dict(init_report) if init_report is not None else None,
               "freeze": self.freeze, "unfreeze_after": self.unfreeze_after,
               "finetune_lr": self.finetune_lr if self.unfreeze_after else None,
               "recipe_effective": _json_safe(self.rec.fields())}
        return out

    def check_resume(self, old, output):
        """--resume must keep the fine-tuning plan and the recipe (bar --epochs and
        --batch-size) the run in ``output`` started with (runs before these flags pass)."""
        if "recipe_effective" not in old:
            return
        now = self.record(None)
        diff = [f"--{k.replace('_', '-')} {old.get(k)!r} (now {now[k]!r})"
                for k in ("freeze", "unfreeze_after", "finetune_lr") if old.get(k) != now[k]]
        src = (old.get("init") or {}).get("source")
        if src != (os.fspath(self.init) if self.init is not None else None):
            diff.append(f"--init {src!r} (now {self.init!r})")
        skip = ("epochs", "batch_size")
        diff += [f"recipe {k} {v!r} (now {now['recipe_effective'].get(k)!r})"
                 for k, v in old["recipe_effective"].items()
                 if k not in skip and now["recipe_effective"].get(k) != v]
        if diff:
            raise ValueError(f"--resume: the run in --output {output!r} was started with "
                             f"other settings: {'; '.join(diff)}; resume it with those (or "
                             "--overwrite)")

    def banner(self, init_report, freeze_desc):
        lines = []
        if init_report is not None:
            lines.append(init_report.describe())
        if freeze_desc:
            lines.append(freeze_desc)
        if self.unfreeze_after:
            lines.append(f"--unfreeze-after {self.unfreeze_after}: phase 1 (epochs 1-"
                         f"{self.unfreeze_after}) {self.freeze} frozen; phase 2 the whole "
                         f"network at learning rate {self.finetune_lr:g}")
        return lines


def _json_safe(value):
    from collections.abc import Mapping

    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_safe(v) for v in value]
    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    return repr(value)


def check_plan(ft, rec, model_name):
    """Validate the fine-tuning flags (before any heavy work); returns a :class:`Plan`."""
    from keras_cnns import registry

    freeze = ft["freeze"]
    if freeze is not None and not isinstance(freeze, str):
        raise ValueError(f"--freeze must be none, backbone, bn or an end point, got {freeze!r}")
    ends = registry.model_info(model_name).end_points or ()
    if freeze is not None and freeze not in FREEZE_MODES and freeze not in ends:
        raise ValueError(f"--freeze {freeze!r}: not none, backbone, bn or an end point of "
                         f"{model_name}; end points: {', '.join(ends)}")
    if ft["unfreeze_after"] is not None:
        u = ft["unfreeze_after"]
        if isinstance(u, bool) or not isinstance(u, int) or u < 1:
            raise ValueError(f"--unfreeze-after must be a positive number of epochs, got {u!r}")
    if ft["finetune_lr"] is not None:
        _positive("--finetune-lr", ft["finetune_lr"])
        if ft["unfreeze_after"] is None:
            raise ValueError("--finetune-lr is phase two's learning rate: it needs "
                             "--unfreeze-after")
    if ft["init"] is not None and not isinstance(ft["init"], (str, os.PathLike)):
        raise _bad_init(ft["init"], "not a file name")
    if ft["init"] is not None and os.fspath(ft["init"]) != "imagenet" \
            and not os.path.isfile(ft["init"]):
        raise _bad_init(os.fspath(ft["init"]), "no such file")
    return Plan(ft, rec)


def prepare_phase(model, model_name, plan, done, init_report):
    """Freeze ``model`` for the phase that epoch ``done`` (finished epochs) is in; the
    banner's line."""
    if plan.phase(done) == 2:
        if plan.freeze == "bn":
            apply_freeze(model, "bn", model_name)
        return f"phase 2 (resumed at epoch {done + 1}): whole network trains"
    new = init_report["new_layers"] if init_report is not None else ()
    return apply_freeze(model, plan.freeze, model_name, new)
