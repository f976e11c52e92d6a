"""Image-classification sources: every one yields ``(image uint8 [H, W, 3], label int64)``.

- :func:`load`: any tfds image-classification dataset by name, offline from ``data_dir``.
- :func:`image_folder`: a local tree ``root/label/img`` or ``root/split/label/img``.
- :func:`digits` / :func:`digits_arrays`: scikit-learn's real handwritten digits, the
  offline default.

Grey, RGBA and paletted images become RGB. The returned ``tf.data.Dataset`` carries
``class_names`` (and, for :func:`image_folder`, ``errors``) as plain attributes; they
do not survive further ``map``/``batch`` calls, so read them first.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sys
import threading

import numpy as np
import tensorflow as tf

from keras_cnns.atomic import atomic_write

__all__ = ["load", "image_folder", "digits", "digits_arrays", "to_rgb", "ErrorLog",
           "BadImages", "scan_images", "find_changed", "read_class_index", "folder_subset",
           "split_indices", "DIGITS_SPLITS",
           "CLASS_INDEX_FILE", "IMAGE_EXTENSIONS"]

log = logging.getLogger("keras_cnns.data")

CLASS_INDEX_FILE = "class_index.json"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm",
                    ".pgm")
ON_ERROR = ("raise", "skip")


def to_rgb(image):
    """uint8 ``[H, W, C]`` with C in {1, 2, 3, 4} (grey, grey+alpha, RGB, RGBA) -> RGB."""
    image = tf.convert_to_tensor(image)
    c = image.shape[-1]
    if c == 3:
        return image
    if c in (1, 2):
        return tf.image.grayscale_to_rgb(image[..., :1])
    if c == 4:
        return image[..., :3]
    if c is None:
        n = tf.shape(image)[-1]
        return tf.ensure_shape(
            tf.case([(tf.less_equal(n, 2), lambda: tf.tile(image[..., :1], [1, 1, 3]))],
                    default=lambda: image[..., :3]), [None, None, 3])
    raise ValueError(f"images need 1-4 channels, got shape {image.shape}")


# --------------------------------------------------------------------------- tfds

def _tfds():
    import tensorflow_datasets as tfds

    return tfds


def _image_and_label_keys(info, name):
    """The (image key, label key) of a tfds image-classification dataset, or ValueError."""
    tfds = _tfds()
    features = info.features
    supervised = info.supervised_keys
    image_key = label_key = None
    if supervised and len(supervised) == 2 and all(isinstance(k, str) for k in supervised):
        image_key, label_key = supervised
    if image_key is None or label_key is None:
        images = [k for k, f in features.items() if isinstance(f, tfds.features.Image)]
        labels = [k for k, f in features.items() if isinstance(f, tfds.features.ClassLabel)]
        image_key = images[0] if images else None
        label_key = "label" if "label" in labels else (labels[0] if labels else None)
    ok = (image_key in features and label_key in features
          and isinstance(features[image_key], tfds.features.Image)
          and isinstance(features[label_key], tfds.features.ClassLabel))
    if not ok:
        raise ValueError(f"name={name!r} is not an image-classification dataset: it needs an "
                         "Image feature and a ClassLabel feature (supervised keys "
                         f"{supervised}, features {sorted(features.keys())})")
    return image_key, label_key


def load(name, split, data_dir=None, download=False, manual_dir=None, shuffle_files=False,
         read_config=None):
    """A tfds image-classification dataset by ``name`` (``"imagenette/320px"``,
    ``"cifar10"``, ``"imagenet2012"``...), as ``(image uint8 [H, W, 3], label int64)``.

    Offline by default: the data must already be prepared in ``data_dir`` (tfds'
    ``<data_dir>/<name>/<config>/<version>/``). ``download=True`` lets tfds download and
    prepare it; ``manual_dir`` is where tfds finds manually downloaded archives
    (ImageNet: ``ILSVRC2012_img_train.tar`` and ``ILSVRC2012_img_val.tar``).

    Raises ``ValueError`` (naming the argument) for an unknown dataset, a dataset that
    is not image classification, or data missing from ``data_dir`` without download.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a tfds dataset name such as 'cifar10', got {name!r}")
    if not isinstance(split, str) or not split:
        raise ValueError(f"split must be a tfds split string such as 'train', got {split!r}")
    tfds = _tfds()
    if data_dir is not None:
        data_dir = os.fspath(data_dir)
        if not download and not os.path.isdir(data_dir):
            raise ValueError(f"data_dir={data_dir!r} does not exist; prepare {name!r} there "
                             "first or pass download=True")
    try:
        builder = tfds.builder(name, data_dir=data_dir)
    except Exception as err:  # tfds raises DatasetNotFoundError and friends
        raise ValueError(f"name={name!r}: tfds cannot find this dataset in data_dir="
                         f"{data_dir!r} nor in its catalogue ({type(err).__name__}: "
                         f"{str(err).splitlines()[0] if str(err) else ''})") from err
    image_key, label_key = _image_and_label_keys(builder.info, name)
    prepared = _is_prepared(builder)
    if not prepared:
        if not download:
            raise ValueError(f"data_dir={data_dir!r}: dataset {name!r} is not prepared there "
                             f"(looked in {builder.data_dir!r}). Prepare it first, or pass "
                             "download=True (needs the network, or manual_dir for ImageNet)")
        config = None
        if manual_dir is not None:
            config = tfds.download.DownloadConfig(manual_dir=os.fspath(manual_dir))
        builder.download_and_prepare(download_config=config)
    # An info without splits (metadata not yet written, tfds' mock_data) leaves the
    # check to tfds itself.
    if (builder.info.splits and split not in builder.info.splits and "[" not in split
            and "+" not in split):
        raise ValueError(f"split={split!r} is not a split of {name!r}; it has "
                         f"{sorted(builder.info.splits.keys())}")
    ds = builder.as_dataset(split=split, shuffle_files=shuffle_files, read_config=read_config)

    def pick(example):
        return to_rgb(example[image_key]), tf.cast(example[label_key], tf.int64)

    ds = ds.map(pick, num_parallel_calls=tf.data.AUTOTUNE)
    ds.class_names = list(builder.info.features[label_key].names)
    return ds


def _is_prepared(builder):
    # tfds >= 4.9 has is_prepared(); older versions only the dataset_info.json check.
    fn = getattr(builder, "is_prepared", None)
    if fn is not None:
        try:
            return bool(fn())
        except Exception:  # pragma: no cover - defensive across tfds releases
            pass
    return tf.io.gfile.exists(os.path.join(builder.data_dir, "dataset_info.json"))


# --------------------------------------------------------------------------- folders

#: Formats TensorFlow's own ``tf.io.decode_image`` reads; other formats Pillow knows
#: (TIFF, PPM...) are decoded once by the scan and kept as PNG bytes in memory.
TF_FORMATS = ("JPEG", "PNG", "GIF", "BMP", "WEBP")
#: The scan shows a progress bar from this many files on.
SCAN_PROGRESS_FROM = 2000


class ErrorLog:
    """Unreadable files left out by ``on_error="skip"``: ``count`` and ``files``
    (sorted), and ``reasons`` (path -> why)."""

    def __init__(self):
        self.reasons = {}
        self._lock = threading.Lock()

    def add(self, path, err):
        with self._lock:
            new = path not in self.reasons
            self.reasons[path] = str(err)
            n = len(self.reasons)
        if new:
            log.warning("skipped unreadable image %s (%s); %d skipped so far", path, err, n)

    @property
    def count(self):
        return len(self.reasons)

    @property
    def files(self):
        return sorted(self.reasons)

    def __repr__(self):
        return f"ErrorLog(count={self.count})"


class BadImages(ValueError):
    """Unreadable image files found by the scan (``on_error="raise"``); ``reasons`` maps
    each path to why it cannot be read. The message is one line, then up to 10 paths."""

    def __init__(self, root, reasons, hint="pass on_error='skip' to leave them out"):
        self.reasons = dict(sorted(reasons.items()))
        n = len(self.reasons)
        lines = [f"{n} unreadable image file{'s' if n != 1 else ''} in {root!r} ({hint}):"]
        lines += [f"  {p}: {r}" for p, r in list(self.reasons.items())[:10]]
        if n > 10:
            lines.append(f"  ... and {n - 10} more")
        super().__init__("\n".join(lines))


_NOISE = ("Graph execution error", "Detected at node", "[[", "File ", "Stack trace")


def _first_line(err):
    text = str(getattr(err, "message", None) or err).strip()
    for line in text.splitlines():
        if line.strip().startswith(_NOISE) or line.startswith("  "):
            continue
        line = re.sub(r"\{\{function_node [^}]*\}\}\s*", "", line).strip()
        line = re.sub(r"\s*\[Op:\w+\]$", "", line)
        if line:
            return line[:200]
    return type(err).__name__


def decode_file(path):
    """One image file -> uint8 ``[H, W, 3]`` with Pillow (grey, RGBA, palette -> RGB).

    Raises ``ValueError`` naming the file when it is corrupt or truncated.
    """
    from PIL import Image

    try:
        with Image.open(path) as img:
            img.load()  # truncated files fail here, not at open()
            if img.mode in ("RGBA", "LA", "PA") or (img.mode == "P" and "transparency" in img.info):
                img = img.convert("RGBA")
            img = img.convert("RGB")
            return np.asarray(img, dtype=np.uint8)
    except Exception as err:
        raise ValueError(f"corrupt or truncated image file {path!r}: {err}") from err


def decode_image_bytes(contents):
    """Encoded JPEG / PNG / GIF (first frame) / BMP / WebP bytes -> uint8 ``[H, W, 3]``,
    with TensorFlow's own ops: no Python runs inside a ``tf.data`` pipeline, so a bad
    file ends iteration with an error instead of deadlocking the iterator's shutdown
    (the hang of ``tf.numpy_function`` decode threads waiting for the GIL)."""
    image = tf.io.decode_image(contents, channels=3, expand_animations=False, dtype=tf.uint8)
    return tf.ensure_shape(image, [None, None, 3])


def _header(path):
    """``(format, None)`` from the file's header (Pillow, no pixel decode), or
    ``(None, reason)``; images above Pillow's pixel limit are refused (decompression
    bombs)."""
    from PIL import Image

    try:
        if os.path.getsize(path) == 0:
            return None, "empty file (0 bytes)"
        with Image.open(path) as img:
            w, h = img.size
            if w * h > Image.MAX_IMAGE_PIXELS:
                return None, (f"{w}x{h} pixels exceeds the limit of {Image.MAX_IMAGE_PIXELS:,} "
                              "(PIL.Image.MAX_IMAGE_PIXELS; a decompression bomb?)")
            if w < 1 or h < 1:
                return None, f"image of {w}x{h} pixels"
            return img.format, None
    except Exception as err:
        return None, _first_line(err) if str(err) else type(err).__name__


def _png_bytes(path):
    """A format TensorFlow cannot read (TIFF, PPM...) as PNG bytes, decoded by Pillow."""
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(decode_file(path)).save(buf, "PNG")
    return buf.getvalue()


def scan_images(files, progress=None, workers=None):
    """Decode every file once, in parallel, as training would: ``(substitutes,
    reasons)``. ``reasons`` maps each unreadable file to why; ``substitutes`` maps the
    readable files TensorFlow cannot decode itself to PNG bytes. ``progress`` (default:
    from :data:`SCAN_PROGRESS_FROM` files on) shows a progress bar."""
    from concurrent.futures import ThreadPoolExecutor

    files = list(files)
    progress = len(files) >= SCAN_PROGRESS_FROM if progress is None else progress
    bar = None
    if progress:
        import keras

        print(f"checking {len(files):,} image files", file=sys.stderr, flush=True)
        bar = keras.utils.Progbar(len(files), unit_name="file")
    workers = workers or min(16, 2 * (os.cpu_count() or 1))
    reasons, substitutes, native = {}, {}, []
    # 1. Headers (format, size; bombs refused), in threads: I/O bound.
    import warnings

    from PIL import Image

    with warnings.catch_warnings(), ThreadPoolExecutor(workers) as pool:
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)  # refused below
        for path, (fmt, reason) in zip(files, pool.map(_header, files)):
            if reason is not None:
                reasons[path] = reason
            elif fmt in TF_FORMATS:
                native.append(path)
            else:
                try:
                    substitutes[path] = _png_bytes(path)
                except ValueError as err:
                    reasons[path] = _first_line(err.__cause__ or err)
    # 2. Pixels, with the decoder training uses, in a parallel tf.data pipeline; a file
    # whose index does not come out failed to decode.
    if native:
        ds = tf.data.Dataset.from_tensor_slices((np.arange(len(native)), native))
        ds = ds.map(lambda i, p: (i, tf.shape(decode_image_bytes(tf.io.read_file(p)))),
                    num_parallel_calls=tf.data.AUTOTUNE, deterministic=False)
        ds = ds.ignore_errors()
        ok = np.zeros(len(native), bool)
        done = len(files) - len(native)
        for i, _ in ds.as_numpy_iterator():
            ok[i] = True
            done += 1
            if bar is not None and done % 256 == 0:
                bar.update(done)
        for i in np.flatnonzero(~ok):
            reasons[native[i]] = _decode_reason(native[i])
    if bar is not None:
        bar.update(len(files), finalize=True)
    return substitutes, reasons


def _decode_reason(path):
    """Why ``path`` does not decode: Pillow's reason when it fails too (it says
    'truncated'), else TensorFlow's."""
    try:
        decode_image_bytes(tf.io.read_file(path))
    except Exception as err:  # tf.errors.OpError
        tf_reason = _first_line(err)
    else:
        return "readable now (it changed during the scan?)"
    try:
        decode_file(path)
    except ValueError as err:
        return _first_line(err.__cause__ or err)
    return tf_reason


def _scan_labels(directory):
    return sorted(e.name for e in os.scandir(directory) if e.is_dir() and not e.name.startswith("."))


def _image_files(directory):
    out = []
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames.sort()
        for f in sorted(filenames):
            if f.lower().endswith(IMAGE_EXTENSIONS) and not f.startswith("."):
                out.append(os.path.join(dirpath, f))
    return out


def _write_json_atomic(path, obj):
    atomic_write(path, json.dumps(obj, indent=1, sort_keys=True) + "\n")


def read_class_index(path):
    """``{class name: index}`` from a ``class_index.json``; ``ValueError`` naming the
    file when it is not such a mapping with indices 0..n-1."""
    try:
        with open(path) as f:
            raw = json.load(f)
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise ValueError(f"{path}: not a readable class index ({_first_line(err)}); "
                         'expected JSON like {"cat": 0, "dog": 1}') from None
    if not isinstance(raw, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in raw.values()):
        raise ValueError(f"{path}: a class index must be a JSON object of class name -> "
                         f'integer index, like {{"cat": 0, "dog": 1}}; got {type(raw).__name__}')
    mapping = {str(k): int(v) for k, v in raw.items()}
    if sorted(mapping.values()) != list(range(len(mapping))):
        raise ValueError(f"{path}: class indices must be 0..n-1, got {sorted(mapping.values())}")
    return mapping


def class_index(directory, labels, write=True):
    """The stable ``{class name: index}`` kept in ``directory/class_index.json``:
    existing entries keep their index, new classes are appended in sorted order.
    ``directory=None``: the sorted labels. With ``write``, the file is (re)written
    atomically when it changes; a read-only folder gets a warning."""
    mapping = {}
    path = None if directory is None else os.path.join(directory, CLASS_INDEX_FILE)
    if path is not None and os.path.exists(path):
        mapping = read_class_index(path)
    new = [label for label in sorted(labels) if label not in mapping]
    for label in new:
        mapping[label] = len(mapping)
    if path is not None and write and (new or not os.path.exists(path)):
        try:
            _write_json_atomic(path, mapping)
        except OSError as err:
            log.warning("could not write %s (%s); using the mapping in memory", path, err)
    return mapping


def image_folder(path, split=None, on_error="raise", shuffle_files=False, seed=0,
                 index_dir=None, progress=None):
    """Images in a local folder tree, as ``(image uint8 [H, W, 3], label int64)``.

    Layouts: ``root/label/img`` (pass ``split=None``) or tfds ImageFolder's
    ``root/split/label/img`` (pass ``split="train"``...). The class index is the
    union of the label folders over all splits, in sorted order, or the one kept in
    ``index_dir/class_index.json`` (see :func:`class_index`; nothing is written into the
    dataset folder), so train and test agree.

    Every file is decoded once up front (:func:`scan_images`, in parallel). Unreadable
    ones (corrupt, truncated, empty, decompression bombs) raise :class:`BadImages`
    (``on_error="raise"``, a ValueError listing them), or are left out
    (``on_error="skip"``): the dataset's ``errors`` attribute (:class:`ErrorLog`) lists
    them. Decoding then runs in TensorFlow's own ops; a file that breaks after the scan
    stops iteration with a ``tf.errors`` error (:func:`find_changed` names it).
    """
    if on_error not in ON_ERROR:
        raise ValueError(f"on_error must be one of {ON_ERROR}, got {on_error!r}")
    root = os.fspath(path)
    if not os.path.isdir(root):
        raise ValueError(f"path={root!r} is not a directory")
    top = _scan_labels(root)
    if not top:
        raise ValueError(f"path={root!r} has no sub-folders: expected root/label/img or "
                         "root/split/label/img")
    # Two-level layout when the top folders hold folders rather than images.
    nested = all(_scan_labels(os.path.join(root, t)) for t in top)
    if split is None:
        if nested:
            raise ValueError(f"path={root!r} looks like root/split/label/img (splits {top}); "
                             "pass split=")
        labels = top
        split_dir = root
    else:
        if not nested:
            raise ValueError(f"split={split!r} given, but path={root!r} is root/label/img "
                             f"(labels {top}); pass split=None")
        if split not in top:
            raise ValueError(f"split={split!r} is not a folder of {root!r}; splits: {top}")
        labels = sorted({lab for t in top for lab in _scan_labels(os.path.join(root, t))})
        split_dir = os.path.join(root, split)
    mapping = class_index(index_dir, labels, write=False)
    files, targets = [], []
    for label in _scan_labels(split_dir):
        found = _image_files(os.path.join(split_dir, label))
        files += found
        targets += [mapping[label]] * len(found)
    if not files:
        raise ValueError(f"path={root!r} split={split!r}: no image files "
                         f"({', '.join(IMAGE_EXTENSIONS)})")
    stats = {}  # taken before the scan: a file changed after it shows here
    for p in files:
        st = os.stat(p)
        stats[p] = (st.st_size, st.st_mtime_ns)
    substitutes, reasons = scan_images(files, progress=progress)
    errors = ErrorLog()
    if reasons:
        if on_error == "raise":
            raise BadImages(split_dir, reasons)
        for p, r in sorted(reasons.items()):
            errors.add(p, r)
        keep = [i for i, p in enumerate(files) if p not in reasons]
        files, targets = [files[i] for i in keep], [targets[i] for i in keep]
        if not files:
            raise ValueError(f"path={root!r} split={split!r}: every image file is unreadable")
    names = [None] * len(mapping)
    for k, v in mapping.items():
        names[v] = k
    ds = _files_dataset(files, [substitutes.get(p, b"") for p in files], targets,
                        shuffle_files, seed)
    ds.class_names = names
    ds.class_index = dict(mapping)
    ds.errors = errors
    ds.stats = {p: stats[p] for p in files}
    return ds


def _files_dataset(files, subs, targets, shuffle_files=False, seed=0):
    def decode(p, sub, y):
        contents = tf.cond(tf.strings.length(sub) > 0, lambda: sub, lambda: tf.io.read_file(p))
        return decode_image_bytes(contents), y

    ds = tf.data.Dataset.from_tensor_slices((files, subs, np.asarray(targets, np.int64)))
    if shuffle_files:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE)
    ds.files, ds.labels, ds.substitutes = list(files), list(targets), list(subs)
    return ds


def folder_subset(ds, indices, shuffle_files=False, seed=0):
    """The files ``indices`` of an :func:`image_folder` dataset, as a dataset of its own
    (same attributes, ``stats`` restricted to them)."""
    idx = [int(i) for i in indices]
    files = [ds.files[i] for i in idx]
    out = _files_dataset(files, [ds.substitutes[i] for i in idx], [ds.labels[i] for i in idx],
                         shuffle_files, seed)
    out.class_names, out.class_index = ds.class_names, ds.class_index
    out.errors = ds.errors
    out.stats = {p: ds.stats[p] for p in files if p in ds.stats}
    return out


def split_indices(labels, fractions, seed=0):
    """Stratified, seeded split of ``range(len(labels))`` into ``len(fractions) + 1``
    sorted index arrays: part ``k`` takes ``round(n_c * fractions[k])`` of each class
    ``c`` (at least 1 when the class has more images than parts), the rest goes to the
    last part. The same labels and seed give the same parts, whatever else changes."""
    labels = np.asarray(labels)
    rng = np.random.default_rng(seed)
    parts = [[] for _ in range(len(fractions) + 1)]
    for c in np.unique(labels):
        members = np.flatnonzero(labels == c)
        members = members[rng.permutation(len(members))]
        start = 0
        for k, frac in enumerate(fractions):
            take = int(round(len(members) * frac))
            if frac > 0 and take == 0 and len(members) > len(fractions):
                take = 1
            parts[k].extend(members[start:start + take])
            start += take
        parts[-1].extend(members[start:])
    return [np.sort(np.asarray(p, dtype=np.int64)) for p in parts]


def find_changed(stats):
    """The files of ``stats`` (``{path: (size, mtime_ns)}`` from :func:`image_folder`'s
    ``stats``) that changed or vanished since the scan and no longer decode, as
    ``{path: reason}``: the culprits of a decode error in the middle of an epoch."""
    out = {}
    for p, (size, mtime) in stats.items():
        try:
            st = os.stat(p)
        except OSError as err:
            out[p] = f"vanished ({err.strerror})"
            continue
        if (st.st_size, st.st_mtime_ns) != (size, mtime):
            fmt, reason = _header(p)
            if reason is None and fmt in TF_FORMATS:
                try:
                    decode_image_bytes(tf.io.read_file(p))
                    continue
                except Exception:  # tf.errors.OpError
                    reason = _decode_reason(p)
            if reason is not None:
                out[p] = f"changed after the check: {reason}"
    return out


# --------------------------------------------------------------------------- digits

DIGITS_TEST_SIZE = 0.2
DIGITS_VAL_SIZE = 0.15
DIGITS_SEED = 0
#: digits' fixed three-way split: the 80/20 stratified train/test split of
#: :func:`digits_arrays` (seed 0), with 15 % of its train part (stratified, seed 0) held
#: out for validation: 1,221 train / 216 validation / 360 test.
DIGITS_SPLITS = ("train", "validation", "test")
_DIGITS_CACHE = {}


def digits_arrays(size=32):
    """scikit-learn's 1,797 real 8x8 handwritten digits as RGB uint8 ``size x size``:
    ``(x_train, y_train, x_test, y_test)``, a fixed stratified 80/20 split (seed 0),
    labels int64. Pixels: ``value / 16 * 255``, bilinear resize, rounded. (:func:`digits`
    further holds out a validation part of ``x_train``.)"""
    if not isinstance(size, (int, np.integer)) or isinstance(size, bool) or size < 1:
        raise ValueError(f"size must be a positive int, got {size!r}")
    size = int(size)
    if size not in _DIGITS_CACHE:
        from sklearn.datasets import load_digits
        from sklearn.model_selection import train_test_split

        d = load_digits()
        x = (d.images / 16.0 * 255.0).astype("float32")[..., None]
        x = tf.image.resize(x, (size, size), method="bilinear").numpy()
        x = np.repeat(np.clip(np.round(x), 0, 255).astype("uint8"), 3, axis=-1)
        x_tr, x_te, y_tr, y_te = train_test_split(x, d.target, test_size=DIGITS_TEST_SIZE,
                                                  random_state=DIGITS_SEED, stratify=d.target)
        _DIGITS_CACHE[size] = (x_tr, y_tr.astype("int64"), x_te, y_te.astype("int64"))
    return tuple(a.copy() for a in _DIGITS_CACHE[size])


def digits_split_indices():
    """``(train, validation)`` indices into ``digits_arrays()``'s train part."""
    from sklearn.model_selection import train_test_split

    y = digits_arrays(8)[1]
    tr, va = train_test_split(np.arange(len(y)), test_size=DIGITS_VAL_SIZE,
                              random_state=DIGITS_SEED, stratify=y)
    return np.sort(tr), np.sort(va)


def digits(size=32, split="train"):
    """The digits of :func:`digits_arrays` as a dataset of ``(uint8 [size, size, 3],
    int64)``; ``split`` is ``"train"`` (1,221 images), ``"validation"`` (216) or
    ``"test"`` (360): see :data:`DIGITS_SPLITS`."""
    if split not in DIGITS_SPLITS:
        raise ValueError(f"split must be one of {DIGITS_SPLITS}, got {split!r}")
    x_tr, y_tr, x_te, y_te = digits_arrays(size)
    if split == "test":
        x, y = x_te, y_te
    else:
        tr, va = digits_split_indices()
        idx = tr if split == "train" else va
        x, y = x_tr[idx], y_tr[idx]
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    ds.class_names = [str(i) for i in range(10)]
    return ds
