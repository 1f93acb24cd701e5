"""What the benchmark scripts share: their KEY=VALUE arguments and a config composed as `inductive.run` would."""

from __future__ import annotations

from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from inductive.training.config import config_dir


def settings(argv: list[str], defaults: dict[str, object]) -> tuple[dict[str, object], list[str]]:
    """The benchmark's own keys (ints, or text where the default is text), and the rest as Hydra overrides."""
    known, extra = dict(defaults), []
    for arg in argv:
        key, _, value = arg.partition("=")
        if key in known:
            known[key] = value if isinstance(defaults[key], str) else int(value)
        else:
            extra.append(arg)
    return known, extra


def composed(overrides: list[str], return_hydra_config: bool = False) -> DictConfig:
    """configs/config.yaml with these overrides (and Hydra's own config, to check a `hydra/...` choice)."""
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose(config_name="config", overrides=overrides, return_hydra_config=return_hydra_config)
