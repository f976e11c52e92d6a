"""SqueezeNet: Iandola, Han, Moskewicz, Ashraf, Dally, Keutzer, "SqueezeNet: AlexNet-level
accuracy with 50x fewer parameters and <0.5MB model size" (2016, arXiv 1602.07360).

Everything about the family that needs no TensorFlow: Table 1 (v1.0) and the v1.1
release as rows (:mod:`keras_cnns.blocks.rows`), the registry entries with their
multiply-adds counted by hand from those rows (:func:`layer_macs`), the paper's table
for the docs, the tuning space (section 5) and the torchvision tensor mapping.
``build.py`` walks the same rows.
"""

from keras_cnns.blocks.rows import (Conv, Dropout, Fire, Pool, min_input_size as _min_size,
                                    output_sizes)
from keras_cnns.metadata import (Check, Choice, Family, ModelInfo, PaperRow, PaperTable, Probe,
                                 SearchSpace, TorchMap, TorchvisionArch, dropout_choice,
                                 torch_preprocessing)


def _pool(name):
    return Pool(name, "max", 3, 2, "ceil")  # max 3x3/2, rounding up (torch ceil_mode=True)


# The trunk, conv1 to fire9 (include_top=False ends there), per version.
VERSIONS = {
    # Table 1: conv1 96@7x7/2; max pools after conv1, fire4 and fire8.
    "1_0": (
        Conv("conv1", 96, 7, 2, "valid"), _pool("pool1"),
        Fire("fire2", 16, 64, 64), Fire("fire3", 16, 64, 64), Fire("fire4", 32, 128, 128),
        _pool("pool4"),
        Fire("fire5", 32, 128, 128), Fire("fire6", 48, 192, 192), Fire("fire7", 48, 192, 192),
        Fire("fire8", 64, 256, 256),
        _pool("pool8"),
        Fire("fire9", 64, 256, 256),
    ),
    # The v1.1 release: conv1 64@3x3/2; the pools move earlier, after conv1, fire3, fire5.
    "1_1": (
        Conv("conv1", 64, 3, 2, "valid"), _pool("pool1"),
        Fire("fire2", 16, 64, 64), Fire("fire3", 16, 64, 64),
        _pool("pool3"),
        Fire("fire4", 32, 128, 128), Fire("fire5", 32, 128, 128),
        _pool("pool5"),
        Fire("fire6", 48, 192, 192), Fire("fire7", 48, 192, 192), Fire("fire8", 64, 256, 256),
        Fire("fire9", 64, 256, 256),
    ),
}
# Table 1's top, both versions: dropout 50 % after fire9 (section 3.3), conv10 1x1 with
# one map per class (filters None = classes), ReLU, global average pool.
HEAD = (Dropout("drop9", 0.5), Conv("conv10", None, 1, 1, "valid"))


def min_input_size(version):
    """The smallest side that builds: conv1 is valid (7 for v1.0, 3 for v1.1); the
    ceil-mode pools and padded 3x3 expands take any size after it."""
    return _min_size(VERSIONS[version])


def grid_sizes(size, version):
    """Spatial size after conv1 and each pool (``None`` if conv1 does not fit)."""
    sizes = output_sizes(size, VERSIONS[version])
    if sizes is None:
        return None
    return tuple(sizes[r.name][0] for r in VERSIONS[version] if not isinstance(r, Fire))


def end_points(version):
    return tuple(r.name for r in VERSIONS[version])


def layer_macs(version, size=224, classes=1000, channels=3):
    """Multiply-adds of every convolution, counted by hand from the table: a kxk
    convolution from ``c_in`` to ``c_out`` maps on an ``h x w`` output grid costs
    ``h * w * k * k * c_in * c_out``. A fire module is three such convolutions on its
    input grid: squeeze 1x1 ``c_in -> s``, expand 1x1 ``s -> e1`` and expand 3x3 (padded)
    ``s -> e3``; pools cost none. ``((layer name, macs), ...)`` in build order, conv10
    last. The registry's ``macs`` is the sum at 224; :mod:`keras_cnns.profiler`, which
    reads the built layers instead, must agree."""
    rows = VERSIONS[version]
    grids = output_sizes(size, rows)
    if grids is None:
        raise ValueError(f"squeezenet{version} does not build at {size} px")
    out, c = [], channels
    for row in rows:
        h, w = grids[row.name]
        if isinstance(row, Conv):
            out.append((row.name, h * w * row.kernel * row.kernel * c * row.filters))
            c = row.filters
        elif isinstance(row, Fire):
            s, e1, e3 = row.squeeze, row.expand1x1, row.expand3x3
            out += [(f"{row.name}_squeeze", h * w * c * s),
                    (f"{row.name}_expand1x1", h * w * s * e1),
                    (f"{row.name}_expand3x3", h * w * 3 * 3 * s * e3)]
            c = e1 + e3
    conv10 = HEAD[-1]
    out.append((conv10.name, h * w * conv10.kernel * conv10.kernel * c * classes))
    return tuple(out)


# --------------------------------------------------------------------------- entries

_PAPER = dict(
    paper="SqueezeNet: AlexNet-level accuracy with 50x fewer parameters and <0.5MB model size",
    authors="Iandola, Han, Moskewicz, Ashraf, Dally, Keutzer", year=2016, arxiv="1602.07360",
    family="squeezenet", params_with_aux=None, default_input_shape=(224, 224, 3),
    preprocessing=torch_preprocessing(), builder="SqueezeNet",
    # No paper recipe is declared; the default ("resnet") augmentation preset.
    recipe=None, augment="resnet",
    last_channels=512,  # fire9: 256 + 256 (include_top=False ends there)
)
# fire(s, e1, e3) on c channels: s*(c+1) + e1*(s+1) + e3*(9s+1) parameters.
MODELS = (
    ModelInfo(
        name="squeezenet1_0",
        # conv1 96*147+96 = 14,208; fire2 11,920; fire3 12,432; fire4 45,344; fire5 49,440;
        # fire6 104,880; fire7 111,024; fire8 188,992; fire9 197,184; conv10 1000*513 =
        # 513,000 -> 1,248,424 (torchvision; no BN, so Keras agrees).
        params=1_248_424, trainable_params=1_248_424,
        # layer_macs("1_0"), h*w*k*k*c_in*c_out per convolution on the 109 / 54 / 27 / 13
        # grids: conv1 109*109*49*3*96 = 167,664,672; fire2 54*54*(96*16 + 16*64 +
        # 9*16*64) = 34,338,816; fire3 (c_in 128) 35,831,808; fire4 54*54*(128*32 +
        # 32*128 + 9*32*128) = 131,383,296; fire5 27*27*(256*32 + 32*128 + 9*32*128) =
        # 35,831,808; fire6 27*27*(256*48 + 48*192 + 9*48*192) = 76,142,592; fire7
        # (c_in 384) 80,621,568; fire8 27*27*(384*64 + 64*256 + 9*64*256) = 137,355,264;
        # fire9 13*13*(512*64 + 64*256 + 9*64*256) = 33,226,752; conv10 13*13*512*1000 =
        # 86,528,000 -> 818,924,576 (torchvision lists 0.82 GFLOPS).
        macs=818_924_576,
        # Table 2: SqueezeNet (uncompressed) 57.5 % top-1 / 80.3 % top-5 accuracy.
        reported={"top1": 42.5, "top5": 19.7},
        min_input_size=min_input_size("1_0"),
        layout="torchvision squeezenet1_0 (paper Table 1, ceil-mode pools)",
        end_points=end_points("1_0"), stage_outputs=("conv1", "fire4", "fire8", "fire9"),
        torchvision=TorchvisionArch("squeezenet1_0", "classifier.1.weight", None,
                                    conv_bias=True),
        build_kwargs={"version": "1_0"}, **_PAPER),
    ModelInfo(
        name="squeezenet1_1",
        # conv1 64*27+64 = 1,792; fire2 16*65+1,088+9,280 = 11,408; fire3 12,432;
        # fire4 45,344; fire5 49,440; fire6 104,880; fire7 111,024; fire8 188,992;
        # fire9 197,184; conv10 513,000 -> 1,235,496 (torchvision).
        params=1_235_496, trainable_params=1_235_496,
        # layer_macs("1_1") on the 111 / 55 / 27 / 13 grids: conv1 111*111*9*3*64 =
        # 21,290,688; fire2 55*55*(64*16 + 16*64 + 9*16*64) = 34,073,600; fire3 (c_in 128)
        # 37,171,200; fire4 27*27*(128*32 + 32*128 + 9*32*128) = 32,845,824; fire5
        # (c_in 256) 35,831,808; fire6 13*13*(256*48 + 48*192 + 9*48*192) = 17,651,712;
        # fire7 (c_in 384) 18,690,048; fire8 13*13*(384*64 + 64*256 + 9*64*256) =
        # 31,842,304; fire9 (c_in 512) 33,226,752; conv10 13*13*512*1000 = 86,528,000
        # -> 349,151,936 (torchvision lists 0.35 GFLOPS).
        macs=349_151_936,
        # torchvision's published accuracy for its squeezenet1_1 weights: 58.178 / 80.624.
        reported={"top1": 41.822, "top5": 19.376},
        min_input_size=min_input_size("1_1"),
        layout="torchvision squeezenet1_1 (v1.1 release, ceil-mode pools)",
        end_points=end_points("1_1"), stage_outputs=("conv1", "fire3", "fire5", "fire9"),
        torchvision=TorchvisionArch("squeezenet1_1", "classifier.1.weight", None,
                                    conv_bias=True),
        build_kwargs={"version": "1_1"}, **_PAPER),
)


# --------------------------------------------------------------------------- docs

def paper_table(info):
    """Table 1's rows (conv1, the pools, the fire modules' s1x1 / e1x1 / e3x3) beside
    the build."""
    version = dict(info.build_kwargs).get("version")
    if version not in VERSIONS:
        return None
    rows = []
    for row in VERSIONS[version]:
        if isinstance(row, Conv):
            k = row.kernel
            rows.append(PaperRow((row.name, f"{row.filters} @ {k}x{k}/{row.stride}"), (
                Check(Probe("channels", (row.name,)), row.filters, "built"),
                Check(Probe("kernel", (row.name,)), k, "kernel"))))
        elif isinstance(row, Pool):
            rows.append(PaperRow((row.name, f"maxpool {row.size}x{row.size}/{row.stride}"),
                                 (Check(Probe("exists", (row.name,)), 1, "missing"),)))
        else:
            widths = (row.squeeze, row.expand1x1, row.expand3x3)
            rows.append(PaperRow(
                (row.name, "s1x1 {} / e1x1 {} / e3x3 {}".format(*widths)),
                tuple(Check(Probe("channels", (f"{row.name}_{part}",)), w, part)
                      for part, w in zip(("squeeze", "expand1x1", "expand3x3"), widths))))
    return PaperTable(f"Paper Table 1 (SqueezeNet {version.replace('_', '.')}) against the "
                      "build", ("layer", "paper"), tuple(rows))


# --------------------------------------------------------------------------- tuning

# Section 5.1 / Fig. 2: the squeeze ratio SR (squeeze filters / expand filters, 0.125 in
# SqueezeNet) and the fraction of 3x3 expand filters pct_3x3 (0.5).
SQUEEZE_RATIOS = (0.125, 0.25, 0.5, 0.75)
EXPAND_3X3_FRACTIONS = (0.25, 0.5, 0.75)
EXPAND_MULTIPLIERS = (0.25, 0.5, 1.0)


def _space_rows(info):
    return (Choice("squeeze_filters_ratio", SQUEEZE_RATIOS, 0.125, "table"),
            Choice("expand_filters_multiplier", EXPAND_MULTIPLIERS, 1.0, "table"),
            Choice("expand3x3_filters_fraction", EXPAND_3X3_FRACTIONS, 0.5, "table"),
            dropout_choice(HEAD[0].rate))


def _space_kwargs(info, v):
    kwargs = {"dropout": v["dropout"]} if "dropout" in v else {}
    if "squeeze_filters_ratio" not in v and "expand_filters_multiplier" not in v:
        return kwargs
    sr = v.get("squeeze_filters_ratio", 0.125)
    mult = v.get("expand_filters_multiplier", 1.0)
    pct = v.get("expand3x3_filters_fraction", 0.5)
    rows = []
    for row in VERSIONS[dict(info.build_kwargs).get("version", "1_0")]:
        if isinstance(row, Fire):
            e = max(2, int(round((row.expand1x1 + row.expand3x3) * mult)))
            e3 = min(e - 1, max(1, int(round(e * pct))))
            row = row._replace(squeeze=max(1, int(round(sr * e))), expand1x1=e - e3,
                               expand3x3=e3)
        rows.append(row)
    kwargs["table"] = tuple(rows)
    return kwargs


SEARCH_SPACE = SearchSpace("squeeze ratio, expand width and 3x3 fraction (section 5.1), "
                           "dropout", _space_rows, _space_kwargs)


# --------------------------------------------------------------------------- torchvision

def torchvision_mapping(model, info):
    """torchvision's ``SqueezeNet`` module names: ``features`` is conv1, ReLU, then one
    module per pool or fire row (``Fire.squeeze`` / ``expand1x1`` / ``expand3x3``);
    ``classifier`` is Dropout, conv10, ReLU, pool."""
    rows = VERSIONS[info.build_kwargs["version"]]
    out, index = [TorchMap("features.0", "conv1", "conv")], 2
    for row in rows[1:]:
        if isinstance(row, Fire):
            out += [TorchMap(f"features.{index}.{part}", f"{row.name}_{part}", "conv")
                    for part in ("squeeze", "expand1x1", "expand3x3")]
        index += 1
    if "conv10" in {layer.name for layer in model.layers}:
        out.append(TorchMap("classifier.1", "conv10", "conv"))
    return tuple(out)


FAMILY = Family(
    name="squeezenet", title="SqueezeNet 1.0 / 1.1 (Iandola et al. 2016)",
    build_module="keras_cnns.models.squeezenet.build", builders=("SqueezeNet",),
    models=MODELS, paper_table=paper_table, search_space=SEARCH_SPACE,
    torchvision_mapping=torchvision_mapping)
