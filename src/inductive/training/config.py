"""Where the configs live, and the checks a composed config must pass before any work starts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from omegaconf import DictConfig

from inductive.errors import ConfigError, require  # noqa: F401  (ConfigError: re-raised by callers)
from inductive.training.precision import PRECISIONS


def config_dir() -> Path:
    """The `configs/` folder: inside the installed package, or at the root of a source checkout."""
    package = Path(__file__).resolve().parent.parent  # src/inductive, or site-packages/inductive
    for candidate in (package / "configs", package.parent.parent / "configs"):
        if (candidate / "config.yaml").is_file():
            return candidate
    raise FileNotFoundError(f"no configs/config.yaml next to {package} or at the repository root")


def model_names() -> list[str]:
    """The `model=` options: every configs/model/*.yaml except the shared `_base`."""
    return sorted(p.stem for p in (config_dir() / "model").glob("*.yaml") if not p.stem.startswith("_"))


def model_config(name: str) -> DictConfig:
    """The `model` group as Hydra composes it for `model=NAME` (inside a running app or not)."""
    from hydra import compose, initialize_config_dir
    from hydra.core.global_hydra import GlobalHydra

    if GlobalHydra.instance().is_initialized():
        return compose(config_name="config", overrides=[f"model={name}"]).model
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose(config_name="config", overrides=[f"model={name}"]).model


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
    require(trainer.stop in ("epochs", "fit"), "trainer.stop", trainer.stop, "use epochs or fit")
    fit = trainer.fit
    require(isinstance(fit.accuracy, (int, float)) and 0 < fit.accuracy <= 1, "trainer.fit.accuracy", fit.accuracy,
            "use an accuracy in (0, 1]")
    require(_positive_int(fit.patience), "trainer.fit.patience", fit.patience, "use a positive int")
    require(isinstance(fit.min_delta, (int, float)) and fit.min_delta >= 0, "trainer.fit.min_delta", fit.min_delta,
            "use a number >= 0")
    require(fit.train_eval_images is None or _positive_int(fit.train_eval_images), "trainer.fit.train_eval_images",
            fit.train_eval_images, "use null (all training images) or a positive count")
    require(_positive_int(trainer.batch_size), "trainer.batch_size", trainer.batch_size, "use a positive int")
    lr = trainer.learning_rate
    require(isinstance(lr, (int, float)) and lr > 0, "trainer.learning_rate", lr, "use a positive number")
    require(trainer.verbose in ("auto", 0, 1, 2), "trainer.verbose", trainer.verbose, "use auto, 0, 1 or 2")
    require(trainer.precision in PRECISIONS, "trainer.precision", trainer.precision, f"use one of {PRECISIONS}")
    require(trainer.jit_compile in ("auto", True, False), "trainer.jit_compile", trainer.jit_compile,
            "use auto, true or false")
    require(trainer.threads in (None, "auto") or _positive_int(trainer.threads), "trainer.threads", trainer.threads,
            "use null (TensorFlow's default), auto (under a parallel launcher) or a positive int")
