"""Closed-form shapes, parameter counts and multiply-accumulates of Keras 2D layers.

Used to check configs before anything is built (so a bad kernel size fails with the shapes
involved, not a TensorFlow traceback) and to answer the lecture's questions with numbers.
Shapes are (H, W, C) without the batch axis unless a function says otherwise; MACs are per image.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from numbers import Integral
from typing import Any

PADDINGS = ("valid", "same")


class LayerSettingError(ValueError):
    """A layer setting that cannot produce an output (names the setting and the shapes)."""


def _positive(value: Any, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral) or value <= 0:
        raise LayerSettingError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _pair(value: int | tuple[int, int] | list[int], name: str) -> tuple[int, int]:
    pair = (value, value) if isinstance(value, Integral) else tuple(value)
    if len(pair) != 2 or not all(isinstance(v, Integral) and not isinstance(v, bool) and v > 0 for v in pair):
        raise LayerSettingError(f"{name} must be a positive int or a pair of them, got {value!r}")
    return int(pair[0]), int(pair[1])


def _shape(shape: Any, rank: int | None = None, name: str = "input_shape") -> tuple[int, ...]:
    """A shape of positive ints, (H, W, C) when rank is 3."""
    shape = tuple(shape)
    wanted = "(H, W, C)" if rank == 3 else f"{rank} sizes" if rank else "one or more sizes"
    if (rank is not None and len(shape) != rank) or not shape or not all(
        isinstance(v, Integral) and not isinstance(v, bool) and v > 0 for v in shape
    ):
        raise LayerSettingError(f"{name} must be {wanted} of positive ints (no batch axis), got {shape!r}")
    return tuple(int(v) for v in shape)


def output_size(size: int, kernel: int, stride: int = 1, padding: str = "valid", dilation: int = 1) -> int:
    """Output length along one spatial axis, as Keras computes it."""
    size, kernel = _positive(size, "input size"), _positive(kernel, "kernel size")
    stride, dilation = _positive(stride, "stride"), _positive(dilation, "dilation")
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
    filters = _positive(filters, "filters")
    (kh, kw), (sh, sw), (dh, dw) = (
        _pair(kernel_size, "kernel_size"),
        _pair(strides, "strides"),
        _pair(dilation_rate, "dilation_rate"),
    )
    if max(sh, sw) > 1 and max(dh, dw) > 1:  # Keras refuses this pair too
        raise LayerSettingError(
            f"strides {(sh, sw)} > 1 cannot be combined with dilation_rate {(dh, dw)} > 1; set one of them to 1"
        )
    h, w, _ = _shape(input_shape, 3)
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
    h, w, c = _shape(input_shape, 3)
    return output_size(h, ph, sh, padding), output_size(w, pw, sw, padding), c


def global_pool2d_output_shape(input_shape: tuple[int, int, int], keepdims: bool = False) -> tuple[int, ...]:
    """(C,) out of GlobalAveragePooling2D / GlobalMaxPooling2D: each map becomes one number."""
    c = _shape(input_shape, 3)[2]
    return (1, 1, c) if keepdims else (c,)


@dataclass(frozen=True)
class ParamCount:
    """Trainable parameters of a layer, weights and biases kept apart."""

    weights: int
    biases: int

    @property
    def total(self) -> int:
        return self.weights + self.biases


def conv2d_params(
    in_channels: int, filters: int, kernel_size: int | tuple[int, int], use_bias: bool = True
) -> ParamCount:
    """kh * kw * C_in * filters weights, plus one bias per filter: independent of H, W, strides and dilation."""
    kh, kw = _pair(kernel_size, "kernel_size")
    in_channels, filters = _positive(in_channels, "in_channels"), _positive(filters, "filters")
    return ParamCount(kh * kw * in_channels * filters, filters if use_bias else 0)


def dense_params(in_features: int, units: int, use_bias: bool = True) -> ParamCount:
    """in_features * units weights, plus one bias per unit."""
    in_features, units = _positive(in_features, "in_features"), _positive(units, "units")
    return ParamCount(in_features * units, units if use_bias else 0)


def dense_equivalent_params(
    input_shape: tuple[int, ...], output_shape: tuple[int, ...], use_bias: bool = True
) -> ParamCount:
    """A Dense layer joining every input value to every output value: what weight sharing saves."""
    return dense_params(math.prod(_shape(input_shape)), math.prod(_shape(output_shape, name="output_shape")), use_bias)


@dataclass(frozen=True)
class Arithmetic:
    """What a layer does to one image, with the counts written out as products."""

    output_shape: tuple[int, ...]
    params: ParamCount
    macs: int
    params_formula: str  # e.g. "3*3*16*12 + 12"
    macs_formula: str  # e.g. "64*64*12 * 3*3*16": outputs times multiplies per output


def _product(*factors: int) -> str:
    return "*".join(map(str, factors))


def _conv2d(shape: tuple[int, ...], config: dict[str, Any]) -> Arithmetic:
    if config.get("groups", 1) != 1:
        raise LayerSettingError(f"groups must be 1 (grouped convolutions are not covered), got {config['groups']!r}")
    kernel, bias = _pair(config["kernel_size"], "kernel_size"), config.get("use_bias", True)
    out = conv2d_output_shape(shape, config["filters"], kernel, config.get("strides", 1),
                              config.get("padding", "valid"), config.get("dilation_rate", 1))
    params = conv2d_params(shape[2], out[2], kernel, bias)
    taps = (*kernel, shape[2])  # padded zeros are multiplied too, as the hardware does
    params_formula = _product(*taps, out[2]) + (f" + {out[2]}" if bias else "")
    return Arithmetic(out, params, math.prod(out) * math.prod(taps), params_formula,
                      f"{_product(*out)} * {_product(*taps)}")


def _dense(shape: tuple[int, ...], config: dict[str, Any]) -> Arithmetic:
    # Dense acts on the last axis; any leading axes repeat it at every position.
    *positions, features = shape
    units, bias = config["units"], config.get("use_bias", True)
    params = dense_params(features, units, bias)
    per_position = _product(features, units)
    return Arithmetic((*positions, units), params, math.prod(positions) * params.weights,
                      per_position + (f" + {units}" if bias else ""),
                      f"{_product(*positions)} * {per_position}" if positions else per_position)


def _pool2d(shape: tuple[int, ...], config: dict[str, Any]) -> Arithmetic:
    out = pool2d_output_shape(shape, config.get("pool_size", 2), config.get("strides"), config.get("padding", "valid"))
    return Arithmetic(out, ParamCount(0, 0), 0, "0", "0")


def _global_pool2d(shape: tuple[int, ...], config: dict[str, Any]) -> Arithmetic:
    return Arithmetic(global_pool2d_output_shape(shape, config.get("keepdims", False)), ParamCount(0, 0), 0, "0", "0")


def _flatten(shape: tuple[int, ...], config: dict[str, Any]) -> Arithmetic:
    return Arithmetic((math.prod(shape),), ParamCount(0, 0), 0, "0", "0")


def _identity(shape: tuple[int, ...], config: dict[str, Any]) -> Arithmetic:
    return Arithmetic(shape, ParamCount(0, 0), 0, "0", "0")


# Keras class name -> closed form. Max/average pooling differ in what they compute, not in their shapes.
LAYERS = {
    "Conv2D": _conv2d,
    "Dense": _dense,
    "MaxPooling2D": _pool2d,
    "AveragePooling2D": _pool2d,
    "GlobalAveragePooling2D": _global_pool2d,
    "GlobalMaxPooling2D": _global_pool2d,
    "Flatten": _flatten,
    "Dropout": _identity,
    "Activation": _identity,
}


def layer_arithmetic(class_name: str, config: dict[str, Any], input_shape: tuple[int, ...]) -> Arithmetic:
    """Closed form of a Keras layer given its class name, its constructor arguments and its input shape."""
    if class_name not in LAYERS:
        raise LayerSettingError(f"layer {class_name!r} has no closed form here; use one of {sorted(LAYERS)}")
    if config.get("data_format", "channels_last") != "channels_last":
        raise LayerSettingError(f"data_format must be 'channels_last', got {config['data_format']!r}")
    return LAYERS[class_name](_shape(input_shape), config)


def model_macs(model: Any) -> int:
    """Multiply-accumulates per image of a built keras.Model made of the layers in LAYERS (FLOPs ~ 2 * MACs)."""
    total = 0
    for layer in model.layers:
        if type(layer).__name__ == "InputLayer":
            continue
        # The first class of its lineage we know, so a subclass of Conv2D counts as a Conv2D.
        known = next((cls.__name__ for cls in type(layer).__mro__ if cls.__name__ in LAYERS), type(layer).__name__)
        try:
            total += layer_arithmetic(known, layer.get_config(), layer.input.shape[1:]).macs
        except LayerSettingError as err:
            raise LayerSettingError(f"layer {layer.name!r} of model {model.name!r}: {err}") from None
    return total


def local2d_params(
    input_shape: tuple[int, int, int],
    filters: int,
    kernel_size: int | tuple[int, int],
    strides: int | tuple[int, int] = 1,
    padding: str = "valid",
    use_bias: bool = True,
) -> ParamCount:
    """out_h * out_w times a Conv2D's kh * kw * C_in * filters weights, and out_h * out_w * filters biases."""
    out_h, out_w, filters = conv2d_output_shape(input_shape, filters, kernel_size, strides, padding)
    kh, kw = _pair(kernel_size, "kernel_size")
    positions = out_h * out_w
    return ParamCount(positions * kh * kw * input_shape[2] * filters, positions * filters if use_bias else 0)
