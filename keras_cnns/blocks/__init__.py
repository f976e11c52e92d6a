"""Shared building blocks: each family composes these, none re-implements them.

The row vocabulary (:mod:`keras_cnns.blocks.rows`) is plain data; the block functions
import Keras, so they load on first use (reading a family's table stays TensorFlow-free).
"""

from keras_cnns._lazy import lazy_exports

_EXPORTS = {
    "conv_bn_act": "keras_cnns.blocks.conv", "max_pool": "keras_cnns.blocks.conv",
    "pool": "keras_cnns.blocks.conv",
    "same_or_ceil_padding": "keras_cnns.blocks.rows", "InceptionSpec": "keras_cnns.blocks.rows",
    "Fire": "keras_cnns.blocks.rows",
    "inception_module": "keras_cnns.blocks.inception", "fire": "keras_cnns.blocks.fire",
    "residual_block": "keras_cnns.blocks.residual", "residual_add": "keras_cnns.blocks.residual",
    "residual_shortcut": "keras_cnns.blocks.residual",
    "ResidualStage": "keras_cnns.blocks.rows", "ResidualLayout": "keras_cnns.blocks.rows",
    "basic_block": "keras_cnns.blocks.residual", "bottleneck_block": "keras_cnns.blocks.residual",
    "preact_basic_block": "keras_cnns.blocks.residual",
    "preact_bottleneck_block": "keras_cnns.blocks.residual",
    "dense_block": "keras_cnns.blocks.dense", "dense_layer": "keras_cnns.blocks.dense",
    "transition_block": "keras_cnns.blocks.dense",
    "apply_rows": "keras_cnns.blocks.sequence",
}
__all__ = sorted(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
