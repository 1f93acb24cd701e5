"""What an output folder allows, decided before any work and without TensorFlow.

A run folder is new, interrupted (a whole backup of some epoch, or of its trained weights when it died
during evaluation) or finished. A finished one is never overwritten; an interrupted one is resumed
only with the configuration it started with, which is stored beside its backup; and a folder that
cannot be written (a file in the way, a read-only mount, too little space) is refused before training.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from inductive.errors import ConfigError
from inductive.training.record import SUMMARY, write_json_atomic
from inductive.training.record_schema import Summary, read_summary

BACKUP = "backup"  # Keras BackupAndRestore state of an unfinished run, kept until summary.json says completed
STARTED_CONFIG = "started_config.json"  # beside backup/: the resolved config the run started with, kept for good
TRAINED = "trained.json"  # in BACKUP: training ended; a resume evaluates TRAINED_WEIGHTS and trains no more
TRAINED_WEIGHTS = "trained.weights.h5"  # in BACKUP: the weights training ended with (early stopping may restore)
LEGACY_WEIGHTS = "latest.weights.h5"  # in BACKUP: the weights of backups written before 2026-12-04 (Keras's own name)
BACKUP_RECORD = "training_metadata.json"  # in BACKUP: {"epoch": epochs held, "weights": its file}, renamed in last
# Keys that change how a run is shown, where it is written or how fast it goes, not the experiment: a resume
# may differ there. Threads can change the order of floating-point sums, so the last bits, nothing more.
NEUTRAL_KEYS = ("trainer.verbose", "trainer.resume", "trainer.backup_every_s", "trainer.tensorboard",
                "trainer.threads", "trainer.eval_batch_size", "trainer.steps_per_execution", "objective", "output_root",
                "data.train_images", "model.display")  # display, place, speed, or a description only
FINISHED = ("completed", "diverged")
MIB = 1 << 20
log = logging.getLogger(__name__)


class FinishedRun(ConfigError):
    """The run folder already holds a finished run with these settings: never overwritten; a re-run sweep
    skips the job."""

    def __init__(self, run_dir: Path, summary: Summary):
        super().__init__(f"the run folder {run_dir} already holds a {summary.status} run; give a new folder "
                         "(hydra.run.dir, or hydra.sweep.dir for a sweep) or delete this one to run again")
        self.summary = summary


def asked_config(config: Any) -> dict[str, Any]:
    """The resolved config a run gets, Hydra's own node left out: what started_config.json keeps."""
    from omegaconf import OmegaConf

    return {key: OmegaConf.to_container(config[key], resolve=True) if OmegaConf.is_config(config[key])
            else config[key] for key in config if key != "hydra"}


def flat(config: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """{'trainer': {'learning_rate': 0.01}} -> {'trainer.learning_rate': 0.01}."""
    items: dict[str, Any] = {}
    for key, value in config.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            items.update(flat(value, f"{name}."))
        else:
            items[name] = value
    return items


def differing_keys(started: dict[str, Any], asked: dict[str, Any]) -> list[str]:
    """The keys, NEUTRAL_KEYS aside, whose values differ between two resolved configs."""
    before, now = flat(started), flat(asked)
    return sorted(key for key in before.keys() | now.keys()
                  if before.get(key, "<absent>") != now.get(key, "<absent>")
                  and not any(key == k or key.startswith(f"{k}.") for k in NEUTRAL_KEYS))


def started_config(run_dir: Path) -> dict[str, Any] | None:
    path = run_dir / STARTED_CONFIG
    if not path.is_file():
        return None  # a folder from before configs were kept: nothing to compare
    try:
        started = json.loads(path.read_text())
    except (OSError, ValueError):
        started = None
    if not isinstance(started, dict):
        raise ConfigError(f"{path}: not the JSON config this run started with; delete {run_dir} to run again")
    return started


def refuse_other_settings(run_dir: Path, asked: dict[str, Any], what: str) -> None:
    started = started_config(run_dir)
    differ = [] if started is None else differing_keys(started, asked)
    if differ:
        before, now = flat(started), flat(asked)
        shown = ", ".join(f"{k}={before.get(k, '<absent>')!r} there, {now.get(k, '<absent>')!r} here"
                          for k in differ[:6])
        more = f" and {len(differ) - 6} more" if len(differ) > 6 else ""
        raise ConfigError(f"the run folder {run_dir} holds {what} started with other settings: {shown}{more}. "
                          "Run it with the settings it started with, or give a new folder")


def resume_state(run_dir: Path, asked: dict[str, Any], resume: bool = True) -> str:
    """'new', 'interrupted' (train on from the backup) or 'trained' (evaluate the trained weights).

    Raises FinishedRun for a folder finished with these settings, and ConfigError when the folder's run
    (finished, or interrupted and to be resumed) started with other settings, naming each key with both
    values, and for a folder whose summary.json is not a run record or whose backup is not an HDF5 file (each
    named with the way on). With `resume` false an interrupted run's folder is trained again from scratch.
    """
    previous, problem = read_summary(run_dir)
    if previous is None and (run_dir / SUMMARY).exists():  # it may hold a finished run: never overwritten
        raise ConfigError(f"the run folder {run_dir} holds a {SUMMARY} that is not a run record ({problem}); "
                          "give a new folder (hydra.run.dir, or hydra.sweep.dir for a sweep) or delete this one")
    if previous is not None and previous.status in FINISHED:
        refuse_other_settings(run_dir, asked, f"a {previous.status} run")
        raise FinishedRun(run_dir, previous)
    backup = run_dir / BACKUP
    trained = (backup / TRAINED).is_file() and (backup / TRAINED_WEIGHTS).is_file()
    if not resume or not (trained or last_backup(backup) is not None):
        return "new"  # nothing trained to continue from (or asked not to): whatever is there is replaced
    refuse_other_settings(run_dir, asked, "an interrupted run")
    weights = backup / TRAINED_WEIGHTS if trained else last_backup(backup)[1]
    try:
        with open(weights, "rb") as f:
            signature = f.read(len(HDF5_SIGNATURE))
    except OSError as err:
        raise unreadable_backup(weights, err.strerror or type(err).__name__) from None
    if signature != HDF5_SIGNATURE:
        raise unreadable_backup(weights, "not an HDF5 file")
    return "trained" if trained else "interrupted"


HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"  # the first bytes of every .weights.h5 Keras writes


def unreadable_backup(weights: Path, why: str) -> ConfigError:
    """The error for a backup that cannot be opened: it names the file and the two ways on."""
    run_dir = weights.parent.parent
    return ConfigError(f"{weights}: the backup of this interrupted run cannot be opened ({why}); run again with "
                       f"trainer.resume=false to train it from scratch in the same folder, or remove {run_dir}")


def load_backup(model: Any, weights: Path) -> None:
    """`model.load_weights(weights)`, a failure named with the file and the fix."""
    try:
        model.load_weights(weights)
    except Exception as err:  # h5py and Keras raise many kinds for a cut or foreign file
        first = (str(err).splitlines() or [""])[0]
        raise unreadable_backup(weights, f"{type(err).__name__}: {first}") from None


def last_backup(backup: Path) -> tuple[int, Path] | None:
    """How many epochs the last whole backup in `backup` holds, and its weights file; None when there is none.

    The record naming the file is renamed into place after the weights are whole, so it is the commit: weights
    it does not name (a kill mid-backup) do not count. Backups written before 2026-12-04 name no file: theirs
    is Keras's latest.weights.h5.
    """
    try:
        record = json.loads((backup / BACKUP_RECORD).read_text())
        epochs, weights = int(record["epoch"]), backup / record.get("weights", LEGACY_WEIGHTS)
    except (OSError, ValueError, TypeError, KeyError):
        return None
    return (epochs, weights) if weights.is_file() else None


def start_fresh(run_dir: Path, asked: dict[str, Any]) -> None:
    """A new run in this folder: any earlier backup goes, and the config it starts with is kept."""
    if (run_dir / BACKUP).exists():
        log.info("starting %s from scratch: removing the earlier backup", run_dir)
        drop_backup(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    write_json_atomic(run_dir / STARTED_CONFIG, asked)


def mark_trained(run_dir: Path, epochs: int) -> None:
    """After TRAINED_WEIGHTS is whole: from here on a resume evaluates those and trains no more."""
    write_json_atomic(run_dir / BACKUP / TRAINED, {"epochs": epochs})


def drop_backup(run_dir: Path) -> None:
    """Only once summary.json says completed (or diverged): until then the weights may still be needed."""
    shutil.rmtree(run_dir / BACKUP, ignore_errors=True)


def check_writable(folder: Path, key: str, need_bytes: int = 16 * MIB) -> None:
    """Refuse a folder that cannot take a run: a file in the way, a read-only place, too little space."""
    existing = folder
    while not existing.exists():
        if existing.parent == existing:
            break
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise ConfigError(f"{key}={str(folder)!r}: {existing} is a file, not a folder; give a folder path")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise ConfigError(f"{key}={str(folder)!r}: {existing} is not writable (read-only or no permission); "
                          "give a folder you can write to")
    try:
        require_space(existing, need_bytes)
    except OSError:
        free = shutil.disk_usage(existing).free
        raise ConfigError(f"{key}={str(folder)!r}: only {free / MIB:.1f} MiB free on the disk holding {existing}; "
                          f"a run needs about {need_bytes / MIB:.0f} MiB (backup weights and records)") from None


def require_space(folder: Path, need_bytes: int) -> None:
    """Raise the disk-full error before a write that would hit it half-way."""
    free = shutil.disk_usage(folder).free
    if free < need_bytes:
        raise OSError(errno.ENOSPC, f"No space left on device: {free / MIB:.1f} MiB free in {folder}, "
                                    f"{need_bytes / MIB:.1f} MiB needed for the backup")


def save_weights(model: Any, target: Path) -> None:
    """`model.save_weights` to `target`, atomically, and never by h5py onto the target's disk.

    h5py can crash the whole process when its disk fills mid-write (a segfault, status left `running`).
    So the weights are written to a scratch folder in memory (/dev/shm where there is one) and copied
    into place by Python, whose writes raise OSError on a full disk: the run then ends `failed`.
    """
    scratch = "/dev/shm" if os.access("/dev/shm", os.W_OK) else None
    part = target.with_name(f".{target.name}.part")
    with tempfile.TemporaryDirectory(dir=scratch, prefix="inductive-") as tmp:
        staged = Path(tmp) / "staged.weights.h5"
        model.save_weights(staged)
        require_space(target.parent, staged.stat().st_size + MIB)
        try:
            shutil.copyfile(staged, part)
        except OSError:
            part.unlink(missing_ok=True)
            raise
    os.replace(part, target)


def space_needed(params: int) -> int:
    """Two backups on disk at once (the last one and the one being written), each the float32 weights and
    Adam's two moments, and 8 MiB of records."""
    return 2 * 3 * 4 * params + 8 * MIB
