"""Where the configs live and what their groups offer: the folder, its model names, a composed config.

Imports nothing of ours, so that anything (the checks, the sizing, the report's roles and colours) may ask.
`INDUCTIVE_CONFIG_DIR` names another config folder (one holding a `config.yaml`), e.g. a copy with one more
model or dataset; without it the package's own `configs/` is used.
"""

from __future__ import annotations

import copy
import os
from collections.abc import Sequence
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
    """The `model` group as Hydra composes it for `model=NAME`."""
    return composed([f"model={name}"]).model


_COMPOSED: dict[tuple, DictConfig] = {}


def composed(overrides: Sequence[str]) -> DictConfig:
    """config.yaml as Hydra's compose API composes it with `overrides` (inside a running app, with the app's own
    search path); a copy, so the caller may change it.

    A composition reads every file it uses and takes about a quarter of a second, so each is remembered for the
    process, keyed by the folder, the state of its files (path, size, modification time) and the overrides: a
    study file's check of its jobs, the report's roles and a notebook that loads a study twice compose each once,
    and an edited file composes anew. Raises what `hydra.compose` raises."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    folder = config_dir()
    inside_app = GlobalHydra.instance().is_initialized()
    files = tuple((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                  for p in sorted(folder.rglob("*.yaml")))
    key = (str(folder), files, inside_app, tuple(overrides))
    if key not in _COMPOSED:
        if inside_app:
            _COMPOSED[key] = compose(config_name="config", overrides=list(overrides))
        else:
            with initialize_config_dir(config_dir=str(folder), version_base="1.3"):
                _COMPOSED[key] = compose(config_name="config", overrides=list(overrides))
    return copy.deepcopy(_COMPOSED[key])
