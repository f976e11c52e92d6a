"""Shared building blocks: each family composes these, none re-implements them."""

from keras_cnns.blocks.conv import conv_bn_act, max_pool, same_or_ceil_padding
from keras_cnns.blocks.inception import InceptionSpec, inception_module

__all__ = ["conv_bn_act", "max_pool", "same_or_ceil_padding", "InceptionSpec",
           "inception_module"]
