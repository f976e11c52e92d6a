"""LeNet-5: LeCun, Bottou, Bengio, Haffner, "Gradient-Based Learning Applied to Document
Recognition" (Proc. IEEE 1998), section II.B and Fig. 2.

Everything about the family that needs no TensorFlow: Fig. 2 as data, the registry
entry, the paper's table for the docs and the tuning space. ``build.py`` walks the
same table.
"""

from keras_cnns.blocks.rows import Conv, Pool, min_input_size as _min_size
from keras_cnns.metadata import (Check, Choice, Family, ModelInfo, PaperRow, PaperTable,
                                 Preprocessing, Probe, SearchSpace, dropout_choice,
                                 width_choices)

# Fig. 2 as data: (name, filters, kernel, subsampling after it) for the convolutions;
# each but C5 is followed by a 2x2/2 subsampling layer. The ``table=`` argument of
# LeNet5 takes rows of this form (only the filter counts may change).
CONV_TABLE = (("C1", 6, 5, "S2"), ("C3", 16, 5, "S4"), ("C5", 120, 5, None))
F6_UNITS = 84
SUBSAMPLINGS = ("avg", "max")
END_POINTS = ("C1", "S2", "C3", "S4", "C5")


def trunk(table=CONV_TABLE, subsampling="avg"):
    """Fig. 2 as rows: valid 5x5 convolutions and 2x2/2 subsamplings (section II.B)."""
    rows = []
    for conv, filters, kernel, pool in table:
        rows.append(Conv(conv, filters, kernel, 1, "valid"))
        if pool:
            rows.append(Pool(pool, subsampling, 2, 2, "valid"))
    return tuple(rows)


# C5's 5x5 needs S4 >= 5 -> C3 >= 10 -> S2 >= 14 -> C1 >= 28 -> input >= 32.
MIN_INPUT_SIZE = _min_size(trunk())


# --------------------------------------------------------------------------- entries

MODELS = (
    ModelInfo(
        name="lenet5",
        paper="Gradient-Based Learning Applied to Document Recognition",
        authors="LeCun, Bottou, Bengio, Haffner", year=1998, arxiv=None,
        default_input_shape=(32, 32, 1), min_input_size=MIN_INPUT_SIZE, default_classes=10,
        # C1 6*(25+1)=156; C3 16*(150+1)=2,416; C5 120*(400+1)=48,120; F6 84*(120+1)=10,164;
        # output 10*(84+1)=850 -> 61,706.
        params=61_706, params_with_aux=None, trainable_params=61_706,
        # C1 28*28*6*25=117,600; C3 10*10*16*150=240,000; C5 120*400=48,000;
        # F6 120*84=10,080; output 84*10=840 -> 416,520.
        macs=416_520,
        # Section III.C / Fig. 14: 0.95 % test error on MNIST, 0.8 % with distortions.
        reported={"mnist_test_error": 0.95, "mnist_test_error_distortions": 0.8},
        # Section II.A: background -0.1, foreground 1.175 (mean ~0, variance ~1), i.e.
        # x * 1.275/255 - 0.1 for a bright digit on a dark background; grey 32x32, no crop.
        preprocessing=Preprocessing(mode="lenet", mean=(0.1,), std=(1.0,), scale=1.275 / 255.0,
                                    crop_fraction=1.0, grayscale=True),
        family="lenet", layout="paper Fig. 2, full C3 table, parameter-free subsampling",
        end_points=END_POINTS, stage_outputs=("C1", "C3", "C5"),
        build_kwargs={"subsampling": "avg"},
        # Section III.C's distortions (the "lenet" preset); no paper recipe is declared.
        builder="LeNet5", augment="lenet", recipe=None,
        last_channels=CONV_TABLE[-1][1],  # include_top=False ends at C5
    ),
)


# --------------------------------------------------------------------------- docs

def paper_table(info):
    """Fig. 2's convolutions beside what the build has (maps and kernel)."""
    rows = tuple(
        PaperRow((name, f"{f} @ {k}x{k}"),
                 (Check(Probe("channels", (name,)), f, "built"),
                  Check(Probe("kernel", (name, f"{name}_conv")), k, "kernel")))
        for name, f, k, _ in CONV_TABLE)
    return PaperTable("Paper Fig. 2 against the build", ("layer", "maps @ kernel"), rows)


# --------------------------------------------------------------------------- tuning

def _space_rows(info):
    # Fig. 2: C1 6, C3 16, C5 120 maps; offered at half, the paper's and double. Dropout
    # before F6 and the output: the paper has none (0.0, its default), the builder offers it.
    rows = tuple(Choice(f"{conv}_filters", width_choices(filters, (0.5, 1.0, 2.0)), filters,
                        "table")
                 for conv, filters, _, _ in CONV_TABLE)
    return rows + (dropout_choice(0.0),)


def _space_kwargs(info, v):
    kwargs = {}
    if any(f"{row[0]}_filters" in v for row in CONV_TABLE):
        kwargs["table"] = tuple((conv, v.get(f"{conv}_filters", filters), kernel, pool)
                                for conv, filters, kernel, pool in CONV_TABLE)
    if "dropout" in v:
        kwargs["dropout"] = v["dropout"]
    return kwargs


SEARCH_SPACE = SearchSpace("filters of C1, C3, C5, dropout before F6 and the output",
                           _space_rows, _space_kwargs)


FAMILY = Family(
    name="lenet", title="LeNet-5 (LeCun et al. 1998)",
    build_module="keras_cnns.models.lenet.build", builders=("LeNet5",),
    models=MODELS, paper_table=paper_table, search_space=SEARCH_SPACE)
