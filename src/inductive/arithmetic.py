"""Closed-form shapes and parameter counts of Keras 2D layers.

Used to check configs before anything is built (so a bad kernel size fails with the shapes
involved, not a TensorFlow traceback) and to answer the lecture's questions with numbers.
Shapes are (H, W, C) without the batch axis unless a function says otherwise.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

PADDINGS = ("valid", "same")


class LayerSettingError(ValueError):
    """A layer setting that cannot produce an output (names the setting and the shapes)."""


def _pair(value: int | tuple[int, int] | list[int], name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, int) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, int) and v > 0 for v in pair):
        raise LayerSettingError(f"{name} must be a positive int or a pair of them, got {value!r}")
    return pair  # type: ignore[return-value]


def output_size(size: int, kernel: int, stride: int = 1, padding: str = "valid", dilation: int = 1) -> int:
    """Output length along one spatial axis, as Keras computes it."""
    if padding not in PADDINGS:
        raise LayerSettingError(f"padding must be one of {PADDINGS}, got {padding!r}")
    if padding == "same":
        return math.ceil(size / stride)
    effective = dilation * (kernel - 1) + 1
    if effective > size:
        raise LayerSettingError(
            f"kernel {kernel} (dilation {dilation}, effective {effective}) is larger than the "
            f"input size {size} with padding='valid'; use a smaller kernel or padding='same'"
        )
    return (size - effective) // stride + 1


def conv2d_output_shape(
    input_shape: tuple[int, int, int],
    filters: int,
    kernel_size: int | tuple[int, int],
    strides: int | tuple[int, int] = 1,
    padding: str = "valid",
    dilation_rate: int | tuple[int, int] = 1,
) -> tuple[int, int, int]:
    """(H, W, C) out of a Conv2D given (H, W, C) in."""
    if not isinstance(filters, int) or filters <= 0:
        raise LayerSettingError(f"filters must be a positive int, got {filters!r}")
    (kh, kw), (sh, sw), (dh, dw) = (
        _pair(kernel_size, "kernel_size"),
        _pair(strides, "strides"),
        _pair(dilation_rate, "dilation_rate"),
    )
    h, w, _ = input_shape
    return output_size(h, kh, sh, padding, dh), output_size(w, kw, sw, padding, dw), filters


def pool2d_output_shape(
    input_shape: tuple[int, int, int],
    pool_size: int | tuple[int, int],
    strides: int | tuple[int, int] | None = None,
    padding: str = "valid",
) -> tuple[int, int, int]:
    """(H, W, C) out of MaxPool2D / AveragePooling2D (strides default to the pool size)."""
    ph, pw = _pair(pool_size, "pool_size")
    sh, sw = _pair(strides if strides is not None else (ph, pw), "strides")
    h, w, c = input_shape
    return output_size(h, ph, sh, padding), output_size(w, pw, sw, padding), c


@dataclass(frozen=True)
class ParamCount:
    """Trainable parameters of a layer, weights and biases kept apart."""

    weights: int
    biases: int

    @property
    def total(self) -> int:
        return self.weights + self.biases


def conv2d_params(in_channels: int, filters: int, kernel_size: int | tuple[int, int], use_bias: bool = True) -> ParamCount:
    """kh * kw * C_in * filters weights, plus one bias per filter: independent of H and W."""
    kh, kw = _pair(kernel_size, "kernel_size")
    return ParamCount(kh * kw * in_channels * filters, filters if use_bias else 0)


def dense_params(in_features: int, units: int, use_bias: bool = True) -> ParamCount:
    """in_features * units weights, plus one bias per unit."""
    return ParamCount(in_features * units, units if use_bias else 0)
