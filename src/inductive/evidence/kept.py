"""A report's tables folder: runs.csv, epochs.csv, layers.csv and shifts.csv side by side, as a report or
`python -m inductive.tables` wrote them. Such a folder stands in for its run folders (a study keeps each
finished job this way), so it is read through the record schema like a run folder: a malformed row makes its
run `incomplete`, or is left out with a note, and the others go on.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from inductive.errors import ReportError
from inductive.training.metric_names import upgrade_epochs, upgrade_runs
from inductive.training.record_schema import KEPT_COLUMNS, check_kept_rows, check_kept_runs

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
    """runs, epochs, layers and shifts as a report saved them, without the columns derived over a whole report,
    in today's metric names (`metric_names`: tables kept before them are upgraded). A table that cannot be read or
    lacks a column is refused naming the file; a malformed row is not."""
    tables = []
    for name in TABLE_NAMES:
        path = table_file(folder, name)
        try:
            table = pd.read_csv(path, low_memory=False)
        except (OSError, ValueError, EOFError, UnicodeDecodeError) as err:
            raise ReportError(f"{path}: unreadable as a report table ({type(err).__name__}: {err})") from None
        missing = sorted(set(KEPT_COLUMNS[name]) - set(table.columns))
        if missing:
            raise ReportError(f"{path} lacks columns {missing}: give a folder written by `python -m inductive.report`")
        tables.append(table)
    runs, epochs, layers, shifts = tables
    runs, epochs = check_kept_runs(upgrade_runs(runs), folder), upgrade_epochs(epochs)
    notes: dict[str, list[str]] = {}
    checked = []
    for name, table in (("epochs", epochs), ("layers", layers), ("shifts", shifts)):
        table, lost = check_kept_rows(table, name, folder)
        checked.append(table)
        for rid, note in lost.items():
            notes.setdefault(rid, []).append(note)
    if notes:
        old = runs["notes"].astype(object) if "notes" in runs else pd.Series(None, index=runs.index, dtype=object)
        new = runs["run_id"].map(lambda rid: "; ".join(notes.get(rid, [])) or None)
        runs = runs.assign(notes=[n if pd.isna(o) else (o if n is None else f"{o}; {n}") for o, n in zip(old, new)])
    epochs, layers, shifts = checked
    return (runs.drop(columns=[c for c in DERIVED if c in runs]), epochs, layers,
            shifts.drop(columns=[c for c in IDENTITY[1:] if c in shifts]))


def save_table(table: pd.DataFrame, out: Path, name: str) -> list[Path]:
    """NAME.csv, and NAME.parquet (pyarrow is a dependency)."""
    paths = [out / f"{name}.csv", out / f"{name}.parquet"]
    table.to_csv(paths[0], index=False)
    table.astype({c: "string" for c in table.columns if table[c].dtype == object}).to_parquet(paths[1], index=False)
    return paths
