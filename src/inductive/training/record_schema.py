"""What a run's records must hold, and the one way every command reads them: summary.json against `Summary`
(pydantic, strict: `seed: "abc"`, `final.epoch: "last"`, a nameless layer are refused; unknown keys kept),
history.csv and shift.csv row by row, a kept tables folder (`python -m inductive.tables`) cell by cell. What does
not fit makes its run `incomplete` with the reason, or its rows left out with a note: one bad run never stops a
command that reads many. No reader indexes a raw record: they read a `Summary`'s fields."""

from __future__ import annotations

import io
import json
import math
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
import pandas as pd
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, ValidationError, model_validator
from yaml import YAMLError

from inductive.training.metric_names import HISTORY_METRICS, upgrade_metrics
from inductive.training.record import HISTORY, SHIFT, SHIFT_COLUMNS, SUMMARY

STATUSES = ("running", "completed", "diverged", "failed", "incomplete")  # incomplete: a stand-in, never written
SEED_MAX = 2**32 - 1  # NumPy's seeds

Count = Annotated[int, Field(ge=0)]
Seed = Annotated[int, Field(ge=0, le=SEED_MAX)]


class Section(BaseModel):
    """Strict types (no "3" for 3, no true for 1); keys a newer or older run adds are kept, untyped."""

    model_config = ConfigDict(strict=True, extra="allow", populate_by_name=True)


class Metrics(Section):
    """`final` and `best` (`record.history_metrics`): the epoch (0-based) and numbers (NaN where a loss diverged), named
    as `metric_names` says (old names upgraded on the way in; runs before the eval-mode pass have no train_* or gaps)."""

    epoch: Count
    train_loss: float | None = None
    train_accuracy: float | None = None
    train_loss_running: float | None = None
    train_accuracy_running: float | None = None
    val_loss: float | None = None
    val_accuracy: float | None = None
    accuracy_gap: float | None = None
    loss_gap: float | None = None
    __pydantic_extra__: dict[str, float] = Field(init=False)

    @model_validator(mode="before")
    @classmethod
    def _upgrade(cls, raw: Any) -> Any:
        return upgrade_metrics(raw) if isinstance(raw, dict) else raw

    def values(self) -> dict[str, float]:
        """The numbers the record holds, in its order (absent ones left out)."""
        return self.model_dump(exclude_unset=True)


class Layer(Section):
    name: str
    class_: str = Field(alias="class")
    output_shape: list[Count | None]
    trainable: Count
    non_trainable: Count


class Params(Section):
    trainable: Count | None = None
    non_trainable: Count | None = None
    total: Count | None = None
    target: Count | None = None
    layers: list[Layer] = []


class Data(Section):
    source: str | None = None
    train_size: Count | None = None
    val_size: Count | None = None
    test_size: Count | None = None


class Device(Section):
    device: str | None = None
    cpu: str | None = None
    precision: str | None = None


class Stop(Section):
    rule: str | None = None
    reason: str | None = None
    epoch: Count | None = None


class ConfigParts(Section):
    """The parts of a run's resolved config that the tables read (the rest is kept as written)."""

    class DataPart(Section):
        train_size: Count | None = None
        image_shape: list[Count] | None = None

    class TrainerPart(Section):
        learning_rate: float | None = None

    data: DataPart = DataPart()
    trainer: TrainerPart = TrainerPart()


class Summary(Section):
    """summary.json. Fields in the order `train.run` writes them, so a dump keeps the file's order."""

    status: Literal[STATUSES]  # type: ignore[valid-type]
    error: str | None = None
    model: str | None = None
    dataset: str | None = None
    seed: Seed | None = None
    config: dict[str, Any] = {}
    params: Params = Params()
    data: Data = Data()
    device: Device = Device()
    resumed: bool | None = None
    resumed_from: str | None = None
    shift: dict[str, Count | dict[str, float]] = {}
    epochs_run: Count | None = None
    final: Metrics | None = None
    best: Metrics | None = None
    stop: Stop = Stop()
    test: dict[str, float] = {}
    time: dict[str, float | None] = {}
    traceback: str | None = None
    _parts: ConfigParts = PrivateAttr(default_factory=ConfigParts)

    @model_validator(mode="after")
    def _whole(self) -> Summary:
        if self.status == "completed":
            missing = [key for key, value in (("model", self.model), ("dataset", self.dataset), ("seed", self.seed),
                                              ("final", self.final), ("best", self.best),
                                              ("test.accuracy", self.test.get("accuracy")),
                                              ("params.trainable", self.params.trainable)) if value is None]
            if missing:
                raise ValueError(f"a completed run's record lacks {', '.join(missing)}")
        try:
            self._parts = ConfigParts.model_validate(self.config)
        except ValidationError as err:
            raise ValueError(f"config.{problem(err)}") from None
        return self

    @property
    def image_shape(self) -> list[int] | None:
        return self._parts.data.image_shape

    @property
    def asked_train_size(self) -> int | None:
        """data.train_size as configured (None: all)."""
        return self._parts.data.train_size

    @property
    def learning_rate(self) -> float | None:
        return self._parts.trainer.learning_rate

    @property
    def tuned(self) -> bool:
        """The learning rate came from configs/tuned/learning_rates.yaml."""
        return "tuned" in self.config

    def record(self) -> dict[str, Any]:
        """As JSON would hold it (only the keys the file had)."""
        return self.model_dump(mode="python", by_alias=True, exclude_unset=True)

    def number(self, key: str) -> float | None:
        """A numeric field by its dotted name (`best.val_accuracy`), None where the run did not record it."""
        value: Any = self.record()
        for part in key.split("."):
            value = value.get(part) if isinstance(value, dict) else None
        return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


# Every number summary.json records: what `objective=` may name (the config check refuses any other key).
OBJECTIVES = (*(f"{at}.{field}" for at in ("final", "best") for field in Metrics.model_fields),
              "test.loss", "test.accuracy", "epochs_run", "stop.epoch",
              *(f"params.{key}" for key in ("trainable", "non_trainable", "total")),
              *(f"time.{key}" for key in ("load_s", "train_s", "epoch_mean_s", "total_s")),
              "shift.max_shift",
              *(f"shift.{fill}.{metric}" for fill in ("zero", "wrap") for metric in ("accuracy", "consistency")))


def problem(err: ValidationError) -> str:
    """The first thing wrong, as `key=value: what is valid` (pydantic's own words)."""
    first = err.errors()[0]
    where = ".".join(map(str, first["loc"]))
    more = f" (and {err.error_count() - 1} more)" if err.error_count() > 1 else ""
    if first["type"] == "missing":
        return f"{where} is missing{more}"
    message = first["msg"].removeprefix("Value error, ")
    shown = repr(first["input"]) if not isinstance(first["input"], dict) else "{...}"
    return (f"{where}={shown[:80]}: {message}" if where else message) + more


def summary_of(raw: Any) -> Summary:
    """`raw` checked as a run record; ValueError naming the first bad key, its value and what is valid."""
    if not isinstance(raw, dict) or "status" not in raw:
        raise ValueError("not a run record (a JSON object with a status)")
    try:
        return Summary.model_validate(raw)
    except ValidationError as err:
        raise ValueError(problem(err)) from None


def read_summary(run_dir: Path) -> tuple[Summary | None, str | None]:
    """summary.json checked, or None and why the run has no usable record (missing, unreadable, malformed)."""
    path = run_dir / SUMMARY
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None, f"no {SUMMARY}: the job stopped before training started (see its run.log)"
    except (OSError, ValueError) as err:
        return None, f"{SUMMARY} unreadable ({err})"
    try:
        return summary_of(raw), None
    except ValueError as err:
        return None, f"{SUMMARY}: {err}"


def stand_in(run_dir: Path, problem_text: str) -> Summary:
    """An `incomplete` record for a run without a usable summary.json: who it was, from .hydra/config.yaml."""
    try:
        config = OmegaConf.to_container(OmegaConf.load(run_dir / ".hydra" / "config.yaml"))
    except (OSError, YAMLError, OmegaConfBaseException, ValueError):
        config = {}
    config = config if isinstance(config, dict) else {}
    name = lambda group: group.get("name") if isinstance(group, dict) else None  # noqa: E731
    guess = {"model": name(config.get("model")), "dataset": name(config.get("data")), "seed": config.get("seed"),
             "config": config}
    for kept in (guess, {k: v for k, v in guess.items() if k != "config"}):  # keep what holds
        try:
            return Summary.model_validate({"status": "incomplete", "error": problem_text, **kept})
        except ValidationError:
            continue
    return Summary(status="incomplete", error=problem_text)


def read_history(run_dir: Path) -> tuple[pd.DataFrame, str | None]:
    """history.csv with epochs from 1 and every metric column; a row cut, not numbers or of no whole epoch is
    left out with a note."""
    path = run_dir / HISTORY
    try:
        content = path.read_bytes()  # read once: parsed, and checked for a cut last row
        raw = pd.read_csv(io.BytesIO(content))
        unfinished = not content.endswith(b"\n")  # CSVLogger ends every row: the last one was cut
    except FileNotFoundError:
        return pd.DataFrame(columns=["epoch", *HISTORY_METRICS]), None
    except (OSError, ValueError, UnicodeDecodeError) as err:
        return pd.DataFrame(columns=["epoch", *HISTORY_METRICS]), f"{HISTORY} unreadable ({type(err).__name__}: {err})"
    columns = {c: pd.to_numeric(raw[c], errors="coerce").to_numpy() if c in raw else np.full(len(raw), np.nan)
               for c in ["epoch", *HISTORY_METRICS]}
    epoch = columns["epoch"].astype(float)
    whole = np.isfinite(epoch) & (epoch >= 0) & (epoch == np.floor(epoch)) & (epoch < 2**31)
    cut = ~whole | np.isnan(columns["loss"].astype(float)) | np.isnan(columns["val_loss"].astype(float))
    if unfinished and len(cut):
        cut[-1] = True
    note = f"{HISTORY}: {int(cut.sum())} cut or malformed row(s) left out" if cut.any() else None
    kept = {c: values[~cut] for c, values in columns.items()}
    return pd.DataFrame(kept | {"epoch": kept["epoch"].astype(int) + 1}), note


def read_shift(run_dir: Path) -> tuple[pd.DataFrame, str | None]:
    """shift.csv (runs before `consistency_correct` existed get NaN there); empty with a note when unusable."""
    empty = pd.DataFrame(columns=SHIFT_COLUMNS)
    try:
        table = pd.read_csv(run_dir / SHIFT)
    except FileNotFoundError:
        return empty, None
    except (OSError, ValueError, UnicodeDecodeError) as err:
        return empty, f"{SHIFT} unreadable ({type(err).__name__}: {err})"
    missing = set(SHIFT_COLUMNS[:5]) - set(table.columns)
    if missing:
        return empty, f"{SHIFT} lacks columns {sorted(missing)}"
    table = table.reindex(columns=SHIFT_COLUMNS)
    numeric = {c: pd.to_numeric(table[c], errors="coerce") for c in SHIFT_COLUMNS[1:2] + SHIFT_COLUMNS[3:]}
    shift = numeric["shift"].to_numpy(dtype=float)
    if not (shift == 0).any():
        return empty, f"{SHIFT} has no unshifted (shift 0) row"
    if not np.isfinite(shift).all() or any(np.isnan(numeric[c].to_numpy(dtype=float)).any()
                                           for c in ("accuracy", "consistency")):
        return empty, f"{SHIFT} has cut or malformed rows"
    return table.assign(**numeric), None


# kept tables (runs, epochs, layers, shifts), as `python -m inductive.tables` writes them: the columns each needs
KEPT_COLUMNS = {"runs": ("run_id", "status", "model", "dataset", "seed"), "layers": ("run_id",),
                "epochs": ("run_id", "epoch", "split", "metric", "value"), "shifts": ("run_id", *SHIFT_COLUMNS[:5])}
# runs.csv columns that hold numbers (NaN where a run did not record one), by name or prefix
RUN_NUMBERS = ("seed", "train_size", "val_size", "test_size", "epochs_run", "params_trainable", "params_non_trainable",
               "params_total", "params_target", "test_gap", "min_val_loss", "val_loss_rise")
RUN_NUMBER_PREFIXES = ("final_", "best_", "test_", "time_")


def _numeric(column: pd.Series) -> tuple[pd.Series, pd.Series]:
    """The column as numbers, and where a cell held something that is not one."""
    if pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column):
        return column, pd.Series(False, index=column.index)
    numbers = pd.to_numeric(column, errors="coerce")
    return numbers, numbers.isna() & column.notna()


def _json_list(value: Any, needed: bool = False) -> bool:
    """A cell that holds a list holds it as JSON (`[32, 64]`), as the tables write lists; where one is `needed`
    (a layer's shape), null stands for none recorded."""
    if not (isinstance(value, str) and value.lstrip().startswith("[")):
        return not needed or pd.isna(value) or value == "null"
    try:
        return isinstance(json.loads(value), list)
    except ValueError:
        return False


def _sizes(value: Any, single: bool) -> bool:
    """A list of whole numbers >= 0 as JSON (`[32, 64]`), or (`single`) one such number; empty is allowed."""
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return False
    if isinstance(value, list):
        return all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in value)
    number = isinstance(value, (int, float)) and not isinstance(value, bool)
    return value is None or (number and math.isnan(value)) or (single and number and float(value).is_integer())


# The settings the claims read back from runs.csv as sizes: a JSON list of ints, or (True) an int too.
KEPT_SIZES = {"data.image_shape": False, "model.conv_filters": False, "model.hidden_units": False,
              "model.kernel_size": True, "model.strides": True, "model.pool_size": True}
_shown = lambda value: repr(value.item() if isinstance(value, np.generic) else value)  # noqa: E731


def check_kept_runs(runs: pd.DataFrame, where: Path) -> pd.DataFrame:
    """runs.csv rows that break the schema (an unknown status, no seed, text for a number, a setting's list not
    JSON) become `incomplete` with the reason, their bad cells empty; a valid table comes back as it was."""
    bad = {i: f"status={_shown(runs.at[i, 'status'])}: use one of {', '.join(STATUSES)}"
           for i in runs.index[~runs["status"].isin(STATUSES)]}
    columns = {}
    # a column at a time, cells as Python values: a kept table has few rows (usually one), so pandas calls cost more
    for name, column in runs.items():
        if name in RUN_NUMBERS or name.startswith(RUN_NUMBER_PREFIXES):
            values, wrong = _numeric(column)
            valid = "a number"
            if name == "seed":
                wrong = wrong | (values.notna() & (~values.between(0, SEED_MAX) | (values != values.round())))
                valid = f"a seed in 0..{SEED_MAX}"
            wrong = wrong.to_numpy(dtype=bool)
        elif name in KEPT_SIZES:
            wrong = np.array([not _sizes(v, KEPT_SIZES[name]) for v in column.tolist()], dtype=bool)
            values, valid = column, "a JSON list of ints" + (" or an int" if KEPT_SIZES[name] else "")
        elif "." in name and not pd.api.types.is_numeric_dtype(column):  # a setting: data.*, model.*, ...
            wrong = np.array([not _json_list(v) for v in column.tolist()], dtype=bool)
            values, valid = column, "a JSON list or a single value"
        else:
            continue
        if wrong.any():
            for index in runs.index[wrong]:
                bad.setdefault(index, f"{name}={_shown(runs.at[index, name])}: expected {valid}")
            columns[name] = values.where(~wrong)
    for name in ("run_id", "model", "dataset"):
        nameless = [not isinstance(v, str) and (name == "run_id" or not pd.isna(v)) for v in runs[name].tolist()]
        for index in runs.index[np.array(nameless, dtype=bool)]:
            bad.setdefault(index, f"{name}={_shown(runs.at[index, name])}: expected a name")
    if not bad:
        return runs
    runs = runs.assign(**columns, status=runs["status"].where(~runs.index.isin(list(bad)), "incomplete"),
                       error=runs["error"].astype(object) if "error" in runs else None)
    for index, why in bad.items():
        runs.at[index, "error"] = f"{where / 'runs.csv'}: {why}"
    return runs


def check_kept_rows(table: pd.DataFrame, name: str, where: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """epochs / layers / shifts rows that break the schema (a count that is not a whole number >= 0, text for a
    number, a layer shape not a JSON list, no run id) are left out, a note per run; a valid table comes back as is."""
    whole, numbers = {"epochs": (("epoch",), ("value",)), "layers": (("position", "trainable", "non_trainable"), ()),
                      "shifts": (("shift",), ("accuracy", "consistency", "consistency_correct"))}[name]
    wrong = table["run_id"].isna() if "run_id" in table else pd.Series(False, index=table.index)
    for column in (c for c in ("input_shape", "output_shape") if name == "layers" and c in table):
        wrong |= ~table[column].map(lambda v: _json_list(v, needed=True))
    converted = {}
    for column in (c for c in (*whole, *numbers) if c in table):
        values, not_number = _numeric(table[column])
        if column in whole:  # counts: whole numbers >= 0
            finite = np.isfinite(values.to_numpy(dtype=float))
            not_number |= ~finite | (values != values.round()) | (values < 0)
        wrong |= not_number
        converted[column] = values
    if not wrong.any():
        return table, {}
    lost = table.loc[wrong, "run_id"].dropna().value_counts()
    notes = {rid: f"{where / (name + '.csv')}: {n} malformed row(s) left out" for rid, n in lost.items()}
    kept = table.assign(**converted)[~wrong]
    return kept.astype({c: int for c in whole if c in kept}).reset_index(drop=True), notes
