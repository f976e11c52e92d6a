"""multi_crop geometry against crops computed independently (Pillow resize + numpy slicing)."""

import numpy as np
import pytest
import tensorflow as tf
from PIL import Image

from keras_cnns.data import crops as crops_lib
from keras_cnns.data import multi_crop, num_crops

TOL = 5.0  # mean |difference| in grey levels (Pillow vs TF resampling, no antialias on crops)


def _resize(img, h, w):
    return np.asarray(Image.fromarray(np.asarray(img, np.uint8)).resize((w, h), Image.BILINEAR),
                      np.float32)


def _scaled(img, S):
    H, W = img.shape[:2]
    m = min(H, W)
    return _resize(img, round(H * S / m), round(W * S / m))


def ref_center(img, c=224, S=256):
    r = _scaled(img, S)
    hs, ws = r.shape[:2]
    y, x = (hs - c) // 2, (ws - c) // 2
    return r[None, y:y + c, x:x + c]


def ref_10(img, c=224):
    r = _scaled(img, round(256 * c / 224))
    hs, ws = r.shape[:2]
    offs = [(0, 0), (0, ws - c), (hs - c, 0), (hs - c, ws - c), ((hs - c) // 2, (ws - c) // 2)]
    out = np.stack([r[y:y + c, x:x + c] for y, x in offs])
    return np.concatenate([out, out[:, :, ::-1]])


def ref_144(img, c=224):
    out = []
    for S0 in (256, 288, 320, 352):
        S = round(S0 * c / 224)
        r = _scaled(img, S)
        hs, ws = r.shape[:2]
        landscape = ws >= hs
        for k in range(3):
            d = (ws if landscape else hs) - S
            o = [0, d // 2, d][k]
            sq = r[:, o:o + S] if landscape else r[o:o + S, :]
            assert sq.shape[:2] == (S, S)
            e = S - c
            for vy, vx in [(0, 0), (0, e), (e, 0), (e, e), (e // 2, e // 2)]:
                out.append(sq[vy:vy + c, vx:vx + c])
            out.append(_resize(sq, c, c))
    out = np.stack(out)
    return np.concatenate([out, out[:, :, ::-1]])


def _images(photos):
    # Landscape photos and their transposes (portrait).
    return [p for p in photos] + [np.ascontiguousarray(p.transpose(1, 0, 2)) for p in photos]


def _distances(ours, ref):
    # Squared Euclidean distances between every pair of (subsampled) crops.
    a = ours[:, ::4, ::4].reshape(len(ours), -1).astype(np.float64)
    b = ref[:, ::4, ::4].reshape(len(ref), -1).astype(np.float64)
    return (a * a).sum(1)[:, None] + (b * b).sum(1)[None, :] - 2.0 * a @ b.T


@pytest.mark.parametrize("scheme,ref", [("center", ref_center), ("alexnet-10", ref_10)])
def test_center_and_ten_crop_geometry(photos, scheme, ref):
    for img in _images(photos):
        ours = multi_crop(img, scheme).numpy()
        expected = ref(img)
        assert ours.shape == expected.shape == (num_crops(scheme), 224, 224, 3)
        assert ours.dtype == np.float32 and ours.min() >= 0 and ours.max() <= 255
        err = np.abs(ours - expected).mean(axis=(1, 2, 3))
        # Single scale: the crops are pixel copies of the antialiased resize.
        assert err.max() < 1.0, err
        if len(ours) > 1:
            assert (_distances(ours, expected).argmin(1) == np.arange(len(ours))).all()


def test_googlenet_144_geometry_landscape_and_portrait(photos):
    for img in _images(photos):
        ours = multi_crop(img, "googlenet-144").numpy()
        expected = ref_144(img)
        assert ours.shape == (144, 224, 224, 3)
        err = np.abs(ours - expected).mean(axis=(1, 2, 3))
        assert err.max() < TOL, (img.shape, err.max(), err.argmax())
        # Identity: each crop is closest to its own reference crop. The whole-square
        # views of one square are the same region at every scale, so for them only
        # (mirror, square) must match.
        nearest = _distances(ours, expected).argmin(1)
        idx = np.arange(144)
        mirror, rest = divmod(idx, 72)
        square, view = (rest // 6) % 3, rest % 6
        whole = view == 5
        assert (nearest[~whole] == idx[~whole]).all()
        assert (mirror[nearest[whole]] == mirror[whole]).all()
        assert (((nearest[whole] % 72) // 6) % 3 == square[whole]).all()
        assert (nearest[whole] % 6 == 5).all()
        # Mirrors: second half = first half flipped left-right.
        np.testing.assert_allclose(ours[72:], ours[:72, :, ::-1], atol=0.05)


def test_crop_size_scales_the_scheme(photos):
    img = photos[1]
    c = 112
    ours = multi_crop(img, "googlenet-144", crop_size=c).numpy()
    assert ours.shape == (144, c, c, 3)
    assert np.abs(ours - ref_144(img, c)).mean(axis=(1, 2, 3)).max() < TOL
    assert crops_lib.scheme_scales("googlenet-144", c) == (128, 144, 160, 176)
    ten = multi_crop(img, "alexnet-10", crop_size=c).numpy()
    assert np.abs(ten - ref_10(img, c)).mean(axis=(1, 2, 3)).max() < 1.0


def test_center_uses_crop_fraction(photos):
    img = photos[0]
    ours = multi_crop(img, "center", crop_fraction=0.5).numpy()
    np.testing.assert_allclose(ours, ref_center(img, S=448), atol=3.0)
    assert np.abs(ours - ref_center(img, S=448)).mean() < 1.0


def test_one_crop_and_resize_call_no_loop():
    @tf.function(input_signature=[tf.TensorSpec([None, None, 3], tf.uint8)])
    def f(image):
        return multi_crop(image, "googlenet-144")

    graph = f.get_concrete_function().graph
    ops = [op.type for op in graph.get_operations()]
    assert ops.count("CropAndResize") == 1
    assert not {"While", "StatelessWhile", "For"} & set(ops)


@pytest.mark.parametrize("scheme", crops_lib.CROP_SCHEMES)
def test_tiny_images_are_upscaled(scheme):
    img = (np.arange(8 * 8 * 3) % 255).astype(np.uint8).reshape(8, 8, 3)
    for im in (img, img[:5], img[:, :3]):
        out = multi_crop(im, scheme, crop_size=32).numpy()
        assert out.shape == (num_crops(scheme), 32, 32, 3)
        assert np.isfinite(out).all() and out.min() >= 0 and out.max() <= 255


def test_bad_arguments():
    img = np.zeros((40, 50, 3), np.uint8)
    with pytest.raises(ValueError, match="scheme"):
        multi_crop(img, "alexnet-12")
    with pytest.raises(ValueError, match="scheme"):
        multi_crop(img, "vgg-dense")  # whole-image evaluation, not crops
    # validation's rule: a wrong value is a ValueError, a wrong type a TypeError.
    for bad in (0, -3):
        with pytest.raises(ValueError, match="crop_size"):
            multi_crop(img, "center", crop_size=bad)
    for bad in (22.5, 224.0, "224", True):
        with pytest.raises(TypeError, match="crop_size"):
            multi_crop(img, "center", crop_size=bad)
    assert multi_crop(img, "center", crop_size=np.int64(24)).shape[1:3] == (24, 24)
    with pytest.raises(ValueError, match="image"):
        multi_crop(np.zeros((40, 50), np.uint8), "center")
