"""DenseNet-BC blocks (Huang, Liu, van der Maaten, Weinberger 2016, section 3 and Table 1),
in keras.applications' layout and layer names (so weights transfer)."""

from keras import layers


def dense_layer(x, growth_rate, *, name, bottleneck=4, bn_epsilon=1.001e-5,
                kernel_initializer="he_normal"):
    """BN-ReLU-Conv1x1(``bottleneck * growth_rate``)-BN-ReLU-Conv3x3(``growth_rate``), the
    output concatenated to the input ("DenseNet-B", section 3). Bias-free convolutions."""
    y = layers.BatchNormalization(axis=-1, epsilon=bn_epsilon, name=f"{name}_0_bn")(x)
    y = layers.Activation("relu", name=f"{name}_0_relu")(y)
    y = layers.Conv2D(bottleneck * growth_rate, 1, use_bias=False,
                      kernel_initializer=kernel_initializer, name=f"{name}_1_conv")(y)
    y = layers.BatchNormalization(axis=-1, epsilon=bn_epsilon, name=f"{name}_1_bn")(y)
    y = layers.Activation("relu", name=f"{name}_1_relu")(y)
    y = layers.Conv2D(growth_rate, 3, padding="same", use_bias=False,
                      kernel_initializer=kernel_initializer, name=f"{name}_2_conv")(y)
    return layers.Concatenate(axis=-1, name=f"{name}_concat")([x, y])


def dense_block(x, num_layers, growth_rate=32, *, name, bn_epsilon=1.001e-5,
                kernel_initializer="he_normal"):
    """``num_layers`` dense layers named ``{name}_block1`` ...; the block's output is the
    last ``{name}_block{num_layers}_concat``."""
    for i in range(num_layers):
        x = dense_layer(x, growth_rate, name=f"{name}_block{i + 1}", bn_epsilon=bn_epsilon,
                        kernel_initializer=kernel_initializer)
    return x


def transition_block(x, reduction=0.5, *, name, bn_epsilon=1.001e-5,
                     kernel_initializer="he_normal"):
    """BN-ReLU-Conv1x1 compressing channels by ``reduction`` ("DenseNet-C", theta = 0.5)
    -> 2x2/2 average pool (``{name}_pool``)."""
    x = layers.BatchNormalization(axis=-1, epsilon=bn_epsilon, name=f"{name}_bn")(x)
    x = layers.Activation("relu", name=f"{name}_relu")(x)
    x = layers.Conv2D(int(x.shape[-1] * reduction), 1, use_bias=False,
                      kernel_initializer=kernel_initializer, name=f"{name}_conv")(x)
    return layers.AveragePooling2D(2, strides=2, name=f"{name}_pool")(x)
