"""Experiment presets: each composes into a sweep, opens with what it tests, its command and cost."""

import importlib.util
from pathlib import Path

import numpy as np
import pytest
import yaml
from omegaconf import OmegaConf

from conftest import make_images
from inductive.training.config import config_dir, model_names

PRESETS = sorted(p.stem for p in (config_dir() / "experiment").glob("*.yaml") if p.stem != "evidence_protocol")


def sweep_params(name: str) -> dict[str, list[str]]:
    text = (config_dir() / "experiment" / f"{name}.yaml").read_text()
    params = (yaml.safe_load(text).get("hydra") or {}).get("sweeper", {}).get("params", {})
    return {key: str(value).split(",") for key, value in params.items()}


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_header_says_command_cost_and_observed(preset):
    header = (config_dir() / "experiment" / f"{preset}.yaml").read_text().split("\n\n")[0]
    assert f"+experiment={preset}" in header and "Cost:" in header and "Observed:" in header


PLUGINS = {"optuna": ("hydra_plugins.hydra_optuna_sweeper", "pip install -e '.[optuna]'")}  # sweeper: module, install


def optional_plugin(preset: str):
    """The preset as a test parameter, skipped with the reason where its Hydra sweeper plugin is not installed."""
    defaults = yaml.safe_load((config_dir() / "experiment" / f"{preset}.yaml").read_text()).get("defaults") or []
    for sweeper in (entry.get("override /hydra/sweeper") for entry in defaults if isinstance(entry, dict)):
        if sweeper in PLUGINS:
            module, install = PLUGINS[sweeper]
            try:
                found = importlib.util.find_spec(module) is not None
            except ModuleNotFoundError:  # not even the hydra_plugins namespace
                found = False
            if not found:
                return pytest.param(preset, marks=pytest.mark.skip(
                    reason=f"+experiment={preset} needs the Hydra {sweeper} sweeper plugin ({module}): {install}"))
    return preset


@pytest.mark.parametrize("preset", [optional_plugin(p) for p in PRESETS])
def test_preset_composes_and_sweeps_known_models(preset, composed):
    cfg = composed(f"+experiment={preset}")
    params = sweep_params(preset)
    assert set(params.get("model", [cfg.model.name])) <= set(model_names())
    OmegaConf.to_container(cfg.trainer, resolve=preset != "evidence" and preset != "evidence_quick")


@pytest.mark.tensorflow  # builds the run's Keras callbacks
@pytest.mark.parametrize("preset", ["evidence", "evidence_quick", "evidence_tuning"])
def test_evidence_presets_draw_data_per_seed_and_train_to_fit(preset, composed, tmp_path):
    """Two seeds train on different images drawn from the same pool, one seed always on the same, and the run
    stops at fit. Would catch: a preset whose seeds all train on one subset (their spread would then leave out
    data-sampling variance), a draw that is not reproducible, or a run that ignores the fit rule."""
    from inductive.training import data
    from inductive.training.callbacks import StopWhenFit
    from inductive.training.train import callbacks

    arrays = make_images(600, seed=1) + make_images(50, seed=2)
    drawn = []
    for seed in (3, 4, 3):
        cfg = composed(f"+experiment={preset}", f"seed={seed}", "data.val_size=100", "data.train_size=200",
                       "data.image_shape=[12,12,1]", "data.num_classes=3")
        drawn.append(data.split_and_scale(arrays, cfg.data))
    assert drawn[0][0].shape == drawn[1][0].shape == (200, 12, 12, 1)
    assert not np.array_equal(drawn[0][0], drawn[1][0]) and np.array_equal(drawn[0][0], drawn[2][0])
    x_train, y_train, x_val, y_val, x_test, y_test, blank = drawn[0]
    splits = data.Splits(x_train, y_train, x_val, y_val, x_test, y_test, "test", 0.0, blank)
    assert any(isinstance(c, StopWhenFit) for c in callbacks(cfg, tmp_path, False, splits))


def test_evidence_uses_five_seeds_and_tuning_a_seed_no_claim_uses():
    claim_seeds = set(sweep_params("evidence")["seed"]) | set(sweep_params("evidence_quick")["seed"])
    assert len(sweep_params("evidence")["seed"]) >= 5
    tuning_seed = yaml.safe_load((config_dir() / "experiment" / "evidence_tuning.yaml").read_text())["seed"]
    assert str(tuning_seed) not in claim_seeds


def test_tuned_learning_rates_cover_every_evidence_model_of_each_tuned_dataset(composed):
    tuned = yaml.safe_load(Path(config_dir() / "tuned" / "learning_rates.yaml").read_text())["learning_rate"]
    for dataset, rates in tuned.items():
        assert set(sweep_params("evidence")["model"]) <= set(rates), dataset
        cfg = composed("+experiment=evidence", f"data={dataset}", "model=gap")
        assert cfg.trainer.learning_rate == rates["gap"]


def test_second_look_and_replication_are_the_evidence_design_on_fresh_seeds():
    """Pre-registered (configs/study/): each later look changes only the seeds (and its alpha), and no seed is
    reused or is the tuning seed."""
    from inductive.study import spec

    names = ("evidence", "evidence_second_look", "evidence_replication")
    looks = [spec.load(name) for name in names]
    seeds = [set(look.seeds) for look in looks]
    assert sum(map(len, seeds)) == len(set().union(*seeds)) and len(looks[-1].seeds) == 20
    tuning_seed = yaml.safe_load((config_dir() / "experiment" / "evidence_tuning.yaml").read_text())["seed"]
    assert tuning_seed not in set().union(*seeds)
    design = [(look.protocol, look.datasets, look.models, look.train_sizes, {job.overrides for job in look.jobs})
              for look in looks]
    assert design[1] == design[0] and design[2] == design[0]
    assert looks[1].pools == ["evidence"] and looks[2].pools == []  # the replication is judged alone


def test_matched_control_is_the_evidence_protocol_at_one_parameter_count(composed):
    """Pre-registered (evidence_matched): only the size changes, and every model of every dataset reaches it.

    The preset names no model or dataset, so the one change is checked on combinations that take every model and
    every dataset once (a preset forcing a model or dataset would show there), and the sizing on all twelve."""
    from inductive.study import spec
    from inductive.training import matching

    models = sweep_params("evidence_matched")["model"]
    assert models == ["dense", "local", "conv_flatten", "gap"] and spec.load("evidence_matched").models == models
    trained, data_of = {}, {}  # each model's and each dataset's config as the evidence protocol composes them
    for dataset, model in zip(["fashion_mnist", "mnist", "cifar10", "cifar10"], models):
        cfg = composed("+experiment=evidence_matched", f"data={dataset}", f"model={model}", "seed=3")
        base = composed("+experiment=evidence", f"data={dataset}", f"model={model}", "seed=3")
        assert (cfg.model.name, cfg.data.name, cfg.model.target_params) == (model, dataset, 150000)
        cfg.model.target_params = None
        assert cfg == base
        trained[model], data_of[dataset] = base.model, base.data
    for dataset, data in data_of.items():
        for model in models:
            sized, target = matching.sized(OmegaConf.merge(trained[model], {"target_params": 150000}),
                                           tuple(data.image_shape), data.num_classes)
            built = matching.count_params(sized, tuple(data.image_shape), data.num_classes)
            assert target == 150000 and abs(built - target) <= 0.05 * target, (dataset, model, built)
