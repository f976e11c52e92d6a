"""tf.data pipelines: sources, the papers' training augmentation, and test-time
multi-crop / dense evaluation. See docs/data.md."""

from keras_cnns.data.augment import (PRESETS, augment_image, eval_pipeline, normalize,
                                     train_pipeline)
from keras_cnns.data.crops import CROP_SCHEMES, SCHEMES, multi_crop, num_crops
from keras_cnns.data.sources import digits, digits_arrays, image_folder, load, to_rgb
from keras_cnns.data.tta import evaluate_tta, fully_convolutional

__all__ = [
    "load", "image_folder", "digits", "digits_arrays", "to_rgb",
    "PRESETS", "augment_image", "train_pipeline", "eval_pipeline", "normalize",
    "SCHEMES", "CROP_SCHEMES", "multi_crop", "num_crops",
    "evaluate_tta", "fully_convolutional",
]
