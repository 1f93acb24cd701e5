"""`python -m inductive.explain key=value ...`: one layer's shape, parameters and MACs, checked by Keras.

    python -m inductive.explain input=32x64x64x16 filters=12 kernel=3 padding=same strides=1
    python -m inductive.explain layer=MaxPool2D input=32x64x64x16 pool=2
    python -m inductive.explain layer=GlobalAveragePooling2D input=32x64x64x16
    python -m inductive.explain layer=Dense input=32x784 units=10

Sizes are an int (3) or HxW (3x5); `input` is BxHxWxC (BxF for Dense). The closed form comes from
inductive.arithmetic; then the same layer is built with Keras and called on random data, unless its
tensors (input, output and weights, float32) would take more than 1 GiB: such a layer is refused (exit 2)
with the memory it would need, before anything is built.
"""

from __future__ import annotations

import math
import sys
from typing import Any

from inductive.arguments import parse_overrides, parse_sizes, wants_help  # noqa: E402
from inductive.arithmetic import (  # noqa: E402
    Arithmetic,
    LayerSettingError,
    ParamCount,
    dense_equivalent_params,
    layer_arithmetic,
)
from inductive.errors import ConfigError, require  # noqa: E402

DEFAULTS: dict[str, Any] = {
    "layer": "Conv2D",
    "input": "32x64x64x16",
    "filters": 12,
    "kernel": 3,
    "strides": None,  # null: the Keras default (1 for Conv2D, the pool size for pooling)
    "padding": "valid",
    "dilation": 1,
    "use_bias": True,
    "units": 10,
    "pool": 2,
}
# The keys each layer reads, and the Keras argument each becomes.
LAYER_KEYS = {
    "Conv2D": {"filters": "filters", "kernel": "kernel_size", "strides": "strides", "padding": "padding",
               "dilation": "dilation_rate", "use_bias": "use_bias"},
    "Dense": {"units": "units", "use_bias": "use_bias"},
    "MaxPooling2D": {"pool": "pool_size", "strides": "strides", "padding": "padding"},
    "AveragePooling2D": {"pool": "pool_size", "strides": "strides", "padding": "padding"},
    "GlobalAveragePooling2D": {},
    "GlobalMaxPooling2D": {},
}
ALIASES = {"maxpool2d": "MaxPooling2D", "avgpool2d": "AveragePooling2D", "globalavgpool2d": "GlobalAveragePooling2D",
           "globalmaxpool2d": "GlobalMaxPooling2D", **{name.lower(): name for name in LAYER_KEYS}}

def layer_config(cfg: dict[str, Any], given: set[str]) -> tuple[str, dict[str, Any], tuple[int, ...]]:
    """Keras class name, constructor arguments and batch input shape from the command's settings."""
    name = ALIASES.get(str(cfg["layer"]).lower())
    require(name is not None, "layer", cfg["layer"], f"use one of {', '.join(LAYER_KEYS)} (or MaxPool2D, AvgPool2D)")
    keys = LAYER_KEYS[name]
    unread = sorted(given - set(keys) - {"layer", "input"})
    if unread:
        raise ConfigError(f"{unread[0]}={cfg[unread[0]]!r} is invalid: {name} does not read it; "
                          f"its keys are: input, {', '.join(keys) or '(none)'}")
    batch_shape = parse_sizes("input", cfg["input"])
    if name == "Dense":
        require(len(batch_shape) >= 2, "input", cfg["input"], "Dense needs BxF like 32x784 (or BxHxWxC)")
    else:
        require(len(batch_shape) == 4, "input", cfg["input"], f"{name} needs BxHxWxC like 32x64x64x16")
    config: dict[str, Any] = {}
    for key, arg in keys.items():
        value = cfg[key]
        if value is None:
            continue  # the Keras default
        if key in ("kernel", "pool", "strides", "dilation"):
            sizes = parse_sizes(key, value)
            require(len(sizes) <= 2, key, value, "use one size or HxW, like 3 or 3x5")
            value = sizes[0] if len(sizes) == 1 else sizes
        elif key in ("filters", "units"):
            require(isinstance(value, int) and not isinstance(value, bool) and value > 0, key, value,
                    "use a positive int")
        elif key == "use_bias":
            require(isinstance(value, bool), key, value, "use true or false")
        config[arg] = value
    return name, config, batch_shape

def keras_arithmetic(
    name: str, config: dict[str, Any], batch_shape: tuple[int, ...]
) -> tuple[tuple[int, ...], ParamCount]:
    """Output shape and trainable parameters of the real Keras layer, built and called on random data."""
    from inductive import quiet

    with quiet.start_up_lines():
        import keras  # only here: a bad setting is reported before TensorFlow loads

    layer = getattr(keras.layers, name)(**config)
    outputs = layer(keras.random.normal(batch_shape, seed=0))
    sizes = {weight.name: math.prod(weight.shape) for weight in layer.trainable_weights}
    params = ParamCount(sizes.pop("kernel", 0), sizes.pop("bias", 0))
    if sizes:
        raise RuntimeError(f"{name} has trainable weights other than kernel and bias: {sizes}")
    return tuple(outputs.shape), params

MEMORY_BUDGET = 2**30  # bytes: what the tensors of the layer Keras builds may take


def tensor_bytes(batch_shape: tuple[int, ...], closed: Arithmetic) -> int:
    """float32 bytes of the random input, the output and the weights of the layer Keras would build."""
    return 4 * (math.prod(batch_shape) + batch_shape[0] * math.prod(closed.output_shape) + closed.params.total)


def report(name: str, config: dict[str, Any], batch_shape: tuple[int, ...], closed: Arithmetic) -> str:
    """The closed form written out, for reading aloud on a slide."""
    batch, *in_shape = batch_shape
    out_shape = (batch, *closed.output_shape)
    params = closed.params
    dense = dense_equivalent_params(tuple(in_shape), closed.output_shape, config.get("use_bias", True))
    n_in, n_out = "*".join(map(str, in_shape)), "*".join(map(str, closed.output_shape))
    saving = f"{dense.total / params.total:.0f}x this layer's" if params.total else "this layer has none"
    args = ", ".join(f"{key}={value!r}" for key, value in config.items())
    return "\n".join([
        f"{name}({args}) on input {tuple(batch_shape)}",
        f"output shape      {out_shape}",
        f"parameters        {closed.params_formula} = {params.total}  "
        f"({params.weights} weights, {params.biases} biases)"
        if params.total else "parameters        0  (no trainable variables)",
        f"MACs per image    {closed.macs_formula} = {closed.macs}  ({closed.macs * batch} for the batch of {batch})"
        if closed.macs else "MACs per image    0  (no weights to multiply)",
        f"dense equivalent  {n_in} * {n_out}" + (f" + {n_out}" if dense.biases else "")
        + f" = {dense.total} parameters ({saving})",
    ])

def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if wants_help(argv, __doc__):
        return 0
    try:
        cfg, given = parse_overrides(argv, DEFAULTS)
        name, config, batch_shape = layer_config(cfg, given)
    except ConfigError as err:
        print(f"explain: {err}", file=sys.stderr)
        return 2
    try:
        closed = layer_arithmetic(name, config, batch_shape[1:])
    except LayerSettingError as err:
        print(f"explain: {name} on input {batch_shape}: {err}", file=sys.stderr)
        return 2
    need = tensor_bytes(batch_shape, closed)
    if need > MEMORY_BUDGET:
        print(f"explain: {name} on input {'x'.join(map(str, batch_shape))}: its input, output and weights would "
              f"take {need / 2**30:,.1f} GiB (float32), over the {MEMORY_BUDGET / 2**30:g} GiB explain builds; "
              "give a smaller input, batch or layer", file=sys.stderr)
        return 2
    print(report(name, config, batch_shape, closed))
    shape, params = keras_arithmetic(name, config, batch_shape)
    if shape != (batch_shape[0], *closed.output_shape) or params != closed.params:
        print(f"explain: Keras disagrees with the closed form: shape {shape}, parameters {params}", file=sys.stderr)
        return 1
    print(f"Keras agrees      keras.layers.{name} built and called on {batch_shape}: "
          f"{shape}, {params.total} parameters")
    return 0

if __name__ == "__main__":
    sys.exit(main())
