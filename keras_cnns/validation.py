"""Argument checks shared by every builder, layer and command.

One rule throughout: a value of the wrong *type* raises :class:`TypeError`, a value of
the right type outside what is allowed raises :class:`ValueError`; both name the
argument and say what is allowed. numpy integers and floats count as ints and floats
(``np.int64(10)`` classes work); ``bool`` is never a number here.

Pure Python: importing this module loads neither TensorFlow nor Keras.
"""

from __future__ import annotations

import numbers
import os

__all__ = ["is_int", "check_int", "check_positive_int", "check_float", "check_rate",
           "check_probability", "check_bool", "check_choice", "check_str", "check_ints",
           "check_path", "describe"]


def describe(value):
    """The type name used in messages."""
    return type(value).__name__


def is_int(value):
    return isinstance(value, numbers.Integral) and not isinstance(value, bool) and \
        not _is_numpy_bool(value)


def _is_numpy_bool(value):
    return type(value).__name__ == "bool_"


def check_int(arg, value, *, minimum=None, maximum=None):
    """``value`` as a Python int within ``[minimum, maximum]``."""
    if not is_int(value):
        raise TypeError(f"{arg} must be an int, got {describe(value)} {value!r}")
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(f"{arg} must be >= {minimum}, got {value}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{arg} must be <= {maximum}, got {value}")
    return value


def check_positive_int(arg, value):
    return check_int(arg, value, minimum=1)


def check_float(arg, value, *, minimum=None, maximum=None, min_open=False, max_open=False):
    """``value`` (an int or float, numpy's included) as a float within the bounds;
    ``min_open`` / ``max_open`` exclude the bound itself."""
    if isinstance(value, bool) or _is_numpy_bool(value) or not isinstance(value, numbers.Real):
        raise TypeError(f"{arg} must be a number, got {describe(value)} {value!r}")
    value = float(value)
    low = "(" if min_open else "["
    high = ")" if max_open else "]"
    lo = "-inf" if minimum is None else f"{minimum:g}"
    hi = "inf" if maximum is None else f"{maximum:g}"
    interval = f"{low}{lo}, {hi}{high}"
    if value != value:  # NaN
        raise ValueError(f"{arg} must be a number in {interval}, got nan")
    if minimum is not None and (value < minimum or (min_open and value == minimum)):
        raise ValueError(f"{arg} must be in {interval}, got {value!r}")
    if maximum is not None and (value > maximum or (max_open and value == maximum)):
        raise ValueError(f"{arg} must be in {interval}, got {value!r}")
    return value


def check_rate(arg, value):
    """A dropout-like rate in ``[0, 1)``."""
    return check_float(arg, value, minimum=0.0, maximum=1.0, max_open=True)


def check_probability(arg, value):
    """A survival-like probability in ``(0, 1]``."""
    return check_float(arg, value, minimum=0.0, maximum=1.0, min_open=True)


def check_bool(arg, value):
    if isinstance(value, bool):
        return value
    if _is_numpy_bool(value):
        return bool(value)
    raise TypeError(f"{arg} must be True or False, got {describe(value)} {value!r}")


def check_str(arg, value):
    if not isinstance(value, str):
        raise TypeError(f"{arg} must be a string, got {describe(value)} {value!r}")
    return value


def check_choice(arg, value, allowed):
    """``value`` if it is one of ``allowed``. A value whose type none of the allowed
    values has is a TypeError (``variant=3`` where strings are expected)."""
    allowed = tuple(allowed)
    try:
        if value in allowed:
            return value
    except TypeError:  # unhashable or incomparable
        pass
    shown = ", ".join(map(repr, allowed))
    given = [a for a in allowed if a is not None]
    if given and value is not None:
        if all(_is_number(a) for a in given):
            right_type = _is_number(value)
        else:
            right_type = isinstance(value, tuple({type(a) for a in given}))
        if not right_type:
            raise TypeError(f"{arg} must be one of {shown}; got {describe(value)} {value!r}")
    raise ValueError(f"{arg} must be one of {shown}; got {value!r}")


def _is_number(value):
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


def check_ints(arg, value, *, length=None, minimum=1):
    """A tuple of ints (each ``>= minimum``), of ``length`` if given."""
    if isinstance(value, (str, bytes)) or not isinstance(value, (tuple, list)):
        raise TypeError(f"{arg} must be a tuple of ints, got {describe(value)} {value!r}")
    if length is not None and len(value) != length:
        raise ValueError(f"{arg} must have {length} entries, got {len(value)}: {tuple(value)!r}")
    out = []
    for v in value:
        if not is_int(v):
            raise TypeError(f"{arg} must hold ints, got {describe(v)} {v!r} in {tuple(value)!r}")
        if minimum is not None and v < minimum:
            raise ValueError(f"{arg} entries must be >= {minimum}, got {tuple(value)!r}")
        out.append(int(v))
    return tuple(out)


def check_path(arg, value, *, must_exist=False, kind=None):
    """A filesystem path (str or os.PathLike) as a string. ``kind="file"`` / ``"dir"``
    with ``must_exist`` also checks what is there."""
    if not isinstance(value, (str, os.PathLike)):
        raise TypeError(f"{arg} must be a path (str or os.PathLike), got {describe(value)}")
    path = os.fspath(value)
    if path == "":
        raise ValueError(f"{arg} must be a non-empty path")
    if must_exist:
        if not os.path.exists(path):
            raise ValueError(f"{arg}: {path!r} does not exist")
        if kind == "file" and not os.path.isfile(path):
            raise ValueError(f"{arg}: {path!r} is a folder, expected a file")
        if kind == "dir" and not os.path.isdir(path):
            raise ValueError(f"{arg}: {path!r} is a file, expected a folder")
    return path
