"""``keras_cnns.recipes``: the papers' training recipes (see keras_cnns/training/recipes.py)."""

from keras_cnns.training.recipes import (FAMILY_RECIPES, RECIPES, Recipe,  # noqa: F401
                                         available_recipes, for_model, get)

__all__ = ["Recipe", "RECIPES", "FAMILY_RECIPES", "get", "available_recipes", "for_model"]
