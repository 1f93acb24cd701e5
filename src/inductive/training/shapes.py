"""The feature-map shape after each conv block, from the closed forms: no TensorFlow, so configs are
checked before it loads. `models` builds the layers these names stand for."""

from __future__ import annotations

from omegaconf import DictConfig, ListConfig

from inductive import arithmetic
from inductive.errors import ConfigError, require

HEAD_TYPES = ("flatten", "global_average", "global_max")
POOL_TYPES = ("max", "average")
CONV_TYPES = ("conv", "local")  # shared kernel vs one kernel per position


def as_pair(value) -> int | tuple[int, int]:
    return tuple(value) if isinstance(value, (list, tuple, ListConfig)) else value


def feature_shapes(model: DictConfig, image_shape: tuple[int, int, int]) -> list[tuple[int, int, int]]:
    """Shape after each conv block, from the closed form; raises ConfigError naming key, value and shapes."""
    require(model.padding in arithmetic.PADDINGS, "model.padding", model.padding, "use same or valid")
    require(model.pool_type in POOL_TYPES, "model.pool_type", model.pool_type, f"use one of {sorted(POOL_TYPES)}")
    require(model.head in HEAD_TYPES, "model.head", model.head, f"use one of {sorted(HEAD_TYPES)}")
    require(model.conv_type in CONV_TYPES, "model.conv_type", model.conv_type, f"use one of {sorted(CONV_TYPES)}")
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
            conv = arithmetic.conv2d_output_shape(shape, filters, as_pair(model.kernel_size),
                                                  as_pair(model.strides), model.padding)
        except arithmetic.LayerSettingError as err:
            raise ConfigError(f"model.kernel_size={model.kernel_size!r} (strides={model.strides!r}, "
                              f"padding={model.padding!r}) cannot apply to the input {shape} of conv block "
                              f"{block}/{n} (image {tuple(image_shape)}): {err}") from None
        try:
            shape = conv if model.pool_size is None else arithmetic.pool2d_output_shape(conv, as_pair(model.pool_size))
        except arithmetic.LayerSettingError as err:
            raise ConfigError(f"model.pool_size={model.pool_size!r} cannot pool the {conv} output of conv block "
                              f"{block}/{n} (image {tuple(image_shape)}): {err}") from None
        shapes.append(shape)
    return shapes
