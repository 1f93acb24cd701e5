import pytest
from hydra.errors import MissingConfigException
from omegaconf import OmegaConf

from conftest import compose_config, lazy
from inductive.training.config import ConfigError, check
from inductive.training.shapes import feature_shapes

models = lazy("inductive.training.models")
train = lazy("inductive.training.train")
pytestmark = pytest.mark.tensorflow

MODELS = ["dense", "conv_flatten", "gap", "local"]
DATASETS = {"mnist": (28, 28, 1), "fashion_mnist": (28, 28, 1), "cifar10": (32, 32, 3)}


@pytest.mark.parametrize("data", DATASETS)
@pytest.mark.parametrize("model", MODELS)
def test_every_model_and_dataset_composes_and_builds(model, data):
    cfg = compose_config(f"model={model}", f"data={data}")
    assert cfg.model.name == model and tuple(cfg.data.image_shape) == DATASETS[data]
    check(cfg)
    net = models.build_model(cfg.model, DATASETS[data], cfg.data.num_classes)
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
        train.make_optimizer(compose_config("trainer.optimizer=adamm").trainer)


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
        check(cfg)


# One bad value (or more) for every key of the schema: each must be refused naming its key.
BAD_VALUES = {
    "seed": ["abc", "1.5", "-1", "true", "4294967296"], "objective": ["''", "no.such.field"], "output_root": ["''"],
    "data.image_shape": ["[28,28]", "[0,28,1]"], "data.num_classes": ["1", "abc"], "data.path": ["''", "3"],
    "data.local_copies": ["abc"], "data.tfds.name": ["''"], "data.tfds.data_dir": ["''"],
    "data.tfds.download": ["maybe", "1"], "data.tfds.manual_dir": ["''"], "data.cache_dir": ["''"],
    "data.val_size": ["0", "1.5", "-3", "abc", "0.000001"], "data.split_seed": ["abc", "-1", "4294967296"],
    "data.train_size": ["0", "abc"], "data.train_images": ["0", "abc", "2.5"],
    "data.normalize": ["zscore"], "data.name": ["''"], "model.name": ["''"], "model.conv_type": ["shared"],
    "model.conv_filters": ["[0]", "abc", "[1.5]"], "model.kernel_size": ["0", "[3,3,3]", "abc"],
    "model.strides": ["0", "abc"], "model.padding": ["full"], "model.pool_size": ["0", "abc"],
    "model.pool_type": ["min"], "model.head": ["none"], "model.hidden_units": ["[-1]", "abc"],
    "model.activation": ["nope"], "model.dropout": ["abc", "1.0", "-0.1"], "model.target_params": ["0", "abc"],
    "model.match_params_of": ["transformer"], "model.display.label": ["''"],
    "model.display.color": ["red", "'#12345'", "'#GGGGGG'"], "trainer.optimizer": ["123", "adamm"],
    "trainer.learning_rate": ["0", "abc", "inf", "nan"], "trainer.batch_size": ["0", "abc"], "trainer.eval_batch_size": ["0", "abc"], "trainer.steps_per_execution": ["0", "1.5"], "trainer.stop": ["never"],
    "trainer.epochs": ["0", "2.5"], "trainer.fit.accuracy": ["0", "1.5"], "trainer.fit.patience": ["0"],
    "trainer.fit.min_delta": ["-1", "inf"], "trainer.fit.train_eval_images": ["0"],
    "trainer.early_stopping.enabled": ["maybe"], "trainer.early_stopping.monitor": ["bogus"],
    "trainer.early_stopping.patience": ["-1"], "trainer.early_stopping.restore_best_weights": ["maybe"],
    "trainer.deterministic": ["maybe"], "trainer.verbose": ["3", "loud"], "trainer.precision": ["float8"],
    "trainer.jit_compile": ["maybe"], "trainer.threads": ["0", "many"], "trainer.resume": ["maybe"],
    "trainer.backup_every_s": ["-1", "often", "inf"],
    "trainer.tensorboard": ["maybe"],
    "shift.enabled": ["maybe"], "shift.max_shift": ["-1", "abc", "28", "100"], "shift.fills": ["bogus", "[bogus]", "[]"],
    "shift.max_images": ["0", "-5", "abc"],
}


def test_every_schema_key_has_bad_values_under_test():
    from inductive.training.schema import SCHEMA

    assert set(BAD_VALUES) == set(SCHEMA)


@pytest.mark.parametrize("key, value", [(k, v) for k, values in BAD_VALUES.items() for v in values])
def test_every_bad_value_is_refused_naming_its_key(key, value):
    cfg = compose_config(f"{key}={value}")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        check(cfg)


@pytest.mark.parametrize("override", ["+foo=1", "+trainer.epoch=3", "+data.tfds.bogus=1"])
def test_unknown_keys_are_refused(override):
    with pytest.raises(ConfigError, match="is not a setting"):
        check(compose_config(override))


@pytest.mark.slow
@pytest.mark.parametrize("args", [["seed=abc"], ["trainer.resume=maybe"], ["model=nope"], ["foo=1"],
                                  ["+trainer.epoch=3"], ["-m", "model=dense,gap", "seed=0,abc"]])
def test_the_command_line_exits_2_before_tensorflow_and_writes_nothing(tmp_path, args):
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "inductive.run", *args, f"output_root={tmp_path}/out"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2, result.stderr[-2000:]
    assert "Traceback" not in result.stderr and not (tmp_path / "out").exists()
    assert "cuda" not in result.stderr.lower()  # TensorFlow never loaded (it announces its CUDA probe)


def test_a_remembered_composition_is_a_copy_and_an_edited_file_composes_anew(tmp_path, monkeypatch):
    """`config_folder.composed` remembers each composition for the process. Would catch: a cache handing out its
    own object (a caller's change would leak into the next job's check), or one keyed by overrides alone (an
    edited model file, or another config folder, would still give the old config)."""
    import shutil

    from inductive.training import config_folder

    configs = tmp_path / "configs"
    shutil.copytree(config_folder.config_dir(), configs)
    monkeypatch.setenv(config_folder.ENV, str(configs))
    first = config_folder.composed(["model=dense"])
    first.model.hidden_units = [1]
    assert list(config_folder.composed(["model=dense"]).model.hidden_units) != [1]
    dense = configs / "model" / "dense.yaml"
    dense.write_text(dense.read_text().replace("hidden_units: [256, 128]", "hidden_units: [7, 7]"))
    assert list(config_folder.composed(["model=dense"]).model.hidden_units) == [7, 7]
    monkeypatch.delenv(config_folder.ENV)
    assert list(config_folder.composed(["model=dense"]).model.hidden_units) != [7, 7]


@pytest.mark.parametrize("overrides", [
    # values before and after the groups they set keys of, a list set twice (the last one wins)
    ["seed=7", "model.hidden_units=[5,6]", "+experiment=evidence", "model=dense", "model.hidden_units=[9]"],
    # an interpolation kept unresolved, a dict merged into its node as Hydra merges it
    ["trainer.learning_rate=${oc.env:HOME}", "trainer.fit={accuracy:0.5}", "model=conv_flatten"],
    ["+objective=x"],  # an append: composed whole
    ["model.no_such_key=1"],  # a key the config lacks: composed whole, so the error is Hydra's
])
def test_a_composition_with_value_overrides_is_hydras_own(overrides):
    """`config_folder.composed` merges each choice of groups once and sets value overrides itself. Would catch
    that shortcut drifting from Hydra: a value set before its group's file was merged, a dict replaced where Hydra
    merges it, an interpolation resolved early, or a key Hydra refuses accepted."""
    from hydra import compose, initialize_config_dir
    from hydra.errors import HydraException

    from inductive.training import config_folder

    with initialize_config_dir(config_dir=str(config_folder.config_dir()), version_base="1.3"):
        try:
            expected = compose(config_name="config", overrides=overrides)
        except HydraException as err:
            with pytest.raises(type(err)):
                config_folder.composed(overrides)
            return
    got = config_folder.composed(overrides)
    assert OmegaConf.to_yaml(got) == OmegaConf.to_yaml(expected)
    assert OmegaConf.is_struct(got) == OmegaConf.is_struct(expected)
