"""The row vocabulary the families' tables are written in, and its size arithmetic.

A table is a tuple of rows: :class:`Conv`, :class:`Pool`, :class:`LRN`, :class:`Dropout`,
the block rows (:class:`Fire`, :class:`InceptionSpec`, :class:`FractalBlock`) that keep
the grid, :class:`Parallel` branches concatenated (Inception v2 / v3) and the stages
of residual networks (:class:`ResidualStage`, wired as a :class:`ResidualLayout`). Every row
knows its output side (:meth:`output_size`), so one walker, :func:`output_sizes`, gives
the grid after every row and one search, :func:`min_input_size`, the smallest input
that builds. :func:`keras_cnns.blocks.sequence.apply_rows` builds a table into layers.

Pure Python: the family specs use these rows, and reading a spec loads no TensorFlow.
"""

from __future__ import annotations

import dataclasses
import math
from typing import NamedTuple, Optional, Tuple, Union

__all__ = ["Conv", "Pool", "LRN", "Dropout", "Fire", "InceptionSpec", "Parallel",
           "FractalBlock", "ResidualStage", "ResidualLayout", "POOL_PADDINGS",
           "ceil_padding", "same_or_ceil_padding", "conv_output_size", "pool_output_size",
           "output_sizes", "min_input_size"]

Padding = Union[str, int, Tuple[int, int]]
POOL_PADDINGS = ("valid", "same", "ceil")


def _axis(value, axis):
    return value[axis] if isinstance(value, (tuple, list)) else value


def ceil_padding(size, pool_size, strides):
    """Bottom/right padding that makes a valid pool round up, as Caffe and torch's
    ``ceil_mode=True`` do: ``out = ceil((size - k) / s) + 1``, the last window starting
    inside the input. ``None`` sizes give ``None``."""
    if size is None:
        return None
    out = max(math.ceil((size - pool_size) / strides), 0) + 1
    if (out - 1) * strides >= size:  # the last window must start inside the input
        out -= 1
    return max((out - 1) * strides + pool_size - size, 0)


same_or_ceil_padding = ceil_padding  # the name blocks.conv exported


def conv_output_size(size, kernel, stride=1, padding="valid"):
    """Side after a convolution: ``padding`` is ``"valid"``, ``"same"`` (TF: ceil of
    size / stride) or symmetric zero padding in pixels; ``None`` when the window does
    not fit (the layer cannot be built) or the size is unknown."""
    if size is None:
        return None
    if padding == "same":
        return -(-size // stride)
    pad = 0 if padding == "valid" else 2 * padding
    if size + pad < kernel:
        return None
    return (size + pad - kernel) // stride + 1


def pool_output_size(size, pool_size=3, strides=2, ceil_mode=True, padding=None):
    """Side after a pool: ``padding`` ``"ceil"`` (Caffe / torch ``ceil_mode``), ``"valid"``
    (floor), ``"same"`` (TF) or an int, explicit symmetric zero padding; the older
    ``ceil_mode`` flag picks ceil or valid. ``None`` when a valid window does not fit."""
    if size is None:
        return None
    if padding is not None and not isinstance(padding, str):
        return conv_output_size(size, pool_size, strides, padding)
    padding = padding or ("ceil" if ceil_mode else "valid")
    if padding == "ceil":
        return (size + ceil_padding(size, pool_size, strides) - pool_size) // strides + 1
    if padding == "same":
        return -(-size // strides)
    return None if size < pool_size else (size - pool_size) // strides + 1


class Conv(NamedTuple):
    """A convolution (the family decides conv-ReLU or conv-BN-ReLU): ``kernel`` an int
    or ``(kh, kw)``; ``padding`` ``"same"``, ``"valid"`` or explicit zero padding (an
    int, or ``(ph, pw)``); ``groups`` splits it into towers (AlexNet's two GPUs);
    ``bias_init`` the initial bias where the paper sets one (AlexNet section 5: 1)."""

    name: str
    filters: Optional[int]
    kernel: Union[int, Tuple[int, int]]
    stride: int = 1
    padding: Padding = "same"
    groups: int = 1
    bias_init: Optional[float] = None

    def output_size(self, size, axis=0):
        return conv_output_size(size, _axis(self.kernel, axis), self.stride,
                                _axis(self.padding, axis) if not isinstance(self.padding, str)
                                else self.padding)


class Pool(NamedTuple):
    """A pooling window: ``kind`` ``"max"`` or ``"avg"``; ``padding`` one of
    :data:`POOL_PADDINGS` (``"ceil"`` rounds up as Caffe and torch's ``ceil_mode``) or an
    int, explicit symmetric zero padding (torch's ``padding=``; ResNet's pool1)."""

    name: str
    kind: str = "max"
    size: int = 3
    stride: int = 2
    padding: Union[str, int] = "valid"

    def output_size(self, size, axis=0):
        return pool_output_size(size, self.size, self.stride, padding=self.padding)


class LRN(NamedTuple):
    """Local response normalisation (the family holds the constants); keeps the grid."""

    name: str

    def output_size(self, size, axis=0):
        return size


class Dropout(NamedTuple):
    name: str
    rate: float = 0.5

    def output_size(self, size, axis=0):
        return size


class Fire(NamedTuple):
    """SqueezeNet's fire module (Iandola et al. 2016, Fig. 1): squeeze 1x1, expand 1x1
    and 3x3 (padded); keeps the grid."""

    name: str
    squeeze: int
    expand1x1: int
    expand3x3: int

    def output_size(self, size, axis=0):
        return size


class InceptionSpec(NamedTuple):
    """One row of GoogLeNet's Table 1: the filter count of each branch; keeps the grid."""

    name: str
    b1x1: int
    b3x3_reduce: int
    b3x3: int
    b5x5_reduce: int
    b5x5: int
    pool_proj: int

    @property
    def out_channels(self):
        return self.b1x1 + self.b3x3 + self.b5x5 + self.pool_proj

    def scaled(self, multiplier):
        """The row with every width multiplied (for width searches), at least 1."""
        return self._replace(**{f: max(1, int(round(getattr(self, f) * multiplier)))
                                for f in self._fields[1:]})

    def output_size(self, size, axis=0):
        return size


class Parallel(NamedTuple):
    """Branches of rows on one input, concatenated on channels; ``name`` is the
    concatenation. An Inception module of BN-Inception or Inception v3 ("Rethinking",
    Figures 5-7 and 10), or Figure 7's 1x3 | 3x1 split inside a branch (a nested
    :class:`Parallel`). Every branch must end on the same grid (else nothing concatenates:
    ``None``)."""

    name: str
    branches: Tuple[tuple, ...]

    def output_size(self, size, axis=0):
        ends = set()
        for branch in self.branches:
            side = size
            for row in branch:
                side = row.output_size(side, axis)
                if side is None or side < 1:
                    return None
            ends.add(side)
        return ends.pop() if len(ends) == 1 else None


class FractalBlock(NamedTuple):
    """FractalNet's block ``f_C`` (Larsson et al. 2016, Figure 1): ``columns`` columns of
    3x3 ``filters``-wide convolutions (padded), ``dropout`` after each; keeps the grid."""

    name: str
    filters: int
    columns: int
    dropout: float = 0.0

    def output_size(self, size, axis=0):
        return size


class ResidualStage(NamedTuple):
    """One stage of a residual network, written as the papers' tables write it (He et
    al. 2015 Table 1; Xie et al. 2016 Table 1; Zagoruyko & Komodakis 2016 Table 1):
    ``blocks`` times the block whose branch is ``convs``, its ``(kernel, filters)`` rows
    (Table 1's ``[3x3, 64; 3x3, 64] x 2`` is ``ResidualStage("conv2", ((3, 64), (3, 64)),
    2)``). The stage halves the grid by ``stride`` (in its first block, or where the
    :class:`ResidualLayout` puts it); ``groups`` splits its kxk convolutions into that
    many paths (ResNeXt's cardinality C). Blocks are named ``{name}_block{i}``."""

    name: str
    convs: Tuple[Tuple[int, int], ...]
    blocks: int
    stride: int = 1
    groups: int = 1

    @property
    def out_channels(self):
        return self.convs[-1][1]

    def text(self):
        """The table cell: ``[1x1, 128; 3x3, 128, C=32; 1x1, 256] x 3``."""
        rows = [f"{k}x{k}, {f}" + (f", C={self.groups}" if k > 1 and self.groups > 1 else "")
                for k, f in self.convs]
        return f"[{'; '.join(rows)}] x {self.blocks}"

    def output_size(self, size, axis=0):
        # kxk convolutions padded by (k - 1) / 2 and 1x1 ones: ceil(size / stride).
        return None if size is None else -(-size // self.stride)


@dataclasses.dataclass(frozen=True)
class ResidualLayout:
    """How the one residual block (:func:`keras_cnns.blocks.residual.residual_block`)
    wires a :class:`ResidualStage`'s branch and shortcut; the releases differ here.

    - ``preact``: BN-ReLU before every convolution and none after the add (He et al.
      2016, Figure 4e; Wide ResNets); otherwise conv-BN(-ReLU) and a ReLU after the add.
    - ``bias``: convolution biases: ``True`` (Caffe, keras.applications' v1), ``False``
      (torch) or ``"unnormalised"`` (only where no BN follows: keras.applications' v2).
    - ``bn_epsilon``: keras.applications' 1.001e-5 or torch's 1e-5.
    - ``stride_on``: which branch convolution strides: ``"first"`` (the paper and its
      Caffe release) or ``"spatial"`` (the first kxk one: torch's "ResNet v1.5").
    - ``downsample``: which block strides: the stage's ``"first"`` (the papers) or the
      last block of the stage ``"before"`` (keras.applications' ResNetV2).
    - ``pad``: explicit symmetric padding before kxk convolutions where they stride
      (``"strided"``: TF's "same" would pad (0, 1)) or before all of them (``"all"``).
    - ``widen`` / ``subsample``: how the shortcut meets more channels and a stride (He
      et al. 2015 section 3.3): ``"projection"``, a 1x1 convolution (+ BN), option B;
      or parameter-free, ``"zeros"`` (zero-padded channels, option A) and ``"pool"``
      (every s-th pixel, a 1x1/s max pool as keras.applications' v2).
    """

    preact: bool = False
    bias: Union[bool, str] = True
    bn_epsilon: float = 1.001e-5
    stride_on: str = "first"
    downsample: str = "first"
    pad: str = "strided"
    widen: str = "projection"
    subsample: str = "projection"

    def __post_init__(self):
        for field, allowed in (("bias", (True, False, "unnormalised")),
                               ("stride_on", ("first", "spatial")),
                               ("downsample", ("first", "before")), ("pad", ("strided", "all")),
                               ("widen", ("projection", "zeros")),
                               ("subsample", ("projection", "pool"))):
            value = getattr(self, field)
            if not any(value is a or (isinstance(a, str) and value == a) for a in allowed):
                raise ValueError(f"ResidualLayout.{field} must be one of {allowed}, "
                                 f"got {value!r}")

    def use_bias(self, normalised):
        """Whether a convolution has a bias (``normalised``: a BN follows it)."""
        return self.bias is True or (self.bias == "unnormalised" and not normalised)

    def block_strides(self, stages):
        """Each stage's strides, block by block."""
        strides = [[1] * stage.blocks for stage in stages]
        for i, stage in enumerate(stages):
            if self.downsample == "before" and i > 0:
                strides[i - 1][-1] = stage.stride
            else:
                strides[i][0] = stage.stride
        return tuple(tuple(s) for s in strides)


def output_sizes(size, rows):
    """``{row.name: (h, w)}`` after every row of ``rows`` for an input of side ``size``
    (an int, or ``(h, w)``), or ``None`` when some window does not fit."""
    h, w = (size, size) if isinstance(size, int) else size
    out = {}
    for row in rows:
        h, w = row.output_size(h, 0), row.output_size(w, 1)
        if h is None or w is None or h < 1 or w < 1:
            return None
        out[row.name] = (h, w)
    return out


def min_input_size(rows, need=1, start=1, limit=4096):
    """The smallest square side for which every row of ``rows`` builds and the last grid
    is at least ``need`` (e.g. an aux head's 5x5 pool)."""
    for size in range(start, limit + 1):
        sizes = output_sizes(size, rows)
        if sizes and min(list(sizes.values())[-1]) >= need:
            return size
    raise ValueError(f"no input side up to {limit} builds these rows")
