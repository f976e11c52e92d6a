"""GoogLeNet learns real handwritten digits, with its aux heads on (the issue's only slow tests).

Recipe, fixed for both variants: 80x80 digits (scikit-learn's 1,437 / 360 split, RGB;
80 is just above the 79 px the aux heads need, and costs 0.69x the former 96 px),
each variant's own normalisation, batch 64, Adam(learning_rate=3e-4), aux loss weights
0.3 / 0.3, each variant's default initialiser (paper: Caffe xavier = LeCun uniform with
biases 0.2; bn: LeCun uniform), seed 0. Epochs: bn 3, paper 5. The paper variant
(LRN, no BN) is slow to start; SGD(0.01, momentum 0.9) sat near chance here for 8 epochs.
Measured at 80 px on 2 cores, held-out accuracy after each epoch: bn 26.1, 96.1, 99.2,
99.4 % after 1 to 4 epochs; paper 10.3, 46.7, 71.7, 81.7, 95.8, 96.4, 98.3, 98.9 % after 1 to 8 epochs. The
chosen epochs keep a 9-point (bn) and 5.8-point (paper) margin over the 90 % bar.
"""

import keras
import numpy as np
import pytest
import tensorflow as tf

import keras_cnns
from keras_cnns.data import digits_arrays
from keras_cnns.data.augment import normalize

SIZE, BATCH, LR = 80, 64, 3e-4


def train_and_score(variant, epochs):
    keras.utils.set_random_seed(0)
    x_tr, y_tr, x_te, y_te = digits_arrays(SIZE)
    model = keras_cnns.GoogLeNet(aux=True, variant=variant, input_shape=(SIZE, SIZE, 3),
                                 classes=10)
    p = keras_cnns.model_info(model).preprocessing
    x_tr = normalize(x_tr, p).numpy()
    x_te = normalize(x_te, p).numpy()
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=LR),
                  loss={k: "sparse_categorical_crossentropy" for k in model.output},
                  loss_weights=keras_cnns.aux_loss_weights(model),
                  metrics={"main": ["accuracy"]})
    train = (tf.data.Dataset.from_tensor_slices((x_tr, y_tr)).shuffle(2048, seed=0)
             .batch(BATCH).map(keras_cnns.fan_out_labels(model)).prefetch(2))
    model.fit(train, epochs=epochs, verbose=2)
    main = keras_cnns.inference_model(model)
    probs = main.predict(x_te, batch_size=128, verbose=0)
    return float(np.mean(np.argmax(probs, axis=1) == y_te))


# Each its own xdist group: the two longest tests of the suite run on different workers.
@pytest.mark.slow
@pytest.mark.xdist_group("googlenet_learning_bn")
def test_bn_variant_reaches_90_percent():
    assert train_and_score("bn", epochs=3) >= 0.90


@pytest.mark.slow
@pytest.mark.xdist_group("googlenet_learning_paper")
def test_paper_variant_reaches_90_percent():
    assert train_and_score("paper", epochs=5) >= 0.90


def score_at_smallest_size(precision):
    """googlenet_bn without aux heads at its minimum input, 32 px (the 8x8 digits need no
    more): batch 64, Adam(1e-3), 4 epochs, seed 0, under ``precision``. Measured after
    epochs 1-4: float32 78.6 / 94.2 / 96.4 / 96.7 %, mixed_bfloat16 75.8 / 87.2 / 94.4 /
    96.7 %: the two part early and meet again by the fourth epoch, hence 4."""
    from keras_cnns.precision import precision_policy

    with precision_policy(precision):
        keras.utils.set_random_seed(0)
        x_tr, y_tr, x_te, y_te = digits_arrays(32)
        model = keras_cnns.build("googlenet_bn", input_shape=(32, 32, 3), classes=10)
        p = keras_cnns.model_info(model).preprocessing
        x_tr, x_te = normalize(x_tr, p).numpy(), normalize(x_te, p).numpy()
        model.compile(optimizer=keras.optimizers.Adam(1e-3),
                      loss="sparse_categorical_crossentropy")
        train = (tf.data.Dataset.from_tensor_slices((x_tr, y_tr)).shuffle(2048, seed=0)
                 .batch(BATCH).prefetch(2))
        model.fit(train, epochs=4, verbose=0, shuffle=False)  # the dataset shuffles
        probs = np.asarray(model(x_te, training=False))  # 360 small images: one eager call
    assert probs.dtype == np.float32
    return float(np.mean(np.argmax(probs, axis=1) == y_te))


@pytest.mark.slow
@pytest.mark.xdist_group("googlenet_learning_precision")
def test_bn_variant_learns_as_well_under_mixed_bfloat16():
    """Same seed and recipe: bfloat16 compute (float32 weights, head and loss) ends within
    one point of float32 on the 360 held-out digits."""
    fp32 = score_at_smallest_size("float32")
    bf16 = score_at_smallest_size("mixed_bfloat16")
    assert keras.mixed_precision.global_policy().name == "float32"
    assert fp32 >= 0.90, fp32
    assert abs(bf16 - fp32) <= 0.01, (bf16, fp32)
