"""GoogLeNet learns real handwritten digits, with its aux heads on (the issue's only slow tests).

Recipe, fixed for both variants: 80x80 digits (scikit-learn's 1,437 / 360 split, RGB;
80 is just above the 79 px the aux heads need), each variant's own normalisation,
Adam(learning_rate=3e-4), aux loss weights 0.3 / 0.3, each variant's default initialiser
(paper: Caffe xavier = LeCun uniform with biases 0.2; bn: LeCun uniform), seed 0.
Held-out accuracy after each epoch, measured at 80 px on 2 cores:

- bn, batch 64, float32: 26.1, 96.1, 99.2, 99.4 % after 1 to 4 epochs;
  mixed_bfloat16: 12.8, 96.9, 98.6 % after 1 to 3. Checked after 3 (bar 90 %, and
  bfloat16 within one point of float32, the speed issue's criterion).
- paper (LRN, no BN), slow to start: batch 64: 10.3, 46.7, 71.7, 81.7, 95.8 % after 1 to
  5 epochs; batch 32: 10.3, 74.7, 91.7, 87.5, 94.7, 96.7 % after 1 to 6 (LRN on
  TensorFlow's kernel; with the former shifted-sum LRN, equal to 1e-5, the same seed
  gave 80.6, 87.5, 92.2, 96.9 % after 2 to 5: the curve wobbles by a few points at
  epoch 4, so the check waits for epoch 5). Checked at batch 32 after 5 (bar 90 %).
  SGD(0.01, momentum 0.9) sat near chance here for 8 epochs, and Adam(1e-3) for 2.
"""

import functools

import keras
import numpy as np
import pytest
import tensorflow as tf


import keras_cnns
from keras_cnns.data import digits_arrays
from keras_cnns.data.augment import normalize
from keras_cnns.precision import precision_policy

SIZE, BATCH, LR = 80, 64, 3e-4


@functools.cache
def train_and_score(variant, epochs, batch=BATCH, precision="float32"):
    """Held-out top-1 after training (cached: the bn checks share the float32 run)."""
    with precision_policy(precision):
        return _train_and_score(variant, epochs, batch)


def _train_and_score(variant, epochs, batch):
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
             .batch(batch).map(keras_cnns.fan_out_labels(model)).prefetch(2))
    model.fit(train, epochs=epochs, verbose=2)
    main = keras_cnns.inference_model(model)
    probs = main.predict(x_te, batch_size=128, verbose=0)
    assert probs.dtype == np.float32  # the head stays float32 under a mixed policy
    return float(np.mean(np.argmax(probs, axis=1) == y_te))


# The paper variant and the two bn runs go to different workers.
@pytest.mark.slow
@pytest.mark.xdist_group("googlenet_learning_bn")
def test_bn_variant_reaches_90_percent():
    assert train_and_score("bn", epochs=3) >= 0.90


@pytest.mark.slow
@pytest.mark.xdist_group("googlenet_learning_paper")
def test_paper_variant_reaches_90_percent():
    assert train_and_score("paper", epochs=5, batch=32) >= 0.90


@pytest.mark.slow
@pytest.mark.xdist_group("googlenet_learning_bn")
def test_bn_variant_learns_as_well_under_mixed_bfloat16():
    """Same seed and recipe: bfloat16 compute (float32 weights, heads and losses; aux
    heads on) ends within one point of float32 on the 360 held-out digits."""
    fp32 = train_and_score("bn", epochs=3)
    bf16 = train_and_score("bn", epochs=3, precision="mixed_bfloat16")
    assert keras.mixed_precision.global_policy().name == "float32"
    assert fp32 >= 0.90, fp32
    assert abs(bf16 - fp32) <= 0.01, (bf16, fp32)
