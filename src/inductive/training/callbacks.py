"""The Keras callbacks a run adds to `fit`: timing, eval-mode train metrics, the fit stop rule, safe backups, the
progress bar.

Order matters and `train.callbacks` keeps it: metrics are added to the epoch's logs first, then
CSVLogger writes the row, then the backup is taken, then the stop rules read the row.
"""

from __future__ import annotations

import time
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from inductive.training import folders
from inductive.training.record import write_json_atomic

TRAIN_EVAL = "train_eval"  # history.csv columns train_eval_*; the tables call them train_* (metric_names)


class EpochClock(keras.callbacks.Callback):
    """Adds the epoch's wall time to the logs, so CSVLogger writes it beside the metrics."""

    def on_epoch_begin(self, epoch, logs=None):
        self._start = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        logs["epoch_time_s"] = time.perf_counter() - self._start


def eval_batches(x: np.ndarray, y: np.ndarray | None, batch_size: int) -> tf.data.Dataset:
    """The batched pipeline an evaluation pass reads (validation in `fit`, `TrainEval`, the test set; images
    alone, `y=None`, for the shifted test sets' predictions), built once per set.

    Given NumPy arrays, every `evaluate` call builds a new input pipeline, which cost more than the pass
    itself for the small models: 50-65 ms against 6-17 ms for the eval-mode pass over 1,000 images, on
    2 quiet cores (benchmarks/eval_passes.py). The batches are the same, so the numbers are identical.
    Each pipeline holds its own copy of its arrays while it lives (a few MiB at the evidence sizes).
    """
    return tf.data.Dataset.from_tensor_slices(x if y is None else (x, y)).batch(batch_size)


class TrainEval(keras.callbacks.Callback):
    """Loss and accuracy on (a fixed sample of) the training set in inference mode, at every epoch end.

    Keras's `accuracy` is the running mean over the epoch's batches while the weights move (and with
    dropout on), so it understates how well the end-of-epoch model fits. Fitting, and the gap at a
    matched train accuracy, are judged on these eval-mode numbers instead. Cost: one predict pass
    over the sample per epoch (about a third of a training pass over as many images), read from
    `eval_batches`.
    """

    def __init__(self, x: np.ndarray, y: np.ndarray, batch_size: int):
        super().__init__()
        self.batches = eval_batches(x, y, batch_size)

    def on_epoch_end(self, epoch, logs=None):
        loss, accuracy = self.model.evaluate(self.batches, verbose=0)
        logs[f"{TRAIN_EVAL}_loss"], logs[f"{TRAIN_EVAL}_accuracy"] = float(loss), float(accuracy)


def fit_reached(accuracies: list[float], threshold: float) -> bool:
    return bool(accuracies) and accuracies[-1] >= threshold


def plateaued(losses: list[float], patience: int, min_delta: float) -> bool:
    """The eval-mode train loss has not fallen by `min_delta` below its earlier best for `patience` epochs."""
    if len(losses) <= patience:
        return False
    return min(losses[-patience:]) > min(losses[:-patience]) - min_delta


class StopWhenFit(keras.callbacks.Callback):
    """`trainer.stop=fit`: stop once the model fits its training set or its training loss has plateaued.

    The rule reads only the logged history (`earlier` holds the epochs of a resumed run), so a run
    killed and resumed stops where an uninterrupted one would.
    """

    def __init__(self, accuracy: float, patience: int, min_delta: float, earlier: list[tuple[float, float]]):
        super().__init__()
        self.accuracy, self.patience, self.min_delta = accuracy, patience, min_delta
        self.losses = [loss for loss, _ in earlier]
        self.accuracies = [acc for _, acc in earlier]

    def on_epoch_end(self, epoch, logs=None):
        self.losses.append(logs[f"{TRAIN_EVAL}_loss"])
        self.accuracies.append(logs[f"{TRAIN_EVAL}_accuracy"])
        if fit_reached(self.accuracies, self.accuracy) or plateaued(self.losses, self.patience, self.min_delta):
            self.model.stop_training = True


class StepsRunProgbar(keras.callbacks.ProgbarLogger):
    """Keras's progress bar, counting the batches an epoch ran when `steps_per_execution` > 1.

    Keras reports each call into TensorFlow as ending `steps_per_execution` batches after it began, even when the
    epoch's batches ran out first, so the bar overshot its total (448/430 with 430 batches and 32 per call;
    keras-team/keras#20861). Here the count stops at the epoch's batches. `fit` uses this one instead of adding
    its own.
    """

    def on_train_batch_end(self, batch, logs=None):
        super().on_train_batch_end(batch if self.target is None else min(batch, self.target - 1), logs)


class AtomicBackupAndRestore(keras.callbacks.BackupAndRestore):
    """Keras's BackupAndRestore, but every backup is whole whenever the run dies, and taken at most every
    `every_s` seconds.

    Keras writes the weights in place and then the epoch count: a kill mid-write leaves a weights file it
    cannot load, and a kill between the two leaves weights and count of different epochs. Here each backup's
    weights go to a new file named by its epoch, and only then is the record naming that file and its epoch
    renamed into place (folders.last_backup reads it): that rename is the commit, so weights and epoch always
    agree (for backups written since 2026-12-04; older ones, Keras's layout, are still read). The backup
    before it, and any file a kill left half-copied, are removed after.

    A backup holds the optimizer's state as well, so it costs 10-150 ms (the most for `local`): up to 10% of a
    short epoch. So an epoch end backs up only once `every_s` seconds have passed since training began or
    since the last backup (0: at every epoch end). A kill loses at most about that much training; the
    resumed run cuts history.csv back to the backup and trains those epochs again.
    """

    def __init__(self, backup_dir: str, every_s: float):
        super().__init__(backup_dir, delete_checkpoint=False)
        self.every_s = every_s
        self._last_backup = time.perf_counter()

    def on_train_begin(self, logs=None):
        self._load_model()
        self._last_backup = time.perf_counter()

    def _load_model(self):
        found = folders.last_backup(Path(self.backup_dir))
        if found is None:
            return
        epochs, weights = found
        if self.model.optimizer is not None and not self.model.optimizer.built:
            self.model.optimizer.build(self.model.trainable_variables)  # its state is in the backup too
        folders.load_backup(self.model, weights)
        self.model._initial_epoch = epochs  # Keras's own BackupAndRestore sets this: fit starts there

    def on_epoch_end(self, epoch, logs=None):
        self._current_epoch = epoch + 1
        if time.perf_counter() - self._last_backup >= self.every_s:
            self._save_model()
            self._last_backup = time.perf_counter()

    def _save_model(self):
        backup = Path(self.backup_dir)
        backup.mkdir(parents=True, exist_ok=True)
        weights = f"epoch{self._current_epoch}.weights.h5"
        folders.save_weights(self.model, backup / weights)  # a full disk is a Python error, never a crash in h5py
        write_json_atomic(backup / folders.BACKUP_RECORD, {"epoch": self._current_epoch, "weights": weights})
        for older in [*backup.glob("*.weights.h5"), *backup.glob(".*.part")]:
            if older.name not in (weights, folders.TRAINED_WEIGHTS):
                older.unlink()
