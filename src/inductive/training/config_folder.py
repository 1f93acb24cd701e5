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
_ABSENT = object()


def composed(overrides: Sequence[str]) -> DictConfig:
    """config.yaml as Hydra's compose API composes it with `overrides` (inside a running app, with the app's own
    search path); a copy, so the caller may change it. Raises what `hydra.compose` raises.

    Hydra composes in two steps: it merges the files the group choices pick (`model=gap`, `+experiment=...`), then
    sets each value override (`seed=3`) on the result in order, as `OmegaConf.update(cfg, key, value, merge=True)`.
    The merge is nearly all of a composition's quarter of a second, so it is remembered for the process per choice
    of groups, keyed by the folder and the state of its files (path, size, modification time): a study's jobs that
    differ by seed or size, the report's roles and the tests compose each choice once, and an edited file composes
    anew. A value override of a key the config has is parsed by Hydra's public override parser and set as Hydra
    sets it; anything else (a sweep, a `hydra.` key, a package, `+`, `++` or `~` on a value, a key the config
    lacks), and any composition inside a running app, composes whole, so its errors are Hydra's own."""
    from hydra.core.global_hydra import GlobalHydra
    from hydra.core.override_parser.overrides_parser import OverridesParser
    from hydra.core.override_parser.types import OverrideType
    from omegaconf import OmegaConf
    from omegaconf.errors import OmegaConfBaseException

    folder = config_dir()
    if GlobalHydra.instance().is_initialized():
        return copy.deepcopy(_remembered(folder, tuple(overrides), inside_app=True))
    parsed = OverridesParser.create().parse_overrides(list(overrides))
    sets_value = [not (o.is_sweep_override() or o.is_hydra_override() or o.package is not None
                       or (folder / o.key_or_group).is_dir()) for o in parsed]  # Hydra's own test of a group
    cfg = copy.deepcopy(_remembered(folder, tuple(o.input_line for o, v in zip(parsed, sets_value) if not v)))
    try:
        for override in (o for o, v in zip(parsed, sets_value) if v):
            if override.type != OverrideType.CHANGE or OmegaConf.select(
                    cfg, override.key_or_group, default=_ABSENT, throw_on_resolution_failure=False) is _ABSENT:
                raise KeyError(override.key_or_group)
            OmegaConf.update(cfg, override.key_or_group, override.value(), merge=True)
    except (KeyError, OmegaConfBaseException):
        return copy.deepcopy(_remembered(folder, tuple(overrides)))
    return cfg


def _remembered(folder: Path, overrides: tuple[str, ...], inside_app: bool = False) -> DictConfig:
    """`hydra.compose` of these overrides, once per state of the folder's files (not a copy: callers copy)."""
    from hydra import compose, initialize_config_dir

    files = tuple((str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
                  for p in sorted(folder.rglob("*.yaml")))
    key = (str(folder), files, inside_app, overrides)
    if key not in _COMPOSED:
        if inside_app:
            _COMPOSED[key] = compose(config_name="config", overrides=list(overrides))
        else:
            with initialize_config_dir(config_dir=str(folder), version_base="1.3"):
                _COMPOSED[key] = compose(config_name="config", overrides=list(overrides))
    return _COMPOSED[key]
