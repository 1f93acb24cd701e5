"""The checks a composed config must pass before any work starts, in one module that runs none of it.

It imports what a check needs (the schema, the shapes, the parameter sizing, where the configs live) and
nothing of the run machinery (`train`, `sweep`, `folders`): checking a config never reaches into a run.
The Hydra callback that runs these checks before any folder is made is `training.before_run`.
"""

from __future__ import annotations

from omegaconf import DictConfig

from inductive.errors import ConfigError, require  # noqa: F401  (ConfigError: re-raised by callers)
from inductive.training import matching, schema, shapes
from inductive.training.config_folder import config_dir, model_config, model_names  # noqa: F401  (re-exported)


def check(cfg: DictConfig) -> None:
    """Every check a composed config must pass, in one place and before TensorFlow loads: each key's type
    and range (`schema`), then the shapes it implies (a kernel larger than its feature map, a parameter
    target out of reach). Raises ConfigError naming the key, the value and what is valid."""
    schema.check(cfg)
    model = cfg.model
    require(model.match_params_of is None or model.match_params_of in model_names(), "model.match_params_of",
            model.match_params_of, f"use null or one of {model_names()}")
    shape = tuple(cfg.data.image_shape)
    shapes.feature_shapes(model, shape)
    matching.sized(model, shape, cfg.data.num_classes)
