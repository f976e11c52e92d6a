"""The Inception module (GoogLeNet, Szegedy et al. 2014, Figure 2b), driven by a table row."""

from keras import layers

from keras_cnns.blocks.rows import InceptionSpec  # noqa: F401  (the row it builds)


def inception_module(x, spec, *, conv, big_kernel=5):
    """Four parallel branches concatenated on channels: 1x1; 1x1 -> 3x3; 1x1 -> 5x5;
    3x3/1 max pool -> 1x1 projection. ``conv(x, filters, kernel, name=...)`` is the
    family's conv(-bn)-relu; ``big_kernel=3`` gives torchvision's / TF-Slim's 3x3 in
    the "5x5" branch. Layer names follow Caffe's ``bvlc_googlenet``.
    """
    n = spec.name
    b1 = conv(x, spec.b1x1, 1, name=f"{n}_1x1")
    b2 = conv(x, spec.b3x3_reduce, 1, name=f"{n}_3x3_reduce")
    b2 = conv(b2, spec.b3x3, 3, name=f"{n}_3x3")
    b3 = conv(x, spec.b5x5_reduce, 1, name=f"{n}_5x5_reduce")
    b3 = conv(b3, spec.b5x5, big_kernel, name=f"{n}_5x5")
    b4 = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{n}_pool")(x)
    b4 = conv(b4, spec.pool_proj, 1, name=f"{n}_pool_proj")
    return layers.Concatenate(axis=-1, name=n)([b1, b2, b3, b4])
