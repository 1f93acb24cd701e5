"""The classifiers under comparison, built from a `model` config as plain `keras.Sequential` nets.

dense:        Flatten -> Dense hidden layers -> softmax
conv_flatten: [Conv2D -> pool] x n -> Flatten -> Dense hidden layers -> softmax
gap:          [Conv2D -> pool] x n -> GlobalAveragePooling2D -> softmax
local:        conv_flatten with LocallyConnected2D (no weight sharing) in place of Conv2D
All three come from one builder; the config keys say which is which.
"""

from __future__ import annotations

import keras
from omegaconf import DictConfig, ListConfig

from inductive import arithmetic
from inductive.errors import ConfigError, require
from inductive.training.local import LocallyConnected2D

HEADS = {
    "flatten": keras.layers.Flatten,
    "global_average": keras.layers.GlobalAveragePooling2D,
    "global_max": keras.layers.GlobalMaxPooling2D,
}
POOLS = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}
CONVS = {"conv": keras.layers.Conv2D, "local": LocallyConnected2D}  # shared kernel vs one kernel per position


def _as_pair(value) -> int | tuple[int, int]:
    return tuple(value) if isinstance(value, (list, tuple, ListConfig)) else value


def feature_shapes(model: DictConfig, image_shape: tuple[int, int, int]) -> list[tuple[int, int, int]]:
    """Shape after each conv block, from the closed form; raises ConfigError naming key, value and shapes."""
    require(model.padding in arithmetic.PADDINGS, "model.padding", model.padding, "use same or valid")
    require(model.pool_type in POOLS, "model.pool_type", model.pool_type, f"use one of {sorted(POOLS)}")
    require(model.head in HEADS, "model.head", model.head, f"use one of {sorted(HEADS)}")
    require(model.conv_type in CONVS, "model.conv_type", model.conv_type, f"use one of {sorted(CONVS)}")
    require(0 <= model.dropout < 1, "model.dropout", model.dropout, "use a rate in [0, 1)")
    for units in model.hidden_units:
        require(isinstance(units, int) and units > 0, "model.hidden_units", list(model.hidden_units),
                "use a list of positive ints")
    require(bool(model.conv_filters) or model.head == "flatten", "model.head", model.head,
            "a model without conv blocks (model.conv_filters=[]) needs head=flatten")
    shapes, shape = [], tuple(image_shape)
    n = len(model.conv_filters)
    for block, filters in enumerate(model.conv_filters, start=1):
        require(isinstance(filters, int) and filters > 0, "model.conv_filters", list(model.conv_filters),
                "use a list of positive filter counts")
        try:
            conv = arithmetic.conv2d_output_shape(shape, filters, _as_pair(model.kernel_size),
                                                  _as_pair(model.strides), model.padding)
        except arithmetic.LayerSettingError as err:
            raise ConfigError(f"model.kernel_size={model.kernel_size!r} (strides={model.strides!r}, "
                              f"padding={model.padding!r}) cannot apply to the input {shape} of conv block "
                              f"{block}/{n} (image {tuple(image_shape)}): {err}") from None
        try:
            shape = conv if model.pool_size is None else arithmetic.pool2d_output_shape(conv, _as_pair(model.pool_size))
        except arithmetic.LayerSettingError as err:
            raise ConfigError(f"model.pool_size={model.pool_size!r} cannot pool the {conv} output of conv block "
                              f"{block}/{n} (image {tuple(image_shape)}): {err}") from None
        shapes.append(shape)
    return shapes


def build_model(model: DictConfig, image_shape: tuple[int, int, int], num_classes: int) -> keras.Sequential:
    """A Sequential classifier for `image_shape` inputs; the config is checked first."""
    feature_shapes(model, image_shape)
    layers: list[keras.layers.Layer] = [keras.Input(shape=tuple(image_shape))]
    for filters in model.conv_filters:
        layers.append(CONVS[model.conv_type](filters, _as_pair(model.kernel_size), strides=_as_pair(model.strides),
                                             padding=model.padding, activation=model.activation))
        if model.pool_size is not None:
            layers.append(POOLS[model.pool_type](_as_pair(model.pool_size)))
    layers.append(HEADS[model.head]())
    for units in model.hidden_units:
        if model.dropout:
            layers.append(keras.layers.Dropout(model.dropout))
        layers.append(keras.layers.Dense(units, activation=model.activation))
    if model.dropout:
        layers.append(keras.layers.Dropout(model.dropout))
    layers.append(keras.layers.Dense(num_classes, activation="softmax", dtype="float32"))  # stable under mixed precision
    try:
        return keras.Sequential(layers, name=model.name)
    except ValueError as err:  # e.g. an unknown activation name
        raise ConfigError(f"model {model.name!r} cannot be built: {err}") from None
