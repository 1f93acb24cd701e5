import pytest

from conftest import compose_config, lazy
from inductive.training.matching import count_params
from inductive.training.record import parameter_counts

models = lazy("inductive.training.models")
pytestmark = pytest.mark.tensorflow


@pytest.mark.parametrize("overrides", [
    ["model=dense"], ["model=conv_flatten"], ["model=gap"],
    ["model=gap", "data=cifar10", "model.kernel_size=5", "model.conv_filters=[8,16,32]"],
    ["model=conv_flatten", "model.padding=valid", "model.strides=2", "model.pool_size=null", "model.dropout=0.3"],
    ["model=dense", "model.hidden_units=[]"],
    ["model=local"], ["model=local", "data=cifar10", "model.strides=2", "model.padding=valid"],
])
def test_parameter_counts_equal_the_closed_form(overrides):
    cfg = compose_config(*overrides)
    shape = tuple(cfg.data.image_shape)
    counts = parameter_counts(models.build_model(cfg.model, shape, cfg.data.num_classes))
    assert counts["trainable"] == count_params(cfg.model, shape, cfg.data.num_classes)  # conv: k*k*Cin*F + F, ...
    assert counts["non_trainable"] == 0
    pools = [layer for layer in counts["layers"] if "Pool" in layer["class"]]
    assert all(layer["trainable"] == 0 for layer in pools)


def test_conv_flatten_and_gap_share_the_conv_trunk():
    flat, gap = (compose_config(f"model={m}").model for m in ("conv_flatten", "gap"))
    keys = ["conv_filters", "kernel_size", "strides", "padding", "pool_size", "pool_type"]
    assert all(flat[k] == gap[k] for k in keys)
