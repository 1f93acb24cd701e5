"""Where the configs live, and the checks a composed config must pass before any work starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig


PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")


class ConfigError(ValueError):
    """A config value that cannot work: the message names the key, the value and what is valid."""


def config_dir() -> Path:
    """The `configs/` folder: inside the installed package, or at the root of a source checkout."""
    package = Path(__file__).resolve().parent
    for candidate in (package / "configs", package.parent.parent / "configs"):
        if (candidate / "config.yaml").is_file():
            return candidate
    raise FileNotFoundError(f"no configs/config.yaml next to {package} or at the repository root")


def require(ok: bool, key: str, value: Any, valid: str) -> None:
    """Raise a ConfigError naming `key`, its `value` and what would be `valid` unless `ok`."""
    if not ok:
        raise ConfigError(f"{key}={value!r} is invalid: {valid}")


def _positive_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def check_data(data: DictConfig) -> None:
    require(data.normalize in ("unit", "standardize"), "data.normalize", data.normalize, "use unit or standardize")
    val = data.val_size
    require(
        (_positive_int(val)) or (isinstance(val, float) and 0 < val < 1),
        "data.val_size", val, "use a positive count or a fraction between 0 and 1",
    )
    require(data.train_size is None or _positive_int(data.train_size), "data.train_size", data.train_size,
            "use null (all) or a positive count")
    shape = list(data.image_shape)
    require(len(shape) == 3 and all(map(_positive_int, shape)), "data.image_shape", shape,
            "use [height, width, channels] with positive ints")
    require(_positive_int(data.num_classes) and data.num_classes >= 2, "data.num_classes", data.num_classes,
            "use an int >= 2")


def check_trainer(trainer: DictConfig) -> None:
    require(_positive_int(trainer.epochs), "trainer.epochs", trainer.epochs, "use a positive int")
    require(_positive_int(trainer.batch_size), "trainer.batch_size", trainer.batch_size, "use a positive int")
    lr = trainer.learning_rate
    require(isinstance(lr, (int, float)) and lr > 0, "trainer.learning_rate", lr, "use a positive number")
    require(trainer.verbose in ("auto", 0, 1, 2), "trainer.verbose", trainer.verbose, "use auto, 0, 1 or 2")
    require(trainer.precision in PRECISIONS, "trainer.precision", trainer.precision, f"use one of {PRECISIONS}")
    require(trainer.jit_compile in ("auto", True, False), "trainer.jit_compile", trainer.jit_compile,
            "use auto, true or false")
    require(trainer.threads in (None, "auto") or _positive_int(trainer.threads), "trainer.threads", trainer.threads,
            "use null (TensorFlow's default), auto (under a parallel launcher) or a positive int")
