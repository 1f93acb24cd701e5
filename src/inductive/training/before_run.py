"""The Hydra callback that checks a run, or every job of a basic sweep, before any folder is made.

Hydra creates a job's folder before the job starts, so a bad value found inside the job would leave an
orphan folder; this runs first and exits 2 with one line. Sweepers that choose values as they go
(e.g. Optuna) are checked per job, by `train.prepare`. The checks themselves are `training.config.check`;
this module adds what only a run needs: its folder (finished, resumable, writable) and the disk it takes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from hydra.experimental.callback import Callback
from omegaconf import DictConfig

from inductive.errors import ConfigError
from inductive.training import folders, matching
from inductive.training.config import check
from inductive.training.sweep import basic_sweep_jobs


class CheckBeforeRun(Callback):
    """Hydra callback (configs/config.yaml, hydra.callbacks.check_config): `check` every run or sweep job, and
    its folder, before Hydra makes any."""

    def on_run_start(self, config: DictConfig, **kwargs: Any) -> None:
        self._check_or_exit(config)
        run_dir = Path(config.hydra.run.dir)
        self._check_or_exit_writable(run_dir, "hydra.run.dir", space_for(config))
        self._check_folder_or_exit(config, run_dir)
        CHECKED.append(True)

    def on_multirun_start(self, config: DictConfig, **kwargs: Any) -> None:
        from hydra.core.global_hydra import GlobalHydra
        from omegaconf import open_dict

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
        try:
            folders.check_writable(folder, key, need_bytes)
        except ConfigError as err:
            _exit_with(err)

    @staticmethod
    def _check_folder_or_exit(config: DictConfig, run_dir: Path, overrides: list[str] | None = None) -> None:
        """Before Hydra writes the folder's .hydra/: a refused run leaves a finished or interrupted one as it was.
        A sweep job finished with the same settings is left to be skipped."""
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
    shape, classes = tuple(config.data.image_shape), config.data.num_classes
    return folders.space_needed(matching.count_params(matching.sized(config.model, shape, classes)[0], shape, classes))


def _exit_with(err: Exception, overrides: list[str] | None = None) -> None:
    job = f" (sweep job {' '.join(overrides)})" if overrides else ""
    print(f"error: {err}{job}", file=sys.stderr)
    sys.exit(2)
