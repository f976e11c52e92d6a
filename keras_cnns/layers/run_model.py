"""``MetadataModel``: a functional model that carries its run's metadata in the ``.keras``.

A trained checkpoint must predict with its class names and preprocessing when copied
alone to another machine. Keras keeps a model's config in ``config.json`` of the
``.keras`` archive; this registered subclass of the functional model adds one JSON-safe
entry, ``run_metadata``, to that config, so ``keras.saving.load_model(path,
safe_mode=True)`` (after ``import keras_cnns``) gives the model back with its metadata.
Layers, weights, outputs and the model's name are those of the wrapped model.
"""

import json

import keras


@keras.saving.register_keras_serializable(package="keras_cnns")
class MetadataModel(keras.Model):
    """A functional model plus ``run_metadata`` (a JSON-safe dict, or ``None``)."""

    # Same positional arguments as the functional model's constructor, so Keras
    # serialises it as a functional model (``functional_like_constructor``).
    def __init__(self, inputs, outputs, name=None, **kwargs):
        metadata = kwargs.pop("run_metadata", None)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)
        self.run_metadata = metadata

    @property
    def run_metadata(self):
        text = getattr(self, "_run_metadata_json", None)
        return None if text is None else json.loads(text)

    @run_metadata.setter
    def run_metadata(self, value):
        # Kept as JSON text: Keras would wrap a dict attribute in a tracked container,
        # and a copy keeps callers from editing the stored record by accident.
        text = None if value is None else json.dumps(value, sort_keys=True)
        object.__setattr__(self, "_run_metadata_json", text)

    def get_config(self):
        config = super().get_config()
        config["run_metadata"] = self.run_metadata
        return config

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        metadata = config.pop("run_metadata", None)
        model = super().from_config(config, custom_objects=custom_objects)
        model.run_metadata = metadata
        return model
