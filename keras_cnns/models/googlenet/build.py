"""GoogLeNet / Inception v1: Szegedy et al., "Going Deeper with Convolutions" (2014).

The default (``variant="paper"``) is the paper's Table 1 as Caffe's ``bvlc_googlenet``
releases it: true 5x5 branches, two LRN layers, 3x3/2 max pools that round up (Caffe
ceil mode), an explicit pad of 3 around the 7x7/2 stem, and two auxiliary classifiers
on the outputs of 4a and 4d (section 5).
"""

from keras import initializers, layers

from keras_cnns.blocks.conv import conv_bn_act
from keras_cnns.blocks.inception import inception_module
from keras_cnns.blocks.rows import InceptionSpec
from keras_cnns.blocks.sequence import apply_rows
from keras_cnns.layers import AdaptiveAveragePooling2D, LocalResponseNormalization
from keras_cnns.models import common
from keras_cnns.models.googlenet.spec import (AUX_ON, AUX_POOL, INCEPTION_TABLE, VARIANT_CONFIG,
                                              VARIANTS, min_input_size, trunk)
from keras_cnns.validation import check_bool, check_choice, check_rate


def _default_initializers(variant):
    if variant == "torchvision":
        # torchvision: trunc_normal_(std=0.01, a=-2, b=2) for conv and linear.
        return initializers.TruncatedNormal(stddev=0.01), "zeros"
    # Caffe's "xavier" filler is uniform(+-sqrt(3 / fan_in)) = LeCun uniform;
    # bvlc_googlenet sets conv and fc biases to 0.2.
    return initializers.LecunUniform(), initializers.Constant(0.2)


def _aux_head(x, key, classes, classifier_activation, dropout, conv, variant, kinit, binit):
    """Section 5: avg pool 5x5/3 (4x4 at 224) -> 1x1 conv 128 -> FC 1024 -> dropout 0.7
    -> classifier. The FC reads the flattened 4x4x128 grid, so at other input sizes its
    fan-in follows the grid; torchvision pools adaptively to 4x4 instead."""
    if VARIANT_CONFIG[variant]["adaptive_aux"]:
        x = AdaptiveAveragePooling2D(4, name=f"{key}_pool")(x)
    else:
        x = layers.AveragePooling2D(AUX_POOL, strides=3, padding="valid", name=f"{key}_pool")(x)
    x = conv(x, 128, 1, name=f"{key}_conv")
    x = common.flatten(x, 1024, name=f"{key}_flatten")
    x = layers.Dense(1024, activation="relu", name=f"{key}_fc", kernel_initializer=kinit,
                     bias_initializer=binit)(x)
    x = layers.Dropout(dropout, name=f"{key}_dropout")(x)
    return common.classifier(x, classes, classifier_activation, name=key, kernel_initializer=kinit)


def GoogLeNet(include_top=True, weights=None, input_tensor=None, input_shape=None,
              pooling=None, classes=1000, classifier_activation="softmax", aux=False,
              dropout=0.4, aux_dropout=0.7, variant="paper", name=None,
              kernel_initializer=None, table=INCEPTION_TABLE):
    """GoogLeNet (Inception v1), Szegedy et al. 2014, Table 1.

    Variants (``variant=``):

    - ``"paper"``: Table 1 / Caffe ``bvlc_googlenet``. LRN after pool1 and conv2 with
      Caffe's constants (local_size 5, alpha 1e-4 in Caffe's convention, so alpha 2e-5
      in TF's, k 1, beta 0.75). Initialiser: Caffe "xavier" (LeCun uniform), biases 0.2.
      6,998,552 parameters (13,378,280 with aux) at 224 and 1000 classes.
    - ``"bn"``: BN-GoogLeNet, BN after every convolution (conv biases off), no LRN.
    - ``"torchvision"``: torchvision's ``googlenet`` layout: 3x3 convolutions in the
      "5x5" branch (a known bug kept by torchvision and TF-Slim), BN (eps 1e-3), no LRN,
      a 2x2/2 pool before 5a, adaptive 4x4 pools in the aux heads. 6,624,904 trainable
      parameters, as torchvision reports.

    ``aux=True`` returns a model whose outputs are the dict ``{"main", "aux1", "aux2"}``;
    compile it with ``loss_weights=keras_cnns.aux_loss_weights(model)`` (0.3 per aux
    head) and evaluate or export ``keras_cnns.inference_model(model)``. The aux heads
    match the paper at 224 (a 4x4x128 grid into FC 1024); they need an input of at
    least :func:`min_input_size` (79 px with the paper's ceil-mode pools, where the 4a grid
    reaches 5x5; 63 px for torchvision's adaptive pool). Without aux heads the
    minimum is 32 px. The head's 7x7 average pool is global average pooling, so other
    input sizes work.

    ``table`` (rows of :class:`~keras_cnns.blocks.InceptionSpec`) replaces Table 1, e.g.
    with scaled widths; names must stay those of Table 1.
    """
    check_choice("variant", variant, VARIANTS)
    weights = common.check_common(include_top=include_top, weights=weights, pooling=pooling,
                                  classes=classes, classifier_activation=classifier_activation)
    dropout = check_rate("dropout", dropout)
    aux_dropout = check_rate("aux_dropout", aux_dropout)
    check_bool("aux", aux)
    if aux and not include_top:
        raise ValueError("aux=True needs include_top=True: the aux heads are classifiers")
    if len(table) != len(INCEPTION_TABLE) or [r.name for r in table] != [r.name for r in INCEPTION_TABLE]:
        raise ValueError(f"table must have the rows {[r.name for r in INCEPTION_TABLE]}")
    input_shape = common.resolve_input_shape(
        input_shape, input_tensor, (224, 224, 3), min_input_size(aux, variant),
        require_static=aux)
    cfg = VARIANT_CONFIG[variant]
    kinit, binit = _default_initializers(variant)
    if kernel_initializer is not None:
        kinit = kernel_initializer
    if cfg["batch_norm"]:
        binit = "zeros"

    def conv(x, filters, kernel, strides=1, padding="same", name=None):
        return conv_bn_act(x, filters, kernel, strides, padding, name=name,
                           batch_norm=cfg["batch_norm"], bn_epsilon=1e-3,
                           bn_momentum=0.9,
                           kernel_initializer=kinit, bias_initializer=binit)

    def conv_row(x, row):
        return conv(x, row.filters, row.kernel, row.stride, row.padding, name=row.name)

    def lrn_row(x, row):
        # Caffe's constants: local_size 5, alpha 1e-4 (divided by the window), k 1.
        return LocalResponseNormalization.from_caffe(local_size=5, alpha=1e-4, beta=0.75,
                                                     k=1.0, name=row.name)(x)

    aux_outputs = {}

    def module_row(x, spec):
        x = inception_module(x, spec, conv=conv, big_kernel=cfg["big_kernel"])
        if aux and spec.name in AUX_ON:
            key = AUX_ON[spec.name]
            aux_outputs[key] = _aux_head(x, key, classes, classifier_activation, aux_dropout,
                                         conv, variant, kinit, binit)
        return x

    inputs, x = common.make_input(input_shape, input_tensor)
    # Table 1 as rows (spec.trunk): the stem, then the modules with their pools.
    x, _ = apply_rows(x, trunk(variant, table), conv=conv_row,
                      lrn=lrn_row if cfg["lrn"] else None,
                      handlers={InceptionSpec: module_row})

    if include_top:
        # Table 1: avg pool 7x7/1 (global at 224) -> dropout 40% -> linear -> softmax.
        x = layers.GlobalAveragePooling2D(name="avg_pool")(x)
        x = layers.Dropout(dropout, name="dropout")(x)
        x = common.classifier(x, classes, classifier_activation, kernel_initializer=kinit)
    else:
        x = common.pool_features(x, pooling)

    outputs = {"main": x, **aux_outputs} if aux else x
    default_name = "googlenet" if variant == "paper" else f"googlenet_{variant}"
    return common.finish(inputs, outputs, name or default_name, weights)

