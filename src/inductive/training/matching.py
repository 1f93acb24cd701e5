"""Models of equal size: scale a model's widths until its parameter count meets a target.

Comparing a dense net with a convnet conflates two things: the inductive bias of the
architecture and its capacity. Matching the trainable-parameter count removes the second.
All widths (conv_filters and hidden_units) are scaled by one common factor, so the model keeps
its shape; the count comes from the closed forms, so the search builds no Keras model.
"""

from __future__ import annotations

import functools
import math

from omegaconf import DictConfig, OmegaConf

from inductive import arithmetic
from inductive.errors import ConfigError, require
from inductive.training.config_folder import model_config, model_names
from inductive.training.shapes import CONV_TYPES, feature_shapes

_MAX_MULTIPLIER = 64.0  # beyond this a width search is asking for a model nobody would train
_BISECTIONS = 64  # halvings down to float resolution: low and high end up one width step apart


def count_params(model: DictConfig, image_shape: tuple[int, int, int], num_classes: int) -> int:
    """Trainable parameters of `build_model(model, image_shape, num_classes)`, from the closed forms."""
    conv_type = model.get("conv_type", "conv")
    require(conv_type in CONV_TYPES, "model.conv_type", conv_type, f"use one of {CONV_TYPES}")
    shapes = feature_shapes(model, image_shape)
    total, shape = 0, tuple(image_shape)
    for filters, pooled in zip(model.conv_filters, shapes):
        if conv_type == "conv":
            total += arithmetic.conv2d_params(shape[2], filters, model.kernel_size).total
        else:
            total += arithmetic.local2d_params(shape, filters, model.kernel_size, model.strides, model.padding).total
        shape = pooled
    features = math.prod(shape) if model.head == "flatten" else shape[2]
    for units in [*model.hidden_units, num_classes]:
        total += arithmetic.dense_params(features, units).total
        features = units
    return total


def scaled_widths(model: DictConfig, multiplier: float) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(conv_filters, hidden_units) times `multiplier`, each rounded and at least 1."""
    width = lambda base: max(1, round(base * multiplier))  # noqa: E731
    return tuple(width(f) for f in model.conv_filters), tuple(width(u) for u in model.hidden_units)


def scale_widths(model: DictConfig, multiplier: float) -> DictConfig:
    """A copy of `model` with every conv_filters and hidden_units entry times `multiplier`, rounded, at least 1."""
    return with_widths(model, *scaled_widths(model, multiplier))


def with_widths(model: DictConfig, conv_filters: tuple[int, ...], hidden_units: tuple[int, ...]) -> DictConfig:
    scaled = OmegaConf.create(OmegaConf.to_container(model, resolve=True))
    scaled.conv_filters, scaled.hidden_units = list(conv_filters), list(hidden_units)
    return scaled


def match_width(
    model: DictConfig, image_shape: tuple[int, int, int], num_classes: int, target: int, tolerance: float = 0.05
) -> tuple[DictConfig, int]:
    """`model` with widths scaled so its trainable count is within `tolerance` of `target`; and that count.

    The count only grows with the multiplier, so bisection finds the two neighbouring achievable
    counts around the target and the nearer wins. Raises ConfigError (key model.target_params) when
    neither is within tolerance: below the all-widths-1 model, above a 64x widening, or in a gap
    between two achievable counts.
    """
    require(isinstance(target, int) and not isinstance(target, bool) and target > 0, "model.target_params",
            target, "use a positive int")

    @functools.cache
    def count_of(widths: tuple[tuple[int, ...], tuple[int, ...]]) -> int:
        # Most bisection steps round to widths already counted: each distinct width set is built and counted once.
        return count_params(with_widths(model, *widths), image_shape, num_classes)

    count = lambda multiplier: count_of(scaled_widths(model, multiplier))  # noqa: E731
    low, high = 0.0, 1.0
    while count(high) < target and high < _MAX_MULTIPLIER:
        low, high = high, 2 * high
    if count(low) < target <= count(high):
        for _ in range(_BISECTIONS):
            middle = (low + high) / 2
            low, high = (middle, high) if count(middle) < target else (low, middle)
    nearest = scale_widths(model, min((low, high), key=lambda m: abs(count(m) - target)))
    achieved = count_params(nearest, image_shape, num_classes)
    if abs(achieved - target) > tolerance * target:
        raise ConfigError(
            f"model.target_params={target} is out of reach for model {model.name!r} within {tolerance:.0%}: "
            f"scaling its widths reaches {count(0.0)}..{count(_MAX_MULTIPLIER)} parameters, and the nearest "
            f"is {achieved} (conv_filters={list(nearest.conv_filters)}, hidden_units={list(nearest.hidden_units)})"
        )
    return nearest, achieved


def target_params(model: DictConfig, image_shape: tuple[int, int, int], num_classes: int) -> int | None:
    """The count asked for by `model.target_params` or `model.match_params_of`, if either is set."""
    if model.match_params_of is None:
        return model.target_params
    require(model.target_params is None, "model.match_params_of", model.match_params_of,
            "set model.match_params_of or model.target_params, not both")
    options = model_names()
    require(model.match_params_of in options, "model.match_params_of", model.match_params_of,
            f"use one of {options}")
    return count_params(model_config(model.match_params_of), image_shape, num_classes)


def sized(model: DictConfig, image_shape: tuple[int, int, int], num_classes: int) -> tuple[DictConfig, int | None]:
    """`model` resized to its parameter target (unchanged without one), and the target."""
    target = target_params(model, image_shape, num_classes)
    if target is None:
        return model, None
    require(isinstance(target, int) and target > 0, "model.target_params", target, "use a positive int")
    matched, _ = match_width(model, image_shape, num_classes, target)
    return matched, target
