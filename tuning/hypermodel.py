"""``HyperCNN``: a keras-tuner HyperModel for any registered keras_cnns network."""

from __future__ import annotations

import keras
import keras_tuner

from keras_cnns import heads as aux_lib
from keras_cnns import registry
from tuning import spaces

__all__ = ["HyperCNN", "PARAMS_METRIC"]

# Every trial reports its model's parameter count under this name (a constant "metric"),
# so the count travels with the trial to the oracle, also in distributed mode.
PARAMS_METRIC = "params"


class HyperCNN(keras_tuner.HyperModel):
    """The search space of ``model_name``'s family (see :mod:`tuning.spaces`) over a model
    with ``classes`` outputs and ``input_shape`` (HWC).

    ``**fixed``: a name of the space (``dropout=0.5``, ``learning_rate=1e-3``,
    ``inception_4_filters=1.0``) fixes that hyperparameter; anything else is a builder
    keyword argument applied to every trial (``aux=True``, ``variant="bn"``).
    ``tune_learning_rate=False`` keeps Adam's learning rate at 1e-3.

    Models are compiled with Adam, sparse categorical cross-entropy and accuracy; an aux
    model (``aux=True``) gets one loss per head, the registry's loss weights (0.3 per
    GoogLeNet aux head) and accuracy on the ``main`` head, so the objective is
    ``val_main_accuracy``.
    """

    def __init__(self, model_name, classes, input_shape, *, tune_learning_rate=True,
                 name=None, precision="float32", **fixed):
        from keras_cnns.precision import check_precision

        info = registry.model_info(model_name)  # ValueError for an unknown name
        # Each trial's model is built under this policy: keras-tuner calls
        # keras.backend.clear_session() between trials, which resets the global policy.
        self.precision = check_precision(precision)
        spaces.space_for(model_name)
        super().__init__(name=name or f"hyper_{model_name}", tunable=True)
        if isinstance(classes, bool) or not isinstance(classes, int) or classes < 1:
            raise ValueError(f"classes must be a positive int, got {classes!r}")
        if input_shape is None or len(tuple(input_shape)) != 3:
            raise ValueError(f"input_shape must be (height, width, channels), got {input_shape!r}")
        self.model_name = model_name
        self.info = info
        self.classes = int(classes)
        self.input_shape = tuple(int(d) for d in input_shape)
        self.tune_learning_rate = bool(tune_learning_rate)
        self.aux = bool(fixed.pop("aux", False))
        if self.aux and not info.has_aux:
            raise ValueError(f"aux=True: model {model_name!r} has no aux heads")
        self.rows = spaces.hyperparameters(model_name, aux=self.aux)
        names = {r.name for r in self.rows} | {"learning_rate"}
        self.fixed_hps = {k: v for k, v in fixed.items() if k in names}
        self.build_kwargs = {k: v for k, v in fixed.items() if k not in names}
        for row in self.rows:
            if row.name in self.fixed_hps and self.fixed_hps[row.name] not in row.values:
                raise ValueError(f"{row.name}={self.fixed_hps[row.name]!r} is not one of "
                                 f"{row.values}")

    @property
    def hyperparameter_names(self):
        names = [r.name for r in self.rows]
        if self.tune_learning_rate or "learning_rate" in self.fixed_hps:
            names.append("learning_rate")
        return names

    @property
    def objective(self):
        """The main head's validation accuracy, direction explicit (keras-tuner cannot
        infer ``val_main_accuracy``)."""
        return keras_tuner.Objective("val_main_accuracy" if self.aux else "val_accuracy", "max")

    def values(self, hp):
        """Declare the space on ``hp``; return {name: value} of the current trial."""
        values = {}
        for row in self.rows:
            if row.name in self.fixed_hps:
                values[row.name] = hp.Fixed(row.name, self.fixed_hps[row.name])
            else:
                values[row.name] = row.declare(hp)
        if "learning_rate" in self.fixed_hps:
            values["learning_rate"] = hp.Fixed("learning_rate", self.fixed_hps["learning_rate"])
        elif self.tune_learning_rate:
            values["learning_rate"] = hp.Choice("learning_rate", list(spaces.LEARNING_RATES),
                                                default=spaces.LEARNING_RATES[0])
        return values

    def build_model(self, values):
        """The uncompiled model for picked ``values`` (no keras-tuner needed)."""
        kwargs = spaces.builder_kwargs(self.model_name,
                                       {k: v for k, v in values.items() if k != "learning_rate"})
        kwargs.update(self.build_kwargs)
        if self.aux:
            kwargs["aux"] = True
        from keras_cnns.precision import precision_policy

        with precision_policy(self.precision):
            return registry.build(self.model_name, classes=self.classes,
                                  input_shape=self.input_shape, **kwargs)

    def build(self, hp):
        values = self.values(hp)
        model = self.build_model(values)
        self.compile(model, values.get("learning_rate", spaces.LEARNING_RATES[0]))
        return model

    def compile(self, model, learning_rate):
        loss = "sparse_categorical_crossentropy"
        optimizer = keras.optimizers.Adam(learning_rate=float(learning_rate))
        keys = aux_lib.output_keys(model)
        if keys:
            model.compile(optimizer=optimizer, loss={k: loss for k in keys},
                          loss_weights=aux_lib.aux_loss_weights(model, name=self.model_name),
                          metrics={aux_lib.MAIN: ["accuracy"]})
        else:
            model.compile(optimizer=optimizer, loss=loss, metrics=["accuracy"])
        return model

    def fit(self, hp, model, *args, **kwargs):
        history = model.fit(*args, **kwargs)
        # The parameter count, reported with the trial's metrics.
        n = len(next(iter(history.history.values()), [])) or 1
        history.history[PARAMS_METRIC] = [float(model.count_params())] * n
        return history
