"""Pooling layers the original releases use and Keras lacks."""

import keras
from keras import ops

from keras_cnns.blocks.rows import ceil_padding, pool_output_size
from keras_cnns.validation import check_choice, check_ints, check_positive_int, is_int


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
            cols = [ops.mean(inputs[:, r0:r1, c0:c1, :], axis=(1, 2))
                    for c0, c1 in self._bounds(w, self.output_size[1])]
            rows.append(ops.stack(cols, axis=1))
        return ops.stack(rows, axis=1)

    def compute_output_shape(self, input_shape):
        return (input_shape[0], *self.output_size, input_shape[-1])

    def get_config(self):
        config = super().get_config()
        config.update(output_size=list(self.output_size))
        return config


@keras.saving.register_keras_serializable(package="keras_cnns")
class CeilModePooling2D(keras.layers.Layer):
    """Max or average pooling that rounds up, as Caffe's pools and torch's
    ``ceil_mode=True`` do: ``out = ceil((n - k) / s) + 1`` windows per axis, one fewer if
    the last would start past the input, the last window overhanging the bottom / right
    edge. The overhang is worked out from the runtime shape, so the grid is the same
    whether or not the input size was known when the model was built.

    ``kind="max"``: the overhang never wins (padded with -inf). ``kind="avg"``: each
    window averages the cells it covers inside the input (Caffe's AVE pooling, torch's
    ``avg_pool2d`` with no padding). Channels last.
    """

    KINDS = ("max", "avg")

    def __init__(self, pool_size=3, strides=2, kind="max", **kwargs):
        super().__init__(**kwargs)
        self.pool_size = check_positive_int("pool_size", pool_size)
        self.strides = check_positive_int("strides", strides)
        self.kind = check_choice("kind", kind, self.KINDS)

    def _pad(self, n):
        """The bottom / right padding for side ``n`` (an int, or a scalar tensor when the
        side is only known at run time); :func:`~keras_cnns.blocks.rows.ceil_padding`."""
        k, s = self.pool_size, self.strides
        if is_int(n):
            return ceil_padding(int(n), k, s)
        out = ops.maximum(ops.floor_divide(n - k + s - 1, s), 0) + 1  # ceil((n - k) / s) + 1
        out = ops.where((out - 1) * s >= n, out - 1, out)  # the last window starts inside
        return ops.maximum((out - 1) * s + k - n, 0)

    def call(self, inputs):
        shape = ops.shape(inputs)
        pad = [[0, 0], [0, self._pad(shape[1])], [0, self._pad(shape[2])], [0, 0]]
        k, s = self.pool_size, self.strides
        if self.kind == "max":
            x = ops.pad(inputs, pad, constant_values=float("-inf"))
            return ops.max_pool(x, k, s, padding="valid", data_format="channels_last")
        # Sum over the window / cells of the window inside the input, as two means.
        ones = ops.ones_like(inputs[..., :1])
        total = ops.average_pool(ops.pad(inputs, pad), k, s, padding="valid",
                                 data_format="channels_last")
        covered = ops.average_pool(ops.pad(ones, pad), k, s, padding="valid",
                                   data_format="channels_last")
        return total / covered

    def compute_output_shape(self, input_shape):
        b, h, w, c = input_shape
        side = [None if n is None else pool_output_size(n, self.pool_size, self.strides,
                                                        padding="ceil") for n in (h, w)]
        return (b, side[0], side[1], c)

    def get_config(self):
        config = super().get_config()
        config.update(pool_size=self.pool_size, strides=self.strides, kind=self.kind)
        return config
