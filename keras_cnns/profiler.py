"""Cost of a built model, read off its layers: parameters, multiply-adds, activations.

Conventions (CS231n lecture 9's VGG16 slide, and the papers' multiply-add counts):

- ``macs``: multiply-adds of convolutions (``kh * kw * c_in / groups`` per output
  element) and dense layers; biases, BN, pooling, LRN and additions are not
  multiply-adds and are reported apart, in ``other_ops``.
- ``activations``: per image, the input plus the output of every convolution (its ReLU
  fused in), pooling, LRN and dense layer. VGG16 gives 15,237,608 (about 61 MB in
  float32); the slide's "24 M / ~100 MB" is an arithmetic error.
"""

from __future__ import annotations

import dataclasses
import math
from typing import Dict, Optional, Tuple

import keras

__all__ = ["Profile", "LayerProfile", "profile", "layer_macs"]


@dataclasses.dataclass(frozen=True)
class LayerProfile:
    """One layer: ``activations`` is the per-image element count of its output where
    the convention counts it (input, conv, pool, LRN, dense), else 0; ``elements`` is
    its output's size whatever the kind; ``other_ops`` its non-multiply-add work."""

    name: str
    kind: str
    output_shape: Tuple
    params: int
    macs: int
    activations: int = 0
    elements: int = 0
    other_ops: int = 0


def _prod(dims):
    return math.prod(int(d) for d in dims)


def _lrn_class():
    from keras_cnns.layers import LocalResponseNormalization

    return LocalResponseNormalization


def _ceil_pool_class():
    from keras_cnns.layers import CeilModePooling2D

    return CeilModePooling2D


_POOLS = (keras.layers.MaxPooling2D, keras.layers.AveragePooling2D,
          keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D)


def _is_pool(layer):
    return isinstance(layer, _POOLS + (_ceil_pool_class(),))


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


def _counts_as_activation(layer):
    return (isinstance(layer, (keras.layers.Conv2D, keras.layers.Dense, _lrn_class()))
            or _is_pool(layer))


def _other_op_kind(layer):
    if isinstance(layer, keras.layers.BatchNormalization):
        return "batch_norm"
    if _is_pool(layer):
        return "pooling"
    if isinstance(layer, _lrn_class()):
        return "lrn"
    if isinstance(layer, (keras.layers.Add, keras.layers.Average)):
        return "add"
    return None


def _other_ops(layer, in_shapes, out_shape) -> int:
    """Non-multiply-add work: BN one scale-and-shift per element; a pool one operation
    per window element; LRN a window of squares per element; an add (or mean join) one
    addition per extra input per element."""
    kind = _other_op_kind(layer)
    n = _prod(out_shape[1:])
    if kind == "batch_norm":
        return n
    if kind == "pooling":
        if isinstance(layer, (keras.layers.GlobalAveragePooling2D, keras.layers.GlobalMaxPooling2D)):
            return _prod(in_shapes[0][1:])
        if isinstance(layer, _ceil_pool_class()):  # an int pool_size
            return layer.pool_size ** 2 * n
        return _prod(layer.pool_size) * n
    if kind == "lrn":
        return (2 * layer.depth_radius + 1) * n
    if kind == "add":
        return (len(in_shapes) - 1) * n
    return 0


def _shapes(tensors):
    if isinstance(tensors, dict):
        tensors = list(tensors.values())
    if not isinstance(tensors, (list, tuple)):
        tensors = [tensors]
    return [tuple(t.shape) for t in tensors]


def _walk(model):
    """Leaf layers with their input and output shapes, nested models flattened."""
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if isinstance(layer, keras.Model):
            yield from _walk(layer)
            continue
        yield layer, _shapes(layer.input), _shapes(layer.output)[0]


@dataclasses.dataclass(frozen=True)
class Profile:
    """Totals for a model at its input shape.

    ``params`` is ``count_params()`` (BN moving statistics included),
    ``trainable_params`` the trainable count, ``macs`` the multiply-adds,
    ``activations`` the per-image activation count (CS231n convention),
    ``activation_bytes`` that at the model's dtype, ``other_ops`` the BN, pooling, LRN
    and addition work by kind, and ``layers`` one row per layer.
    """

    params: int
    trainable_params: int
    macs: int
    layers: Tuple[LayerProfile, ...]
    activations: int = 0
    activation_bytes: int = 0
    other_ops: Dict[str, int] = dataclasses.field(default_factory=dict)
    bytes_per_element: int = 4

    @property
    def non_trainable_params(self):
        return self.params - self.trainable_params

    def training_memory(self, batch_size=32, optimizer_slots=1):
        """Bytes to train one step, estimated as

        ``batch_size * E * b + (P + 2 * T + optimizer_slots * T) * b``

        with ``E`` every layer's output elements per image (all of them are kept for
        back-propagation, BN and ReLU outputs included, unlike the CS231n count),
        ``P`` all parameters, ``T`` the trainable ones (their gradients, plus the
        optimiser's slots: 1 for SGD with momentum, 2 for Adam, 0 for plain SGD, and
        one more copy for a moving average of the weights), ``b`` bytes per element.
        Workspace of the convolution kernels and the framework is not included.
        """
        if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        if isinstance(optimizer_slots, bool) or not isinstance(optimizer_slots, int) or optimizer_slots < 0:
            raise ValueError(f"optimizer_slots must be a non-negative int, got {optimizer_slots!r}")
        elements = self.input_elements + sum(r.elements for r in self.layers)
        b = self.bytes_per_element
        return (batch_size * elements * b
                + (self.params + (1 + optimizer_slots) * self.trainable_params) * b)

    @property
    def input_elements(self):
        return self.layers[0].activations if self.layers and self.layers[0].kind == "Input" else 0

    def __str__(self):
        # Joins (an inception module's concat, a residual add) are the blocks' outputs
        # and stay in the table, though their memory is counted in their branches.
        rows = [r for r in self.layers
                if r.params or r.macs or r.activations or r.kind in _JOINS]
        width = max([len(r.name) for r in rows] + [10])
        head = (f"{'layer':<{width}}  {'kind':<24} {'output':<16} {'memory':>12} "
                f"{'params':>12} {'MACs':>16}")
        lines = [head, "-" * len(head)]
        for r in rows:
            shape = "x".join("?" if d is None else str(d) for d in r.output_shape[1:])
            lines.append(f"{r.name:<{width}}  {r.kind:<24} {shape:<16} {r.activations:>12,} "
                         f"{r.params:>12,} {r.macs:>16,}")
        lines.append("-" * len(head))
        mb = self.activation_bytes / 2 ** 20
        lines.append(f"total memory: {self.activations:,} activations per image "
                     f"(~{mb:.0f} MiB forward at {self.bytes_per_element} bytes)")
        lines.append(f"total params: {self.params:,} (trainable {self.trainable_params:,})")
        lines.append(f"multiply-adds: {self.macs:,}")
        if self.other_ops:
            lines.append("other ops: " + ", ".join(f"{k} {v:,}" for k, v in self.other_ops.items()))
        return "\n".join(lines)


_JOINS = ("Concatenate", "Add")


def profile(model, input_shape: Optional[Tuple[int, int, int]] = None) -> Profile:
    """Count parameters, multiply-adds and activations of ``model`` at its input shape.

    ``input_shape`` (HWC) profiles the registry entry of ``model.name`` at that size
    instead (its default configuration); it is needed when the model's input has
    ``None`` spatial dimensions.
    """
    if not isinstance(model, keras.Model):
        raise TypeError(f"profile expects a keras.Model, got {type(model).__name__}")
    if input_shape is not None:
        model = _rebuild_at(model, input_shape)
    rows = []
    for inp in model.inputs:
        shape = tuple(inp.shape)
        n = _prod(shape[1:]) if all(d is not None for d in shape[1:]) else 0
        rows.append(LayerProfile("input", "Input", shape, 0, 0, n, 0, 0))
    other = {}
    for layer, in_shapes, out_shape in _walk(model):
        if any(d is None for d in out_shape[1:]):
            raise ValueError(f"layer {layer.name!r} has an unknown output shape {out_shape}; "
                             "pass input_shape=(height, width, channels)")
        n = _prod(out_shape[1:])
        ops = _other_ops(layer, in_shapes, out_shape)
        if ops:
            kind = _other_op_kind(layer)
            other[kind] = other.get(kind, 0) + ops
        rows.append(LayerProfile(
            layer.name, type(layer).__name__, out_shape, int(layer.count_params()),
            int(layer_macs(layer, in_shapes[0], out_shape)),
            n if _counts_as_activation(layer) else 0, n, ops))
    trainable = sum(_prod(w.shape) for w in model.trainable_weights)
    activations = sum(r.activations for r in rows)
    dtype = keras.backend.standardize_dtype(model.compute_dtype)
    nbytes = {"float16": 2, "bfloat16": 2, "float64": 8}.get(dtype, 4)
    return Profile(params=int(model.count_params()), trainable_params=int(trainable),
                   macs=sum(r.macs for r in rows), layers=tuple(rows),
                   activations=activations, activation_bytes=activations * nbytes,
                   other_ops=other, bytes_per_element=nbytes)


def _rebuild_at(model, input_shape):
    from keras_cnns import registry

    try:
        builder, kwargs = registry.get_builder(model.name)
    except ValueError as err:
        raise ValueError("profile(input_shape=...) rebuilds registry models only; "
                         f"{model.name!r} is not one") from err
    return builder(**kwargs, input_shape=tuple(input_shape), weights=None)
