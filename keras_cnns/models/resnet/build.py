"""The ResNet family: ResNet v1 (He, Zhang, Ren, Sun 2015), pre-activation ResNet v2
(He et al. 2016, "Identity Mappings"), ResNeXt (Xie et al. 2016), Wide ResNet (Zagoruyko
& Komodakis 2016) and stochastic depth (Huang et al. 2016), from one stage table.

Every network here is a stem (rows), a tuple of
:class:`~keras_cnns.blocks.rows.ResidualStage` rows (``spec.STAGES``, the paper's
Table 1; ``spec.cifar_stages``, its section 4.2; ``spec.wrn_cifar_stages``, the WRN
paper's) and a
:class:`~keras_cnns.blocks.rows.ResidualLayout`, built by one walker (:func:`_trunk`)
into one residual block (:func:`keras_cnns.blocks.residual.residual_block`) and one head.

Layouts (``layout=``):

- ``"keras"`` (ResNet v1 and v2): keras.applications' ResNet50/101/152 and
  ResNet50V2/101V2/152V2, layer for layer (same names, same weight order), so
  ``ours.set_weights(keras.applications.ResNet50(weights=None).get_weights())`` works and
  ``weights="imagenet"`` loads the published files. v1: 7x7/2 conv after an explicit
  ZeroPadding2D(3), conv biases on, BN epsilon 1.001e-5, the stage's stride on the first
  1x1 of its first block (the paper's Table 1 / Caffe release), a 3x3/2 max pool after
  ZeroPadding2D(1). ResNet-18/34 follow the same conventions with basic blocks (their
  strided 3x3 padded symmetrically, as torch does).
  v2: conv biases on the stem, shortcuts and the last 1x1 of each block, the stride on the
  3x3 of the *last* block of conv2-conv4 (so conv2 ends at 28x28 at 224), BN-ReLU after
  the last stage (``post_relu``).
- ``"torchvision"``: bias-free convolutions, BN epsilon 1e-5, the stride on the 3x3
  ("ResNet v1.5"): torchvision's ``resnext50_32x4d`` and ``wide_resnet50_2`` layout.

Initialiser: ``he_normal`` for every convolution (He et al. 2015, section 3.4; the
classifier keeps Keras' Glorot uniform); ``kernel_initializer=`` overrides it.
"""

from keras import layers

from keras_cnns.blocks.residual import bn_relu, conv_unit, residual_block
from keras_cnns.blocks.rows import Pool, ResidualStage
from keras_cnns.blocks.sequence import apply_rows
from keras_cnns.layers.stochastic_depth import linear_decay
from keras_cnns.models import common
from keras_cnns.models.resnet.spec import (CIFAR_FILTERS, CIFAR_LAYOUT, CIFAR_MIN_INPUT_SIZE,
                                           IMAGENET_KEYS, LAYOUTS, MIN_INPUT_SIZE,
                                           STAGE_FILTERS, STAGES, STEM, V2_LAYOUT,
                                           WRN_CIFAR_LAYOUT, WRN_CIFAR_MIN_INPUT_SIZE,
                                           WRN_CIFAR_STEM, cifar_stages, cifar_stem,
                                           resnet_stages, wrn_cifar_stages)
from keras_cnns.validation import (check_bool, check_choice, check_int, check_ints,
                                   check_positive_int, check_probability, check_rate)


def _trunk(x, stem, stages, layout, *, kernel_initializer, dropout=0.0, stochastic_depth=None):
    """The stem rows and the stage rows, walked in order (``apply_rows``): the stem's
    convolutions as conv(-BN-ReLU) units, each stage as its blocks, with the
    survival probability decaying linearly over all blocks (Huang et al. 2016, Eq. 4).
    A pre-activation trunk ends with BN-ReLU (``post``): its last add is not normalised."""
    strides = dict(zip((s.name for s in stages), layout.block_strides(stages)))
    total = sum(stage.blocks for stage in stages)
    survival = iter(linear_decay(total, stochastic_depth) if stochastic_depth is not None
                    else [None] * total)

    def conv_row(x, row):
        return conv_unit(x, row.filters, row.kernel, row.stride, name=row.name, layout=layout,
                         padding=row.padding, normalise=not layout.preact,
                         activate=not layout.preact, kernel_initializer=kernel_initializer)

    def pool_row(x, row):  # keras.applications' names: pool1_pad, pool1_pool
        padding = row.padding
        if not isinstance(padding, str):
            x = layers.ZeroPadding2D(padding, name=f"{row.name}_pad")(x)
            padding = "valid"
        pool = layers.MaxPooling2D if row.kind == "max" else layers.AveragePooling2D
        return pool(row.size, strides=row.stride, padding=padding, name=f"{row.name}_pool")(x)

    def stage_row(x, stage):
        for b, stride in enumerate(strides[stage.name]):
            x = residual_block(x, stage.convs, stride=stride, groups=stage.groups,
                               name=f"{stage.name}_block{b + 1}", layout=layout,
                               dropout=dropout, kernel_initializer=kernel_initializer,
                               survival_probability=next(survival))
        return x

    x, _ = apply_rows(x, tuple(stem) + tuple(stages), conv=conv_row,
                      handlers={Pool: pool_row, ResidualStage: stage_row})
    if layout.preact:
        x = bn_relu(x, "post", layout)
    return x


def _network(stem, stages, layout, *, include_top, weights, input_tensor, input_shape,
             pooling, classes, classifier_activation, default_shape, min_size, name,
             imagenet_key=None, dropout=0.0, stochastic_depth=None,
             kernel_initializer="he_normal"):
    """Every builder's network: checks, input, :func:`_trunk`, the head (global average
    pool and classifier, or the headless pooling) and the weights."""
    if weights == "imagenet" and imagenet_key is None:
        raise ValueError(f"weights='imagenet' is not available for {name!r}: there is no "
                         "published ImageNet file for this configuration. Use weights=None "
                         "or the path of a weights file.")
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes, classifier_activation=classifier_activation,
                                  allowed_weights=(None, "imagenet"))
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(f"weights='imagenet' with include_top=True needs classes=1000, got "
                         f"classes={classes}")
    input_shape = common.resolve_input_shape(input_shape, input_tensor, default_shape, min_size)

    inputs, x = common.make_input(input_shape, input_tensor)
    x = _trunk(x, stem, stages, layout, kernel_initializer=kernel_initializer,
               dropout=dropout, stochastic_depth=stochastic_depth)
    x = common.gap_head(x, include_top, pooling, classes, classifier_activation)
    return common.finish(inputs, x, name, weights, imagenet=imagenet_key,
                         include_top=include_top)


def _survival(stochastic_depth):
    return None if stochastic_depth is None else \
        check_probability("stochastic_depth", stochastic_depth)


def _default_name(depth, preact, layout, groups, width_per_group, width_factor):
    if preact:
        return f"resnet{depth}_v2"
    if groups > 1:
        return f"resnext{depth}_{groups}x{width_per_group}d"
    if width_factor > 1:
        return f"wide_resnet{depth}_{width_factor}"
    return f"resnet{depth}" if layout == "keras" else f"resnet{depth}_torchvision"


def ResNet(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
           classes=1000, classifier_activation="softmax", depth=50, preact=False,
           layout="keras", groups=1, width_per_group=64, width_factor=1, stages=None,
           stochastic_depth=None, kernel_initializer="he_normal", name=None,
           stage_filters=STAGE_FILTERS):
    """ResNet for ImageNet, one builder for v1, v2, ResNeXt and WRN-50-2.

    ``depth`` selects the column of He et al. 2015 Table 1 (18, 34, 50, 101, 152);
    ``stages`` (4 ints) overrides the blocks per stage. ``preact=True`` builds ResNet v2
    (bottleneck depths, ``layout="keras"`` only). ``groups`` / ``width_per_group`` make
    ResNeXt (3x3 width ``groups * width_per_group * filters / 64``), ``width_factor`` the
    wide bottleneck. ``stochastic_depth=p_L`` drops each residual branch at training with
    survival probability decaying linearly from 1 (input) to ``p_L`` (last block) (Huang
    et al. 2016, Eq. 4); see :class:`~keras_cnns.layers.StochasticDepth`. See the module
    docstring for the layouts and initialiser. ``weights="imagenet"`` loads
    keras.applications' files for the keras-layout 50/101/152 (v1 and v2).
    ``stage_filters`` (4 ints) replaces Table 1's base widths 64-128-256-512 of
    conv2_x..conv5_x (bottleneck outputs are 4x), e.g. for width searches.
    """
    check_choice("depth", depth, tuple(STAGES))
    check_choice("layout", layout, tuple(LAYOUTS))
    check_bool("preact", preact)
    groups = check_positive_int("groups", groups)
    width_per_group = check_positive_int("width_per_group", width_per_group)
    width_factor = check_positive_int("width_factor", width_factor)
    stages = None if stages is None else check_ints("stages", stages, length=4)
    stage_filters = check_ints("stage_filters", stage_filters, length=4)
    bottleneck = len(STAGES[depth][0].convs) == 3
    if preact and (not bottleneck or layout != "keras"):
        raise ValueError("preact=True (ResNet v2) is keras.applications' bottleneck layout: "
                         "depth must be 50, 101 or 152 with layout='keras'")
    if not bottleneck and (groups > 1 or width_per_group != 64 or width_factor > 1):
        raise ValueError("groups, width_per_group and width_factor need a bottleneck depth "
                         "(50, 101, 152)")
    table = resnet_stages(depth, stages, stage_filters, groups, width_per_group, width_factor)
    # The published files fit the paper's table in keras.applications' layout only.
    key = IMAGENET_KEYS.get((preact, depth)) if (layout == "keras" and
                                                 table == STAGES[depth]) else None
    return _network(STEM, table, V2_LAYOUT if preact else LAYOUTS[layout],
                    include_top=include_top, weights=weights, input_tensor=input_tensor,
                    input_shape=input_shape, pooling=pooling, classes=classes,
                    classifier_activation=classifier_activation, default_shape=(224, 224, 3),
                    min_size=MIN_INPUT_SIZE, imagenet_key=key,
                    name=name or _default_name(depth, preact, layout, groups, width_per_group,
                                               width_factor),
                    stochastic_depth=_survival(stochastic_depth),
                    kernel_initializer=kernel_initializer)


def _variant(depth, preact=False, doc=""):
    def builder(include_top=True, weights=None, input_tensor=None, input_shape=None,
                pooling=None, classes=1000, classifier_activation="softmax", **kwargs):
        return ResNet(include_top, weights, input_tensor, input_shape, pooling, classes,
                      classifier_activation, depth=depth, preact=preact, **kwargs)
    builder.__name__ = f"ResNet{depth}{'V2' if preact else ''}"
    builder.__qualname__ = builder.__name__
    builder.__doc__ = (f"{doc}\n\n``ResNet(depth={depth}, preact={preact})``; keyword "
                       "arguments as :func:`ResNet` (e.g. ``stochastic_depth=0.5``).")
    return builder


ResNet18 = _variant(18, doc="ResNet-18 (He et al. 2015), keras.applications v1 conventions.")
ResNet34 = _variant(34, doc="ResNet-34 (He et al. 2015), keras.applications v1 conventions.")
ResNet50 = _variant(50, doc="ResNet-50, keras.applications.ResNet50 layout.")
ResNet101 = _variant(101, doc="ResNet-101, keras.applications.ResNet101 layout.")
ResNet152 = _variant(152, doc="ResNet-152, keras.applications.ResNet152 layout.")
ResNet50V2 = _variant(50, True, doc="ResNet-50 v2, keras.applications.ResNet50V2 layout.")
ResNet101V2 = _variant(101, True, doc="ResNet-101 v2, keras.applications.ResNet101V2 layout.")
ResNet152V2 = _variant(152, True, doc="ResNet-152 v2, keras.applications.ResNet152V2 layout.")


def ResNeXt(include_top=True, weights=None, input_tensor=None, input_shape=None, pooling=None,
            classes=1000, classifier_activation="softmax", depth=50, cardinality=32,
            base_width=4, **kwargs):
    """ResNeXt (Xie et al. 2016, Table 1): bottlenecks whose 3x3 is a grouped convolution of
    ``cardinality`` paths of ``base_width`` channels (``Conv2D(groups=...)``, Figure 3c), in
    torchvision's ``resnext50_32x4d`` layout (bias-free convolutions, BN eps 1e-5, stride on
    the 3x3). He-normal initialiser; ``kernel_initializer=`` overrides it."""
    return ResNet(include_top, weights, input_tensor, input_shape, pooling, classes,
                  classifier_activation, depth=depth, layout="torchvision",
                  groups=cardinality, width_per_group=base_width, **kwargs)


def ResNeXt50(*args, **kwargs):
    """ResNeXt-50 (32x4d); see :func:`ResNeXt`."""
    return ResNeXt(*args, depth=50, **kwargs)


def ResNeXt101(*args, **kwargs):
    """ResNeXt-101 (32x4d); see :func:`ResNeXt`."""
    return ResNeXt(*args, depth=101, **kwargs)


def WideResNet(include_top=True, weights=None, input_tensor=None, input_shape=None,
               pooling=None, classes=None, classifier_activation="softmax", depth=28, width=10,
               dropout=0.0, stochastic_depth=None, kernel_initializer="he_normal", name=None):
    """Wide ResNet (Zagoruyko & Komodakis 2016).

    - ``depth`` with ``(depth - 4) % 6 == 0`` (e.g. WRN-28-10): the CIFAR network of Table 1,
      32x32 input, conv1 3x3 16 -> conv2/conv3/conv4 of ``(depth - 4) / 6`` pre-activation
      basic blocks of 16k / 32k / 64k channels (k = ``width``; strides 1, 2, 2) -> BN-ReLU ->
      global average pool -> dense. ``dropout`` sits between a block's two convolutions
      (section 2.4; 0.3 in the paper's dropout runs). Bias-free convolutions, BN eps 1e-5, as
      the authors' code. ``classes`` defaults to 10.
    - ``depth`` 50 or 101: WRN-50-2 for ImageNet (section 4.3): ResNet bottlenecks whose
      inner width is ``width`` x, torchvision's ``wide_resnet50_2`` layout (bias-free
      convolutions, stride on the 3x3). ``classes`` defaults to 1000.

    He-normal initialiser; ``kernel_initializer=`` overrides it.
    """
    width = check_positive_int("width", width)
    if depth in (50, 101):
        if dropout:
            raise ValueError("dropout is only used by the CIFAR Wide ResNets (depth 6n+4)")
        return ResNet(include_top, weights, input_tensor, input_shape, pooling,
                      1000 if classes is None else classes, classifier_activation,
                      depth=depth, layout="torchvision", width_factor=width,
                      stochastic_depth=stochastic_depth,
                      kernel_initializer=kernel_initializer, name=name)
    depth = check_int("depth", depth, minimum=10)
    if (depth - 4) % 6:
        raise ValueError(f"depth must be 6n+4 >= 10 (CIFAR WRN, e.g. 16, 22, 28, 40) or 50 / "
                         f"101 (ImageNet WRN), got {depth!r}")
    return _network(WRN_CIFAR_STEM, wrn_cifar_stages(depth, width), WRN_CIFAR_LAYOUT,
                    include_top=include_top, weights=weights, input_tensor=input_tensor,
                    input_shape=input_shape, pooling=pooling,
                    classes=10 if classes is None else classes,
                    classifier_activation=classifier_activation, default_shape=(32, 32, 3),
                    min_size=WRN_CIFAR_MIN_INPUT_SIZE, name=name or f"wrn{depth}_{width}",
                    dropout=check_rate("dropout", dropout),
                    stochastic_depth=_survival(stochastic_depth),
                    kernel_initializer=kernel_initializer)


def ResNetCIFAR(include_top=True, weights=None, input_tensor=None, input_shape=None,
                pooling=None, classes=10, classifier_activation="softmax", depth=20,
                stage_filters=CIFAR_FILTERS, stochastic_depth=None,
                kernel_initializer="he_normal", name=None):
    """The CIFAR-10 ResNets of He et al. 2015, section 4.2 (ResNet-20/32/44/56/110/1202).

    ``depth`` = 6n + 2 (n >= 1): a 3x3 convolution of 16 filters, then n basic blocks on
    each of the 32x32, 16x16 and 8x8 maps with 16, 32 and 64 filters (the first block of
    the second and third halves the map with a stride-2 3x3), a global average pool and
    the ``classes``-way classifier. Option A shortcuts: the identity, and where the map
    halves every second pixel with the new channels zero-padded, so no shortcut has
    weights. Conv-BN-ReLU, bias-free convolutions, BN epsilon 1e-5.

    ``stage_filters`` (3 non-decreasing ints) replaces 16-32-64, the stem taking the first
    (zero-padded shortcuts cannot drop channels). ``stochastic_depth=p_L`` drops each
    block's branch at training with survival probability decaying linearly to ``p_L``
    (Huang et al. 2016, Eq. 4: ``resnet110_stochastic_depth_cifar`` is depth 110 with
    0.5). He-normal initialiser (section 4.2: "the weight initialization in [13]");
    ``kernel_initializer=`` overrides it. No published weights.
    """
    depth = check_int("depth", depth)
    if depth < 8 or (depth - 2) % 6:
        raise ValueError(f"depth must be 6n+2 with n >= 1 (8, 14, 20, 32, 44, 56, 110, "
                         f"1202, ...), got depth={depth!r}")
    stage_filters = check_ints("stage_filters", stage_filters, length=3)
    if list(stage_filters) != sorted(stage_filters):
        raise ValueError(f"stage_filters must not decrease (option A shortcuts zero-pad "
                         f"channels and cannot drop them), got {stage_filters!r}")
    if name is None:
        name = f"resnet{depth}" + ("_stochastic_depth" if stochastic_depth is not None
                                   else "") + "_cifar"
    return _network(cifar_stem(stage_filters[0]), cifar_stages(depth, stage_filters),
                    CIFAR_LAYOUT, include_top=include_top, weights=weights,
                    input_tensor=input_tensor, input_shape=input_shape, pooling=pooling,
                    classes=classes, classifier_activation=classifier_activation,
                    default_shape=(32, 32, 3), min_size=CIFAR_MIN_INPUT_SIZE, name=name,
                    stochastic_depth=_survival(stochastic_depth),
                    kernel_initializer=kernel_initializer)
