"""One walker that builds a table of rows (:mod:`keras_cnns.blocks.rows`) into layers."""

from keras import layers

from keras_cnns.blocks.conv import pool
from keras_cnns.blocks.rows import LRN, Conv, Dropout, Pool


def apply_rows(x, rows, *, conv, lrn=None, handlers=None):
    """Apply ``rows`` in order. ``conv(x, row)`` builds a :class:`Conv` row the family's
    way (conv-ReLU, conv-BN-ReLU, ...), ``lrn(x, row)`` an :class:`LRN` row (``None``: the
    network has none, the row is skipped); :class:`Pool` and :class:`Dropout` rows are
    built here. ``handlers`` maps other row types (``Fire``, ``InceptionSpec``) to
    ``fn(x, row)``. Returns the output and ``{row.name: tensor}`` for every row."""
    table = {Conv: conv, Pool: pool, Dropout: _dropout, LRN: lrn, **(handlers or {})}
    outputs = {}
    for row in rows:
        if type(row) not in table:
            raise TypeError(f"no handler for row {row!r} ({type(row).__name__})")
        fn = table[type(row)]
        if fn is not None:
            x = fn(x, row)
        outputs[row.name] = x
    return x, outputs


def _dropout(x, row):
    return layers.Dropout(row.rate, name=row.name)(x)
