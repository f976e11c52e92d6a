"""The papers' learning-rate schedules, as Keras schedules and callbacks.

- :class:`StepDecay` (a ``keras.optimizers.schedules.LearningRateSchedule``):
  ``lr0 * rate ** floor(epoch / every)``, per step. GoogLeNet (section 6): x0.96 every 8
  epochs; Inception v3 (section 8): x0.94 every 2 epochs.
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

__all__ = ["SCHEDULES", "StepDecay", "plateau_callback", "learning_rate_at", "make_schedule"]



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


def make_schedule(recipe, steps_per_epoch=None):
    """The optimiser's ``learning_rate`` for ``recipe``: a float (constant, plateau) or
    a :class:`StepDecay` (needs ``steps_per_epoch``)."""
    if recipe.schedule == "step":
        if steps_per_epoch is None:
            raise ValueError(f"recipe {recipe.name!r} decays every "
                             f"{recipe.schedule_args['every_epochs']} epochs: pass steps_per_epoch=")
        return StepDecay(recipe.learning_rate, recipe.schedule_args["rate"],
                         recipe.schedule_args["every_epochs"], steps_per_epoch)
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
    """The learning rate ``recipe`` prescribes during (0-based) ``epoch``.

    Plateau schedules: ``plateau_epochs`` are the epochs after which a plateau was
    detected (each divides by 10, at most ``max_drops`` of them count).
    """
    lr0 = recipe.learning_rate
    a = recipe.schedule_args
    if recipe.schedule == "constant":
        return lr0
    if recipe.schedule == "step":
        return lr0 * a["rate"] ** math.floor(epoch / a["every_epochs"])
    drops = min(sum(1 for e in plateau_epochs if e < epoch), a["max_drops"])
    return lr0 * a["factor"] ** drops
