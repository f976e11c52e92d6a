"""The end-to-end GoogLeNet demo: aux heads, fit, evaluate, export, reload, predict.

Runs offline on scikit-learn's real handwritten digits. The images go through the
model's own :func:`keras_cnns.preprocessing` layer in training, so the exported
SavedModel (which holds that layer) sees what the network was trained on.
"""

import os
import time

import numpy as np


def _step(n, text):
    print(f"[{n}/4] {text}", flush=True)


def run_demo(epochs=3, image_size=96, variant="bn", output="demo_output", seed=0,
             batch_size=64):
    import keras
    import tensorflow as tf

    import keras_cnns
    from keras_cnns.data import digits_arrays

    keras.utils.set_random_seed(seed)
    t0 = time.time()
    _step(1, f"build GoogLeNet(aux=True, variant={variant!r}) at {image_size}x{image_size}, "
             "10 classes")
    model = keras_cnns.GoogLeNet(aux=True, variant=variant, classes=10,
                                 input_shape=(image_size, image_size, 3))
    weights = keras_cnns.aux_loss_weights(model)
    print(f"      outputs {list(model.output)}, loss weights {weights}, "
          f"{model.count_params():,} parameters")

    x_tr, y_tr, x_te, y_te = digits_arrays(image_size)
    pre = keras_cnns.preprocessing(model)
    x_tr_in = np.concatenate([np.asarray(pre(x_tr[i:i + 256])) for i in range(0, len(x_tr), 256)])
    x_te_in = np.asarray(pre(x_te))
    _step(2, f"fit {epochs} epochs on {len(x_tr)} real handwritten digits "
             f"(scikit-learn), {len(x_te)} held out")
    model.compile(optimizer=keras.optimizers.Adam(learning_rate=1e-3),
                  loss={k: "sparse_categorical_crossentropy" for k in model.output},
                  loss_weights=weights, metrics={k: ["accuracy"] for k in model.output})
    train = (tf.data.Dataset.from_tensor_slices((x_tr_in, y_tr)).shuffle(2048, seed=seed)
             .batch(batch_size).map(keras_cnns.fan_out_labels(model)).prefetch(2))
    model.fit(train, epochs=epochs, verbose=2)

    _step(3, "evaluate the main head on the held-out digits")
    main = keras_cnns.inference_model(model)
    main.compile(loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, acc = main.evaluate(x_te_in, y_te, verbose=0)
    print(f"      held-out accuracy {acc:.4f} (loss {loss:.4f})")

    path = os.path.join(output, "googlenet_savedmodel")
    _step(4, f"export a SavedModel to {path}, reload it and predict")
    keras_cnns.export_saved_model(model, path, overwrite=True)
    serve = tf.saved_model.load(path).signatures["serving_default"]
    probs = serve(images=tf.constant(x_te))["probabilities"].numpy()
    reloaded_acc = float(np.mean(np.argmax(probs, axis=1) == y_te))
    print(f"      reloaded SavedModel: held-out accuracy {reloaded_acc:.4f}; "
          f"first 10 predictions {np.argmax(probs[:10], axis=1).tolist()}, "
          f"labels {y_te[:10].tolist()}")
    print(f"done in {time.time() - t0:.0f} s")
    return {"accuracy": float(acc), "reloaded_accuracy": reloaded_acc, "export": path}
