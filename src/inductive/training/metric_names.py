"""The suite's one vocabulary for a run's metrics, and the upgrade of records written under the old one.

`train_accuracy` / `train_loss` are always the eval-mode numbers: the model as it stands at the epoch's end, in
inference mode, on (a fixed sample of) its training set. Fitting, the gaps and the claims read them. Keras's own
`accuracy` / `loss` are the running mean over the epoch's batches while the weights move (dropout on); where a
table keeps them they are `train_accuracy_running` / `train_loss_running`. Gaps are computed from the eval-mode
numbers only: `accuracy_gap` = train - val accuracy, `loss_gap` = val - train loss, `test_gap` = train - test
accuracy (runs.csv).

Only history.csv, Keras's own per-epoch log (CSVLogger), keeps Keras's names (`loss`, `accuracy`) and the names the
eval-mode pass logs under (`train_eval_loss`, `train_eval_accuracy`), because the `trainer.early_stopping.monitor`
setting and resumed runs read those keys. Every table, summary.json, report, notebook and page uses the names here.

Records written before this vocabulary (summary.json, runs.csv and epochs.csv up to December 2026) called the running
mean `train_accuracy` and the eval-mode number `train_eval_accuracy`; every reader upgrades them on the way in
(`upgrade_metrics`, `upgrade_runs`, `upgrade_epochs`), so old and new records read the same.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

RUNNING = "_running"  # the suffix that marks Keras's running mean over an epoch
# history.csv column (Keras's log keys) -> (split, metric) of the epochs table
HISTORY_METRICS = {"loss": ("train_running", "loss"), "accuracy": ("train_running", "accuracy"),
                   "train_eval_loss": ("train", "loss"), "train_eval_accuracy": ("train", "accuracy"),
                   "val_loss": ("val", "loss"), "val_accuracy": ("val", "accuracy")}
EVAL_LOGS = ("train_eval_loss", "train_eval_accuracy")  # history.csv's eval-mode columns
# What each metric name means, wherever it appears (summary.json's final/best, runs.csv's final_*/best_*, the
# sweep table, the epochs table's split x metric): one meaning per name.
GLOSSARY = {
    "train_loss": "eval-mode training loss at the epoch's end",
    "train_accuracy": "eval-mode training accuracy at the epoch's end",
    "train_loss_running": "Keras's running mean of the training loss over the epoch's batches",
    "train_accuracy_running": "Keras's running mean of the training accuracy over the epoch's batches",
    "val_loss": "validation loss at the epoch's end", "val_accuracy": "validation accuracy at the epoch's end",
    "accuracy_gap": "train_accuracy - val_accuracy", "loss_gap": "val_loss - train_loss",
    "test_accuracy": "accuracy on the test set", "test_loss": "loss on the test set",
    "test_gap": "train_accuracy where training stopped - test_accuracy",
}
# The names before the vocabulary: old name -> new name (None: dropped, a running-mean gap nothing reads)
_OLD_METRICS = {"train_loss": "train_loss_running", "train_accuracy": "train_accuracy_running",
                "train_eval_loss": "train_loss", "train_eval_accuracy": "train_accuracy",
                "eval_gap": "accuracy_gap", "accuracy_gap": None, "loss_gap": None}
_OLD_SPLITS = {"train": "train_running", "train_eval": "train"}
ORDER = ("epoch", "train_loss", "train_accuracy", "train_loss_running", "train_accuracy_running", "val_loss",
         "val_accuracy", "accuracy_gap", "loss_gap")  # summary.json's final/best keys, runs.csv's final_*/best_*


def metrics_at(at: pd.Series) -> dict[str, float]:
    """One epoch's row of history.csv in the vocabulary (summary.json's `final` and `best`), with its gaps (none
    where the row has no eval-mode numbers), in `ORDER`."""
    values = {"epoch": int(at["epoch"]), "train_loss_running": float(at["loss"]),
              "train_accuracy_running": float(at["accuracy"]),
              "val_loss": float(at["val_loss"]), "val_accuracy": float(at["val_accuracy"])}
    if all(column in at.index for column in EVAL_LOGS):
        values |= {"train_loss": float(at["train_eval_loss"]), "train_accuracy": float(at["train_eval_accuracy"]),
                   "accuracy_gap": float(at["train_eval_accuracy"] - at["val_accuracy"]),
                   "loss_gap": float(at["val_loss"] - at["train_eval_loss"])}
    return {key: values[key] for key in ORDER if key in values}


def is_old_metrics(values: dict[str, Any]) -> bool:
    """A `final` / `best` record written before the vocabulary: it has no running-mean key, and a train number."""
    return not any(key.endswith(RUNNING) for key in values) and any(key in values for key in _OLD_METRICS)


def upgrade_metrics(values: dict[str, Any]) -> dict[str, Any]:
    """An old `final` / `best` record renamed; the loss gap recomputed from the eval-mode loss where there is one.
    A record already in the vocabulary comes back as it was."""
    if not is_old_metrics(values):
        return values
    new = {}
    for key, value in values.items():
        name = _OLD_METRICS.get(key, key)
        if name is not None:
            new[name] = value
    if "train_loss" in new:
        new["loss_gap"] = _difference(new.get("val_loss"), new["train_loss"])
    return new


def _difference(a: Any, b: Any) -> Any:
    """a - b for two numbers or two table columns; where a value is not a number the gap is left empty (the record
    schema then says what is wrong with the value itself)."""
    if isinstance(a, pd.Series) or isinstance(b, pd.Series):
        return pd.to_numeric(a, errors="coerce") - pd.to_numeric(b, errors="coerce")
    numbers = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (a, b))
    return a - b if numbers else None


def upgrade_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """runs.csv written before the vocabulary: its final_* and best_* columns renamed (`upgrade_metrics`), the loss
    gaps recomputed from the eval-mode loss, in the order a run written today has them."""
    if not is_old_metrics({column.split("_", 1)[1]: None for column in runs.columns
                           if column.startswith(("final_", "best_"))}):
        return runs
    blocks = {}
    for prefix in ("final_", "best_"):
        old = {key[len(prefix):]: runs[key] for key in runs.columns if key.startswith(prefix)}
        new = upgrade_metrics(old)
        blocks |= {prefix + key: new[key] for key in (*ORDER, *new) if key in new}
    first = next(i for i, column in enumerate(runs.columns) if column.startswith(("final_", "best_")))
    before = [c for c in runs.columns[:first]]
    after = [c for c in runs.columns[first:] if not c.startswith(("final_", "best_"))]
    return pd.concat([runs[before], pd.DataFrame(blocks, index=runs.index), runs[after]], axis=1)


def upgrade_epochs(epochs: pd.DataFrame) -> pd.DataFrame:
    """epochs.csv written before the vocabulary: split `train` (running mean) -> `train_running`, `train_eval` ->
    `train`. Keras always logs its running mean, so a table in the vocabulary always has a `train_running` split."""
    if "split" not in epochs or (epochs["split"] == "train_running").any() or epochs.empty:
        return epochs
    return epochs.assign(split=epochs["split"].map(lambda split: _OLD_SPLITS.get(split, split)))
