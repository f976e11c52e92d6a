"""Test-time multi-crop views, in-graph and vectorised.

:func:`multi_crop` turns one uint8 image ``[H, W, 3]`` into float32 crops
``[n, s, s, 3]`` in 0-255 (unnormalised). It resizes the image once (antialiased
bilinear) so that its shorter side is the scheme's largest scale, builds the table of
crop boxes with tensor arithmetic (no Python loop at run time) and samples every crop,
mirrors included, with ONE ``tf.image.crop_and_resize`` call. Crops at the largest
scale are exact pixel copies of the resized image; crops at smaller scales and the
"whole square" views are bilinear resamplings of it (like OpenCV's ``INTER_LINEAR``
of the Caffe era, no antialiasing: at most a 352/224 reduction).

Geometry (``s`` = crop size, default 224; every scale grows by ``s / 224``). "Resize to
shorter side S" means an image of ``S x round(L * S / m)`` (``m``, ``L`` = shorter and
longer side); integer offsets, centres rounded down as ``(D - s) // 2``.

Order of the crops (mirrors are always the second half, in the same order):

- ``"center"`` (1): shorter side ``round(s / crop_fraction)`` (default 256 for 224),
  the central ``s x s`` crop.
- ``"alexnet-10"`` (10): shorter side 256; top-left, top-right, bottom-left,
  bottom-right, centre; then the same five mirrored.
  Index = ``mirror * 5 + view``.
- ``"googlenet-144"`` (144): shorter sides 256, 288, 320, 352; at each, three squares
  of side S along the longer side (left, centre, right for a landscape image; top,
  centre, bottom for a portrait one); in each square six views: top-left, top-right,
  bottom-left, bottom-right, centre (``s x s``), and the whole square resized to
  ``s``; then all 72 mirrored. Index = ``mirror * 72 + (scale * 3 + square) * 6 + view``.
"""

from __future__ import annotations

import tensorflow as tf

from keras_cnns.validation import check_positive_int

__all__ = ["multi_crop", "SCHEMES", "CROP_SCHEMES", "num_crops", "check_crop_size",
           "scheme_scales", "VIEW_NAMES"]

# Schemes multi_crop implements; "vgg-dense" is whole-image evaluation (tta.py).
CROP_SCHEMES = ("center", "alexnet-10", "googlenet-144")
SCHEMES = CROP_SCHEMES + ("vgg-dense",)
REFERENCE_CROP = 224
ALEXNET_SCALE = 256
GOOGLENET_SCALES = (256, 288, 320, 352)
DEFAULT_CROP_FRACTION = 224 / 256
VIEW_NAMES = {
    "center": ("centre",),
    "alexnet-10": ("top-left", "top-right", "bottom-left", "bottom-right", "centre"),
    "googlenet-144": ("top-left", "top-right", "bottom-left", "bottom-right", "centre",
                      "whole square"),
}
_NUM = {"center": 1, "alexnet-10": 10, "googlenet-144": 144}


def check_crop_size(crop_size, default=REFERENCE_CROP):
    """``crop_size`` as an int (``None`` -> ``default``), or ValueError."""
    if crop_size is None:
        return default
    return check_positive_int("crop_size", crop_size)


def check_scheme(scheme, allowed=CROP_SCHEMES):
    if scheme not in allowed:
        raise ValueError(f"scheme must be one of {allowed}, got {scheme!r}")
    return scheme


def num_crops(scheme):
    """Crops per image: 1, 10 or 144."""
    return _NUM[check_scheme(scheme)]


def scale_size(size, crop_size):
    """A figure quoted for 224 crops (256, 352, 480, 512...) at another crop size."""
    return int(round(size * crop_size / REFERENCE_CROP))


def scheme_scales(scheme, crop_size=None, crop_fraction=None):
    """The shorter-side sizes a scheme resizes to, at ``crop_size``."""
    check_scheme(scheme)
    c = check_crop_size(crop_size)
    if scheme == "center":
        fraction = DEFAULT_CROP_FRACTION if crop_fraction is None else float(crop_fraction)
        if not 0.0 < fraction <= 1.0:
            raise ValueError(f"crop_fraction must be in (0, 1], got {crop_fraction!r}")
        return (int(round(c / fraction)),)
    if scheme == "alexnet-10":
        return (scale_size(ALEXNET_SCALE, c),)
    return tuple(scale_size(s, c) for s in GOOGLENET_SCALES)


def _regions(scheme, h, w, scales, c):
    """Crop regions ``(y0, x0, size_y, size_x)`` in each scale's resized-image pixels,
    with that image's ``(height, width)``; all float32 vectors of length n/2."""
    S = tf.constant(scales, tf.float32)                     # [k]
    m = tf.minimum(h, w)
    hs = tf.round(h * S / m)                                # resized height per scale
    ws = tf.round(w * S / m)
    c = tf.constant(float(c))
    if scheme in ("center", "alexnet-10"):
        dy, dx = hs - c, ws - c                             # [1]
        if scheme == "center":
            ys, xs = tf.floor(dy / 2), tf.floor(dx / 2)
        else:
            zero = tf.zeros_like(dy)
            ys = tf.concat([zero, zero, dy, dy, tf.floor(dy / 2)], 0)
            xs = tf.concat([zero, dx, zero, dx, tf.floor(dx / 2)], 0)
        n = tf.shape(ys)[0]
        size = tf.fill([n], c)
        return ys, xs, size, size, tf.fill([n], hs[0]), tf.fill([n], ws[0])
    # googlenet-144: [k scales, 3 squares, 6 views].
    dy, dx = hs - S, ws - S                                 # one of them is 0
    sq_y = tf.stack([tf.zeros_like(dy), tf.floor(dy / 2), dy], 1)     # [k, 3]
    sq_x = tf.stack([tf.zeros_like(dx), tf.floor(dx / 2), dx], 1)
    e = S - c                                               # [k]
    z = tf.zeros_like(e)
    view_y = tf.stack([z, z, e, e, tf.floor(e / 2), z], 1)  # [k, 6]
    view_x = tf.stack([z, e, z, e, tf.floor(e / 2), z], 1)
    view_size = tf.stack([tf.fill(tf.shape(e), c)] * 5 + [S], 1)
    ys = sq_y[:, :, None] + view_y[:, None, :]              # [k, 3, 6]
    xs = sq_x[:, :, None] + view_x[:, None, :]
    size = tf.broadcast_to(view_size[:, None, :], tf.shape(ys))
    full_h = tf.broadcast_to(hs[:, None, None], tf.shape(ys))
    full_w = tf.broadcast_to(ws[:, None, None], tf.shape(ys))
    flat = [tf.reshape(t, [-1]) for t in (ys, xs, size, size, full_h, full_w)]
    return tuple(flat)


def multi_crop(image, scheme, crop_size=None, crop_fraction=None):
    """The crops of one image: uint8 (or 0-255 float) ``[H, W, 3]`` -> float32
    ``[n, s, s, 3]`` in 0-255, unnormalised. See the module docstring for the geometry
    and the order. ``crop_size`` defaults to 224; ``crop_fraction`` only concerns
    ``"center"`` (default 224/256). Any image size works: small images are upscaled.
    """
    check_scheme(scheme)
    c = check_crop_size(crop_size)
    scales = scheme_scales(scheme, c, crop_fraction)
    image = tf.convert_to_tensor(image)
    if image.shape.rank != 3 or (image.shape[-1] is not None and image.shape[-1] != 3):
        raise ValueError(f"image must be [H, W, 3], got shape {image.shape}")
    if any(d == 0 for d in image.shape[:2]):
        raise ValueError(f"image must be at least 1x1 pixels, got shape {image.shape}")
    x = tf.cast(image, tf.float32)
    shape = tf.shape(x)
    # Inside a pipeline the size is only known at run time: an empty image fails there.
    x = tf.ensure_shape(x, [None, None, 3])
    tf.debugging.assert_positive(tf.reduce_min(shape[:2]), message="image must be at "
                                 "least 1x1 pixels")
    h, w = tf.cast(shape[0], tf.float32), tf.cast(shape[1], tf.float32)
    # One antialiased resize to the largest scale; every crop samples this image.
    big = float(max(scales))
    m = tf.minimum(h, w)
    hw = tf.maximum(tf.round(h * big / m), big)
    ww = tf.maximum(tf.round(w * big / m), big)
    work = tf.image.resize(x[None], tf.cast(tf.stack([hw, ww]), tf.int32), method="bilinear",
                           antialias=True)
    ys, xs, sy, sx, full_h, full_w = _regions(scheme, h, w, scales, c)
    # Region in the working image's pixels.
    fy, fx = hw / full_h, ww / full_w
    ay, ax, ly, lx = ys * fy, xs * fx, sy * fy, sx * fx
    # crop_and_resize samples output pixel i at y1 * (H - 1) + i * (y2 - y1) * (H - 1) / (s - 1)
    # (pixel-centre coordinates); half-pixel-centre resampling of [a, a + l) needs the
    # first and last output centres at a + l / (2s) - 1/2 and a + l - l / (2s) - 1/2.
    half_y, half_x = ly / (2.0 * c), lx / (2.0 * c)
    y1 = (ay + half_y - 0.5) / (hw - 1.0)
    y2 = (ay + ly - half_y - 0.5) / (hw - 1.0)
    x1 = (ax + half_x - 0.5) / (ww - 1.0)
    x2 = (ax + lx - half_x - 0.5) / (ww - 1.0)
    boxes = tf.stack([y1, x1, y2, x2], 1)
    if scheme != "center":
        boxes = tf.concat([boxes, tf.stack([y1, x2, y2, x1], 1)], 0)  # x1 > x2 mirrors
    n = _NUM[scheme]
    crops = tf.image.crop_and_resize(work, boxes, tf.zeros([n], tf.int32), [c, c],
                                     method="bilinear")
    crops = tf.clip_by_value(crops, 0.0, 255.0)
    return tf.ensure_shape(crops, [n, c, c, 3])
