"""Network in Network: Lin, Chen, Yan, "Network In Network" (ICLR 2014, arXiv 1312.4400).

Everything about the family that needs no TensorFlow: the two released configurations
as rows (:mod:`keras_cnns.blocks.rows`), the registry entries, the paper's table for the
docs and the tuning space. ``build.py`` walks the same rows.

An mlpconv layer (section 3.1) is a kxk convolution followed by two 1x1 convolutions
("cccp" layers in the Caffe releases), each with ReLU: three :class:`Conv` rows here.
The last mlpconv's last 1x1 layer emits one map per class (``filters=None``: the number
of classes); global average pooling (section 3.2) replaces the fully connected head.
"""

from keras_cnns.blocks.rows import Conv, Dropout, Pool, min_input_size as _min_size
from keras_cnns.metadata import (Check, Choice, Family, ModelInfo, PaperRow, PaperTable,
                                 Preprocessing, Probe, SearchSpace, caffe_preprocessing,
                                 dropout_choice, width_choices)


def mlpconv(name, filters, kernel, stride, padding, cccp):
    """Section 3.1: one mlpconv layer as rows, the kxk convolution ``name`` then the 1x1
    ``cccp`` layers, ``((name, filters), ...)`` (``None`` filters: the class maps)."""
    return (Conv(name, filters, kernel, stride, padding),) + tuple(
        Conv(n, f, 1, 1, "valid") for n, f in cccp)


def _pool(name, kind="max"):
    return Pool(name, kind, 3, 2, "ceil")  # 3x3/2, rounding up as Caffe's pools do


CONFIGS = {
    # Caffe model zoo "NIN-Imagenet" (mavenlin, train_val.prototxt), 224 crops:
    # 224 -> 54 -> 27 -> 27 -> 13 -> 13 -> 6 -> 6 -> global average pool.
    "imagenet": (
        *mlpconv("conv1", 96, 11, 4, "valid", (("cccp1", 96), ("cccp2", 96))), _pool("pool1"),
        *mlpconv("conv2", 256, 5, 1, 2, (("cccp3", 256), ("cccp4", 256))), _pool("pool2"),
        *mlpconv("conv3", 384, 3, 1, 1, (("cccp5", 384), ("cccp6", 384))), _pool("pool3"),
        Dropout("drop3"),
        *mlpconv("conv4", 1024, 3, 1, 1, (("cccp7", 1024), ("cccp8", None))),
    ),
    # Paper section 4.2 / the released cifar10 prototxt: 192-160-96, 192-192-192,
    # 192-192-10, dropout after the first two mlpconvs; the second pool averages.
    # 32 -> 32 -> 16 -> 16 -> 8 -> 8 -> global average pool.
    "cifar": (
        *mlpconv("conv1", 192, 5, 1, 2, (("cccp1", 160), ("cccp2", 96))), _pool("pool1"),
        Dropout("drop1"),
        *mlpconv("conv2", 192, 5, 1, 2, (("cccp3", 192), ("cccp4", 192))),
        _pool("pool2", "avg"),
        Dropout("drop2"),
        *mlpconv("conv3", 192, 3, 1, 1, (("cccp5", 192), ("cccp6", None))),
    ),
}
DEFAULTS = {"imagenet": dict(shape=(224, 224, 3), classes=1000, name="nin"),
            "cifar": dict(shape=(32, 32, 3), classes=10, name="nin_cifar")}


def mlpconvs(table):
    """The mlpconv layers of ``table``: tuples of Conv rows, each a kxk convolution with
    the 1x1 layers after it."""
    groups = []
    for row in table:
        if isinstance(row, Conv):
            if row.kernel != 1 or not groups:
                groups.append([])
            groups[-1].append(row)
    return tuple(tuple(g) for g in groups)


def min_input_size(config):
    """The smallest side that builds: ImageNet 11 (conv1's 11x11 valid window); the
    CIFAR net pads every convolution and its pools round up, so 1."""
    return _min_size(CONFIGS[config])


def end_points(config):
    """Every convolution (but the class maps, the top) and every pool, in order."""
    return tuple(r.name for r in CONFIGS[config]
                 if isinstance(r, Pool) or (isinstance(r, Conv) and r.filters is not None))


# --------------------------------------------------------------------------- entries

_PAPER = dict(paper="Network In Network", authors="Lin, Chen, Yan", year=2013,
              arxiv="1312.4400", family="nin", params_with_aux=None, builder="NiN",
              # No paper recipe is declared; the default ("resnet") augmentation preset.
              recipe=None, augment="resnet")

MODELS = (
    ModelInfo(
        name="nin",
        # conv1 96*363+96 = 34,944; cccp1, cccp2 96*96+96 = 9,312 each; conv2 256*2400+256 =
        # 614,656; cccp3, cccp4 256*256+256 = 65,792 each; conv3 384*2304+384 = 885,120;
        # cccp5, cccp6 384*384+384 = 147,840 each; conv4 1024*3456+1024 = 3,539,968;
        # cccp7 1024*1024+1024 = 1,049,600; cccp8 1000*1024+1000 = 1,025,000 -> 7,595,176.
        params=7_595_176, trainable_params=7_595_176,
        # conv1 54*54*96*363 = 101,616,768; cccp1+2 2*54*54*96*96 = 53,747,712;
        # conv2 27*27*256*2400 = 447,897,600; cccp3+4 2*27*27*256*256 = 95,551,488;
        # conv3 13*13*384*2304 = 149,520,384; cccp5+6 2*13*13*384*384 = 49,840,128;
        # conv4 6*6*1024*3456 = 127,401,984; cccp7 6*6*1024*1024 = 37,748,736;
        # cccp8 6*6*1000*1024 = 36,864,000 -> 1,100,188,800.
        macs=1_100_188_800,
        # The paper reports no ImageNet result.
        reported={},
        default_input_shape=(224, 224, 3), min_input_size=min_input_size("imagenet"),
        preprocessing=caffe_preprocessing(mean_bgr=(104.0, 117.0, 123.0)),
        layout="Caffe model zoo NIN-Imagenet (4 mlpconvs, cccp1-cccp8, GAP)",
        end_points=end_points("imagenet"), stage_outputs=("cccp2", "cccp4", "cccp6", "cccp7"),
        build_kwargs={"config": "imagenet"},
        last_channels=1024,  # include_top=False ends at cccp7
        **_PAPER),
    ModelInfo(
        name="nin_cifar",
        # conv1 192*75+192 = 14,592; cccp1 160*192+160 = 30,880; cccp2 96*160+96 = 15,456;
        # conv2 192*2400+192 = 460,992; cccp3, cccp4 192*192+192 = 37,056 each;
        # conv3 192*1728+192 = 331,968; cccp5 37,056; cccp6 10*192+10 = 1,930 -> 966,986.
        params=966_986, trainable_params=966_986,
        # conv1 32*32*192*75 = 14,745,600; cccp1 32*32*160*192 = 31,457,280;
        # cccp2 32*32*96*160 = 15,728,640; conv2 16*16*192*2400 = 117,964,800;
        # cccp3+4 2*16*16*192*192 = 18,874,368; conv3 8*8*192*1728 = 21,233,664;
        # cccp5 8*8*192*192 = 2,359,296; cccp6 8*8*10*192 = 122,880 -> 222,486,528.
        macs=222_486_528,
        # Table 1: CIFAR-10 test error, NIN + dropout 10.41 %, with augmentation 8.81 %.
        reported={"cifar10_test_error": 10.41, "cifar10_test_error_augmented": 8.81},
        default_input_shape=(32, 32, 3), min_input_size=min_input_size("cifar"),
        default_classes=10,
        # CIFAR-10 channel mean / std on 0-1 pixels (the paper's GCN + ZCA are not built in).
        preprocessing=Preprocessing(mode="cifar", mean=(0.4914, 0.4822, 0.4465),
                                    std=(0.2470, 0.2435, 0.2616), scale=1.0 / 255.0,
                                    crop_fraction=1.0),
        layout="paper section 4.2 CIFAR-10 net (192-160-96, 192-192-192, 192-192-10)",
        end_points=end_points("cifar"), stage_outputs=("cccp2", "cccp4", "cccp5"),
        build_kwargs={"config": "cifar"},
        last_channels=192,  # include_top=False ends at cccp5
        **_PAPER),
)


# --------------------------------------------------------------------------- docs

def paper_table(info):
    """Each mlpconv layer's widths (conv, cccp, cccp) and kernel beside the build; the
    class maps must have ``default_classes`` channels."""
    config = dict(info.build_kwargs).get("config")
    if config not in CONFIGS:
        return None
    rows = []
    for group in mlpconvs(CONFIGS[config]):
        head = group[0]
        widths = "-".join("classes" if r.filters is None else str(r.filters) for r in group)
        checks = tuple(
            Check(Probe("channels", (r.name,)),
                  info.default_classes if r.filters is None else r.filters,
                  f"{r.name} width") for r in group)
        checks += (Check(Probe("kernel", (head.name,)), head.kernel, "kernel"),)
        rows.append(PaperRow((head.name, f"{head.kernel}x{head.kernel} {widths}"), checks))
    return PaperTable("mlpconv layers (conv, cccp, cccp) against the build",
                      ("mlpconv", "paper"), tuple(rows))


# --------------------------------------------------------------------------- tuning

def _table(info):
    return CONFIGS[dict(info.build_kwargs).get("config", "imagenet")]


def _space_rows(info):
    rows = [Choice(f"{r.name}_filters", width_choices(r.filters), r.filters, "table")
            for r in _table(info) if isinstance(r, Conv) and r.filters is not None]
    rows.append(dropout_choice(0.5))  # both releases: dropout 0.5 (section 4.2)
    return tuple(rows)


def _space_kwargs(info, v):
    kwargs = {"dropout": v["dropout"]} if "dropout" in v else {}
    if not any(k.endswith("_filters") for k in v):
        return kwargs
    kwargs["table"] = tuple(
        r._replace(filters=v.get(f"{r.name}_filters", r.filters))
        if isinstance(r, Conv) and r.filters is not None else r
        for r in _table(info))
    return kwargs


SEARCH_SPACE = SearchSpace("filters of every mlpconv layer, dropout", _space_rows,
                           _space_kwargs)


FAMILY = Family(
    name="nin", title="Network in Network (Lin, Chen, Yan 2014)",
    build_module="keras_cnns.models.nin.build", builders=("NiN",),
    models=MODELS, paper_table=paper_table, search_space=SEARCH_SPACE)
