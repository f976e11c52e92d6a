"""``preprocessing(name_or_model)``: the model's own input pipeline as a Keras layer."""

import keras

from keras_cnns import registry
from keras_cnns.layers import Preprocess


def preprocessing(name_or_model, name=None, image_size=None):
    """A registered, serialisable :class:`~keras_cnns.layers.Preprocess` layer that
    maps a uint8 batch ``[N, H, W, 3]`` of any size to the model's input.

    It resizes the shorter side to ``size / crop_fraction``, centre-crops ``size``,
    and scales or normalises as the model's :class:`~keras_cnns.registry.Preprocessing`
    says; a one-channel model gets grey. ``size`` is the model's input size (or the
    registry default for a name, or ``image_size``).
    """
    info = registry.model_info(name_or_model, name=name)
    p = info.preprocessing
    h, w, c = info.default_input_shape
    if isinstance(name_or_model, keras.Model):
        shape = tuple(name_or_model.inputs[0].shape[1:])
        if shape[0] is not None and shape[1] is not None:
            h, w = int(shape[0]), int(shape[1])
        c = shape[-1]
    if image_size is not None:
        if isinstance(image_size, int):
            image_size = (image_size, image_size)
        h, w = (int(s) for s in image_size)
    grey = p.grayscale or c == 1
    mean, std = p.mean, p.std
    if grey and len(mean) == 3:
        # One channel: the mean and std of the grey conversion's weights.
        mean, std = (sum(mean) / 3.0,), (sum(std) / 3.0,)
    return Preprocess(h, w, mean=mean, std=std, scale=p.scale, color_order=p.color_order,
                      crop_fraction=p.crop_fraction, interpolation=p.interpolation,
                      grayscale=grey, name=f"{info.name}_preprocessing")
