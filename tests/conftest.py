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


# Groups start longest first, so that the two workers end together instead of one
# finishing a long test alone: a test module's own xdist_group marks name the longest
# tests (the GoogLeNet learning checks), then groups weigh by their slow tests.
SLOW_WEIGHT = 20


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    """Groups for pytest-xdist's ``--dist loadgroup`` (the README's test command runs
    two workers): a test module runs on one worker, so its module-scoped fixtures (a
    trained run, built models) are made once; the registry matrix is split by entry
    instead, so its 40-odd networks share both workers. Groups with slow tests come
    first.

    The marks go on before the other hooks run (xdist reads them); the order is set after
    them, because pytest's own reordering by parametrised fixtures interleaved the
    matrix's entries (an entry's models were built, freed and built again)."""
    groups, weight, first, named = {}, {}, {}, set()
    for i, item in enumerate(items):
        mark = item.get_closest_marker("xdist_group")
        if mark is None:
            group = item.module.__name__
            params = getattr(getattr(item, "callspec", None), "params", {})
            if group.endswith("test_matrix") and "name" in params:
                group = f"{group}[{params['name']}]"
            item.add_marker(pytest.mark.xdist_group(group))
        else:
            group = mark.args[0] if mark.args else mark.kwargs.get("name", "default")
            named.add(group)
        groups[id(item)] = group  # xdist appends the group to nodeid
        first.setdefault(group, i)
        weight[group] = weight.get(group, 0) + (SLOW_WEIGHT if item.get_closest_marker("slow")
                                                else 1)
    yield
    rank = {g: (g not in named, -weight[g], first[g]) for g in weight}
    # A stable sort: within a group, pytest's order stands.
    items.sort(key=lambda item: rank[groups[id(item)]])


def pytest_collection_finish(session):
    """Move everything collection made (TensorFlow, Keras, the test modules: about half a
    million objects) out of the garbage collector's reach: they live for the whole run,
    and every full collection (the matrix frees its models after each entry) would
    otherwise walk them again."""
    import gc

    gc.collect()
    gc.freeze()
