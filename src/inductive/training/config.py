"""Where the configs live, and the checks a composed config must pass before any work starts."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from inductive.errors import ConfigError, require  # noqa: F401  (ConfigError: re-raised by callers)


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


def check(cfg: DictConfig) -> None:
    """Every check a composed config must pass, in one place and before TensorFlow loads: each key's type
    and range (`schema`), then the shapes it implies (a kernel larger than its feature map, a parameter
    target out of reach). Raises ConfigError naming the key, the value and what is valid."""
    from inductive.training import matching, schema, shapes

    schema.check(cfg)
    model = cfg.model
    require(model.match_params_of is None or model.match_params_of in model_names(), "model.match_params_of",
            model.match_params_of, f"use null or one of {model_names()}")
    shape = tuple(cfg.data.image_shape)
    shapes.feature_shapes(model, shape)
    matching.sized(model, shape, cfg.data.num_classes)


class CheckBeforeRun(Callback):
    """Hydra callback: check the config of a run, or of every job of a basic sweep, before any folder is made.

    Hydra creates a job's folder before the job starts, so a bad value found inside the job would leave an
    orphan folder; this runs first and exits 2 with one line. Sweepers that choose values as they go
    (e.g. Optuna) are checked per job, by `train.prepare`.
    """

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._check_or_exit(config)
        run_dir = Path(config.hydra.run.dir)
        self._check_or_exit_writable(run_dir, "hydra.run.dir", space_for(config))
        self._check_folder_or_exit(config, run_dir)
        CHECKED.append(True)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from hydra.core.global_hydra import GlobalHydra
        from omegaconf import open_dict

        from inductive.training.sweep import basic_sweep_jobs

        self._check_or_exit(config)
        need = space_for(config)
        jobs = basic_sweep_jobs(config)
        if jobs is not None:
            loader = GlobalHydra.instance().config_loader()
            for num, overrides in enumerate(jobs):
                job = loader.load_sweep_config(config, overrides)
                self._check_or_exit(job, overrides)
                need = max(need, space_for(job))
                with open_dict(job):
                    job.hydra.job.num = num  # as the launcher numbers it: the job's folder name uses it
                self._check_folder_or_exit(job, Path(job.hydra.sweep.dir) / str(job.hydra.sweep.subdir), overrides)
        self._check_or_exit_writable(Path(config.hydra.sweep.dir), "hydra.sweep.dir", need)
        CHECKED.append(True)

    @staticmethod
    def _check_or_exit(config: DictConfig, overrides: list[str] | None = None) -> None:
        try:
            check(config)
        except ConfigError as err:
            _exit_with(err, overrides)

    @staticmethod
    def _check_or_exit_writable(folder: Path, key: str, need_bytes: int) -> None:
        from inductive.training import folders

        try:
            folders.check_writable(folder, key, need_bytes)
        except ConfigError as err:
            _exit_with(err)

    @staticmethod
    def _check_folder_or_exit(config: DictConfig, run_dir: Path, overrides: list[str] | None = None) -> None:
        """Before Hydra writes the folder's .hydra/: a refused run leaves a finished or interrupted one as it was.
        A sweep job finished with the same settings is left to be skipped."""
        from inductive.training import folders

        try:
            folders.resume_state(run_dir, folders.asked_config(config), bool(config.trainer.resume))
        except folders.FinishedRun as err:
            if overrides is None:
                _exit_with(err)
        except ConfigError as err:
            _exit_with(err, overrides)


CHECKED: list[bool] = []  # set once the checks above passed: an exit 1 before that is Hydra's own config error


def space_for(config: DictConfig) -> int:
    """What a run of this (already checked) config needs on disk."""
    from inductive.training import folders, matching

    shape, classes = tuple(config.data.image_shape), config.data.num_classes
    return folders.space_needed(matching.count_params(matching.sized(config.model, shape, classes)[0], shape, classes))


def _exit_with(err: Exception, overrides: list[str] | None = None) -> None:
    job = f" (sweep job {' '.join(overrides)})" if overrides else ""
    print(f"error: {err}{job}", file=sys.stderr)
    sys.exit(2)
