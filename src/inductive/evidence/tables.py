"""Run folders -> the tidy tables every claim and figure reads: runs, epochs, layers, shifts.

Each folder is read once and on its own: a summary.json that is missing, unreadable or not a record
makes that run `incomplete` with the reason, and the others go on. Only completed runs enter the
statistics; the rest stay in `runs` with their status. Epochs count from 1 in every table (epoch 1
is the end of the first pass); history.csv keeps Keras's 0-based count.

A folder an earlier report wrote (runs.csv, epochs.csv, layers.csv, shifts.csv side by side) can stand in
for its run folders: its rows join the runs read now, and conditions are worked out again over all of them.
That is how a second look at more seeds is judged together with a first look whose run folders are gone.
"""

from __future__ import annotations

import io
import json
import logging
import math
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException
from yaml import YAMLError

from inductive.evidence.stats import ALPHA
from inductive.training.record import HISTORY, SHIFT, SHIFT_COLUMNS, SUMMARY, find_run_dirs, run_id
from inductive.training.sweep import never_started

log = logging.getLogger(__name__)

# history.csv column -> (split, metric) of the epochs table
METRICS = {"loss": ("train", "loss"), "accuracy": ("train", "accuracy"),
           "train_eval_loss": ("train_eval", "loss"), "train_eval_accuracy": ("train_eval", "accuracy"),
           "val_loss": ("val", "loss"), "val_accuracy": ("val", "accuracy")}
SKIPPED_CONFIG = {"seed", "output_root", "tuned"}  # already columns, where files went, or a lookup table
# What must be equal for two runs to count as trained under the same condition.
CONDITION_KEYS = ("dataset", "train_size", "trainer.stop", "trainer.epochs", "trainer.batch_size",
                  "trainer.optimizer", "learning_rate_rule", "trainer.fit.accuracy", "trainer.fit.patience",
                  "trainer.fit.min_delta", "precision", "trainer.early_stopping.enabled", "data.val_size",
                  "data.normalize", "params_target")
# Columns every claim may read: present (as NaN) even when no run recorded them.
EXPECTED_COLUMNS = ("test_accuracy", "test_gap", "val_loss_rise", "final_train_accuracy", "final_train_eval_accuracy",
                    "params_target", "model.kernel_size", "data.num_classes", "trainer.fit.accuracy")
DATASET_LETTERS = {"fashion_mnist": "F", "mnist": "M", "cifar10": "C"}
MODEL_ORDER = ("dense", "local", "conv_flatten", "gap", "deep_flatten", "deep_gap")


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

    @property
    def completed(self) -> pd.DataFrame:
        return self.runs[self.runs["status"] == "completed"]


class ReportError(RuntimeError):
    """Input the report cannot use: the message names the folder or argument and what would work."""


# ---------------------------------------------------------------- one folder

def read_summary(run_dir: Path) -> tuple[dict[str, Any], str | None]:
    """summary.json, or a stand-in from .hydra/config.yaml with the reason the run is incomplete."""
    path, problem = run_dir / SUMMARY, None
    try:
        summary = json.loads(path.read_text())
        if not isinstance(summary, dict) or not isinstance(summary.get("status"), str):
            problem = f"{SUMMARY} is not a run record (a JSON object with a status)"
        else:
            return summary, None
    except FileNotFoundError:
        problem = f"no {SUMMARY}: the job stopped before training started (see its run.log)"
    except (OSError, ValueError) as err:
        problem = f"{SUMMARY} unreadable ({err})"
    try:
        config = OmegaConf.to_container(OmegaConf.load(run_dir / ".hydra" / "config.yaml"))
    except (OSError, YAMLError, OmegaConfBaseException):
        config = {}
    config = config if isinstance(config, dict) else {}
    return {"status": "incomplete", "error": problem, "model": (config.get("model") or {}).get("name"),
            "dataset": (config.get("data") or {}).get("name"), "seed": config.get("seed"), "config": config}, problem


def read_history(run_dir: Path) -> tuple[pd.DataFrame, str | None]:
    """history.csv with epochs from 1 and every metric column, and a note when a row is cut or unreadable."""
    path = run_dir / HISTORY
    try:
        content = path.read_bytes()  # read once: parsed, and checked for a cut last row
        raw = pd.read_csv(io.BytesIO(content))
        unfinished = not content.endswith(b"\n")  # CSVLogger ends every row: the last one was cut
    except FileNotFoundError:
        return pd.DataFrame(columns=["epoch", *METRICS]), None
    except (OSError, ValueError) as err:
        return pd.DataFrame(columns=["epoch", *METRICS]), f"{HISTORY} unreadable ({err})"
    history = raw.reindex(columns=["epoch", *METRICS]).apply(pd.to_numeric, errors="coerce")
    cut = history[["epoch", "loss", "val_loss"]].isna().any(axis=1)
    if unfinished and len(cut):
        cut.iloc[-1] = True
    note = f"{HISTORY}: {int(cut.sum())} cut or malformed row(s) left out" if cut.any() else None
    history = history[~cut].astype({"epoch": int})
    return history.assign(epoch=history["epoch"] + 1).reset_index(drop=True), note


def read_shift(run_dir: Path) -> tuple[pd.DataFrame, str | None]:
    """shift.csv (runs before `consistency_correct` existed get NaN there); empty with a note when unusable."""
    empty = pd.DataFrame(columns=SHIFT_COLUMNS)
    try:
        table = pd.read_csv(run_dir / SHIFT)
    except FileNotFoundError:
        return empty, None
    except (OSError, ValueError) as err:
        return empty, f"{SHIFT} unreadable ({err})"
    missing = set(SHIFT_COLUMNS[:5]) - set(table.columns)
    if missing:
        return empty, f"{SHIFT} lacks columns {sorted(missing)}"
    if not (pd.to_numeric(table["shift"], errors="coerce") == 0).any():
        return empty, f"{SHIFT} has no unshifted (shift 0) row"
    table = table.reindex(columns=SHIFT_COLUMNS)
    numeric = table[SHIFT_COLUMNS[1:2] + SHIFT_COLUMNS[3:]].apply(pd.to_numeric, errors="coerce")
    if numeric[["shift", "accuracy", "consistency"]].isna().any().any():
        return empty, f"{SHIFT} has cut or malformed rows"
    return table.assign(**numeric), None


def _flatten(prefix: str, value: Any, into: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else key, inner, into)
    else:
        into[prefix] = json.dumps(value) if isinstance(value, list) else value


def _at(prefix: str, metrics: Any) -> dict[str, Any]:
    metrics = dict(metrics) if isinstance(metrics, dict) else {}
    if "epoch" in metrics:
        metrics["epoch"] = metrics["epoch"] + 1
    return {f"{prefix}_{key}": value for key, value in metrics.items()}


def _section(summary: dict[str, Any], key: str) -> dict[str, Any]:
    value = summary.get(key)
    return value if isinstance(value, dict) else {}


def run_row(rid: str, summary: dict[str, Any], history: pd.DataFrame, notes: list[str]) -> dict[str, Any]:
    """One row of `runs`: identity, status, sizes, stop, final/best metrics, gaps, test, times and the config."""
    status = summary.get("status", "incomplete")
    params, data, config = _section(summary, "params"), _section(summary, "data"), _section(summary, "config")
    stop, test = _section(summary, "stop"), _section(summary, "test")
    if status == "completed" and summary.get("epochs_run") not in (None, len(history)):
        notes.append(f"{HISTORY} has {len(history)} epochs, {SUMMARY} says {summary.get('epochs_run')}")
    row: dict[str, Any] = {
        "run_id": rid, "sweep": rid.rsplit("/", 1)[0],
        "status": "incomplete" if status == "running" else status,
        "error": summary.get("error") or ("killed while running" if status == "running" else None),
        "notes": "; ".join(notes) or None,
        "model": summary.get("model"), "dataset": summary.get("dataset"), "seed": summary.get("seed"),
        "train_size": data.get("train_size", _section(config, "data").get("train_size")),
        "val_size": data.get("val_size"), "test_size": data.get("test_size"), "data_source": data.get("source"),
        "epochs_run": len(history), "stop_rule": stop.get("rule"), "stop_reason": stop.get("reason"),
        "params_trainable": params.get("trainable"), "params_non_trainable": params.get("non_trainable"),
        "params_total": params.get("total"), "params_target": params.get("target"),
        "precision": _section(summary, "device").get("precision"), "device": _section(summary, "device").get("device"),
        "learning_rate_rule": "tuned" if "tuned" in config else _section(config, "trainer").get("learning_rate"),
    }
    row |= _at("final", summary.get("final")) | _at("best", summary.get("best"))
    row |= {f"test_{k}": v for k, v in test.items()} | {f"time_{k}": v for k, v in _section(summary, "time").items()}
    fit_train = row.get("final_train_eval_accuracy", row.get("final_train_accuracy"))
    if fit_train is not None and test.get("accuracy") is not None:
        # train accuracy where it stopped (eval mode; Keras's running mean for runs that predate it) - test accuracy
        row["test_gap"] = fit_train - test["accuracy"]
    if history["val_loss"].notna().any():
        lowest = history.loc[history["val_loss"].idxmin()]
        row |= {"min_val_loss": lowest["val_loss"], "val_loss_rise": history["val_loss"].iloc[-1] - lowest["val_loss"]}
    flat: dict[str, Any] = {}
    _flatten("", {k: v for k, v in config.items() if k not in SKIPPED_CONFIG}, flat)
    return row | flat


def epoch_rows(rid: str, history: pd.DataFrame) -> pd.DataFrame:
    """Long form of one history: a row per epoch x split x metric."""
    present = [c for c in METRICS if c in history and history[c].notna().any()]
    long = history.melt(id_vars="epoch", value_vars=present, var_name="column", value_name="value")
    long["split"] = long["column"].map(lambda c: METRICS[c][0])
    long["metric"] = long["column"].map(lambda c: METRICS[c][1])
    return long.assign(run_id=rid)[["run_id", "epoch", "split", "metric", "value"]]


def layer_rows(rid: str, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """A row per layer with its input shape (the previous layer's output; the image for the first)."""
    layers = _section(summary, "params").get("layers") or []
    shape = _section(_section(summary, "config"), "data").get("image_shape")
    rows = []
    for position, layer in enumerate(layers):
        rows.append({"run_id": rid, "position": position, "name": layer["name"], "class": layer["class"],
                     "input_shape": json.dumps(shape), "output_shape": json.dumps(layer["output_shape"]),
                     "trainable": layer["trainable"], "non_trainable": layer["non_trainable"]})
        shape = layer["output_shape"]
    return rows


# ---------------------------------------------------------------- a report's saved tables

TABLE_NAMES = ("runs", "epochs", "layers", "shifts")
DERIVED = ("condition", "condition_label")  # worked out again over every run a report reads
IDENTITY = ["run_id", "model", "seed", "dataset", "condition"]


def table_file(folder: Path, name: str) -> Path:
    """NAME.csv in a tables folder, or NAME.csv.gz where only the gzipped copy is kept (git keeps large tables
    that way; pandas reads either)."""
    plain = folder / f"{name}.csv"
    gzipped = plain.with_name(f"{name}.csv.gz")
    return gzipped if gzipped.is_file() and not plain.is_file() else plain


def is_tables_folder(path: Path) -> bool:
    """A folder a report wrote: its four tidy tables as CSV, side by side (runs.csv alone is refused)."""
    present = [name for name in TABLE_NAMES if table_file(path, name).is_file()]
    if present and len(present) < len(TABLE_NAMES):
        missing = [f"{name}.csv" for name in TABLE_NAMES if name not in present]
        raise ReportError(f"{path}: holds {', '.join(f'{n}.csv' for n in present)} but not {', '.join(missing)}; "
                          "a report's tables folder needs all four (runs, epochs, layers, shifts)")
    return bool(present)


def read_tables(folder: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """runs, epochs, layers and shifts as a report saved them, without the columns derived over a whole report."""
    tables = []
    for name in TABLE_NAMES:
        try:
            tables.append(pd.read_csv(table_file(folder, name), low_memory=False))
        except (OSError, ValueError, EOFError) as err:
            raise ReportError(f"{table_file(folder, name)}: unreadable as a report table ({err})") from None
    runs, epochs, layers, shifts = tables
    for name, table, needed in (("runs", runs, ("run_id", "status", "model", "dataset", "seed")),
                                ("epochs", epochs, ("run_id", "epoch", "split", "metric", "value")),
                                ("shifts", shifts, ("run_id", *SHIFT_COLUMNS[:5]))):
        missing = sorted(set(needed) - set(table.columns))
        if missing:
            raise ReportError(f"{table_file(folder, name)} lacks columns {missing}: "
                              "give a folder written by `python -m inductive.report`")
    return (runs.drop(columns=[c for c in DERIVED if c in runs]), epochs, layers,
            shifts.drop(columns=[c for c in IDENTITY[1:] if c in shifts]))


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
    runs, epochs, layers, shifts, seen, saved_runs = [], [], [], [], {}, []
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
        history, history_note = read_history(run_dir)
        shift, shift_note = read_shift(run_dir)
        notes = [n for n in (history_note, shift_note) if n]
        for note in filter(None, (problem, *notes)):
            log.warning("%s: %s", run_dir, note)
        runs.append(run_row(rid, summary, history, notes))
        epochs.append(epoch_rows(rid, history))
        layers.extend(layer_rows(rid, summary))
        shifts.append(shift.assign(run_id=rid))
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
    signature = tokens.agg("|".join, axis=1)
    base = runs["dataset"].map(lambda d: DATASET_LETTERS.get(d, str(d)[:1].upper())) + runs["train_size"].map(_size)
    base = base.where(runs["params_target"].isna(), base + "p") if "params_target" in runs else base
    ids = {}
    for prefix, group in signature.groupby(base, sort=False):
        variants = list(dict.fromkeys(group))
        for i, sig in enumerate(variants):
            ids[sig] = prefix if len(variants) == 1 else f"{prefix}{'abcdefghijklmnopqrstuvwxyz'[i]}"
    varying = [k for k in keys[2:] if tokens[k].nunique() > 1]

    def label(row: pd.Series) -> str:
        parts = [str(row["dataset"]), f"{_size(row['train_size'])} train images"]
        parts += [f"{k.rsplit('.', 1)[-1]}={_token(row[k])}" for k in varying if k != "params_target"]
        if pd.notna(row.get("params_target")):
            parts.append(f"matched at {float(row['params_target']):,.0f} params")
        return ", ".join(parts)

    return runs.assign(condition=signature.map(ids), condition_label=runs.apply(label, axis=1))


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
    """Runs by condition, then model (MODEL_ORDER, then others), then seed: the order of every table."""
    rank = runs["model"].map({model: i for i, model in enumerate(MODEL_ORDER)}).fillna(len(MODEL_ORDER))
    ordered = runs.assign(_rank=rank).sort_values(["condition", "_rank", "seed"], kind="stable", na_position="last")
    return ordered.drop(columns="_rank").reset_index(drop=True)


def ordered_models(models) -> list[str]:
    """Known models in MODEL_ORDER, then any others by name."""
    models = set(models)
    return [m for m in MODEL_ORDER if m in models] + sorted(models - set(MODEL_ORDER))


def per_seed(runs: pd.DataFrame, model: str, column: str) -> pd.Series:
    """A model's value per seed (duplicates of a seed, e.g. from two sweeps, are averaged)."""
    return runs[runs["model"] == model].groupby("seed")[column].mean()


ENDED = ("completed", "diverged", "failed")  # a run that will not change any more; `incomplete` may resume


def export(roots: list[Path], out: Path) -> list[Path]:
    """The four tidy tables of the runs below `roots`, written to `out` as a report's tables folder, and no claim
    judged: how a pre-registered look keeps whole seeds across machines without anyone reading a verdict early.

    Only whole sweeps are kept: every planned job started and every run ended (completed, diverged or failed),
    else a later session would take a half-run seed for a finished one. `out` must be new (or an empty folder)
    and outside the sweeps; the tables are written beside it and renamed into place, so `out` holds all four
    or nothing. CSV, the epochs table gzipped (byte-stable: no timestamp in the gzip header)."""
    if out.exists() and not (out.is_dir() and not any(out.iterdir())):
        raise ReportError(f"out={out} already exists and is not an empty folder: give a new one (nothing is overwritten)")
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


def save_table(table: pd.DataFrame, out: Path, name: str) -> list[Path]:
    """NAME.csv, and NAME.parquet (pyarrow is a dependency)."""
    paths = [out / f"{name}.csv", out / f"{name}.parquet"]
    table.to_csv(paths[0], index=False)
    table.astype({c: "string" for c in table.columns if table[c].dtype == object}).to_parquet(paths[1], index=False)
    return paths
