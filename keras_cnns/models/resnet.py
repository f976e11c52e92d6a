"""The ResNet family: ResNet v1 (He, Zhang, Ren, Sun 2015), pre-activation ResNet v2
(He et al. 2016, "Identity Mappings"), ResNeXt (Xie et al. 2016), Wide ResNet (Zagoruyko
& Komodakis 2016) and stochastic depth (Huang et al. 2016), from one stage table.

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

from keras_cnns.blocks.residual import (basic_block, bottleneck_block, preact_basic_block,
                                        preact_bottleneck_block)
from keras_cnns.layers.stochastic_depth import linear_decay
from keras_cnns.models import common
from keras_cnns.registry import (ModelInfo, Preprocessing, caffe_preprocessing, register_model,
                                 tf_preprocessing, torch_preprocessing)

# He et al. 2015, Table 1: block type and blocks per stage (conv2_x ... conv5_x).
STAGES = {
    18: ("basic", (2, 2, 2, 2)),
    34: ("basic", (3, 4, 6, 3)),
    50: ("bottleneck", (3, 4, 6, 3)),
    101: ("bottleneck", (3, 4, 23, 3)),
    152: ("bottleneck", (3, 8, 36, 3)),
}
STAGE_NAMES = ("conv2", "conv3", "conv4", "conv5")
STAGE_FILTERS = (64, 128, 256, 512)  # bottleneck width (output: 4x) or basic width
LAYOUTS = {
    "keras": dict(use_bias=True, bn_epsilon=1.001e-5, stride_on="first"),
    "torchvision": dict(use_bias=False, bn_epsilon=1e-5, stride_on="middle"),
}
# Published keras.applications files (keras_cnns.weights.imagenet keys).
IMAGENET_KEYS = {(False, 50): "resnet50", (False, 101): "resnet101", (False, 152): "resnet152",
                 (True, 50): "resnet50_v2", (True, 101): "resnet101_v2",
                 (True, 152): "resnet152_v2"}
MIN_INPUT_SIZE = 32  # keras.applications' minimum for the ImageNet stem
WRN_CIFAR_MIN_INPUT_SIZE = 8  # two stride-2 stages: a 2x2 grid before the global pool


def _check_stochastic_depth(value):
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"stochastic_depth must be None or a float in (0, 1] (the last "
                        f"block's survival probability), got {type(value).__name__}")
    if not 0.0 < value <= 1.0:
        raise ValueError(f"stochastic_depth must be in (0, 1] (the last block's survival "
                         f"probability p_L), got {value!r}")
    return float(value)


def _check_stages(stages):
    if (not isinstance(stages, (tuple, list)) or len(stages) != 4
            or any(isinstance(n, bool) or not isinstance(n, int) or n < 1 for n in stages)):
        raise ValueError(f"stages must be 4 positive ints (blocks in conv2..conv5), got {stages!r}")
    return tuple(stages)


def _check_weights(weights, key, model_name, include_top, classes):
    if weights == "imagenet" and key is None:
        raise ValueError(f"weights='imagenet' is not available for {model_name!r}: there is "
                         "no published ImageNet file for this configuration. Use weights=None "
                         "or the path of a weights file.")
    weights = common.check_common(include_top=include_top, weights=weights, pooling=None,
                                  classes=classes, allowed_weights=(None, "imagenet"))
    if weights == "imagenet" and include_top and classes != 1000:
        raise ValueError(f"weights='imagenet' with include_top=True needs classes=1000, got "
                         f"classes={classes}")
    return weights


def _finish(inputs, outputs, name, weights, key, include_top):
    model = common.finish(inputs, outputs, name, None if weights == "imagenet" else weights)
    if weights == "imagenet":
        # Lazy: the weights table is only needed (and only imported) on request.
        from keras_cnns.weights.imagenet import load_imagenet_weights
        load_imagenet_weights(model, key, include_top)
    return model


def _head(x, include_top, pooling, classes, classifier_activation):
    if include_top:
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        return common.classifier(x, classes, classifier_activation)
    return common.pool_features(x, pooling)


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

    ``depth`` selects the row of He et al. 2015 Table 1 (18, 34, 50, 101, 152);
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
    if isinstance(depth, bool) or depth not in STAGES:
        raise ValueError(f"depth must be one of {', '.join(map(str, STAGES))}; got {depth!r}")
    common.check_choice("layout", layout, tuple(LAYOUTS))
    if not isinstance(preact, bool):
        raise TypeError(f"preact must be a bool, got {type(preact).__name__}")
    common.check_positive_int("groups", groups)
    common.check_positive_int("width_per_group", width_per_group)
    common.check_positive_int("width_factor", width_factor)
    block_type, default_stages = STAGES[depth]
    stages = default_stages if stages is None else _check_stages(stages)
    if preact and (block_type != "bottleneck" or layout != "keras"):
        raise ValueError("preact=True (ResNet v2) is keras.applications' bottleneck layout: "
                         "depth must be 50, 101 or 152 with layout='keras'")
    if block_type == "basic" and (groups > 1 or width_per_group != 64 or width_factor > 1):
        raise ValueError("groups, width_per_group and width_factor need a bottleneck depth "
                         "(50, 101, 152)")
    p_last = _check_stochastic_depth(stochastic_depth)
    if (not isinstance(stage_filters, (tuple, list)) or len(stage_filters) != 4
            or any(isinstance(f, bool) or not isinstance(f, int) or f < 1 for f in stage_filters)):
        raise ValueError(f"stage_filters must be 4 positive ints (conv2..conv5), "
                         f"got {stage_filters!r}")
    stage_filters = tuple(stage_filters)
    plain = (layout == "keras" and stages == default_stages and groups == 1
             and stage_filters == STAGE_FILTERS
             and width_per_group == 64 and width_factor == 1)
    key = IMAGENET_KEYS.get((preact, depth)) if plain else None
    model_name = name or _default_name(depth, preact, layout, groups, width_per_group,
                                       width_factor)
    weights = _check_weights(weights, key, model_name, include_top, classes)
    common.check_choice("pooling", pooling, common.POOLINGS)
    input_shape = common.resolve_input_shape(input_shape, input_tensor, (224, 224, 3),
                                             MIN_INPUT_SIZE)
    cfg = LAYOUTS[layout]
    kinit = kernel_initializer

    inputs, x = common.make_input(input_shape, input_tensor)
    # Stem (Table 1, conv1 and the pool of conv2_x): explicit padding as Caffe/torch pad.
    x = layers.ZeroPadding2D(3, name="conv1_pad")(x)
    x = layers.Conv2D(64, 7, strides=2, use_bias=cfg["use_bias"] or preact,
                      kernel_initializer=kinit, name="conv1_conv")(x)
    if not preact:
        x = layers.BatchNormalization(axis=-1, epsilon=cfg["bn_epsilon"], name="conv1_bn")(x)
        x = layers.Activation("relu", name="conv1_relu")(x)
    x = layers.ZeroPadding2D(1, name="pool1_pad")(x)
    x = layers.MaxPooling2D(3, strides=2, name="pool1_pool")(x)

    survival = (linear_decay(sum(stages), p_last) if p_last is not None
                else [None] * sum(stages))
    index = 0
    for s, (stage, filters, n) in enumerate(zip(STAGE_NAMES, stage_filters, stages)):
        for b in range(n):
            block_name = f"{stage}_block{b + 1}"
            p = survival[index]
            index += 1
            if preact:
                # keras.applications v2: the last block of conv2-conv4 downsamples.
                stride = 2 if (b == n - 1 and s < 3) else 1
                x = preact_bottleneck_block(x, filters, stride=stride, name=block_name,
                                            bn_epsilon=cfg["bn_epsilon"],
                                            kernel_initializer=kinit, survival_probability=p)
                continue
            stride = 2 if (b == 0 and s > 0) else 1
            if block_type == "basic":
                x = basic_block(x, filters, stride=stride, name=block_name,
                                use_bias=cfg["use_bias"], bn_epsilon=cfg["bn_epsilon"],
                                kernel_initializer=kinit, survival_probability=p)
            else:
                width = (filters * width_per_group // 64) * groups * width_factor
                x = bottleneck_block(x, filters, stride=stride, name=block_name, width=width,
                                     groups=groups, stride_on=cfg["stride_on"],
                                     use_bias=cfg["use_bias"], bn_epsilon=cfg["bn_epsilon"],
                                     kernel_initializer=kinit, survival_probability=p)
    if preact:
        x = layers.BatchNormalization(axis=-1, epsilon=cfg["bn_epsilon"], name="post_bn")(x)
        x = layers.Activation("relu", name="post_relu")(x)
    x = _head(x, include_top, pooling, classes, classifier_activation)
    return _finish(inputs, x, model_name, weights, key, include_top)


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
    common.check_positive_int("width", width)
    if depth in (50, 101):
        if dropout:
            raise ValueError("dropout is only used by the CIFAR Wide ResNets (depth 6n+4)")
        return ResNet(include_top, weights, input_tensor, input_shape, pooling,
                      1000 if classes is None else classes, classifier_activation,
                      depth=depth, layout="torchvision", width_factor=width,
                      stochastic_depth=stochastic_depth,
                      kernel_initializer=kernel_initializer, name=name)
    if isinstance(depth, bool) or not isinstance(depth, int) or depth < 10 or (depth - 4) % 6:
        raise ValueError(f"depth must be 6n+4 >= 10 (CIFAR WRN, e.g. 16, 22, 28, 40) or 50 / "
                         f"101 (ImageNet WRN), got {depth!r}")
    classes = 10 if classes is None else classes
    model_name = name or f"wrn{depth}_{width}"
    weights = _check_weights(weights, None, model_name, include_top, classes)
    common.check_choice("pooling", pooling, common.POOLINGS)
    dropout = common.check_dropout("dropout", dropout)
    p_last = _check_stochastic_depth(stochastic_depth)
    input_shape = common.resolve_input_shape(input_shape, input_tensor, (32, 32, 3),
                                             WRN_CIFAR_MIN_INPUT_SIZE)
    n = (depth - 4) // 6
    survival = linear_decay(3 * n, p_last) if p_last is not None else [None] * (3 * n)

    inputs, x = common.make_input(input_shape, input_tensor)
    x = layers.Conv2D(16, 3, padding="same", use_bias=False,
                      kernel_initializer=kernel_initializer, name="conv1_conv")(x)
    for s, (stage, base) in enumerate(zip(("conv2", "conv3", "conv4"), (16, 32, 64))):
        for b in range(n):
            x = preact_basic_block(x, base * width, stride=2 if (b == 0 and s > 0) else 1,
                                   name=f"{stage}_block{b + 1}", dropout=dropout,
                                   kernel_initializer=kernel_initializer,
                                   survival_probability=survival[s * n + b])
    x = layers.BatchNormalization(axis=-1, epsilon=1e-5, name="post_bn")(x)
    x = layers.Activation("relu", name="post_relu")(x)
    x = _head(x, include_top, pooling, classes, classifier_activation)
    return _finish(inputs, x, model_name, weights, None, include_top)


# --------------------------------------------------------------------------- registry

def _end_points(stages, preact=False):
    """keras.applications names: the stem, and each stage's last block (for v2 also the
    next-to-last blocks of conv2-conv4, the last outputs at their resolution)."""
    if not preact:
        return ("conv1_relu", "pool1_pool") + tuple(
            f"{s}_block{n}_out" for s, n in zip(STAGE_NAMES, stages))
    blocks = tuple(name for s, n in zip(STAGE_NAMES, stages)
                   for name in ((f"{s}_block{n - 1}_out",) if s != STAGE_NAMES[-1] else ())
                   + (f"{s}_block{n}_out",))
    return ("conv1_conv", "pool1_pool") + blocks + ("post_relu",)


def _stage_outputs(stages, preact=False):
    """The last output at each resolution (112, 56, 28, 14, 7 at 224). ResNet v2 (keras
    layout) downsamples in the last block of conv2-conv4, so its 56/28/14 outputs are the
    next-to-last blocks of conv2/conv3/conv4."""
    if not preact:
        return ("conv1_relu",) + tuple(f"{s}_block{n}_out" for s, n in zip(STAGE_NAMES, stages))
    return (("conv1_conv",) + tuple(f"{s}_block{n - 1}_out"
                                    for s, n in zip(STAGE_NAMES[:3], stages[:3]))
            + ("post_relu",))


_V1 = dict(paper="Deep Residual Learning for Image Recognition",
           authors="He, Zhang, Ren, Sun", year=2015, arxiv="1512.03385", family="resnet",
           default_input_shape=(224, 224, 3), min_input_size=MIN_INPUT_SIZE,
           params_with_aux=None,
           # keras.applications' caffe preprocessing (BGR, ImageNet means).
           preprocessing=caffe_preprocessing(mean_bgr=(103.939, 116.779, 123.68)),
           layout="keras.applications ResNet v1 (stride on the first 1x1, conv biases)")

# ResNet-18/34: torchvision's bias-free counts plus one bias per conv output channel.
# ResNet-18: conv1 64 + conv2 4x64 + conv3 (4x128 + 128 proj) + conv4 (4x256 + 256)
#   + conv5 (4x512 + 512) = 64 + 256 + 640 + 1,280 + 2,560 = 4,800 biases;
#   trainable 11,689,512 + 4,800 = 11,694,312; BN channels 64 + 256 + 640 + 1,280 + 2,560
#   = 4,800, moving stats 2 x 4,800 = 9,600 -> total 11,703,912.
# ResNet-34: conv1 64 + conv2 6x64 + conv3 (8x128 + 128) + conv4 (12x256 + 256)
#   + conv5 (6x512 + 512) = 64 + 384 + 1,152 + 3,328 + 3,584 = 8,512 biases;
#   trainable 21,797,672 + 8,512 = 21,806,184; moving stats 2 x 8,512 -> 21,823,208.
register_model(ModelInfo(
    name="resnet18", params=11_703_912, trainable_params=11_694_312, macs=1_814_073_344,
    reported={"top1_10crop": 27.88},  # Table 2
    end_points=_end_points((2, 2, 2, 2)), stage_outputs=_stage_outputs((2, 2, 2, 2)),
    build_kwargs={"depth": 18}, **_V1), ResNet)
register_model(ModelInfo(
    name="resnet34", params=21_823_208, trainable_params=21_806_184, macs=3_663_761_408,
    reported={"top1_10crop": 24.52, "top5_10crop": 7.46},  # Table 3, option B
    end_points=_end_points((3, 4, 6, 3)), stage_outputs=_stage_outputs((3, 4, 6, 3)),
    build_kwargs={"depth": 34}, **_V1), ResNet)
# ResNet-50/101/152: keras.applications' count_params(); macs from keras_cnns.profile,
# equal to profile(keras.applications.ResNetXX) (tested). MACs of 18/34: torchvision's
# 1.81 / 3.66 GFLOPS (same strides). v1 strides the first 1x1, so ResNet-50 costs 3.86 G
# against torchvision's v1.5 4.09 G.
register_model(ModelInfo(
    name="resnet50", params=25_636_712, trainable_params=25_583_592, macs=3_857_973_248,
    reported={"top1_10crop": 22.85, "top5_10crop": 6.71},  # Table 3
    end_points=_end_points((3, 4, 6, 3)), stage_outputs=_stage_outputs((3, 4, 6, 3)),
    build_kwargs={"depth": 50}, **_V1), ResNet)
register_model(ModelInfo(
    name="resnet101", params=44_707_176, trainable_params=44_601_832, macs=7_570_194_432,
    reported={"top1_10crop": 21.75, "top5_10crop": 6.05},
    end_points=_end_points((3, 4, 23, 3)), stage_outputs=_stage_outputs((3, 4, 23, 3)),
    build_kwargs={"depth": 101}, **_V1), ResNet)
register_model(ModelInfo(
    name="resnet152", params=60_419_944, trainable_params=60_268_520, macs=11_282_415_616,
    reported={"top1_10crop": 21.43, "top5_10crop": 5.71},
    end_points=_end_points((3, 8, 36, 3)), stage_outputs=_stage_outputs((3, 8, 36, 3)),
    build_kwargs={"depth": 152}, **_V1), ResNet)

_V2 = dict(paper="Identity Mappings in Deep Residual Networks", authors="He, Zhang, Ren, Sun",
           year=2016, arxiv="1603.05027", family="resnet", default_input_shape=(224, 224, 3),
           min_input_size=MIN_INPUT_SIZE, params_with_aux=None,
           preprocessing=tf_preprocessing(),
           layout="keras.applications ResNetV2 (pre-activation, stride in the last block)")
# reported: keras.applications' published ImageNet accuracy (1 - top-1 / top-5), as the
# v2 paper reports 320-crop figures for ResNet-152/200 only.
register_model(ModelInfo(
    name="resnet50_v2", params=25_613_800, trainable_params=25_568_360, macs=3_482_255_360,
    reported={"keras_top1": 24.0, "keras_top5": 7.0},
    end_points=_end_points((3, 4, 6, 3), True), stage_outputs=_stage_outputs((3, 4, 6, 3), True),
    build_kwargs={"depth": 50, "preact": True}, **_V2), ResNet)
register_model(ModelInfo(
    name="resnet101_v2", params=44_675_560, trainable_params=44_577_896, macs=7_194_476_544,
    reported={"keras_top1": 22.8, "keras_top5": 6.2},
    end_points=_end_points((3, 4, 23, 3), True),
    stage_outputs=_stage_outputs((3, 4, 23, 3), True),
    build_kwargs={"depth": 101, "preact": True}, **_V2), ResNet)
register_model(ModelInfo(
    name="resnet152_v2", params=60_380_648, trainable_params=60_236_904, macs=10_906_697_728,
    reported={"keras_top1": 22.0, "keras_top5": 5.8},
    end_points=_end_points((3, 8, 36, 3), True),
    stage_outputs=_stage_outputs((3, 8, 36, 3), True),
    build_kwargs={"depth": 152, "preact": True}, **_V2), ResNet)

# torchvision layout: trainable = torchvision num_params (bias-free), total adds 2 x BN
# channels; MACs match torchvision's GFLOPS 4.23 (resnext50_32x4d), 11.40
# (wide_resnet50_2). ResNeXt-101 32x4d has no torchvision release: 44,177,704 trainable
# as in Cadene's pretrainedmodels port; the paper quotes 7.8 G FLOPs (7.97 G here).
# WRN-28-10: 36,479,194 trainable (the authors' 36.5 M), + 2 x 8,976 BN channels.
_TV = dict(family="resnet", default_input_shape=(224, 224, 3), min_input_size=MIN_INPUT_SIZE,
           params_with_aux=None, preprocessing=torch_preprocessing())
# torchvision's resnet50/101/152 ("ResNet v1.5": stride on the 3x3, bias-free convs, BN
# eps 1e-5): trainable = torchvision's num_params, total adds the BN moving mean and
# variance (2 x 26,560 / 52,672 / 75,712 channels); MACs equal torchvision's GFLOPS
# 4.089 / 7.801 / 11.514. reported: torchvision's published IMAGENET1K_V1 accuracy
# (acc@1 76.130 / 77.374 / 78.312, acc@5 92.862 / 93.546 / 94.046) as error; its
# IMAGENET1K_V2 weights (same layout) reach 80.858 / 81.886 / 82.284 acc@1.
_V15 = dict(paper="Deep Residual Learning for Image Recognition",
            authors="He, Zhang, Ren, Sun", year=2015, arxiv="1512.03385",
            layout="torchvision ResNet v1.5 (bias-free, stride on the 3x3, BN eps 1e-5)",
            **_TV)
register_model(ModelInfo(
    name="resnet50_torchvision", params=25_610_152, trainable_params=25_557_032,
    macs=4_089_184_256, reported={"top1": 23.870, "top5": 7.138},
    end_points=_end_points((3, 4, 6, 3)), stage_outputs=_stage_outputs((3, 4, 6, 3)),
    build_kwargs={"depth": 50, "layout": "torchvision"}, **_V15), ResNet)
register_model(ModelInfo(
    name="resnet101_torchvision", params=44_654_504, trainable_params=44_549_160,
    macs=7_801_405_440, reported={"top1": 22.626, "top5": 6.454},
    end_points=_end_points((3, 4, 23, 3)), stage_outputs=_stage_outputs((3, 4, 23, 3)),
    build_kwargs={"depth": 101, "layout": "torchvision"}, **_V15), ResNet)
register_model(ModelInfo(
    name="resnet152_torchvision", params=60_344_232, trainable_params=60_192_808,
    macs=11_513_626_624, reported={"top1": 21.688, "top5": 5.954},
    end_points=_end_points((3, 8, 36, 3)), stage_outputs=_stage_outputs((3, 8, 36, 3)),
    build_kwargs={"depth": 152, "layout": "torchvision"}, **_V15), ResNet)
register_model(ModelInfo(
    name="resnext50_32x4d",
    paper="Aggregated Residual Transformations for Deep Neural Networks",
    authors="Xie, Girshick, Dollar, Tu, He", year=2016, arxiv="1611.05431",
    params=25_097_128, trainable_params=25_028_904, macs=4_230_479_872,
    reported={"top1_1crop": 22.2},  # Table 3, 224 single crop
    layout="torchvision resnext50_32x4d (bias-free, stride on the grouped 3x3)",
    end_points=_end_points((3, 4, 6, 3)), stage_outputs=_stage_outputs((3, 4, 6, 3)),
    build_kwargs={"depth": 50, "layout": "torchvision", "groups": 32, "width_per_group": 4},
    **_TV), ResNet)
register_model(ModelInfo(
    name="resnext101_32x4d",
    paper="Aggregated Residual Transformations for Deep Neural Networks",
    authors="Xie, Girshick, Dollar, Tu, He", year=2016, arxiv="1611.05431",
    params=44_315_560, trainable_params=44_177_704, macs=7_969_996_800,
    reported={"top1_1crop": 21.2},  # Table 3
    layout="torchvision ResNeXt layout, 101 layers 32x4d (no torchvision release)",
    end_points=_end_points((3, 4, 23, 3)), stage_outputs=_stage_outputs((3, 4, 23, 3)),
    build_kwargs={"depth": 101, "layout": "torchvision", "groups": 32, "width_per_group": 4},
    **_TV), ResNet)
register_model(ModelInfo(
    name="wide_resnet50_2", paper="Wide Residual Networks", authors="Zagoruyko, Komodakis",
    year=2016, arxiv="1605.07146", params=68_951_464, trainable_params=68_883_240, macs=11_398_021_120,
    reported={"top1_1crop": 21.9, "top5_1crop": 6.03},
    layout="torchvision wide_resnet50_2 (bias-free, stride on the 3x3)",
    end_points=_end_points((3, 4, 6, 3)), stage_outputs=_stage_outputs((3, 4, 6, 3)),
    build_kwargs={"depth": 50, "width": 2}, **_TV), WideResNet)
register_model(ModelInfo(
    name="wrn28_10", paper="Wide Residual Networks", authors="Zagoruyko, Komodakis",
    year=2016, arxiv="1605.07146", family="resnet", default_input_shape=(32, 32, 3),
    min_input_size=WRN_CIFAR_MIN_INPUT_SIZE, params=36_497_146, params_with_aux=None,
    trainable_params=36_479_194, macs=5_243_328_768, default_classes=10,
    reported={"cifar10": 4.17, "cifar100": 20.50, "cifar10_dropout": 3.89,
              "cifar100_dropout": 18.85},  # Table 4 / 6, standard augmentation
    preprocessing=Preprocessing(mode="torch", mean=(125.3 / 255, 123.0 / 255, 113.9 / 255),
                                std=(63.0 / 255, 62.1 / 255, 66.7 / 255), scale=1 / 255,
                                crop_fraction=1.0),
    layout="Zagoruyko & Komodakis' CIFAR WRN (pre-activation basic blocks, bias-free)",
    end_points=("conv1_conv", "conv2_block4_out", "conv3_block4_out", "conv4_block4_out",
                "post_relu"),
    stage_outputs=("conv2_block4_out", "conv3_block4_out", "post_relu"),
    build_kwargs={"depth": 28, "width": 10}, **{}), WideResNet)
