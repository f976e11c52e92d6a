"""Data-pipeline and test-time-augmentation throughput.

    python benchmarks/tta.py [--images 6] [--aug-images 256] [--train-batch 8] [--steps 2]

Measures, in one run, on real photos (scikit-learn's two 427x640 samples, decoded in
memory):

1. 144-crop generation (``multi_crop`` + normalisation in a parallel tf.data map):
   images/s and crops/s, without a model;
2. GoogLeNet (``keras_cnns.GoogLeNet()``, 224) inference on the same crops: crops/s;
3. ``evaluate_tta(..., "googlenet-144")`` end to end, and the fraction of its time spent
   outside the model: ``1 - model time / total time`` (target <= 5 %);
4. each augmentation preset's images/s (``train_pipeline`` from decoded images) against
   the training-step images/s of the matching network (target >= 5x): alexnet preset vs
   AlexNet, vgg vs VGG16, inception vs GoogLeNet, resnet vs ResNet50. A network not
   registered yet is skipped with a note.
"""

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402

import keras  # noqa: E402
import keras_cnns  # noqa: E402
from keras_cnns.data import evaluate_tta, multi_crop, normalize, train_pipeline  # noqa: E402

PAIRS = (("alexnet", "alexnet"), ("vgg", "vgg16"), ("inception", "googlenet"),
         ("resnet", "resnet50"))


def photos():
    from sklearn.datasets import load_sample_images

    return [np.asarray(i, np.uint8) for i in load_sample_images().images]


def source(images, n):
    """``n`` decoded images (the photos, cycled), as ``(uint8 [H, W, 3], label)``."""
    stack = np.stack(images)
    ds = tf.data.Dataset.from_tensor_slices((stack, np.arange(len(stack)) % 10))
    return ds.repeat().take(n).cache()


def consume(ds):
    start = time.perf_counter()
    n = 0
    for x, _ in ds:
        n += int(x.shape[0])
    return n, time.perf_counter() - start


def bench_crops(images, n):
    p = keras_cnns.model_info("googlenet").preprocessing
    ds = source(images, n)
    list(ds)  # fill the cache

    def crops(img, y):
        return normalize(multi_crop(img, "googlenet-144"), p), y

    pipe = ds.map(crops, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)
    next(iter(pipe))  # trace
    count, seconds = consume(pipe)
    return count / seconds, count * 144 / seconds


def bench_model(model, images, n_images):
    p = keras_cnns.model_info("googlenet").preprocessing
    x = normalize(multi_crop(images[0], "googlenet-144"), p)
    predict = tf.function(lambda v: model(v, training=False))
    predict(x)  # trace and warm up
    start = time.perf_counter()
    for _ in range(n_images):
        predict(x).numpy()
    seconds = time.perf_counter() - start
    return n_images * 144 / seconds, seconds


def bench_presets(images, n, batch):
    """Each preset at its network's crop size and normalisation (224 if not registered)."""
    out = {}
    registered = keras_cnns.available_models()
    for preset, name in PAIRS:
        ds = train_pipeline(source(images, n), name if name in registered else "googlenet",
                            batch, augment=preset, shuffle_buffer=0)
        next(iter(ds))
        count, seconds = consume(ds)
        out[preset] = count / seconds
    return out


def bench_train_step(name, batch, steps):
    info = keras_cnns.model_info(name)
    model = keras_cnns.build(name)
    if keras_cnns.heads.has_aux(model):
        model = keras_cnns.inference_model(model)
    model.compile(optimizer=keras.optimizers.SGD(0.01, momentum=0.9),
                  loss="sparse_categorical_crossentropy")
    size = info.default_input_shape
    rng = np.random.default_rng(0)
    x = rng.standard_normal((batch,) + tuple(size)).astype("float32")
    y = rng.integers(0, info.default_classes, batch)
    model.train_on_batch(x, y)  # build and trace
    start = time.perf_counter()
    for _ in range(steps):
        model.train_on_batch(x, y)
    return batch * steps / (time.perf_counter() - start), size[0]


def main(argv=None):
    parser = argparse.ArgumentParser(description="data pipeline / TTA benchmark")
    parser.add_argument("--images", type=int, default=6, help="images for 144-crop timing")
    parser.add_argument("--aug-images", type=int, default=256, help="images per preset")
    parser.add_argument("--train-batch", type=int, default=8)
    parser.add_argument("--steps", type=int, default=2, help="timed training steps")
    args = parser.parse_args(argv)
    print(f"TensorFlow {tf.__version__}, Keras {keras.__version__}, "
          f"{os.cpu_count()} CPUs, inter/intra threads default")
    imgs = photos()

    crop_ips, crop_cps = bench_crops(imgs, max(args.images * 4, 16))
    print(f"144-crop generation + normalisation: {crop_ips:.1f} images/s, "
          f"{crop_cps:.0f} crops/s")

    model = keras_cnns.GoogLeNet()
    model_cps, _ = bench_model(model, imgs, args.images)
    print(f"GoogLeNet inference on the crops: {model_cps:.1f} crops/s "
          f"({model_cps / 144:.2f} images/s at 144 crops)")

    evaluate_tta(model, source(imgs, 1), "googlenet-144", verbose=0)  # trace
    res = evaluate_tta(model, source(imgs, args.images), "googlenet-144", batch_size=144,
                       verbose=0)
    total = res["seconds"]
    model_time = res["images"] * 144 / model_cps
    outside = max(0.0, 1.0 - model_time / total)
    print(f"evaluate_tta googlenet-144: {res['images']} images in {total:.1f} s "
          f"({res['images'] / total:.2f} images/s); model alone {model_time:.1f} s; "
          f"outside the model {100 * outside:.1f} % (target <= 5 %); crop pipeline alone "
          f"would need {100 * res['images'] / crop_ips / total:.1f} % of it")

    presets = bench_presets(imgs, args.aug_images, 32)
    registered = keras_cnns.available_models()
    print("| preset | pipeline images/s | network | train-step images/s | ratio (target >= 5) |")
    print("|---|---|---|---|---|")
    for preset, name in PAIRS:
        if name not in registered:
            print(f"| {preset} | {presets[preset]:.0f} | {name}: not registered, skipped | | |")
            continue
        train_ips, size = bench_train_step(name, args.train_batch, args.steps)
        print(f"| {preset} | {presets[preset]:.0f} | {name} ({size}px, batch "
              f"{args.train_batch}) | {train_ips:.1f} | {presets[preset] / train_ips:.0f}x |")
        keras.backend.clear_session()


if __name__ == "__main__":
    main()
