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
from tensorflow.python.framework import config as tf_framework_config  # disable_*: not in the public API
from omegaconf import DictConfig, OmegaConf

from inductive.training import data as data_module
from inductive.training import folders, matching, precision, record, shift, tensorboard
from inductive.training.callbacks import (TRAIN_EVAL, AtomicBackupAndRestore, EpochClock, StepsRunProgbar,
                                           StopWhenFit, TrainEval, eval_batches)
from inductive.training.config import ConfigError, check
from inductive.training.models import build_model

log = logging.getLogger(__name__)

def configure_runtime(trainer: DictConfig) -> None:
    """Process-wide TensorFlow settings, set on every run so jobs of one process never inherit them.

    The dtype policy is not among them: `keras.backend.clear_session()` resets it, so `prepare` sets
    it after clearing the session.
    """
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


def make_optimizer(trainer: DictConfig) -> keras.optimizers.Optimizer:
    try:
        return keras.optimizers.get({"class_name": trainer.optimizer, "config": {"learning_rate": trainer.learning_rate}})
    except ValueError:
        raise ConfigError(f"trainer.optimizer={trainer.optimizer!r} is not a Keras optimizer: "
                          "use adam, sgd, rmsprop, adamw, ...") from None


def prepare(cfg: DictConfig) -> tuple[keras.Sequential, str]:
    """Check every config group, build and compile the model: all of it before any data is read.

    Returns the model and why its precision was chosen.
    """
    check(cfg)
    configure_runtime(cfg.trainer)  # first TensorFlow call: thread pools can only be sized before TF starts
    keras.backend.clear_session()  # jobs of one sweep share a process: nothing leaks between them
    policy, why = precision.choose(cfg.trainer.precision, precision.gpu_capabilities(), precision.cpu_bf16_flags())
    keras.mixed_precision.set_global_policy(policy)  # after clear_session, which resets it to float32
    keras.utils.set_random_seed(cfg.seed)
    shape, classes = tuple(cfg.data.image_shape), cfg.data.num_classes
    matched, target = matching.sized(cfg.model, shape, classes)
    if target is not None:  # the run's record shows the widths actually built
        cfg.model.conv_filters, cfg.model.hidden_units = matched.conv_filters, matched.hidden_units
        log.info("model %s sized to %d trainable parameters: conv_filters=%s hidden_units=%s", cfg.model.name,
                 target, list(matched.conv_filters), list(matched.hidden_units))
    model = build_model(cfg.model, shape, classes)
    model.compile(optimizer=make_optimizer(cfg.trainer), loss="sparse_categorical_crossentropy",
                  metrics=["accuracy"], jit_compile=cfg.trainer.jit_compile,
                  steps_per_execution=cfg.trainer.steps_per_execution)
    return model, why


def computed_precision(model: keras.Model) -> str:
    """The policy the model's layers actually compute in (the first layer with weights), not the one asked for."""
    layer = next((layer for layer in model.layers if layer.weights), model.layers[0])
    return layer.dtype_policy.name


def callbacks(cfg: DictConfig, run_dir: Path, resuming: bool, splits: data_module.Splits
              ) -> list[keras.callbacks.Callback]:
    """Order matters: metrics join the logs, then the CSV row is written, then the backup, then stop rules run;
    the progress bar comes last, where Keras puts its own, so its epoch line shows every metric."""
    trainer, stop = cfg.trainer, cfg.trainer.early_stopping
    sample = slice(None, trainer.fit.train_eval_images)
    found = [EpochClock(), TrainEval(splits.x_train[sample], splits.y_train[sample], trainer.eval_batch_size),
             keras.callbacks.CSVLogger(str(run_dir / record.HISTORY), append=resuming)]
    if trainer.resume:
        found.append(AtomicBackupAndRestore(str(run_dir / folders.BACKUP), trainer.backup_every_s))
    found.append(keras.callbacks.TerminateOnNaN())
    if trainer.tensorboard:
        found.append(tensorboard.callback(run_dir))
    if trainer.stop == "fit":
        earlier = record.read_history(run_dir) if resuming else None
        pairs = [] if earlier is None or earlier.empty else list(
            zip(earlier[f"{TRAIN_EVAL}_loss"], earlier[f"{TRAIN_EVAL}_accuracy"]))
        found.append(StopWhenFit(trainer.fit.accuracy, trainer.fit.patience, trainer.fit.min_delta, pairs))
    if stop.enabled:
        found.append(keras.callbacks.EarlyStopping(monitor=stop.monitor, patience=stop.patience,
                                                   restore_best_weights=stop.restore_best_weights))
    found.append(StepsRunProgbar())
    return found


def keep_trained_weights(model: keras.Model, run_dir: Path, epochs: int) -> None:
    """The weights training ended with (early stopping may have restored earlier ones), then the mark that
    says so: a run killed during evaluation resumes by evaluating them."""
    backup = run_dir / folders.BACKUP
    backup.mkdir(exist_ok=True)
    folders.save_weights(model, backup / folders.TRAINED_WEIGHTS)
    folders.mark_trained(run_dir, epochs)


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
    asked = folders.asked_config(cfg)  # as asked: before sizing fills in widths
    state = folders.resume_state(run_dir, asked, cfg.trainer.resume)  # refuses finished folders, other settings
    resuming = state != "new"
    model, precision_reason = prepare(cfg)
    folders.check_writable(run_dir, "hydra.run.dir", folders.space_needed(model.count_params()))
    splits = data_module.load(cfg.data)
    run_dir.mkdir(parents=True, exist_ok=True)
    if not resuming:
        folders.start_fresh(run_dir, asked)
    summary: dict[str, Any] = {
        "status": "running", "error": None, "model": cfg.model.name, "dataset": cfg.data.name, "seed": cfg.seed,
        "config": OmegaConf.to_container(cfg, resolve=True),
        "params": {**record.parameter_counts(model), "target": matching.target_params(cfg.model, cfg.data.image_shape,
                                                                                      cfg.data.num_classes)},
        "data": {"source": splits.source, **{f"{k}_size": v for k, v in splits.sizes.items()}},
        "device": {**record.device_info(), "precision": computed_precision(model), "precision_reason": precision_reason,
                   "jit_compile": bool(model.jit_compile),
                   "threads": tf.config.threading.get_intra_op_parallelism_threads() or "default"},
        "resumed": bool(resuming), "resumed_from": state if resuming else None,
    }
    (run_dir / record.MODEL_TXT).write_text(record.model_summary_text(model))
    record.write_json_atomic(run_dir / record.SUMMARY, summary)
    if state == "interrupted":
        backed_up, _ = folders.last_backup(run_dir / folders.BACKUP)
        record.cut_history(run_dir, backed_up)  # the epochs after the backup are trained again
        log.info("resuming from the backup in %s, which holds %d epochs", run_dir / folders.BACKUP, backed_up)

    trainer = cfg.trainer
    start = time.perf_counter()
    try:
        if state == "trained":  # killed during evaluation: its weights are whole, training is not redone
            log.info("training had ended: evaluating the weights in %s", run_dir / folders.BACKUP)
            model.optimizer.build(model.trainable_variables)  # the backup holds its state too: same variables
            folders.load_backup(model, run_dir / folders.BACKUP / folders.TRAINED_WEIGHTS)
        else:
            model.fit(splits.x_train, splits.y_train,
                      validation_data=eval_batches(splits.x_val, splits.y_val, trainer.eval_batch_size),
                      batch_size=trainer.batch_size,
                      epochs=trainer.epochs, shuffle=True,
                      callbacks=callbacks(cfg, run_dir, resuming, splits), verbose=verbosity(trainer.verbose))
        train_seconds = time.perf_counter() - start
        history = record.read_history(run_dir)  # every epoch once: a resume cut it back to its backup first
        if state == "trained":  # trained in an earlier process: its epochs' times, and this one's evaluation after
            train_seconds = float(history["epoch_time_s"].sum())
            start -= train_seconds
        elif trainer.resume:
            keep_trained_weights(model, run_dir, len(history))
        diverged = history.empty or not np.isfinite(history[["loss", "val_loss"]].to_numpy()).all()
        test_loss, test_accuracy = model.evaluate(eval_batches(splits.x_test, splits.y_test, trainer.eval_batch_size),
                                                  verbose=0)
        if cfg.shift.enabled and not diverged:  # inside the handler: a failure here is recorded, never `running`
            shift_table = shift.shift_evaluation(
                model, splits.x_test, splits.y_test,
                cfg.shift.max_shift or shift.default_max_shift(splits.x_test.shape[1:]),
                tuple(cfg.shift.fills), trainer.eval_batch_size, cfg.shift.max_images, splits.blank)
            record.write_csv_atomic(run_dir / record.SHIFT, shift_table)
            summary["shift"] = record.shift_metrics(shift_table)
    except Exception as err:
        summary.update(status="failed", error=f"{type(err).__name__}: {err}", traceback=traceback.format_exc(),
                       **record.history_metrics(record.read_history(run_dir)))
        record.write_failure(run_dir / record.SUMMARY, summary)
        raise
    summary.update(
        status="diverged" if diverged else "completed",
        error="loss became NaN or infinite" if diverged else None,
        **record.history_metrics(history),
        stop=record.stop_record(history, trainer),
        test={"loss": float(test_loss), "accuracy": float(test_accuracy)},
        time={"load_s": splits.load_seconds, "train_s": train_seconds,
              "epoch_mean_s": float(history["epoch_time_s"].mean()),
              "total_s": time.perf_counter() - start + splits.load_seconds},
    )
    if trainer.tensorboard:
        tensorboard.write_hparams(run_dir, summary)
    record.write_json_atomic(run_dir / record.SUMMARY, summary)
    folders.drop_backup(run_dir)  # only now: a run killed before this line resumes its evaluation
    return summary
