"""Inception v2 (BN-Inception) and Inception v3 builders: one walker over the module
tables of :mod:`keras_cnns.models.inception.spec` (see its docstring for the naming).

Every module is a :class:`~keras_cnns.blocks.rows.Parallel` row; :func:`inception_block`
builds any of them (each branch's rows in order, the branches concatenated), and
:func:`~keras_cnns.blocks.sequence.apply_rows` walks the stem and the modules.
"""

from keras import layers

from keras_cnns.blocks.conv import conv_bn_act, pool
from keras_cnns.blocks.rows import Parallel, Pool
from keras_cnns.blocks.sequence import apply_rows
from keras_cnns.models import common
from keras_cnns.models.inception.spec import (  # noqa: F401  (names of __all__)
    BN_INCEPTION_TABLE, V2_MIN_INPUT_SIZE, V2_STEM, V2_VARIANT_CONFIG, V2_VARIANTS, V3_AUX_HEAD,
    V3_AUX_ON, V3_MODULES, V3_STEM, V3_VARIANT_CONFIG, V3_VARIANTS, BNInceptionSpec, Conv,
    Module, v2_trunk, v3_grid_sizes, v3_min_input_size, v3_trunk)
from keras_cnns.validation import (check_bool, check_choice, check_float, check_positive_int,
                                   check_rate)

__all__ = ["Conv", "Pool", "Parallel", "Module", "BNInceptionSpec", "inception_block",
           "InceptionV2", "InceptionV3", "BN_INCEPTION_TABLE", "V3_STEM", "V3_MODULES",
           "V3_VARIANTS", "v3_grid_sizes", "v3_min_input_size"]


def _same_depth(d):
    return d


def _depth_fn(depth_multiplier, min_depth):
    # TF-Slim: depth(d) = max(int(d * depth_multiplier), min_depth), min_depth active
    # only when thinning.
    if depth_multiplier == 1.0:
        return _same_depth
    return lambda d: max(int(d * depth_multiplier), min_depth)


def _pool_layer(include_pad):
    """A :class:`Pool` row as layers; ``include_pad=True`` makes a 3x3/1 "same" average
    pool count its zero padding, as torch's ``avg_pool2d(k, 1, (k - 1) // 2)`` does
    (an explicit ``{name}_pad`` layer before a valid pool)."""
    def build(x, row):
        if include_pad and row.kind == "avg" and row.padding == "same" and row.stride == 1:
            x = layers.ZeroPadding2D((row.size - 1) // 2, name=f"{row.name}_pad")(x)
            return layers.AveragePooling2D(row.size, strides=1, padding="valid", name=row.name)(x)
        return pool(x, row)
    return build


def inception_block(x, module, *, conv, depth=_same_depth, include_pad=False):
    """Build ``module`` (a :class:`Parallel` row of the spec's tables): each branch's rows
    in sequence, the branches concatenated as ``module.name`` (the end point); a nested
    :class:`Parallel` (Figure 7's 1x3 | 3x1 split) the same way.

    ``conv(x, filters, kernel, strides, padding, name=...)`` is the family's
    conv-BN-ReLU; ``depth`` maps table widths to built widths (TF-Slim's multiplier).
    ``include_pad=True`` makes the 3x3/1 average pools count their zero padding
    (torch's default). Layer names are the rows' (``spec.module`` names them).
    """
    def conv_row(y, row):
        return conv(y, depth(row.filters), row.kernel, row.stride, row.padding, name=row.name)

    def parallel_row(y, row):
        outputs = [apply_rows(y, branch, conv=conv_row,
                              handlers={Pool: _pool_layer(include_pad),
                                        Parallel: parallel_row})[0]
                   for branch in row.branches]
        return layers.Concatenate(axis=-1, name=row.name)(outputs)

    return parallel_row(x, module)


def _check_depth(depth_multiplier, min_depth):
    depth_multiplier = check_float("depth_multiplier", depth_multiplier, minimum=0.0,
                                   min_open=True)
    check_positive_int("min_depth", min_depth)
    return depth_multiplier


def _make_conv(bn_scale, kinit, bn_momentum=0.99):
    def conv(x, filters, kernel, strides=1, padding="same", name=None):
        # BN after every conv, conv bias off (the BN shift replaces it), eps 1e-3.
        return conv_bn_act(x, filters, kernel, strides, padding, name=name, batch_norm=True,
                           bn_epsilon=1e-3, bn_scale=bn_scale, bn_momentum=bn_momentum,
                           use_bias=False, kernel_initializer=kinit)
    return conv


def _head(x, include_top, pooling, classes, classifier_activation, dropout, kinit):
    if not include_top:
        return common.pool_features(x, pooling)
    x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
    if dropout:
        x = layers.Dropout(dropout, name="dropout")(x)
    return common.classifier(x, classes, classifier_activation, kernel_initializer=kinit)


# -------------------------------------------------------------------- Inception v2
def _separable_stem(x, row, depth, kinit):
    """TF-Slim's ``Conv2d_1a_7x7``: a ``slim.separable_conv2d`` (7x7/2 depthwise with
    channel multiplier min(depth(64) / 3, 8), then 1x1 to depth(64)) with that op's own
    defaults, a bias and a ReLU and no batch norm: ``inception_arg_scope`` sets BN (and
    the initialiser and weight decay) on ``slim.conv2d`` only. One layer, as every
    BN-free conv of the package (``conv_bn_act``): the end point ``row.name``."""
    dm = min(int(depth(row.filters) / 3), 8)
    return layers.SeparableConv2D(depth(row.filters), row.kernel, strides=row.stride,
                                  padding=row.padding, depth_multiplier=dm, use_bias=True,
                                  activation="relu", depthwise_initializer=kinit,
                                  pointwise_initializer=kinit, name=row.name)(x)


def InceptionV2(include_top=True, weights=None, input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax", variant="paper",
                dropout=None, depth_multiplier=1.0, min_depth=16, kernel_initializer=None,
                name=None):
    """BN-Inception (Ioffe & Szegedy 2015, Figure 5), which this package calls Inception v2.

    NOTE on names: "Rethinking the Inception Architecture" (and the course) call a
    DIFFERENT network "Inception v2": that paper's factorised network (its Table 1;
    Inception-v3 is the same network with the paper's training changes). This builder
    is BN-Inception, the network the Inception-v4 paper and TF-Slim call Inception-v2;
    for the factorised network use :func:`InceptionV3`.

    ``variant="paper"`` (default) follows the paper: GoogLeNet's layout with each 5x5
    replaced by two 3x3 convolutions, BN (scale and shift) after every convolution and no
    conv biases, a plain 7x7/2 first convolution, a 1x1 64 -> 3x3 192 second stage, the
    28x28 modules 3a, 3b and 3c (3c strides 2), 4a-4e (4e strides 2), 5a, 5b, average
    or max pooling in the pool branch as the table says, no LRN, and no dropout (section
    4.2.1 removes it). Rows 4c and 4d keep the table's "avg + 128" (608 channels each,
    as the Caffe BN-Inception release does; see ``BN_INCEPTION_TABLE``): 11,305,256
    parameters, 2.03 G multiply-adds at 224. Padding is TF "same" throughout, as
    TF-Slim's, which gives the paper's 112 / 56 / 28 / 14 / 7 grids at 224.

    ``variant="slim"`` is TF-Slim's ``inception_v2``, layer for layer: the first conv
    is depthwise-separable (7x7 depthwise with channel multiplier min(64 // 3, 8) = 8,
    then 1x1 to 64) with a bias and a ReLU and no BN (``slim.separable_conv2d`` is
    outside ``inception_arg_scope``'s BN), every other conv BN without scale, dropout
    0.2 (keep_prob 0.8) and 96 channels in the pool projections of 4c and 4d (576
    channels each, 4e 1024): 11,198,112 parameters, of which the headless trunk holds
    TF-Slim's 10,173,112 (``inception_v2_test.py``, moving statistics included).
    TF-Slim and this builder pad "same"; the Caffe release pads explicitly with ceil-
    mode pools: the same grid sizes at 224 (and any multiple of 32), different pad
    positions.

    ``dropout=None`` takes the variant's rate (paper 0, slim 0.2).
    ``depth_multiplier`` / ``min_depth`` thin every convolution as TF-Slim's do.
    Initialiser: He normal (TF-Slim's ``inception_arg_scope`` variance scaling);
    ``kernel_initializer=`` overrides it. Minimum input 32 (TF-Slim).
    """
    check_choice("variant", variant, V2_VARIANTS)
    cfg = V2_VARIANT_CONFIG[variant]
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes,
                                  classifier_activation=classifier_activation)
    dropout = check_rate("dropout", cfg["dropout"] if dropout is None else dropout)
    depth_multiplier = _check_depth(depth_multiplier, min_depth)
    input_shape = common.resolve_input_shape(input_shape, input_tensor, (224, 224, 3),
                                             V2_MIN_INPUT_SIZE)
    kinit = "he_normal" if kernel_initializer is None else kernel_initializer
    depth = _depth_fn(depth_multiplier, min_depth)
    conv = _make_conv(cfg["bn_scale"], kinit)

    def conv_row(x, row):
        if cfg["separable_stem"] and row is V2_STEM[0]:
            return _separable_stem(x, row, depth, kinit)
        return conv(x, depth(row.filters), row.kernel, row.stride, row.padding, name=row.name)

    def module_row(x, row):
        return inception_block(x, row, conv=conv, depth=depth)

    inputs, x = common.make_input(input_shape, input_tensor)
    # Figure 5 as rows (spec.v2_trunk): 112 -> 56 -> 28 (3a-3c) -> 14 (4a-4e) -> 7 (5a, 5b).
    x, _ = apply_rows(x, v2_trunk(variant), conv=conv_row, handlers={Parallel: module_row})
    x = _head(x, include_top, pooling, classes, classifier_activation, dropout, kinit)
    default_name = "inception_v2" if variant == "paper" else f"inception_v2_{variant}"
    return common.finish(inputs, x, name or default_name, weights)


# -------------------------------------------------------------------- Inception v3
def _v3_aux_head(x, classes, classifier_activation, conv, depth, kinit, variant):
    """The aux head on mixed7 (spec.V3_AUX_HEAD): avg pool 5x5/3 valid -> 1x1 conv 128 (BN)
    -> 5x5 conv 768 valid (BN) -> classifier.

    ``variant="keras"``: TF-Slim's AuxLogits, which shrinks the 5x5 kernel to the pooled
    grid below 299 and flattens into the classifier (above 299 the grid after the 5x5
    conv exceeds 1x1 and the dense layer's fan-in follows it). ``"torchvision"``:
    torchvision's InceptionAux, which keeps the 5x5 conv and pools adaptively to 1x1."""
    pool_row, reduce_row, conv_row = V3_AUX_HEAD
    x = pool(x, pool_row)
    x = conv(x, depth(reduce_row.filters), reduce_row.kernel, name=reduce_row.name)
    kernel = conv_row.kernel
    if V3_VARIANT_CONFIG[variant]["aux_kernel_fits_grid"]:
        kernel = (min(kernel, x.shape[1]), min(kernel, x.shape[2]))
    x = conv(x, depth(conv_row.filters), kernel, conv_row.stride, conv_row.padding,
             name=conv_row.name)
    if V3_VARIANT_CONFIG[variant]["aux_kernel_fits_grid"]:
        x = common.flatten(x, classes, name="aux_flatten")
    else:
        x = layers.GlobalAveragePooling2D(name="aux_avg_pool")(x)
    return common.classifier(x, classes, classifier_activation, name="aux",
                             kernel_initializer=kinit)


def _copy_weights_by_name(source, target):
    for layer in source.layers:
        if layer.weights:
            target.get_layer(layer.name).set_weights(layer.get_weights())


def InceptionV3(include_top=True, weights=None, input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax", aux=False,
                dropout=None, depth_multiplier=1.0, min_depth=16, kernel_initializer=None,
                name=None, variant="keras"):
    """Inception v3 (Szegedy et al., "Rethinking the Inception Architecture", 2015).

    Layout: keras.applications' ``InceptionV3`` = TF-Slim's ``inception_v3`` (299x299,
    valid-padded stem, a 5x5 in the 35x35 modules, convs without bias, BN without scale,
    eps 1e-3). Weight-compatible with keras.applications: same graph, same branch order,
    so Keras orders the weights identically, ``ours.set_weights(theirs.get_weights())``
    works and ``weights="imagenet"`` loads its published file. 23,851,784 parameters,
    5.71 G multiply-adds at 299.

    ``aux=True`` adds TF-Slim's one auxiliary head on ``mixed7`` (the rows of
    :data:`~keras_cnns.models.inception.spec.V3_AUX_HEAD`), and the model's outputs become
    ``{"main", "aux"}``; compile with ``loss_weights=keras_cnns.aux_loss_weights(model)``
    (aux 0.4, TF-Slim). With the head, graph order changes; main-path layers keep their
    names, so weights move by name (``weights="imagenet"`` does that). The aux model
    needs a static input of at least 107 px (:func:`v3_min_input_size`); without it the
    minimum is 75.

    ``dropout`` before the classifier is TF-Slim's (keep_prob 0.8); keras.applications
    has none (no weights, so compatibility is unaffected). ``depth_multiplier`` /
    ``min_depth`` thin every convolution as TF-Slim's do (no ImageNet weights then).
    Initialiser: Glorot uniform (keras.applications); ``kernel_initializer=`` overrides.

    ``variant="torchvision"`` is torchvision's ``inception_v3`` (``Inception3``), the
    same graph with: BN with a learned scale (gamma) after every convolution, the 3x3/1
    average pools of the pool branches counting their zero padding (an explicit
    ZeroPadding2D(1) before a valid pool, torch's ``count_include_pad=True``), dropout 0.5
    and, with ``aux=True``, torchvision's aux head (avg pool 5x5/3 -> 1x1 conv 128 -> 5x5
    conv 768 -> adaptive average pool -> classifier; input at least 299). 23,869,000
    parameters (27,161,264 trainable with the aux head, torchvision's count). Load
    torchvision checkpoints with :func:`keras_cnns.weights.from_torchvision`; no
    ``weights="imagenet"``. ``dropout=None`` takes the variant's rate (0.2 / 0.5).
    """
    check_choice("variant", variant, V3_VARIANTS)
    cfg = V3_VARIANT_CONFIG[variant]
    check_bool("aux", aux)
    if weights == "imagenet" and variant != "keras":
        raise ValueError(f"weights='imagenet' is keras.applications' file for "
                         f"variant='keras'; got variant={variant!r}. Convert torchvision's "
                         "checkpoint with keras_cnns.weights.from_torchvision instead.")
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes, allowed_weights=(None, "imagenet"),
                                  classifier_activation=classifier_activation)
    dropout = check_rate("dropout", cfg["dropout"] if dropout is None else dropout)
    depth_multiplier = _check_depth(depth_multiplier, min_depth)
    if aux and not include_top:
        raise ValueError("aux=True needs include_top=True: the aux head is a classifier")
    if weights == "imagenet":
        if include_top and classes != 1000:
            raise ValueError(f"weights='imagenet' with include_top=True needs classes=1000, "
                             f"got classes={classes}")
        if depth_multiplier != 1.0:
            raise ValueError("weights='imagenet' needs depth_multiplier=1.0 (the published "
                             f"file is the full-width network), got {depth_multiplier}")
    input_shape = common.resolve_input_shape(input_shape, input_tensor, (299, 299, 3),
                                             v3_min_input_size(aux, variant),
                                             require_static=aux)
    if weights == "imagenet" and input_shape[-1] != 3:
        raise ValueError(f"weights='imagenet' needs 3 input channels, got input_shape "
                         f"{input_shape}")
    kinit = "glorot_uniform" if kernel_initializer is None else kernel_initializer
    depth = _depth_fn(depth_multiplier, min_depth)
    conv = _make_conv(cfg["bn_scale"], kinit, cfg["bn_momentum"])
    aux_out = {}

    def conv_row(x, row):
        return conv(x, depth(row.filters), row.kernel, row.stride, row.padding, name=row.name)

    def module_row(x, row):
        x = inception_block(x, row, conv=conv, depth=depth, include_pad=cfg["include_pad"])
        if aux and row.name == V3_AUX_ON:
            aux_out["aux"] = _v3_aux_head(x, classes, classifier_activation, conv, depth,
                                          kinit, variant)
        return x

    inputs, x = common.make_input(input_shape, input_tensor)
    # Table 1 as rows (spec.v3_trunk): the stem, then Figures 5, 10, 6, 10 and 7.
    x, _ = apply_rows(x, v3_trunk(), conv=conv_row, handlers={Parallel: module_row})
    x = _head(x, include_top, pooling, classes, classifier_activation, dropout, kinit)
    outputs = {"main": x, "aux": aux_out["aux"]} if aux else x
    default_name = "inception_v3" if variant == "keras" else f"inception_v3_{variant}"
    model = common.finish(inputs, outputs, name or default_name,
                          None if weights == "imagenet" else weights)
    if weights == "imagenet":
        # The entry's declared keras.applications files (spec.MODELS), loaded on request.
        from keras_cnns.weights.imagenet import load_imagenet_weights
        if aux:
            # The published file is in the main network's graph order: load it there,
            # then move every main-path layer by name.
            main = InceptionV3(include_top=True, weights=None, input_shape=input_shape,
                               classes=classes, dropout=dropout, name="inception_v3_main")
            load_imagenet_weights(main, "inception_v3", True)
            _copy_weights_by_name(main, model)
        else:
            load_imagenet_weights(model, "inception_v3", include_top)
    return model
