"""Shared fixtures: real images only (scikit-learn's bundled digits and sample photos)."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402


@pytest.fixture(scope="session")
def photos():
    """scikit-learn's two sample photos (china.jpg, flower.jpg), uint8 427x640x3."""
    from sklearn.datasets import load_sample_images

    return [np.asarray(img, dtype=np.uint8) for img in load_sample_images().images]


@pytest.fixture(scope="session")
def photo_batch(photos):
    """The two photos stacked, [2, 427, 640, 3] uint8."""
    return np.stack(photos)


@pytest.fixture(scope="session")
def digits_data():
    """Real handwritten digits: (x_train, y_train, x_test, y_test), uint8 RGB 32x32,
    keras_cnns.data's fixed stratified split of scikit-learn's 1,797 8x8 digits."""
    from keras_cnns.data import digits_arrays

    return digits_arrays(32)


@pytest.fixture(scope="module", autouse=True)
def _free_models_between_modules():
    """Drop each module's models and traced functions before the next module builds its
    own: the suite builds every network, and together they would not fit in memory."""
    yield
    import gc

    import keras

    keras.backend.clear_session()
    gc.collect()
