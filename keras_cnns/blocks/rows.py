"""The row vocabulary the families' tables are written in, and its size arithmetic.

A table is a tuple of rows: :class:`Conv`, :class:`Pool`, :class:`LRN`, :class:`Dropout`,
and the block rows (:class:`Fire`, :class:`InceptionSpec`) that keep the grid. Every row
knows its output side (:meth:`output_size`), so one walker, :func:`output_sizes`, gives
the grid after every row and one search, :func:`min_input_size`, the smallest input
that builds. :func:`keras_cnns.blocks.sequence.apply_rows` builds a table into layers.

Pure Python: the family specs use these rows, and reading a spec loads no TensorFlow.
"""

from __future__ import annotations

import math
from typing import NamedTuple, Optional, Tuple, Union

__all__ = ["Conv", "Pool", "LRN", "Dropout", "Fire", "InceptionSpec", "POOL_PADDINGS",
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
    (floor) or ``"same"`` (TF); the older ``ceil_mode`` flag picks ceil or valid. ``None``
    when a valid window does not fit."""
    if size is None:
        return None
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
    :data:`POOL_PADDINGS` (``"ceil"`` rounds up as Caffe and torch's ``ceil_mode``)."""

    name: str
    kind: str = "max"
    size: int = 3
    stride: int = 2
    padding: str = "valid"

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
