"""Where the configs live and what their groups offer: the folder, its model names, one model's composed config.

Imports nothing of ours, so that anything (the checks, the sizing, the report's roles and colours) may ask.
`INDUCTIVE_CONFIG_DIR` names another config folder (one holding a `config.yaml`), e.g. a copy with one more
model or dataset; without it the package's own `configs/` is used.
"""

from __future__ import annotations

import os
from pathlib import Path

from omegaconf import DictConfig

ENV = "INDUCTIVE_CONFIG_DIR"


def config_dir() -> Path:
    """`$INDUCTIVE_CONFIG_DIR`, else the `configs/` folder inside the installed package or at the root of a
    source checkout."""
    if os.environ.get(ENV):
        chosen = Path(os.environ[ENV]).expanduser().resolve()
        if not (chosen / "config.yaml").is_file():
            raise FileNotFoundError(f"{ENV}={chosen}: no config.yaml there; give a folder laid out like configs/")
        return chosen
    package = Path(__file__).resolve().parent.parent  # src/inductive, or site-packages/inductive
    for candidate in (package / "configs", package.parent.parent / "configs"):
        if (candidate / "config.yaml").is_file():
            return candidate
    raise FileNotFoundError(f"no configs/config.yaml next to {package} or at the repository root")


def group_options(group: str) -> list[str]:
    """The options of a config group (`model=`, `data=`, ...): its yaml files, those starting with `_` left out."""
    return sorted(p.stem for p in (config_dir() / group).glob("*.yaml") if not p.stem.startswith("_"))


def model_names() -> list[str]:
    """The `model=` options: every configs/model/*.yaml except the shared `_base`."""
    return group_options("model")


def model_config(name: str) -> DictConfig:
    """The `model` group as Hydra composes it for `model=NAME` (inside a running app or not)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():
        return compose(config_name="config", overrides=[f"model={name}"]).model
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose(config_name="config", overrides=[f"model={name}"]).model
