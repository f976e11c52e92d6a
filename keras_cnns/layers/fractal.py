"""FractalNet's join and drop-path (Larsson, Maire, Shakhnarovich 2016, section 3)."""

import keras
from keras import ops

from keras_cnns.validation import check_positive_int, check_rate


@keras.saving.register_keras_serializable(package="keras_cnns")
class DropPathSampler(keras.layers.Layer):
    """Draws the global drop-path decision once per mini-batch for the whole network.

    Reads any batch tensor (the image) and returns a ``[batch, num_columns]`` float mask,
    the same on every row: at training, with probability ``global_rate`` the one-hot of a
    column drawn uniformly ("global": a single column for the entire network), otherwise
    all ones (the batch uses local drop-path). At inference: all ones. Every
    :class:`FractalJoin` reads it as its last input.
    """

    def __init__(self, num_columns, global_rate=0.5, seed=None, **kwargs):
        kwargs.setdefault("dtype", "float32")
        super().__init__(**kwargs)
        self.num_columns = check_positive_int("num_columns", num_columns)
        self.global_rate = check_rate("global_rate", global_rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        batch = ops.shape(inputs)[0]
        ones = ops.ones((batch, self.num_columns), dtype="float32")
        if not training or self.global_rate == 0.0:
            return ones
        u = keras.random.uniform((2,), seed=self.seed_generator, dtype="float32")
        column = ops.minimum(ops.cast(u[1] * self.num_columns, "int32"), self.num_columns - 1)
        one_hot = ops.one_hot(column, self.num_columns, dtype="float32")
        mask = ops.where(u[0] < self.global_rate, one_hot, ops.ones_like(one_hot))
        return ones * mask[None, :]

    def compute_output_shape(self, input_shape):
        return (input_shape[0], self.num_columns)

    def get_config(self):
        config = super().get_config()
        config.update(num_columns=self.num_columns, global_rate=self.global_rate,
                      seed=self.seed)
        return config


@keras.saving.register_keras_serializable(package="keras_cnns")
class FractalJoin(keras.layers.Layer):
    """Element-wise mean of the columns entering a join, with drop-path at training.

    Called on ``[column_a, column_b, ..., global_mask]``: the column outputs, then the
    :class:`DropPathSampler` mask. ``columns`` gives each input's column index (0 = the
    shallowest column). At training:

    - a global batch (mask is one-hot) keeps only the chosen column's input; a join the
      chosen column does not pass through is off the active path, and averages all inputs;
    - a local batch drops each input independently with probability ``drop_rate``, per
      sample, and keeps one input chosen at random when all were dropped ("at least one
      survives"); the mean is over the surviving inputs.

    At inference it is the plain mean. Without drop-path (``drop_rate=0`` and the sampler's
    ``global_rate=0``) it is the plain mean at training as well.
    """

    def __init__(self, columns, num_columns, drop_rate=0.15, seed=None, **kwargs):
        super().__init__(**kwargs)
        columns = tuple(int(c) for c in columns)
        if len(columns) < 2:
            raise ValueError(f"a join needs at least 2 columns, got {columns}")
        if any(c < 0 or c >= num_columns for c in columns):
            raise ValueError(f"columns {columns} must lie in [0, {num_columns})")
        self.columns = columns
        self.num_columns = int(num_columns)
        self.drop_rate = check_rate("drop_rate", drop_rate)
        self.seed = seed
        self.seed_generator = keras.random.SeedGenerator(seed)

    def call(self, inputs, training=None):
        paths, mask = list(inputs[:-1]), inputs[-1]
        if len(paths) != len(self.columns):
            raise ValueError(f"{self.name} expects {len(self.columns)} column inputs, "
                             f"got {len(paths)}")
        stacked = ops.stack(paths, axis=0)  # [k, batch, H, W, C]
        if not training:
            return ops.mean(stacked, axis=0)
        k = len(paths)
        mask = ops.cast(mask, "float32")
        batch = ops.shape(mask)[0]
        is_global = ops.sum(mask, axis=1, keepdims=True) < self.num_columns  # [batch, 1]
        global_keep = ops.take(mask, list(self.columns), axis=1)  # [batch, k]
        u = keras.random.uniform((batch, k), seed=self.seed_generator, dtype="float32")
        local_keep = ops.cast(u >= self.drop_rate, "float32")
        pick = ops.one_hot(ops.argmax(
            keras.random.uniform((batch, k), seed=self.seed_generator), axis=1), k,
            dtype="float32")
        none_left = ops.sum(local_keep, axis=1, keepdims=True) == 0
        local_keep = ops.where(none_left, pick, local_keep)
        keep = ops.where(is_global, global_keep, local_keep)
        # The chosen global column skips this join: its output is unused, average all.
        keep = ops.where(ops.sum(keep, axis=1, keepdims=True) == 0, ops.ones_like(keep), keep)
        weights = keep / ops.sum(keep, axis=1, keepdims=True)  # [batch, k]
        weights = ops.reshape(ops.transpose(weights),
                              (k, -1) + (1,) * (len(paths[0].shape) - 1))
        return ops.sum(ops.cast(weights, stacked.dtype) * stacked, axis=0)

    def compute_output_shape(self, input_shape):
        return input_shape[0]

    def get_config(self):
        config = super().get_config()
        config.update(columns=list(self.columns), num_columns=self.num_columns,
                      drop_rate=self.drop_rate, seed=self.seed)
        return config
