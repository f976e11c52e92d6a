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
import threading

import numpy as np
import tensorflow as tf

from keras_cnns.atomic import atomic_write

__all__ = ["load", "image_folder", "digits", "digits_arrays", "to_rgb", "ErrorLog",
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

class ErrorLog:
    """Corrupt files skipped by ``on_error="skip"``: ``count`` and ``files`` (sorted).

    A file is counted once however many epochs read it.
    """

    def __init__(self):
        self._files = set()
        self._lock = threading.Lock()

    def add(self, path, err):
        with self._lock:
            new = path not in self._files
            self._files.add(path)
            n = len(self._files)
        if new:
            log.warning("skipped corrupt or truncated image %s (%s); %d skipped so far",
                        path, err, n)

    @property
    def count(self):
        return len(self._files)

    @property
    def files(self):
        return sorted(self._files)

    def __repr__(self):
        return f"ErrorLog(count={self.count})"


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


def class_index(root, labels, write=True):
    """The stable ``{class name: index}`` of a folder tree, kept in
    ``root/class_index.json``: existing entries keep their index, new classes are
    appended in sorted order. Written atomically (temp file + rename); a read-only
    tree gets a warning and the in-memory mapping."""
    path = os.path.join(root, CLASS_INDEX_FILE)
    mapping = {}
    if os.path.exists(path):
        with open(path) as f:
            mapping = {str(k): int(v) for k, v in json.load(f).items()}
        if sorted(mapping.values()) != list(range(len(mapping))):
            raise ValueError(f"{path}: class indices must be 0..n-1, got {sorted(mapping.values())}")
    new = [label for label in sorted(labels) if label not in mapping]
    for label in new:
        mapping[label] = len(mapping)
    if (new or not os.path.exists(path)) and write:
        try:
            _write_json_atomic(path, mapping)
        except OSError as err:
            log.warning("could not write %s (%s); using the mapping in memory", path, err)
    return mapping


def image_folder(path, split=None, on_error="raise", shuffle_files=False, seed=0):
    """Images in a local folder tree, as ``(image uint8 [H, W, 3], label int64)``.

    Layouts: ``root/label/img`` (pass ``split=None``) or tfds ImageFolder's
    ``root/split/label/img`` (pass ``split="train"``...). The class index is the
    union of the label folders over all splits, kept stable in
    ``root/class_index.json`` (see :func:`class_index`), so train and test agree.

    Files are decoded with Pillow in parallel ``tf.data`` calls. A corrupt or truncated
    file stops iteration with an error that names the file (``on_error="raise"``), or
    is skipped (``on_error="skip"``): the dataset's ``errors`` attribute
    (:class:`ErrorLog`) counts the skipped files, and each one is logged with the
    running count on the ``keras_cnns.data`` logger.
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
    mapping = class_index(root, labels)
    files, targets = [], []
    for label in _scan_labels(split_dir):
        found = _image_files(os.path.join(split_dir, label))
        files += found
        targets += [mapping[label]] * len(found)
    if not files:
        raise ValueError(f"path={root!r} split={split!r}: no image files "
                         f"({', '.join(IMAGE_EXTENSIONS)})")
    errors = ErrorLog()
    skip = on_error == "skip"

    def read(p):
        p = p.decode() if isinstance(p, bytes) else str(p)
        try:
            return decode_file(p), np.bool_(True)
        except ValueError as err:
            if not skip:
                raise
            errors.add(p, err.__cause__ or err)
            return np.zeros((0, 0, 3), np.uint8), np.bool_(False)

    def decode(p, y):
        image, ok = tf.numpy_function(read, [p], (tf.uint8, tf.bool), stateful=False)
        image = tf.ensure_shape(image, [None, None, 3])
        return image, y, tf.ensure_shape(ok, [])

    ds = tf.data.Dataset.from_tensor_slices((files, np.asarray(targets, np.int64)))
    if shuffle_files:
        ds = ds.shuffle(len(files), seed=seed, reshuffle_each_iteration=True)
    ds = ds.map(decode, num_parallel_calls=tf.data.AUTOTUNE)
    if skip:
        ds = ds.filter(lambda image, y, ok: ok)
    ds = ds.map(lambda image, y, ok: (image, y))
    names = [None] * len(mapping)
    for k, v in mapping.items():
        names[v] = k
    ds.class_names = names
    ds.errors = errors
    ds.files = files
    return ds


# --------------------------------------------------------------------------- digits

DIGITS_TEST_SIZE = 0.2
DIGITS_SEED = 0
_DIGITS_CACHE = {}


def digits_arrays(size=32):
    """scikit-learn's 1,797 real 8x8 handwritten digits as RGB uint8 ``size x size``:
    ``(x_train, y_train, x_test, y_test)``, a fixed stratified 80/20 split (seed 0),
    labels int64. Pixels: ``value / 16 * 255``, bilinear resize, rounded."""
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


def digits(size=32, split="train"):
    """The digits of :func:`digits_arrays` as a dataset of ``(uint8 [size, size, 3],
    int64)``; ``split`` is ``"train"`` (1,437 images) or ``"test"`` (360)."""
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', got {split!r}")
    x_tr, y_tr, x_te, y_te = digits_arrays(size)
    x, y = (x_tr, y_tr) if split == "train" else (x_te, y_te)
    ds = tf.data.Dataset.from_tensor_slices((x, y))
    ds.class_names = [str(i) for i in range(10)]
    return ds
