"""DenseNet blocks (Huang, Liu, van der Maaten, Weinberger 2016, section 3), in
keras.applications' layout and layer names (so ImageNet weights transfer).

One dense layer serves both papers' variants: with ``bottleneck`` (DenseNet-B, the
ImageNet and BC networks) it is BN-ReLU-Conv1x1(bottleneck x k)-BN-ReLU-Conv3x3(k); with
``bottleneck=None`` (the plain CIFAR DenseNet) BN-ReLU-Conv3x3(k). The 3x3 convolution is
``{name}_2_conv`` in both, so a reader finds the growth-rate layer under one name."""

from keras import layers


def _dropout(x, rate, name):
    # The authors' Torch code: dropout after every convolution of a dense layer and of a
    # transition, when training without augmentation (section 4.2).
    return layers.Dropout(rate, name=name)(x) if rate else x


def dense_layer(x, growth_rate, *, name, bottleneck=4, bn_epsilon=1.001e-5, dropout=0.0,
                kernel_initializer="he_normal"):
    """One dense layer, its ``growth_rate`` new maps concatenated to the input. Bias-free
    convolutions; ``bottleneck=None`` leaves out the 1x1 (see the module docstring)."""
    y = layers.BatchNormalization(axis=-1, epsilon=bn_epsilon, name=f"{name}_0_bn")(x)
    y = layers.Activation("relu", name=f"{name}_0_relu")(y)
    if bottleneck:
        y = layers.Conv2D(bottleneck * growth_rate, 1, use_bias=False,
                          kernel_initializer=kernel_initializer, name=f"{name}_1_conv")(y)
        y = _dropout(y, dropout, f"{name}_1_drop")
        y = layers.BatchNormalization(axis=-1, epsilon=bn_epsilon, name=f"{name}_1_bn")(y)
        y = layers.Activation("relu", name=f"{name}_1_relu")(y)
    y = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False,
                      kernel_initializer=kernel_initializer, name=f"{name}_2_conv")(y)
    y = _dropout(y, dropout, f"{name}_2_drop")
    return layers.Concatenate(axis=-1, name=f"{name}_concat")([x, y])


def dense_block(x, num_layers, growth_rate=32, *, name, bottleneck=4, bn_epsilon=1.001e-5,
                dropout=0.0, kernel_initializer="he_normal"):
    """``num_layers`` dense layers named ``{name}_block1`` ...; the block's output is the
    last ``{name}_block{num_layers}_concat``."""
    for i in range(num_layers):
        x = dense_layer(x, growth_rate, name=f"{name}_block{i + 1}", bottleneck=bottleneck,
                        bn_epsilon=bn_epsilon, dropout=dropout,
                        kernel_initializer=kernel_initializer)
    return x


def transition_block(x, reduction=0.5, *, name, bn_epsilon=1.001e-5, dropout=0.0,
                     kernel_initializer="he_normal"):
    """BN-ReLU-Conv1x1 keeping ``floor(reduction x channels)`` ("DenseNet-C", theta) ->
    2x2/2 average pool (``{name}_pool``). ``reduction=1`` is the plain DenseNet's."""
    x = layers.BatchNormalization(axis=-1, epsilon=bn_epsilon, name=f"{name}_bn")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    x = layers.Conv2D(int(x.shape[-1] * reduction), 1, use_bias=False,
                      kernel_initializer=kernel_initializer, name=f"{name}_conv")(x)
    x = _dropout(x, dropout, f"{name}_drop")
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)
