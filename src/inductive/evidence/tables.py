"""Run folders -> the tidy tables every claim and figure reads: runs, epochs, layers, shifts.

Each folder is read once and on its own, through the record schema (`training.record_schema`): a
summary.json that is missing, unreadable or does not fit makes that run `incomplete` with the reason,
and the others go on. Only completed runs enter the statistics; the rest stay in `runs` with their
status. Epochs count from 1 in every table (epoch 1 is the end of the first pass); history.csv keeps
Keras's 0-based count.

A folder an earlier report wrote (runs.csv, epochs.csv, layers.csv, shifts.csv side by side: `evidence.kept`)
can stand in for its run folders: its rows join the runs read now, and conditions are worked out again over
all of them. That is how a second look at more seeds is judged together with a first look whose run folders
are gone.
"""

from __future__ import annotations

import collections
import functools

import json
import logging
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from inductive.arguments import output_path
from inductive.errors import ReportError
from inductive.evidence.kept import DERIVED, IDENTITY, is_tables_folder, read_tables
from inductive.evidence.roles import model_order
from inductive.evidence.stats import ALPHA
from inductive.training.metric_names import HISTORY_METRICS
from inductive.training.record import HISTORY, SHIFT_COLUMNS, SUMMARY, find_run_dirs, run_id
from inductive.training.record_schema import Metrics, Summary, read_history, read_shift, read_summary, stand_in
from inductive.training.sweep import never_started

log = logging.getLogger(__name__)

SKIPPED_CONFIG = {"seed", "output_root", "tuned"}  # already columns, where files went, or a lookup table
# What must be equal for two runs to count as trained under the same condition.
CONDITION_KEYS = ("dataset", "train_size", "trainer.stop", "trainer.epochs", "trainer.batch_size",
                  "trainer.optimizer", "learning_rate_rule", "trainer.fit.accuracy", "trainer.fit.patience",
                  "trainer.fit.min_delta", "precision", "trainer.early_stopping.enabled", "data.val_size",
                  "data.normalize", "params_target")
# Columns every claim may read: present (as NaN) even when no run recorded them.
EXPECTED_COLUMNS = ("test_accuracy", "test_gap", "val_loss_rise", "final_train_accuracy", "final_train_accuracy_running",
                    "params_target", "model.kernel_size", "data.num_classes", "trainer.fit.accuracy")
DATASET_LETTERS = {"fashion_mnist": "F", "mnist": "M", "cifar10": "C"}


@dataclass
class Tables:
    """The four tidy tables, joined by `run_id`."""

    runs: pd.DataFrame     # one row per run
    epochs: pd.DataFrame   # run x epoch x split x metric
    layers: pd.DataFrame   # run x layer
    shifts: pd.DataFrame   # run x direction x shift x fill
    equivalence: pd.DataFrame | None = None  # input shape: the Keras conv == dense check (conv_questions)
    not_started: tuple[str, ...] = ()  # planned sweep jobs (multirun.yaml) with no folder, as their overrides
    alpha: float = ALPHA  # family-wise error each claim is judged at (the report's alpha=)
    family: str = "condition"  # Holm family: a claim's deciding effects per condition, or per dataset
                                # (all its conditions, e.g. every training-set size of a size study)

    @functools.cached_property
    def completed(self) -> pd.DataFrame:
        """The completed runs, filtered once: the runs table is wide (every config key is a column), and the
        claims read this many times per report."""
        return self.runs[self.runs["status"] == "completed"]

    @functools.cached_property
    def accuracy(self) -> pd.DataFrame:
        """Accuracy per run and epoch, a column per split (train: eval mode, val, ...), pivoted once: every pair
        an overfitting claim compares reads its runs' rows of it."""
        rows = self.epochs[self.epochs["metric"] == "accuracy"]
        return rows.pivot_table(index=["run_id", "epoch"], columns="split", values="value").reset_index()


# ---------------------------------------------------------------- one folder

def _flatten(prefix: str, value: Any, into: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else key, inner, into)
    else:
        into[prefix] = json.dumps(value) if isinstance(value, list) else value


def _at(prefix: str, metrics: Metrics | None) -> dict[str, Any]:
    values = metrics.values() if metrics is not None else {}
    if "epoch" in values:
        values["epoch"] = values["epoch"] + 1
    return {f"{prefix}_{key}": value for key, value in values.items()}


def run_row(rid: str, summary: Summary, history: pd.DataFrame, notes: list[str]) -> dict[str, Any]:
    """One row of `runs`: identity, status, sizes, stop, final/best metrics, gaps, test, times and the config."""
    status, data, params, stop, test = summary.status, summary.data, summary.params, summary.stop, summary.test
    if status == "completed" and summary.epochs_run not in (None, len(history)):
        notes.append(f"{HISTORY} has {len(history)} epochs, {SUMMARY} says {summary.epochs_run}")
    row: dict[str, Any] = {
        "run_id": rid, "sweep": rid.rsplit("/", 1)[0],
        "status": "incomplete" if status == "running" else status,
        "error": summary.error or ("killed while running" if status == "running" else None),
        "notes": "; ".join(notes) or None,
        "model": summary.model, "dataset": summary.dataset, "seed": summary.seed,
        "train_size": data.train_size if "train_size" in data.model_fields_set else summary.asked_train_size,
        "val_size": data.val_size, "test_size": data.test_size, "data_source": data.source,
        "epochs_run": len(history), "stop_rule": stop.rule, "stop_reason": stop.reason,
        "params_trainable": params.trainable, "params_non_trainable": params.non_trainable,
        "params_total": params.total, "params_target": params.target,
        "precision": summary.device.precision, "device": summary.device.device, "cpu": summary.device.cpu,
        "resumed": summary.resumed,
        "learning_rate_rule": "tuned" if summary.tuned else summary.learning_rate,
    }
    row |= _at("final", summary.final) | _at("best", summary.best)
    row |= {f"test_{k}": v for k, v in test.items()} | {f"time_{k}": v for k, v in summary.time.items()}
    fit_train = summary.final.train_accuracy if summary.final is not None else None
    if fit_train is not None and test.get("accuracy") is not None:  # runs before the eval-mode pass have none
        row["test_gap"] = fit_train - test["accuracy"]
    if history["val_loss"].notna().any():
        lowest = history.loc[history["val_loss"].idxmin()]
        row |= {"min_val_loss": lowest["val_loss"], "val_loss_rise": history["val_loss"].iloc[-1] - lowest["val_loss"]}
    flat: dict[str, Any] = {}
    _flatten("", {k: v for k, v in summary.config.items() if k not in SKIPPED_CONFIG}, flat)
    return row | flat


def epoch_rows(rid: str, history: pd.DataFrame) -> dict[str, np.ndarray]:
    """Long form of one history, as columns: a row per epoch x split x metric, metric by metric (the metric
    columns holding at least one number). Arrays, not a frame: `collect` builds one frame for all runs, since a
    frame per run took longer to build than its few rows are worth."""
    values = {c: history[c].to_numpy(dtype=float) for c in HISTORY_METRICS if c in history}
    present = [c for c, v in values.items() if not np.isnan(v).all()]
    epochs = history["epoch"].to_numpy()
    return {"run_id": np.full(len(epochs) * len(present), rid, dtype=object),
            "epoch": np.tile(epochs, len(present)),
            "split": np.repeat(np.array([HISTORY_METRICS[c][0] for c in present], dtype=object), len(epochs)),
            "metric": np.repeat(np.array([HISTORY_METRICS[c][1] for c in present], dtype=object), len(epochs)),
            "value": np.concatenate([values[c] for c in present] or [np.empty(0)])}


def layer_rows(rid: str, summary: Summary) -> list[dict[str, Any]]:
    """A row per layer with its input shape (the previous layer's output; the image for the first)."""
    shape, rows = summary.image_shape, []
    for position, layer in enumerate(summary.params.layers):
        rows.append({"run_id": rid, "position": position, "name": layer.name, "class": layer.class_,
                     "input_shape": json.dumps(shape), "output_shape": json.dumps(layer.output_shape),
                     "trainable": layer.trainable, "non_trainable": layer.non_trainable})
        shape = layer.output_shape
    return rows


# ---------------------------------------------------------------- all folders

def _claim_id(seen: dict[str, Path], rid: str, where: Path) -> None:
    if rid in seen:
        raise ReportError(f"two runs share the id {rid!r}: in {seen[rid]} and in {where}; give each run once "
                          "(a sweep, or the report folder its tables went to, not both) and sweeps distinct names")
    seen[rid] = where


def collect(roots: list[Path]) -> Tables:
    """The four tables of every run below `roots`, each folder walked once; a root that is a report's
    tables folder (`is_tables_folder`) gives its saved rows instead."""
    saved = [root for root in roots if is_tables_folder(root)]
    sweeps = [root for root in roots if root not in saved]
    found: set[Path] = set()
    for root in sweeps:  # each on its own: a folder that holds no runs is named, not skipped
        try:
            below = find_run_dirs([root])
        except FileNotFoundError as err:
            raise ReportError(str(err)) from None
        if not below:
            raise ReportError(f"no runs below {root}: expected folders holding {SUMMARY} or .hydra/config.yaml, "
                              "as `python -m inductive.run -m ...` writes them, or a folder with the runs.csv, "
                              "epochs.csv, layers.csv and shifts.csv a report wrote")
        found.update(below)
    run_dirs = sorted(found)
    runs, epochs, read_epochs, layers, shifts, seen, saved_runs = [], [], [], [], [], {}, []
    for folder in saved:
        folder_runs, folder_epochs, folder_layers, folder_shifts = read_tables(folder)
        for rid in folder_runs["run_id"]:
            _claim_id(seen, rid, folder)
        saved_runs.append(folder_runs)
        epochs.append(folder_epochs)
        layers.extend(folder_layers.to_dict("records"))
        shifts.append(folder_shifts)
    for run_dir in run_dirs:
        rid = run_id(run_dir)
        _claim_id(seen, rid, run_dir)
        summary, problem = read_summary(run_dir)
        summary = summary or stand_in(run_dir, problem)
        history, history_note = read_history(run_dir)
        shift, shift_note = read_shift(run_dir)
        notes = [n for n in (history_note, shift_note) if n]
        for note in filter(None, (problem, *notes)):
            log.warning("%s: %s", run_dir, note)
        runs.append(run_row(rid, summary, history, notes))
        read_epochs.append(epoch_rows(rid, history))
        layers.extend(layer_rows(rid, summary))
        shifts.append(shift.assign(run_id=rid))
    if read_epochs:
        epochs.append(pd.DataFrame({column: np.concatenate([e[column] for e in read_epochs])
                                    for column in ("run_id", "epoch", "split", "metric", "value")})
                      .astype({"run_id": "str", "split": "str", "metric": "str"}))
    runs_table = pd.concat([*saved_runs, pd.DataFrame(runs)], ignore_index=True)
    runs_table = sort_runs(add_conditions(runs_table.reindex(
        columns=[*runs_table.columns, *(c for c in EXPECTED_COLUMNS if c not in runs_table.columns)])))
    runs_table = note_repeats(runs_table)
    log.info("read %d runs: %s", len(runs_table), runs_table["status"].value_counts().to_dict())
    shifts_table = runs_table[IDENTITY].merge(pd.concat(shifts, ignore_index=True), on="run_id")
    not_started = tuple(f"{root.name}: {job}" for root in sweeps for job in never_started(root, run_dirs))
    for job in not_started:
        log.warning("planned but never started: %s", job)
    return Tables(runs_table, pd.concat(epochs, ignore_index=True).astype({"epoch": int, "value": float}),
                  pd.DataFrame(layers, columns=["run_id", "position", "name", "class", "input_shape",
                                                "output_shape", "trainable", "non_trainable"]),
                  shifts_table[[*IDENTITY, *SHIFT_COLUMNS]], not_started=not_started)


def _size(value: Any) -> str:
    """1000 -> 1k, 2500 -> 2.5k, 55000 -> 55k, None -> all."""
    if value is None or pd.isna(value):
        return "all"
    value = float(value)
    return f"{value / 1000:g}k" if value >= 1000 else f"{value:g}"


def _token(value: Any) -> str:
    """A setting as text that reads the same from a summary.json and from a saved runs.csv (where a column
    with gaps turns 1000 into 1000.0 and None into NaN)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def add_conditions(runs: pd.DataFrame) -> pd.DataFrame:
    """`condition`: a short id per set of runs trained alike (F1k: Fashion-MNIST, 1,000 images), and
    `condition_label`: what the id stands for. Ids get a letter suffix when settings beyond the size differ."""
    keys = [k for k in CONDITION_KEYS if k in runs]
    tokens = runs[keys].astype(object).map(_token)
    signature = pd.Series(["|".join(row) for row in tokens.itertuples(index=False, name=None)], index=runs.index)
    base = runs["dataset"].map(lambda d: DATASET_LETTERS.get(d, str(d)[:1].upper())) + runs["train_size"].map(_size)
    base = base.where(runs["params_target"].isna(), base + "p") if "params_target" in runs else base
    ids = {}
    for prefix, group in signature.groupby(base, sort=False):
        variants = list(dict.fromkeys(group))
        for i, sig in enumerate(variants):
            ids[sig] = prefix if len(variants) == 1 else f"{prefix}{'abcdefghijklmnopqrstuvwxyz'[i]}"
    varying = [k for k in keys[2:] if tokens[k].nunique() > 1]

    def label(row: dict) -> str:
        parts = [str(row["dataset"]), f"{_size(row['train_size'])} train images"]
        parts += [f"{k.rsplit('.', 1)[-1]}={_token(row[k])}" for k in varying if k != "params_target"]
        if pd.notna(row.get("params_target")):
            parts.append(f"matched at {float(row['params_target']):,.0f} params")
        return ", ".join(parts)

    # loops over records, not row-wise `apply`/`agg`: for 360 runs 0.17 s became 0.04 s
    records = runs.reindex(columns=list(dict.fromkeys(["dataset", "train_size", "params_target", *varying])))
    records = records.to_dict("records")
    labels = pd.Series([label(row) for row in records], index=runs.index)
    return runs.assign(condition=signature.map(ids), condition_label=labels)


def note_repeats(runs: pd.DataFrame) -> pd.DataFrame:
    """Completed runs that repeat another's condition, model and seed (e.g. one sweep given twice under two
    names) are averaged per seed by the claims: say so in their `notes`, so the report lists them."""
    done = runs[runs["status"] == "completed"]
    repeated = done[done.duplicated(["condition", "model", "seed"], keep=False)]
    if repeated.empty:
        return runs
    first = repeated.groupby(["condition", "model", "seed"])["run_id"].transform("first")
    later = first[repeated["run_id"] != first]
    lines = "repeats the condition, model and seed of " + later + ": the two are averaged per seed"
    for index, line in lines.items():
        log.warning("%s: %s", runs.at[index, "run_id"], line)
    notes = runs["notes"].astype(object)
    notes[lines.index] = [line if pd.isna(old) else f"{old}; {line}" for old, line in zip(notes[lines.index], lines)]
    return runs.assign(notes=notes)


def sort_runs(runs: pd.DataFrame) -> pd.DataFrame:
    """Runs by condition, then model (in role order, `roles.model_order`), then seed: the order of every table."""
    order = model_order(runs)
    rank = runs["model"].map({model: i for i, model in enumerate(order)}).fillna(len(order))
    ordered = runs.assign(_rank=rank).sort_values(["condition", "_rank", "seed"], kind="stable", na_position="last")
    return ordered.drop(columns="_rank").reset_index(drop=True)


def seeds_by_model(runs: pd.DataFrame, column: str) -> dict[str, pd.Series]:
    """Each model's value per seed (duplicates of a seed, e.g. from two sweeps, are averaged); a model without a run
    that has a seed gets an empty Series. One groupby serves every model, since a claim compares several pairs."""
    means = runs.groupby(["model", "seed"])[column].mean()
    return collections.defaultdict(lambda: pd.Series(dtype=float),
                                   {model: means.xs(model).rename_axis("seed")
                                    for model in means.index.unique(level="model")})


ENDED = ("completed", "diverged", "failed")  # a run that will not change any more; `incomplete` may resume


def export(roots: list[Path], out: Path) -> list[Path]:
    """The four tidy tables of the runs below `roots`, written to `out` as a report's tables folder, and no claim
    judged: how a pre-registered look keeps whole seeds across machines without anyone reading a verdict early.

    Only whole sweeps are kept: every planned job started and every run ended (completed, diverged or failed),
    else a later session would take a half-run seed for a finished one. `out` must be new (or an empty folder)
    and outside the sweeps; the tables are written beside it and renamed into place, so `out` holds all four
    or nothing. CSV, the epochs table gzipped (byte-stable: no timestamp in the gzip header)."""
    out = output_path("out", out, "folder", example="a new folder like results/kept/seed0")
    inside = [root for root in roots if out.resolve().is_relative_to(root.resolve())]
    if inside:
        raise ReportError(f"out={out} is inside the sweep {inside[0]}: write the tables elsewhere, so that the "
                          "sweep stays as it was")
    tables = collect(roots)
    unended = tables.runs.loc[~tables.runs["status"].isin(ENDED), "run_id"].tolist()
    if unended or tables.not_started:
        raise ReportError(f"{', '.join(map(str, roots))}: not finished ({len(unended)} runs not ended, e.g. "
                          f"{(unended or list(tables.not_started))[:1]}; {len(tables.not_started)} jobs never "
                          "started): finish the sweep first (the same command resumes it)")
    staged = out.with_name(f".{out.name}.partial")  # left by an export killed mid-write: ours, safe to redo
    if staged.exists():
        shutil.rmtree(staged)
    staged.mkdir(parents=True)
    runs = tables.runs.drop(columns=[c for c in DERIVED if c in tables.runs])
    for name, table in {"runs": runs, "epochs": tables.epochs, "layers": tables.layers, "shifts": tables.shifts}.items():
        gzipped = name == "epochs"
        table.to_csv(staged / (f"{name}.csv.gz" if gzipped else f"{name}.csv"), index=False,
                     compression={"method": "gzip", "mtime": 0} if gzipped else None)
    if out.exists():
        out.rmdir()  # empty, checked above
    staged.rename(out)
    return sorted(out.iterdir())
