"""FractalNet: Larsson, Maire, Shakhnarovich, "FractalNet: Ultra-Deep Neural Networks
without Residuals" (2016), the CIFAR configuration of section 4.

Everything about the family that needs no TensorFlow: the configuration as rows (a
:class:`~keras_cnns.blocks.rows.FractalBlock` and a 2x2 max pool per block), the registry
entry, errata and the tuning space. ``build.py`` walks the same rows.
"""

from keras_cnns.blocks.rows import FractalBlock, Pool, min_input_size as _min_size
from keras_cnns.metadata import (Choice, Erratum, Family, ModelInfo, Preprocessing, SearchSpace,
                                 dropout_choice, width_choices)

CHANNELS = (64, 128, 256, 512, 512)        # per block, section 4
BLOCK_DROPOUT = (0.0, 0.1, 0.2, 0.3, 0.4)  # per block, section 4 ("+ dropout")
COLUMNS = 4                                # C, section 4: 40 convolutions on the deepest path
LOCAL_DROP = 0.15                          # section 4: local drop-path at every join
GLOBAL_DROP = 0.5                          # section 3.1: half the mini-batches, one column
BN_EPSILON = 1e-5


def default_dropout(n_blocks):
    """Section 4's rates, growing by 10 % per block: 0, 0.1, 0.2, ... (at most 0.9)."""
    return tuple(round(min(0.1 * b, 0.9), 2) for b in range(n_blocks))


def trunk(channels=CHANNELS, columns=COLUMNS, dropout=BLOCK_DROPOUT):
    """Section 4 as rows: each block ``f_C`` (keeps the grid), then a 2x2/2 max pool."""
    rows = []
    for b, (filters, rate) in enumerate(zip(channels, dropout), start=1):
        rows += [FractalBlock(f"block{b}", filters, columns, rate),
                 Pool(f"block{b}_pool", "max", 2, 2, "valid")]
    return tuple(rows)


def min_input_size(channels=CHANNELS):
    """The smallest side every pool halves to at least 1x1: 2^B for B blocks (32)."""
    return _min_size(trunk(channels, dropout=default_dropout(len(channels))))


# --------------------------------------------------------------------------- entries

# Parameter count at the default (C = 4, 32x32x3, 10 classes). A block has 2^C - 1 = 15
# convolutions: C = 4 read the block input (c_in -> w), 11 read a w-channel tensor.
# Each conv: 9 * c_in * w weights (no bias); its BN: 2w trainable + 2w moving statistics.
#   block 1 (3 -> 64):    4 * 9*3*64    + 11 * 9*64*64    =     6,912 +    405,504 =    412,416
#   block 2 (64 -> 128):  4 * 9*64*128  + 11 * 9*128*128  =   294,912 +  1,622,016 =  1,916,928
#   block 3 (128 -> 256): 4 * 9*128*256 + 11 * 9*256*256  = 1,179,648 +  6,488,064 =  7,667,712
#   block 4 (256 -> 512): 4 * 9*256*512 + 11 * 9*512*512  = 4,718,592 + 25,952,256 = 30,670,848
#   block 5 (512 -> 512): 15 * 9*512*512                                            = 35,389,440
#   conv weights 76,057,344; BN channels 15 * (64+128+256+512+512) = 22,080, so 44,160
#   trainable and 44,160 moving; classifier 512*10 + 10 = 5,130.
#   trainable 76,057,344 + 44,160 + 5,130 = 76,106,634; total 76,150,794.
# Multiply-adds at 32x32 (conv only, + 5,120 dense): per block 9 * HW * w * (4 c_in + 11 w)
#   at HW = 1024, 256, 64, 16, 4 (w = 64, 128, 256, 512, 512):
#   422,313,984 + 3 x 490,733,568 + 141,557,760 + 5,120 = 2,036,077,568.
MODELS = (
    ModelInfo(
        name="fractalnet", paper="FractalNet: Ultra-Deep Neural Networks without Residuals",
        authors="Larsson, Maire, Shakhnarovich", year=2016, arxiv="1605.07648",
        family="fractalnet", default_input_shape=(32, 32, 3), min_input_size=min_input_size(),
        params=76_150_794, params_with_aux=None, trainable_params=76_106_634,
        macs=2_036_077_568, default_classes=10,
        reported={"cifar100_plusplus_20layers": 22.85},  # Table 1, C=3, drop-path + dropout
        preprocessing=Preprocessing(mode="unit", scale=1 / 255, crop_fraction=1.0),
        layout="paper section 4 (B=5, C=4, 64-128-256-512-512, mean joins, drop-path)",
        end_points=tuple(f"block{b}_{k}" for b in range(1, len(CHANNELS) + 1)
                         for k in ("join8", "pool")),
        stage_outputs=tuple(f"block{b}_join8" for b in range(1, len(CHANNELS) + 1)),
        builder="FractalNet", last_channels=CHANNELS[-1], build_kwargs={}),
)


# --------------------------------------------------------------------------- docs

ERRATA = (
    Erratum("Table 1 quotes 22.9 M parameters for the 40-layer FractalNet (C = 4) and 38.6 M "
            "for the 20-layer one (C = 3); neither follows from the widths section 4 states "
            "(64, 128, 256, 512, 512): at C = 4 block 5 alone holds 35.4 M convolution "
            "weights and the network 76.1 M parameters, so the paper's nets must have been "
            "narrower than written. `fractalnet` is the configuration as written."),
)


# --------------------------------------------------------------------------- tuning

def _space_rows(info):
    rows = [Choice(f"block{i}_filters", width_choices(c, (0.125, 0.25, 0.5, 1.0)), c, "channels")
            for i, c in enumerate(CHANNELS, start=1)]
    # Section 4: dropout grows by block, 0 % ... 40 %; the last block's rate, linear.
    rows.append(dropout_choice(BLOCK_DROPOUT[-1], values=(0.0, 0.2, 0.4, 0.5)))
    return tuple(rows)


def _space_kwargs(info, v):
    kwargs = {}
    n = len(CHANNELS)
    if any(f"block{i}_filters" in v for i in range(1, n + 1)):
        kwargs["channels"] = tuple(v.get(f"block{i}_filters", c)
                                   for i, c in enumerate(CHANNELS, start=1))
    if "dropout" in v:
        last = v["dropout"]
        kwargs["dropout"] = tuple(round(last * b / (n - 1), 4) for b in range(n))
    return kwargs


SEARCH_SPACE = SearchSpace("filters per block, dropout", _space_rows, _space_kwargs)


FAMILY = Family(
    name="fractalnet", title="FractalNet (Larsson et al. 2016)",
    build_module="keras_cnns.models.fractalnet.build", builders=("FractalNet",),
    models=MODELS, errata=ERRATA, search_space=SEARCH_SPACE)
