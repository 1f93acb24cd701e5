import functools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from omegaconf import DictConfig, OmegaConf

from conftest import compose_config, lazy
from inductive.errors import ConfigError
from inductive.training.matching import count_params, match_width, scale_widths

keras = lazy("keras")
layers = lazy("inductive.training.local")
models = lazy("inductive.training.models")
pytestmark = pytest.mark.tensorflow

MNIST = ((28, 28, 1), 10)


@functools.cache
def composed(model: str, data: str, overrides: tuple[str, ...]) -> dict:
    return OmegaConf.to_container(compose_config(f"model={model}", f"data={data}", *overrides).model, resolve=True)


def model_config(name: str, *overrides: str, data: str = "mnist") -> DictConfig:
    """A model config as composed; name "local" is conv_flatten with conv_type local."""
    model = OmegaConf.create(composed("conv_flatten" if name == "local" else name, data, overrides))
    if name == "local":
        model.update(name="local", conv_type="local")
    return model


@pytest.fixture
def built_params(monkeypatch):
    """Keras' own count of build_model's model; a local model is built with LocallyConnected2D in place of
    Conv2D (same arguments), which is what model.conv_type=local asks of build_model."""
    def count(model: DictConfig, image_shape, num_classes) -> int:
        if model.get("conv_type", "conv") == "local":
            monkeypatch.setattr(keras.layers, "Conv2D", layers.LocallyConnected2D)
        built = models.build_model(model, image_shape, num_classes)
        monkeypatch.undo()
        return built.count_params()
    return count


@pytest.mark.parametrize("name, overrides, data", [
    ("dense", [], "mnist"), ("conv_flatten", [], "mnist"), ("gap", [], "mnist"), ("local", [], "mnist"),
    ("dense", ["model.hidden_units=[]"], "mnist"), ("gap", ["model.head=global_max"], "cifar10"),
    ("conv_flatten", ["model.padding=valid", "model.strides=2", "model.pool_size=null"], "cifar10"),
    ("local", ["model.padding=valid", "model.kernel_size=[3,5]", "model.conv_filters=[4,6]"], "cifar10"),
    ("local", ["model.strides=[2,1]", "model.pool_size=null", "model.hidden_units=[]"], "mnist"),
])
def test_closed_form_count_equals_keras(built_params, name, overrides, data):
    model = model_config(name, *overrides, data=data)
    shape, classes = ((32, 32, 3), 10) if data == "cifar10" else MNIST
    assert count_params(model, shape, classes) == built_params(model, shape, classes)


@pytest.mark.parametrize("name", ["dense", "conv_flatten", "gap", "local"])
@pytest.mark.parametrize("target_of", ["conv_flatten", "gap"])
def test_matches_the_count_of_another_model(name, target_of):
    target = count_params(model_config(target_of), *MNIST)
    if (name, target_of) == ("local", "gap"):  # one local filter already costs 28*28*(9+1) parameters
        with pytest.raises(ConfigError, match="model.target_params=19466"):
            match_width(model_config(name), *MNIST, target)
        return
    matched, achieved = match_width(model_config(name), *MNIST, target)
    assert abs(achieved - target) <= 0.05 * target
    assert achieved == count_params(matched, *MNIST)


def test_matched_config_builds_to_the_achieved_count(built_params):
    target = count_params(model_config("conv_flatten"), *MNIST)
    for name in ("dense", "gap", "local"):
        matched, achieved = match_width(model_config(name), *MNIST, target)
        assert built_params(matched, *MNIST) == achieved


def test_scales_every_width_by_one_factor():
    model = model_config("conv_flatten")
    doubled = scale_widths(model, 2.0)
    assert list(doubled.conv_filters) == [64, 128] and list(doubled.hidden_units) == [256]
    assert list(scale_widths(model, 0.0).conv_filters) == [1, 1] and list(model.conv_filters) == [32, 64]
    matched, _ = match_width(model_config("gap"), *MNIST, 80_000)
    assert list(matched.hidden_units) == [] and matched.head == "global_average"


@settings(max_examples=10, deadline=None)
@given(target=st.integers(50_000, 5_000_000))
def test_hits_any_target_in_the_fine_grained_range(target):
    _, achieved = match_width(model_config("conv_flatten"), *MNIST, target)
    assert abs(achieved - target) <= 0.05 * target


@pytest.mark.parametrize("name, target, data", [
    ("conv_flatten", 100, "mnist"),  # below the model with every width 1
    ("gap", 10**13, "mnist"),  # beyond a 64x widening
    ("dense", 20_042, "cifar10"),  # gap's count falls between two dense widths (7,3 and 6,3 units)
])
def test_unreachable_targets_name_the_key_and_the_range(name, target, data):
    shape, classes = ((32, 32, 3), 10) if data == "cifar10" else MNIST
    with pytest.raises(ConfigError, match=rf"model.target_params={target} .* reaches \d+\.\.\d+ parameters"):
        match_width(model_config(name, data=data), shape, classes, target)


def test_refuses_unknown_conv_types_and_bad_targets():
    with pytest.raises(ConfigError, match="model.conv_type='dilated'"):
        count_params(OmegaConf.merge(model_config("gap"), {"conv_type": "dilated"}), *MNIST)
    with pytest.raises(ConfigError, match="model.target_params=-5"):
        match_width(model_config("gap"), *MNIST, -5)
