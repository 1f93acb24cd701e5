"""The classifiers under comparison, built from a `model` config as plain `keras.Sequential` nets.

dense:        Flatten -> Dense hidden layers -> softmax
conv_flatten: [Conv2D -> pool] x n -> Flatten -> Dense hidden layers -> softmax
gap:          [Conv2D -> pool] x n -> GlobalAveragePooling2D -> softmax
local:        conv_flatten with LocallyConnected2D (no weight sharing) in place of Conv2D
deep_flatten, deep_gap: the same with three conv blocks and a linear classifier.
All come from one builder, `sequential`; the config keys say which is which. A model whose layers the keys cannot
say is one yaml in configs/model/ plus one function registered under its name:

    @builder("gap_bn")
    def gap_bn(model, image_shape, num_classes) -> keras.Model: ...

Its yaml still states its trunk and head in the usual keys: the report reads a model's role from them.
"""

from __future__ import annotations

from typing import Callable

import keras
from omegaconf import DictConfig

from inductive.errors import ConfigError
from inductive.training.local import LocallyConnected2D
from inductive.training.shapes import as_pair as _as_pair
from inductive.training.shapes import feature_shapes

HEADS = {
    "flatten": keras.layers.Flatten,
    "global_average": keras.layers.GlobalAveragePooling2D,
    "global_max": keras.layers.GlobalMaxPooling2D,
}
POOLS = {"max": keras.layers.MaxPooling2D, "average": keras.layers.AveragePooling2D}
CONVS = {"conv": keras.layers.Conv2D, "local": LocallyConnected2D}  # shared kernel vs one kernel per position


Builder = Callable[[DictConfig, tuple[int, int, int], int], keras.Model]
BUILDERS: dict[str, Builder] = {}  # model name -> its own builder; every other model is `sequential`


def builder(name: str) -> Callable[[Builder], Builder]:
    """Decorator: build the model named `name` with this function instead of `sequential`."""
    def add(function: Builder) -> Builder:
        BUILDERS[name] = function
        return function
    return add


def build_model(model: DictConfig, image_shape: tuple[int, int, int], num_classes: int) -> keras.Model:
    """The classifier for `image_shape` inputs: the model's registered builder, else `sequential`."""
    return BUILDERS.get(model.name, sequential)(model, image_shape, num_classes)


def sequential(model: DictConfig, image_shape: tuple[int, int, int], num_classes: int) -> keras.Sequential:
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
