"""The papers' training recipes as data: ``get(name)`` returns a frozen :class:`Recipe`.

Figures from the papers (sections cited per recipe) and, where a paper is silent, the
authors' released solver / training script (named in ``notes``).

``recipe.compile(model)`` compiles any registry model the way the recipe says:
optimiser (with the schedule), the papers' L2 weight decay on kernels (or Keras'
decoupled form), the loss (label smoothing), aux heads weighted by the model's
registry ``aux_loss_weights`` with the objective on ``"main"``, accuracy / top-5
metrics per head, parameter averaging (Keras ``use_ema``).
"""

from __future__ import annotations

import dataclasses
import inspect

import keras

from keras_cnns import heads as aux_lib
from keras_cnns import registry
from keras_cnns.metadata import RecipeSpec
from keras_cnns.training import schedules as schedules_lib
from keras_cnns.training.losses import SparseCategoricalCrossentropyLS
from keras_cnns.training.regularizers import apply_l2_weight_decay, decoupled_weight_decay

__all__ = ["Recipe", "RECIPES", "get", "available_recipes", "for_model", "paper_recipe_name"]

class Recipe(RecipeSpec):
    """How a paper trained its network (the data: :class:`~keras_cnns.metadata.RecipeSpec`,
    which the families declare), with the methods that build the Keras objects."""

    @classmethod
    def from_spec(cls, spec):
        return spec if isinstance(spec, cls) else cls(**spec.fields())

    def replace(self, **changes):
        """A copy with fields changed (``recipe.replace(epochs=3)``)."""
        return dataclasses.replace(self, **changes)

    # ------------------------------------------------------------------ Keras objects

    def learning_rate_schedule(self, steps_per_epoch=None):
        return schedules_lib.make_schedule(self, steps_per_epoch)

    def learning_rate_at(self, epoch, plateau_epochs=()):
        """The learning rate during (0-based) ``epoch``; see
        :func:`keras_cnns.training.schedules.learning_rate_at`."""
        return schedules_lib.learning_rate_at(self, epoch, plateau_epochs)

    def make_optimizer(self, steps_per_epoch=None):
        """The optimiser with its schedule (not yet the decoupled decay: see compile)."""
        lr = self.learning_rate_schedule(steps_per_epoch)
        args = dict(self.optimizer_args)
        if self.averaging is not None:
            args.update(use_ema=True, ema_momentum=self.ema_momentum)
        cls = {"sgd": keras.optimizers.SGD, "rmsprop": keras.optimizers.RMSprop,
               "adam": keras.optimizers.Adam}[self.optimizer]
        return cls(learning_rate=lr, **args)

    def callbacks(self, monitor=None, verbose=1):
        """Callbacks the schedule needs (``ReduceLROnPlateau`` for plateau recipes)."""
        cb = schedules_lib.plateau_callback(self, monitor=monitor, verbose=verbose)
        return [cb] if cb is not None else []

    def kernel_initializer(self):
        if self.initializer is None:
            return None
        return keras.initializers.get({"class_name": self.initializer,
                                       "config": dict(self.initializer_args)})

    def build_kwargs(self, name):
        """Builder keyword arguments for registry model ``name`` (the initialiser, when
        the recipe names one and the builder accepts ``kernel_initializer``)."""
        builder, _ = registry.get_builder(name)
        if self.initializer is not None and \
                "kernel_initializer" in inspect.signature(builder).parameters:
            return {"kernel_initializer": self.kernel_initializer()}
        return {}

    def make_loss(self, from_logits=False):
        if self.label_smoothing:
            return SparseCategoricalCrossentropyLS(self.label_smoothing, from_logits=from_logits)
        return keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)

    def loss_weights(self, model, name=None):
        """Per-head loss weights of an aux model: the recipe's, else the registry's."""
        keys = aux_lib.output_keys(model)
        if not keys:
            return None
        if self.aux_loss_weights is not None:
            missing = [k for k in keys if k not in self.aux_loss_weights]
            if missing:
                raise ValueError(f"recipe {self.name!r} has no loss weight for outputs {missing}")
            return {k: float(self.aux_loss_weights[k]) for k in keys}
        return aux_lib.aux_loss_weights(model, name=name)

    def compile(self, model, steps_per_epoch=None, name=None, aux_loss_weights=None,
                metrics=True, **compile_kwargs):
        """Compile ``model`` (any registry model, aux heads or not) with this recipe.

        Aux models get one loss per head, ``loss_weights`` from ``aux_loss_weights=``,
        the recipe or the registry (``keras_cnns.aux_loss_weights``), and accuracy
        per head (top-5 on ``"main"``). ``steps_per_epoch`` is needed by step
        schedules. Weight decay: see :mod:`keras_cnns.training.regularizers`. A model
        built under ``mixed_float16`` gets ``keras.optimizers.LossScaleOptimizer``.
        Returns the model.
        """
        if not isinstance(model, keras.Model):
            raise TypeError(f"model must be a keras.Model, got {type(model).__name__}")
        optimizer = self.make_optimizer(steps_per_epoch)
        if self.weight_decay_mode == "l2":
            apply_l2_weight_decay(model, self.weight_decay)
        else:
            apply_l2_weight_decay(model, 0.0)
            if self.weight_decay:
                decoupled_weight_decay(optimizer, model, self.weight_decay)
        if getattr(model.dtype_policy, "name", None) == "mixed_float16":
            # float16's 5 exponent bits underflow small gradients: dynamic loss scaling.
            optimizer = keras.optimizers.LossScaleOptimizer(optimizer)
        keys = aux_lib.output_keys(model)
        if keys:
            weights = (dict(aux_loss_weights) if aux_loss_weights is not None
                       else self.loss_weights(model, name=name))
            if aux_lib.MAIN not in keys:
                raise ValueError(f"model {model.name!r} has outputs {keys} but no "
                                 f"{aux_lib.MAIN!r} head for the objective")
            loss = {k: self.make_loss(not _outputs_probabilities(model.output[k]))
                    for k in keys}
            mets = None
            if metrics:
                mets = {k: _metrics(model.output[k], top5=(k == aux_lib.MAIN)) for k in keys}
            model.compile(optimizer=optimizer, loss=loss, loss_weights=weights, metrics=mets,
                          **compile_kwargs)
        else:
            loss = self.make_loss(not _outputs_probabilities(model.outputs[0]))
            model.compile(optimizer=optimizer, loss=loss,
                          metrics=_metrics(model.outputs[0], True) if metrics else None,
                          **compile_kwargs)
        return model

    def describe(self):
        """Multi-line human summary."""
        lines = [f"recipe {self.name!r}: {self.paper}, {self.section}",
                 f"  {self.optimizer} lr {self.learning_rate:g} {dict(self.optimizer_args)}, "
                 f"schedule {self.schedule} {dict(self.schedule_args)}",
                 f"  weight decay {self.weight_decay:g} ({self.weight_decay_mode}), batch "
                 f"{self.batch_size}, {self.epochs} epochs, init {self.initializer}",
                 f"  label smoothing {self.label_smoothing:g}, aux weights "
                 f"{dict(self.aux_loss_weights) if self.aux_loss_weights else 'registry'}, "
                 f"augment {self.augment}, eval {self.eval_scheme}, averaging {self.averaging}"]
        return "\n".join(lines)


_outputs_probabilities = aux_lib.is_softmax  # the name training.run imports


def _metrics(output, top5):
    mets = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
    classes = output.shape[-1]
    if top5 and classes is not None and classes > 5:
        mets.append(keras.metrics.SparseTopKCategoricalAccuracy(k=5, name="top5"))
    return mets


# --------------------------------------------------------------------------- the recipes

def _collect():
    """Every recipe: ``fast`` and those the families declare (``Family.recipes``)."""
    return {name: Recipe.from_spec(spec) for name, spec in registry.recipe_specs().items()}


RECIPES = _collect()


def paper_recipe_name(info):
    """The name of registry entry ``info``'s paper recipe, or ``None``."""
    return info.recipe


def available_recipes():
    return sorted(RECIPES)


def get(name):
    """The :class:`Recipe` called ``name`` (``"alexnet"``, ``"vgg"``, ``"googlenet"``,
    ``"inception_v3"``, ``"resnet"``, ``"fast"``), or a registry model name / family
    (``"resnet50"`` -> ``"resnet"``).

    A family name is no longer a recipe name: ``get("googlenet")`` is the recipe called
    googlenet, which GoogLeNet's family declares."""
    if isinstance(name, Recipe):
        return name
    if not isinstance(name, str):
        raise TypeError(f"recipe name must be a string, got {type(name).__name__}")
    if name in RECIPES:
        return RECIPES[name]
    if name in registry.available_models():
        return for_model(name)
    raise ValueError(f"unknown recipe {name!r}; known: {', '.join(available_recipes())} "
                     "(or a registry model name)")


def for_model(name):
    """The paper recipe of registry model ``name`` (by its family), or ValueError."""
    info = registry.model_info(name)
    key = paper_recipe_name(info)
    if key is None:
        covered = sorted(n for n in registry.available_models()
                         if paper_recipe_name(registry.model_info(n)))
        raise ValueError(f"no paper recipe for {info.name!r} (family {info.family!r}); "
                         f"models with one: {', '.join(covered)}. Use 'fast' or one of "
                         f"{', '.join(available_recipes())}")
    return RECIPES[key]
