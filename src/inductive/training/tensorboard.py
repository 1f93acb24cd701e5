"""`trainer.tensorboard=true`: Keras TensorBoard logs plus an HParams record per run.

`tensorboard --logdir <sweep folder>` then lists every run in the HParams table and the parallel
coordinates view: the settings that differ between runs (model, dataset, seed, widths, learning rate,
precision, training-set size) against the results (final and best validation accuracy, the accuracy
gap, test accuracy). Needs the `tensorboard` package (`pip install -e ".[tensorboard]"`).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import keras

LOG_DIR = "tensorboard"
METRICS = {"final_val_accuracy": ("final", "val_accuracy"), "best_val_accuracy": ("best", "val_accuracy"),
           "accuracy_gap": ("final", "accuracy_gap"), "test_accuracy": ("test", "accuracy")}


def callback(run_dir: Path) -> keras.callbacks.TensorBoard:
    return keras.callbacks.TensorBoard(log_dir=str(run_dir / LOG_DIR), write_graph=False)


def hparams_of(summary: dict[str, Any]) -> dict[str, Any]:
    config = summary["config"]
    return {"model": summary["model"], "dataset": summary["dataset"], "seed": summary["seed"],
            "conv_filters": json.dumps(config["model"]["conv_filters"]),
            "hidden_units": json.dumps(config["model"]["hidden_units"]),
            "learning_rate": float(config["trainer"]["learning_rate"]), "batch_size": config["trainer"]["batch_size"],
            "precision": summary["device"]["precision"], "train_size": summary["data"]["train_size"]}


def write_hparams(run_dir: Path, summary: dict[str, Any]) -> None:
    """One HParams session for the run, with its results as scalars beside it (step 0)."""
    import tensorflow as tf
    from tensorboard.plugins.hparams import api as hp

    with tf.summary.create_file_writer(str(run_dir / LOG_DIR / "hparams")).as_default():
        hp.hparams(hparams_of(summary), trial_id=run_dir.name)
        for name, (section, key) in METRICS.items():
            value = (summary.get(section) or {}).get(key)
            if value is not None:
                tf.summary.scalar(name, float(value), step=0)
