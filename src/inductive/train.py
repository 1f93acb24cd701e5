"""One run, keras-io style: data, model, compile, fit, evaluate; everything recorded in `run_dir`."""

from __future__ import annotations

import json
import logging
import os
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from tensorflow.python.framework import config as tf_framework_config  # disable_*: not in the public API
from omegaconf import DictConfig, OmegaConf

from inductive import data as data_module
from inductive import matching, record, shift
from inductive.config import ConfigError, check_data, check_trainer
from inductive.models import build_model

log = logging.getLogger(__name__)

BACKUP = "backup"  # Keras BackupAndRestore state of an unfinished run


class EpochClock(keras.callbacks.Callback):
    """Adds the epoch's wall time to the logs, so CSVLogger writes it beside the metrics."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs["epoch_time_s"] = time.perf_counter() - self._start


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras's BackupAndRestore, but each file is written aside and renamed into place.

    Keras writes the backup in place, so a kill or Ctrl-C mid-write leaves a weights file it
    cannot load. Renames are atomic: whenever the run dies, the backup is a whole epoch's.
    """

    def _save_model(self):
        os.makedirs(self.backup_dir, exist_ok=True)
        staged = os.path.join(self.backup_dir, "staged.weights.h5")
        self.model.save_weights(staged, overwrite=True)
        os.replace(staged, self._weights_path)  # weights first: a kill before the metadata redoes one epoch
        staged = self._training_metadata_path + ".staged"
        with open(staged, "w") as f:
            json.dump({"epoch": self._current_epoch, "batch": self._last_batch_seen}, f)
        os.replace(staged, self._training_metadata_path)


def configure_runtime(trainer: DictConfig) -> None:
    """Process-wide TensorFlow settings, set on every run so jobs of one process never inherit them."""
    if isinstance(trainer.threads, int) and tf.config.threading.get_intra_op_parallelism_threads() != trainer.threads:
        try:
            tf.config.threading.set_intra_op_parallelism_threads(trainer.threads)
            tf.config.threading.set_inter_op_parallelism_threads(trainer.threads)
        except RuntimeError:  # TensorFlow fixes its thread pools at first use: a later job in the process keeps them
            log.warning("trainer.threads=%s ignored: this process already runs TensorFlow with %s threads",
                        trainer.threads, tf.config.threading.get_intra_op_parallelism_threads() or "default")
    if trainer.deterministic:
        tf.config.experimental.enable_op_determinism()
    else:
        tf_framework_config.disable_op_determinism()
    keras.mixed_precision.set_global_policy(trainer.precision)


def make_optimizer(trainer: DictConfig) -> keras.optimizers.Optimizer:
    try:
        return keras.optimizers.get({"class_name": trainer.optimizer, "config": {"learning_rate": trainer.learning_rate}})
    except ValueError:
        raise ConfigError(f"trainer.optimizer={trainer.optimizer!r} is not a Keras optimizer: "
                          "use adam, sgd, rmsprop, adamw, ...") from None


def prepare(cfg: DictConfig) -> keras.Sequential:
    """Check every config group, build and compile the model: all of it before any data is read."""
    check_data(cfg.data)
    check_trainer(cfg.trainer)
    configure_runtime(cfg.trainer)  # first TensorFlow call: thread pools can only be sized before TF starts
    keras.backend.clear_session()  # jobs of one sweep share a process: nothing leaks between them
    keras.utils.set_random_seed(cfg.seed)
    shape, classes = tuple(cfg.data.image_shape), cfg.data.num_classes
    matched, target = matching.sized(cfg.model, shape, classes)
    if target is not None:  # the run's record shows the widths actually built
        cfg.model.conv_filters, cfg.model.hidden_units = matched.conv_filters, matched.hidden_units
        log.info("model %s sized to %d trainable parameters: conv_filters=%s hidden_units=%s", cfg.model.name,
                 target, list(matched.conv_filters), list(matched.hidden_units))
    model = build_model(cfg.model, shape, classes)
    model.compile(optimizer=make_optimizer(cfg.trainer), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=cfg.trainer.jit_compile)
    return model


def callbacks(cfg: DictConfig, run_dir: Path, resuming: bool) -> list[keras.callbacks.Callback]:
    """Order matters: the CSV row of an epoch is written before its backup, so a kill never loses a row."""
    stop = cfg.trainer.early_stopping
    found = [EpochClock(), keras.callbacks.CSVLogger(str(run_dir / record.HISTORY), append=resuming)]
    if cfg.trainer.resume:
        found.append(AtomicBackupAndRestore(str(run_dir / BACKUP)))
    found.append(keras.callbacks.TerminateOnNaN())
    if stop.enabled:
        found.append(keras.callbacks.EarlyStopping(monitor=stop.monitor, patience=stop.patience,
                                                   restore_best_weights=stop.restore_best_weights))
    return found


def check_run_dir(run_dir: Path) -> bool:
    """True when the folder holds an interrupted run to resume; refuses to overwrite a finished one."""
    previous = record.read_summary(run_dir)
    if previous and previous.get("status") in ("completed", "diverged"):
        raise ConfigError(f"hydra.run.dir={str(run_dir)!r} already holds a {previous['status']} run; "
                          "give a new folder (or delete this one) to run again")
    return (run_dir / BACKUP).is_dir()


def verbosity(setting: str | int) -> int:
    """A progress bar in a terminal; one line per epoch in logs, sweeps and CI."""
    if setting == "auto":
        return 1 if sys.stdout.isatty() else 2
    return int(setting)


def run(cfg: DictConfig, run_dir: Path) -> dict[str, Any]:
    """Train and evaluate the configured model; returns the summary written to summary.json.

    Config and data errors raise before anything is trained; errors during training are
    recorded (status `failed`) and re-raised; a NaN loss ends the run as `diverged`.
    """
    run_dir.mkdir(parents=True, exist_ok=True)
    resuming = cfg.trainer.resume and check_run_dir(run_dir)
    model = prepare(cfg)
    splits = data_module.load(cfg.data)
    summary: dict[str, Any] = {
        "status": "running", "error": None, "model": cfg.model.name, "dataset": cfg.data.name, "seed": cfg.seed,
        "config": OmegaConf.to_container(cfg, resolve=True),
        "params": {**record.parameter_counts(model), "target": matching.target_params(cfg.model, cfg.data.image_shape,
                                                                                      cfg.data.num_classes)},
        "data": {"source": splits.source, **{f"{k}_size": v for k, v in splits.sizes.items()}},
        "device": {**record.device_info(), "precision": cfg.trainer.precision, "jit_compile": bool(model.jit_compile),
                   "threads": tf.config.threading.get_intra_op_parallelism_threads() or "default"},
        "resumed": bool(resuming),
    }
    (run_dir / record.MODEL_TXT).write_text(record.model_summary_text(model))
    record.write_json_atomic(run_dir / record.SUMMARY, summary)
    if resuming:
        log.info("resuming from the backup in %s", run_dir / BACKUP)

    trainer = cfg.trainer
    start = time.perf_counter()
    try:
        model.fit(splits.x_train, splits.y_train, validation_data=(splits.x_val, splits.y_val),
                  batch_size=trainer.batch_size, epochs=trainer.epochs, shuffle=True,
                  callbacks=callbacks(cfg, run_dir, resuming), verbose=verbosity(trainer.verbose))
        train_seconds = time.perf_counter() - start
        history = record.dedupe_history(run_dir)
        diverged = history.empty or not np.isfinite(history[["loss", "val_loss"]].to_numpy()).all()
        test_loss, test_accuracy = model.evaluate(splits.x_test, splits.y_test, batch_size=trainer.batch_size,
                                                  verbose=0)
    except Exception as err:
        summary.update(status="failed", error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc(),
                       **record.history_metrics(record.read_history(run_dir)))
        record.write_json_atomic(run_dir / record.SUMMARY, summary)
        raise
    if cfg.shift.enabled and not diverged:
        shift_table = shift.shift_evaluation(
            model, splits.x_test, splits.y_test, cfg.shift.max_shift or shift.default_max_shift(splits.x_test.shape[1:]),
            tuple(cfg.shift.fills), trainer.batch_size, cfg.shift.max_images, splits.blank)
        record.write_csv_atomic(run_dir / record.SHIFT, shift_table)
        summary["shift"] = record.shift_metrics(shift_table)
    summary.update(
        status="diverged" if diverged else "completed",
        error="loss became NaN or infinite" if diverged else None,
        **record.history_metrics(history),
        test={"loss": float(test_loss), "accuracy": float(test_accuracy)},
        time={"load_s": splits.load_seconds, "train_s": train_seconds,
              "epoch_mean_s": float(history["epoch_time_s"].mean()),
              "total_s": time.perf_counter() - start + splits.load_seconds},
    )
    record.write_json_atomic(run_dir / record.SUMMARY, summary)
    return summary
