"""Stochastic depth (Huang, Sun, Liu, Sedra, Weinberger 2016, "Deep Networks with
Stochastic Depth", arXiv 1603.09382): the residual branch of a block survives with
probability ``p_l`` at training and is scaled by ``p_l`` at test."""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="keras_cnns")
class StochasticDepth(keras.layers.Layer):
    """``shortcut + b * residual``: the add of a residual block, with its branch dropped.

    Called on ``[shortcut, residual]``. With ``scale_at_inference=True`` (the default,
    the paper's form, section 3 and Eq. 5):

    - training: ``b ~ Bernoulli(survival_probability)`` drawn per sample; a dropped
      sample's block is the identity (its shortcut).
    - inference: ``shortcut + survival_probability * residual``, the expectation of the
      training output. Deterministic.

    With ``scale_at_inference=False`` (the "inverted" form, as in inverted dropout) the
    training output is ``shortcut + b / p * residual`` and inference is the plain add
    ``shortcut + residual``: the same expectation, weights transferable from a network
    trained without stochastic depth. ``survival_probability=1`` is a plain add in both
    forms.
    """

    def __init__(self, survival_probability=0.5, scale_at_inference=True, seed=None,
                 **kwargs):
        super().__init__(**kwargs)
        if isinstance(survival_probability, bool) or not isinstance(survival_probability,
                                                                    (int, float)):
            raise TypeError("survival_probability must be a float in (0, 1], got "
                            f"{type(survival_probability).__name__}")
        if not 0.0 < survival_probability <= 1.0:
            raise ValueError(f"survival_probability must be in (0, 1], got {survival_probability!r}")
        if not isinstance(scale_at_inference, bool):
            raise TypeError("scale_at_inference must be a bool")
        self.survival_probability = float(survival_probability)
        self.scale_at_inference = scale_at_inference
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        shortcut, residual = inputs
        p = self.survival_probability
        if p == 1.0:
            return shortcut + residual
        if not training:
            if self.scale_at_inference:
                return shortcut + ops.cast(p, residual.dtype) * residual
            return shortcut + residual
        batch = ops.shape(residual)[0]
        noise_shape = (batch,) + (1,) * (len(residual.shape) - 1)
        u = keras.random.uniform(noise_shape, seed=self.seed_generator, dtype="float32")
        keep = ops.cast(u < p, "float32")
        if not self.scale_at_inference:
            keep = keep / p
        return shortcut + ops.cast(keep, residual.dtype) * residual

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update(survival_probability=self.survival_probability,
                      scale_at_inference=self.scale_at_inference, seed=self.seed)
        return config


def linear_decay(num_blocks, last_survival):
    """Survival probability of blocks ``l = 1..L``: ``1 - l / L * (1 - p_L)`` (the paper's
    linear decay rule, Eq. 4, with ``p_0 = 1`` for the input)."""
    return [1.0 - (l / num_blocks) * (1.0 - last_survival) for l in range(1, num_blocks + 1)]
