"""Cost of a built model: parameters and multiply-adds, read off its layers."""

from __future__ import annotations

import dataclasses
import math
from typing import Optional, Tuple

import keras

__all__ = ["Profile", "LayerProfile", "profile", "layer_macs"]


@dataclasses.dataclass(frozen=True)
class LayerProfile:
    name: str
    kind: str
    output_shape: Tuple
    params: int
    macs: int


@dataclasses.dataclass(frozen=True)
class Profile:
    """Totals for a model: ``params`` (``count_params()``, BN statistics included),
    ``trainable_params``, and ``macs``: multiply-adds of convolutions (divided by
    ``groups``) and dense layers at the model's input shape; biases, BN, pooling and
    activations are not multiply-adds and are not counted."""

    params: int
    trainable_params: int
    macs: int
    layers: Tuple[LayerProfile, ...]

    @property
    def non_trainable_params(self):
        return self.params - self.trainable_params

    def __str__(self):
        width = max([len(r.name) for r in self.layers] + [10])
        lines = [f"{'layer':<{width}}  {'kind':<20} {'output shape':<22} {'params':>12} {'MACs':>16}"]
        for r in self.layers:
            shape = "x".join("?" if d is None else str(d) for d in r.output_shape[1:])
            lines.append(f"{r.name:<{width}}  {r.kind:<20} {shape:<22} {r.params:>12,} {r.macs:>16,}")
        lines.append(f"total params {self.params:,} (trainable {self.trainable_params:,}); "
                     f"multiply-adds {self.macs:,}")
        return "\n".join(lines)


def _prod(dims):
    return math.prod(int(d) for d in dims)


def layer_macs(layer, input_shape, output_shape) -> int:
    """Multiply-adds of one layer, from its static shapes (0 for non-linear layers)."""
    if isinstance(layer, keras.layers.DepthwiseConv2D):
        kh, kw = layer.kernel_size
        return kh * kw * _prod(output_shape[1:])
    if isinstance(layer, keras.layers.SeparableConv2D):
        kh, kw = layer.kernel_size
        cin = input_shape[-1]
        depthwise = kh * kw * cin * layer.depth_multiplier * _prod(output_shape[1:-1])
        return depthwise + cin * layer.depth_multiplier * _prod(output_shape[1:])
    if isinstance(layer, keras.layers.Conv2D):
        kh, kw = layer.kernel_size
        cin = input_shape[-1]
        return kh * kw * (cin // layer.groups) * _prod(output_shape[1:])
    if isinstance(layer, keras.layers.Dense):
        # A Dense on a [N, ..., C] tensor applies at every leading position.
        return input_shape[-1] * _prod(output_shape[1:])
    return 0


def _shape(tensor_or_shape):
    shape = getattr(tensor_or_shape, "shape", tensor_or_shape)
    return tuple(shape)


def _walk(model):
    """Leaf layers with their input and output shapes, nested models flattened."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model):
            yield from _walk(layer)
            continue
        ins = layer.input
        in_shape = _shape(ins[0] if isinstance(ins, (list, tuple)) else ins)
        outs = layer.output
        out_shape = _shape(outs[0] if isinstance(outs, (list, tuple)) else outs)
        yield layer, in_shape, out_shape


def profile(model, input_shape: Optional[Tuple[int, int, int]] = None) -> Profile:
    """Count parameters and multiply-adds of ``model`` at its input shape.

    ``input_shape`` (HWC) profiles the registry entry of ``model.name`` at that size
    instead (its default configuration); it is needed when the model's input has
    ``None`` spatial dimensions.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"profile expects a keras.Model, got {type(model).__name__}")
    if input_shape is not None:
        model = _rebuild_at(model, input_shape)
    rows = []
    for layer, in_shape, out_shape in _walk(model):
        if any(d is None for d in out_shape[1:]):
            if isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense)):
                raise ValueError(f"layer {layer.name!r} has an unknown output shape {out_shape}; "
                                 "pass input_shape=(height, width, channels)")
        macs = layer_macs(layer, in_shape, out_shape)
        rows.append(LayerProfile(layer.name, type(layer).__name__, out_shape,
                                 int(layer.count_params()), int(macs)))
    trainable = sum(_prod(w.shape) for w in model.trainable_weights)
    return Profile(params=int(model.count_params()), trainable_params=int(trainable),
                   macs=sum(r.macs for r in rows), layers=tuple(rows))


def _rebuild_at(model, input_shape):
    from keras_cnns import registry

    try:
        builder, kwargs = registry.get_builder(model.name)
    except ValueError as err:
        raise ValueError("profile(input_shape=...) rebuilds registry models only; "
                         f"{model.name!r} is not one") from err
    return builder(**kwargs, input_shape=tuple(input_shape), weights=None)
