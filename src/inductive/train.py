"""One run, keras-io style: data, model, compile, fit, evaluate; everything recorded in `run_dir`."""

from __future__ import annotations

import logging
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import keras
import numpy as np
import tensorflow as tf
from omegaconf import DictConfig, OmegaConf

from inductive import data as data_module
from inductive import record
from inductive.config import check_data, check_trainer
from inductive.models import build_model

log = logging.getLogger(__name__)


class EpochClock(keras.callbacks.Callback):
    """Adds the epoch's wall time to the logs, so CSVLogger writes it beside the metrics."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs["epoch_time_s"] = time.perf_counter() - self._start


def prepare(cfg: DictConfig) -> keras.Sequential:
    """Check every config group and build the model: all of it before any data is read."""
    check_data(cfg.data)
    check_trainer(cfg.trainer)
    keras.backend.clear_session()  # jobs of one sweep share a process: nothing leaks between them
    keras.utils.set_random_seed(cfg.seed)
    if cfg.trainer.deterministic:
        tf.config.experimental.enable_op_determinism()
    return build_model(cfg.model, tuple(cfg.data.image_shape), cfg.data.num_classes)


def callbacks(cfg: DictConfig, run_dir: Path) -> list[keras.callbacks.Callback]:
    stop = cfg.trainer.early_stopping
    found = [EpochClock(), keras.callbacks.CSVLogger(str(run_dir / record.HISTORY)), keras.callbacks.TerminateOnNaN()]
    if stop.enabled:
        found.append(keras.callbacks.EarlyStopping(monitor=stop.monitor, patience=stop.patience,
                                                   restore_best_weights=stop.restore_best_weights))
    return found


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
    model = prepare(cfg)
    splits = data_module.load(cfg.data)
    summary: dict[str, Any] = {
        "status": "running", "error": None, "model": cfg.model.name, "dataset": cfg.data.name, "seed": cfg.seed,
        "config": OmegaConf.to_container(cfg, resolve=True), "params": record.parameter_counts(model),
        "data": {"source": splits.source, **{f"{k}_size": v for k, v in splits.sizes.items()}},
        "device": record.device_info(),
    }
    (run_dir / record.MODEL_TXT).write_text(record.model_summary_text(model))
    record.write_json_atomic(run_dir / record.SUMMARY, summary)

    trainer = cfg.trainer
    model.compile(optimizer=keras.optimizers.get({"class_name": trainer.optimizer,
                                                  "config": {"learning_rate": trainer.learning_rate}}),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    try:
        model.fit(splits.x_train, splits.y_train, validation_data=(splits.x_val, splits.y_val),
                  batch_size=trainer.batch_size, epochs=trainer.epochs, shuffle=True,
                  callbacks=callbacks(cfg, run_dir), verbose=verbosity(trainer.verbose))
        train_seconds = time.perf_counter() - start
        history = record.read_history(run_dir)
        diverged = history.empty or not np.isfinite(history[["loss", "val_loss"]].to_numpy()).all()
        test_loss, test_accuracy = model.evaluate(splits.x_test, splits.y_test, batch_size=trainer.batch_size,
                                                  verbose=0)
    except Exception as err:
        summary.update(status="failed", error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc(),
                       **record.history_metrics(record.read_history(run_dir)))
        record.write_json_atomic(run_dir / record.SUMMARY, summary)
        raise
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
