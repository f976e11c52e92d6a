"""Pooling layers the original releases use and Keras lacks."""

import keras
import tensorflow as tf

from keras_cnns.validation import check_ints, is_int


@keras.saving.register_keras_serializable(package="keras_cnns")
class AdaptiveAveragePooling2D(keras.layers.Layer):
    """torch's ``adaptive_avg_pool2d``: output cell ``i`` averages input rows
    ``floor(i * H / out)`` to ``ceil((i + 1) * H / out)`` (likewise columns).

    Needs a static spatial size; torchvision's GoogLeNet and Inception v3 aux heads use it.
    """

    def __init__(self, output_size, **kwargs):
        super().__init__(**kwargs)
        if is_int(output_size):
            output_size = (output_size, output_size)
        self.output_size = check_ints("output_size", output_size, length=2)

    @staticmethod
    def _bounds(size, out):
        return [((i * size) // out, -((-(i + 1) * size) // out)) for i in range(out)]

    def call(self, inputs):
        h, w = inputs.shape[1], inputs.shape[2]
        if h is None or w is None:
            raise ValueError("AdaptiveAveragePooling2D needs a static height and width")
        rows = []
        for r0, r1 in self._bounds(h, self.output_size[0]):
            cols = [tf.reduce_mean(inputs[:, r0:r1, c0:c1, :], axis=[1, 2])
                    for c0, c1 in self._bounds(w, self.output_size[1])]
            rows.append(tf.stack(cols, axis=1))
        return tf.stack(rows, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.output_size, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(output_size=list(self.output_size))
        return config
