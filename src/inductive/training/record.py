"""What a run leaves in its folder: history.csv, summary.json and model.txt.

summary.json is replaced atomically (write a temp file, then rename), so a crash leaves the
previous complete version, never half a file. It says `running` while training, so a run
killed with -9 is recognisable as incomplete. Every command reads them back through `record_schema`.
"""

from __future__ import annotations

import json
import os
import platform
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from inductive.training import precision
from inductive.training.metric_names import metrics_at

if TYPE_CHECKING:
    import keras

HISTORY = "history.csv"
SUMMARY = "summary.json"
MODEL_TXT = "model.txt"
SHIFT = "shift.csv"
# shift.csv: one row per direction x shift x fill (see inductive.training.shift)
SHIFT_COLUMNS = ["direction", "shift", "fill", "accuracy", "consistency", "consistency_correct"]
STOP_REASONS = ("epochs", "fit", "plateau", "max_epochs")


def write_json_atomic(path: Path, payload: dict[str, Any]) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(payload, indent=2, default=_jsonable) + "\n")
    os.replace(tmp, path)


def write_failure(path: Path, payload: dict[str, Any]) -> None:
    """A failed run's summary, even on a full disk: the atomic write needs a second file's worth of space,
    so when that fails, the file is rewritten in place (its own blocks freed first) without the traceback."""
    try:
        write_json_atomic(path, payload)
    except OSError:
        path.with_name(f".{path.name}.tmp").unlink(missing_ok=True)
        short = {key: value for key, value in payload.items() if key != "traceback"}
        path.write_text(json.dumps(short, default=_jsonable) + "\n")


def _jsonable(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    raise TypeError(f"cannot write {type(value).__name__} to JSON")


def parameter_counts(model: keras.Model) -> dict[str, Any]:
    """Trainable and non-trainable counts, in total and per layer."""
    count = lambda weights: int(sum(np.prod(w.shape) for w in weights))  # noqa: E731
    layers = [
        {"name": layer.name, "class": type(layer).__name__, "output_shape": list(layer.output.shape[1:]),
         "trainable": count(layer.trainable_weights), "non_trainable": count(layer.non_trainable_weights)}
        for layer in model.layers
    ]
    trainable = sum(layer["trainable"] for layer in layers)
    non_trainable = sum(layer["non_trainable"] for layer in layers)
    return {"trainable": trainable, "non_trainable": non_trainable, "total": trainable + non_trainable,
            "layers": layers}


def model_summary_text(model: keras.Model, width: int = 110) -> str:
    """The whole Keras summary, Param # column included: Keras renders it with rich, which cuts at the
    console width (80 columns when not a terminal) unless COLUMNS says otherwise."""
    lines: list[str] = []
    saved = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(width)
    try:
        model.summary(print_fn=lambda line, line_break=True: lines.append(line), line_length=width)
    finally:
        if saved is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = saved
    return "\n".join(lines) + "\n"


def device_info() -> dict[str, Any]:
    import keras  # here, not at the top: the report reads run folders without loading TensorFlow
    import tensorflow as tf

    gpus = tf.config.list_physical_devices("GPU")
    details = [tf.config.experimental.get_device_details(g).get("device_name", g.name) for g in gpus]
    return {"device": "GPU" if gpus else "CPU", "gpus": details, "cpu": precision.cpu_name(),
            "cpu_count": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version(),
            "tensorflow": tf.__version__, "keras": keras.__version__}


def history_metrics(history: pd.DataFrame) -> dict[str, Any]:
    """Final and best-validation-accuracy metrics with their generalization gaps.

    In the suite's vocabulary (`metric_names`): accuracy_gap = train - val accuracy and loss_gap = val - train
    loss, from the eval-mode train numbers; both grow with overfitting.
    """
    if history.empty:
        return {"epochs_run": 0, "final": None, "best": None}
    best = int(np.nanargmax(history["val_accuracy"].to_numpy())) if history["val_accuracy"].notna().any() else -1
    return {"epochs_run": len(history), "final": metrics_at(history.iloc[-1]),
            "best": metrics_at(history.iloc[best])}


def stop_record(history: pd.DataFrame, trainer: Any) -> dict[str, Any]:
    """Why training ended, read from the history alone (so a resumed run records what an unbroken one would).

    `epochs`: the fixed budget ran out (trainer.stop=epochs); under trainer.stop=fit, `fit` when the
    last epoch's eval-mode train accuracy reached trainer.fit.accuracy, `plateau` when training ended
    before trainer.epochs otherwise, `max_epochs` when the cap was reached first. Epochs count from 1.
    """
    epochs = len(history)
    if trainer.stop != "fit":
        reason = "epochs"
    elif epochs and history["train_eval_accuracy"].iloc[-1] >= trainer.fit.accuracy:
        reason = "fit"
    else:
        reason = "plateau" if epochs < trainer.epochs else "max_epochs"
    return {"rule": trainer.stop, "reason": reason, "epoch": epochs}


def read_history(run_dir: Path) -> pd.DataFrame:
    path = run_dir / HISTORY
    return pd.read_csv(path) if path.is_file() and path.stat().st_size else pd.DataFrame()


def write_csv_atomic(path: Path, table: pd.DataFrame) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    table.to_csv(tmp, index=False)
    os.replace(tmp, path)


def cut_history(run_dir: Path, epochs: int) -> None:
    """Keep history.csv's first `epochs` epochs, each once: a resumed run trains the epochs after its backup
    again. (Folders resumed under the code before 2026-12-04 may hold an epoch twice: the last is kept.)"""
    history = read_history(run_dir)
    if history.empty:
        return
    kept = history[history["epoch"] < epochs].drop_duplicates("epoch", keep="last").sort_values("epoch")
    if not kept.equals(history):
        write_csv_atomic(run_dir / HISTORY, kept)


def shift_metrics(table: pd.DataFrame) -> dict[str, Any]:
    """Headline of shift.csv: mean accuracy and consistency over all shifted (non-zero) inputs, per fill."""
    shifted = table[table["shift"] > 0]
    return {"max_shift": int(table["shift"].max()),
            **{fill: {"accuracy": float(g["accuracy"].mean()), "consistency": float(g["consistency"].mean())}
               for fill, g in shifted.groupby("fill")}}


def find_run_dirs(roots: list[Path]) -> list[Path]:
    """Run folders at or below `roots` (holding summary.json, or .hydra/ of a job that never wrote one), each once.

    Raises FileNotFoundError naming a root that is not a folder.
    """
    found: set[Path] = set()
    for root in roots:
        if not root.is_dir():
            raise FileNotFoundError(f"{root}: no such folder; give sweep or run folders (e.g. outputs/sweeps/<timestamp>)")
        markers = [*root.rglob(SUMMARY), *(p for p in root.rglob(".hydra") if p.is_dir())]
        found.update(marker.parent.resolve() for marker in markers)
    return sorted(found)


def run_id(run_dir: Path) -> str:
    """A run's id in every table: its sweep folder and its job folder."""
    return f"{run_dir.parent.name}/{run_dir.name}"
