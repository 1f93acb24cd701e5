"""The `key=value` command lines of explain, conv_questions and explorer: one parser, one help rule."""

from __future__ import annotations

from typing import Any

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from inductive.errors import ConfigError, require


def wants_help(argv: list[str], doc: str) -> bool:
    """Print `doc` (the command's module docstring) for -h / --help."""
    if any(arg in ("-h", "--help") for arg in argv):
        print(doc.strip())
        return True
    return False


def parse_overrides(argv: list[str], defaults: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """`key=value` arguments merged over `defaults`, and the keys given; unknown keys are an error."""
    valid = ", ".join(defaults)
    for arg in argv:
        require("=" in arg, "argument", arg, f"write key=value with a key among: {valid}")
    try:
        overrides = OmegaConf.to_container(OmegaConf.from_dotlist(argv))
    except (OmegaConfBaseException, yaml.YAMLError) as err:  # e.g. an unclosed bracket in kernel=[3,
        raise ConfigError(f"cannot read {argv} as key=value arguments ({type(err).__name__}); "
                          f"write sizes like 3x5, not lists") from None
    for key in overrides:
        require(key in defaults, key, overrides[key], f"unknown key; valid keys are: {valid}")
    return OmegaConf.to_container(OmegaConf.merge(defaults, overrides)), set(overrides)


def parse_sizes(key: str, value: Any) -> tuple[int, ...]:
    """`3` or `3x5` (positive ints joined by x) as a tuple of ints."""
    parts = [] if isinstance(value, bool) else str(value).lower().split("x")
    require(bool(parts) and all(p.isdigit() and int(p) > 0 for p in parts), key, value,
            "use positive ints joined by x, like 3 or 3x5")
    return tuple(int(p) for p in parts)
