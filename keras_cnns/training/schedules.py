"""The papers' learning-rate schedules, as Keras schedules and callbacks.

- :class:`StepDecay` (a ``keras.optimizers.schedules.LearningRateSchedule``):
  ``lr0 * rate ** floor(epoch / every)``, per step. GoogLeNet (section 6): x0.96 every 8
  epochs; Inception v3 (section 8): x0.94 every 2 epochs.
- :class:`MultiStepDecay`: ``lr0 * factor ** (boundaries passed)``, the boundaries in
  epochs, after an optional warm-up at ``lr0 * warmup_factor``. The CIFAR ResNets (He et
  al. 2015, section 4.2): /10 at epochs 91 and 136 (32k and 48k iterations), ResNet-110
  at 0.01 for its first ~400 iterations; stochastic depth (Huang et al. 2016): /10 at
  epochs 250 and 375.
- :func:`plateau_callback`: divide by 10 when the validation error stops improving,
  at most ``max_drops`` times (AlexNet section 5, VGG section 3.1: three times; ResNet
  section 3.4). A ``keras.callbacks.ReduceLROnPlateau`` with ``min_lr`` set so it stops
  after ``max_drops`` reductions.
- ``"constant"``: the learning rate as given.

:func:`learning_rate_at` gives the learning rate a schedule yields at an epoch, for
checks and the docs: for plateau schedules, pass the epochs at which the plateaus were
detected.
"""

from __future__ import annotations

import math

import keras

from keras_cnns.metadata import SCHEDULES
from keras_cnns.validation import check_float, check_positive_int

__all__ = ["SCHEDULES", "StepDecay", "MultiStepDecay", "plateau_callback", "learning_rate_at",
           "make_schedule"]



@keras.saving.register_keras_serializable(package="keras_cnns")
class StepDecay(keras.optimizers.schedules.LearningRateSchedule):
    """``initial_learning_rate * decay_rate ** floor(step / (every_epochs * steps_per_epoch))``.

    A staircase exponential decay counted in epochs: ``StepDecay(0.045, 0.94, 2, n)`` is
    Inception v3's "decayed every two epochs using an exponential rate of 0.94".
    """

    def __init__(self, initial_learning_rate, decay_rate, every_epochs, steps_per_epoch,
                 name="step_decay"):
        super().__init__()
        if steps_per_epoch is None:
            raise ValueError("steps_per_epoch must be a positive int, got None")
        check_positive_int("steps_per_epoch", steps_per_epoch)
        check_float("every_epochs", every_epochs, minimum=0.0, min_open=True)
        self.initial_learning_rate = float(initial_learning_rate)
        self.decay_rate = float(decay_rate)
        self.every_epochs = float(every_epochs)
        self.steps_per_epoch = int(steps_per_epoch)
        self.name = name

    def __call__(self, step):
        ops = keras.ops
        step = ops.cast(step, "float32")
        period = self.every_epochs * self.steps_per_epoch
        k = ops.floor(step / period)
        return self.initial_learning_rate * ops.power(self.decay_rate, k)

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "decay_rate": self.decay_rate, "every_epochs": self.every_epochs,
                "steps_per_epoch": self.steps_per_epoch, "name": self.name}


@keras.saving.register_keras_serializable(package="keras_cnns")
class MultiStepDecay(keras.optimizers.schedules.LearningRateSchedule):
    """``initial_learning_rate * factor ** k``, ``k`` the number of ``boundaries`` (in
    epochs, increasing) already reached; during the first ``warmup_epochs`` the rate is
    ``initial_learning_rate * warmup_factor`` instead.

    ``MultiStepDecay(0.1, (91, 136), 0.1, n)`` is He et al.'s CIFAR schedule (section
    4.2): 0.1, then 0.01 from epoch 91, 0.001 from epoch 136. Boundaries and the warm-up
    may be fractions of an epoch; a step counts as epoch ``step / steps_per_epoch``.
    """

    def __init__(self, initial_learning_rate, boundaries, factor, steps_per_epoch,
                 warmup_epochs=0.0, warmup_factor=1.0, name="multistep_decay"):
        super().__init__()
        if steps_per_epoch is None:
            raise ValueError("steps_per_epoch must be a positive int, got None")
        check_positive_int("steps_per_epoch", steps_per_epoch)
        if isinstance(boundaries, (str, bytes)) or not isinstance(boundaries, (tuple, list)):
            raise TypeError(f"boundaries must be a tuple of epochs, got {boundaries!r}")
        boundaries = tuple(check_float("boundaries", b, minimum=0.0, min_open=True)
                           for b in boundaries)
        if list(boundaries) != sorted(set(boundaries)):
            raise ValueError(f"boundaries must increase, got {boundaries!r}")
        self.initial_learning_rate = float(initial_learning_rate)
        self.boundaries = boundaries
        self.factor = check_float("factor", factor, minimum=0.0, min_open=True)
        self.steps_per_epoch = int(steps_per_epoch)
        self.warmup_epochs = check_float("warmup_epochs", warmup_epochs, minimum=0.0)
        self.warmup_factor = check_float("warmup_factor", warmup_factor, minimum=0.0,
                                         min_open=True)
        self.name = name

    def __call__(self, step):
        ops = keras.ops
        epoch = ops.cast(step, "float32") / float(self.steps_per_epoch)
        drops = ops.zeros((), "float32")
        for b in self.boundaries:
            drops = drops + ops.cast(ops.greater_equal(epoch, b), "float32")
        lr = self.initial_learning_rate * ops.power(self.factor, drops)
        if self.warmup_epochs > 0:
            lr = ops.where(ops.less(epoch, self.warmup_epochs),
                           self.initial_learning_rate * self.warmup_factor, lr)
        return lr

    def get_config(self):
        return {"initial_learning_rate": self.initial_learning_rate,
                "boundaries": list(self.boundaries), "factor": self.factor,
                "steps_per_epoch": self.steps_per_epoch, "warmup_epochs": self.warmup_epochs,
                "warmup_factor": self.warmup_factor, "name": self.name}


def make_schedule(recipe, steps_per_epoch=None):
    """The optimiser's ``learning_rate`` for ``recipe``: a float (constant, plateau), a
    :class:`StepDecay` or a :class:`MultiStepDecay` (both need ``steps_per_epoch``)."""
    a = recipe.schedule_args
    if recipe.schedule in ("step", "multistep") and steps_per_epoch is None:
        when = (f"every {a['every_epochs']} epochs" if recipe.schedule == "step"
                else f"at epochs {tuple(a['boundaries'])}")
        raise ValueError(f"recipe {recipe.name!r} decays {when}: pass steps_per_epoch=")
    if recipe.schedule == "step":
        return StepDecay(recipe.learning_rate, a["rate"], a["every_epochs"], steps_per_epoch)
    if recipe.schedule == "multistep":
        return MultiStepDecay(recipe.learning_rate, tuple(a["boundaries"]), a["factor"],
                              steps_per_epoch, warmup_epochs=a.get("warmup_epochs", 0.0),
                              warmup_factor=a.get("warmup_factor", 1.0))
    return float(recipe.learning_rate)


def plateau_callback(recipe, monitor=None, verbose=1):
    """``ReduceLROnPlateau`` for a plateau recipe (``None`` otherwise): factor 0.1,
    the recipe's patience, at most ``max_drops`` reductions (``min_lr = lr0 *
    factor ** max_drops``)."""
    if recipe.schedule != "plateau":
        return None
    a = recipe.schedule_args
    floor = recipe.learning_rate * a["factor"] ** a["max_drops"]
    return keras.callbacks.ReduceLROnPlateau(
        monitor=monitor or a.get("monitor", "val_loss"), factor=a["factor"],
        patience=a["patience"], min_lr=floor * (1 - 1e-6), mode="auto", verbose=verbose)


def learning_rate_at(recipe, epoch, plateau_epochs=()):
    """The learning rate ``recipe`` prescribes during (0-based) ``epoch``; at its first
    step where a multistep boundary or warm-up ends inside the epoch.

    Plateau schedules: ``plateau_epochs`` are the epochs after which a plateau was
    detected (each divides by 10, at most ``max_drops`` of them count).
    """
    lr0 = recipe.learning_rate
    a = recipe.schedule_args
    if recipe.schedule == "constant":
        return lr0
    if recipe.schedule == "step":
        return lr0 * a["rate"] ** math.floor(epoch / a["every_epochs"])
    if recipe.schedule == "multistep":
        if epoch < a.get("warmup_epochs", 0.0):
            return lr0 * a.get("warmup_factor", 1.0)
        return lr0 * a["factor"] ** sum(1 for b in a["boundaries"] if epoch >= b)
    drops = min(sum(1 for e in plateau_epochs if e < epoch), a["max_drops"])
    return lr0 * a["factor"] ** drops
