import math

import pytest

from conftest import compose_config
from inductive.arithmetic import conv2d_params, dense_params
from inductive.models import build_model, feature_shapes
from inductive.record import parameter_counts


def closed_form_params(model, image_shape, classes) -> int:
    """Trainable parameters from the formulas alone: conv k*k*Cin*F + F, dense in*out + out."""
    shapes = feature_shapes(model, image_shape)
    channels, total = image_shape[-1], 0
    for filters in model.conv_filters:
        total += conv2d_params(channels, filters, model.kernel_size).total
        channels = filters
    features = math.prod(shapes[-1] if shapes else image_shape) if model.head == "flatten" else channels
    for units in [*model.hidden_units, classes]:
        total += dense_params(features, units).total
        features = units
    return total


@pytest.mark.parametrize("overrides", [
    ["model=dense"], ["model=conv_flatten"], ["model=gap"],
    ["model=gap", "data=cifar10", "model.kernel_size=5", "model.conv_filters=[8,16,32]"],
    ["model=conv_flatten", "model.padding=valid", "model.strides=2", "model.pool_size=null", "model.dropout=0.3"],
    ["model=dense", "model.hidden_units=[]"],
])
def test_parameter_counts_equal_the_closed_form(overrides):
    cfg = compose_config(*overrides)
    shape = tuple(cfg.data.image_shape)
    counts = parameter_counts(build_model(cfg.model, shape, cfg.data.num_classes))
    assert counts["trainable"] == closed_form_params(cfg.model, shape, cfg.data.num_classes)
    assert counts["non_trainable"] == 0
    pools = [layer for layer in counts["layers"] if "Pool" in layer["class"]]
    assert all(layer["trainable"] == 0 for layer in pools)


def test_conv_flatten_and_gap_share_the_conv_trunk():
    flat, gap = (compose_config(f"model={m}").model for m in ("conv_flatten", "gap"))
    keys = ["conv_filters", "kernel_size", "strides", "padding", "pool_size", "pool_type"]
    assert all(flat[k] == gap[k] for k in keys)
