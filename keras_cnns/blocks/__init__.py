"""Shared building blocks: each family composes these, none re-implements them."""

from keras_cnns.blocks.conv import conv_bn_act, max_pool, same_or_ceil_padding
from keras_cnns.blocks.inception import InceptionSpec, inception_module
from keras_cnns.blocks.fire import fire
from keras_cnns.blocks.residual import (basic_block, bottleneck_block, preact_basic_block,
                                       preact_bottleneck_block, residual_add)
from keras_cnns.blocks.dense import dense_block, dense_layer, transition_block

__all__ = ["conv_bn_act", "max_pool", "same_or_ceil_padding", "InceptionSpec",
           "inception_module"]
__all__ += ["basic_block", "bottleneck_block", "preact_basic_block",
            "preact_bottleneck_block", "residual_add", "dense_block", "dense_layer",
            "transition_block"]
__all__ += ["fire"]
