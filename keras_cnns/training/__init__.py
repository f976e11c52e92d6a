"""Training as the papers trained: recipes, weight decay, schedules, the ``train`` /
``evaluate`` / ``export`` commands, fault tolerance and multi-worker training."""

from keras_cnns.training.losses import SparseCategoricalCrossentropyLS
from keras_cnns.training.recipes import RECIPES, Recipe, available_recipes, for_model, get
from keras_cnns.training.regularizers import (apply_l2_weight_decay, decoupled_weight_decay,
                                              kernel_variables, l2_penalty)
from keras_cnns.training.schedules import (MultiStepDecay, StepDecay, learning_rate_at,
                                           plateau_callback)

__all__ = ["Recipe", "RECIPES", "get", "available_recipes", "for_model",
           "apply_l2_weight_decay", "decoupled_weight_decay", "kernel_variables",
           "l2_penalty", "StepDecay", "MultiStepDecay", "learning_rate_at", "plateau_callback",
           "SparseCategoricalCrossentropyLS"]
