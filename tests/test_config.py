import pytest
from hydra.errors import MissingConfigException

from conftest import compose_config
from inductive.training.config import ConfigError, check_data, check_trainer
from inductive.training.models import build_model, feature_shapes
from inductive.training.train import make_optimizer

MODELS = ["dense", "conv_flatten", "gap", "local"]
DATASETS = {"mnist": (28, 28, 1), "fashion_mnist": (28, 28, 1), "cifar10": (32, 32, 3)}


@pytest.mark.parametrize("data", DATASETS)
@pytest.mark.parametrize("model", MODELS)
def test_every_model_and_dataset_composes_and_builds(model, data):
    cfg = compose_config(f"model={model}", f"data={data}")
    assert cfg.model.name == model and tuple(cfg.data.image_shape) == DATASETS[data]
    check_data(cfg.data)
    check_trainer(cfg.trainer)
    net = build_model(cfg.model, DATASETS[data], cfg.data.num_classes)
    assert net.output_shape == (None, 10)


def test_defaults_are_gap_on_fashion_mnist_without_early_stopping():
    cfg = compose_config()
    assert (cfg.model.name, cfg.data.name, cfg.trainer.early_stopping.enabled) == ("gap", "fashion_mnist", False)


def test_unknown_model_names_the_group_and_options():
    with pytest.raises(MissingConfigException, match="model"):
        compose_config("model=transformer")


def test_kernel_larger_than_feature_map_names_key_value_and_shapes():
    cfg = compose_config("model=conv_flatten", "model.padding=valid", "model.kernel_size=11")
    with pytest.raises(ConfigError) as err:
        feature_shapes(cfg.model, (28, 28, 1))
    message = str(err.value)
    assert "model.kernel_size=11" in message and "(9, 9, 32)" in message and "block 2/2" in message


@pytest.mark.parametrize("override, key", [
    ("model.conv_filters=[32,0]", "model.conv_filters"),
    ("model.padding=full", "model.padding"),
    ("model.head=attention", "model.head"),
    ("model.pool_size=64", "model.pool_size"),
    ("model.dropout=1.5", "model.dropout"),
])
def test_bad_model_values_name_their_key(override, key):
    cfg = compose_config("model=conv_flatten", override)
    with pytest.raises(ConfigError, match=key):
        feature_shapes(cfg.model, (28, 28, 1))


def test_unknown_optimizer_names_the_key():
    with pytest.raises(ConfigError, match="trainer.optimizer='adamm'"):
        make_optimizer(compose_config("trainer.optimizer=adamm").trainer)


@pytest.mark.parametrize("override, key", [
    ("trainer.precision=float8", "trainer.precision"),
    ("trainer.threads=0", "trainer.threads"),
    ("trainer.epochs=0", "trainer.epochs"),
    ("trainer.learning_rate=-1", "trainer.learning_rate"),
    ("data.val_size=1.5", "data.val_size"),
    ("data.normalize=zscore", "data.normalize"),
])
def test_bad_trainer_and_data_values_name_their_key(override, key):
    cfg = compose_config(override)
    with pytest.raises(ConfigError, match=key):
        check_trainer(cfg.trainer)
        check_data(cfg.data)
