"""`python -m inductive.tune SWEEP_DIR [...] [out=FILE]`: learning rates chosen from evidence_tuning sweeps.

Per dataset x model, the learning rate whose runs reach the highest mean validation accuracy where
they stopped (the fit protocol's stop epoch). Only validation data is read: never the test set.
The choice is merged into configs/tuned/learning_rates.yaml (the evidence presets read it), each
dataset's block headed by the command and the grid it came from.
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from inductive.arguments import output_path, read_input, split
from inductive.errors import ConfigError
from inductive.training.config_folder import config_dir
from inductive.training.record import SUMMARY, find_run_dirs
from inductive.training.record_schema import read_summary

log = logging.getLogger("inductive.tune")

USAGE = "usage: python -m inductive.tune SWEEP_DIR [SWEEP_DIR ...] [out=FILE]"


def tuning_table(roots: list[Path]) -> pd.DataFrame:
    """One row per completed run: dataset, model, learning rate, seed, stop reason, validation accuracy at stop.
    A run whose summary.json does not fit the record schema is left out, with a warning naming it."""
    rows = []
    for run_dir in find_run_dirs(roots):
        summary, problem = read_summary(run_dir)
        if summary is None or summary.status != "completed":
            if problem and (run_dir / SUMMARY).exists():
                log.warning("%s: left out: %s", run_dir, problem)
            continue
        if summary.learning_rate is None or summary.final.val_accuracy is None:
            log.warning("%s: left out: its record has no trainer.learning_rate or final.val_accuracy", run_dir)
            continue
        rows.append({"dataset": summary.dataset, "model": summary.model, "seed": summary.seed,
                     "learning_rate": summary.learning_rate, "stop_reason": summary.stop.reason,
                     "val_accuracy": summary.final.val_accuracy})
    return pd.DataFrame(rows)


def choose(table: pd.DataFrame) -> pd.DataFrame:
    """Per dataset x model: the learning rate with the best mean validation accuracy at stop (ties: the smaller)."""
    means = table.groupby(["dataset", "model", "learning_rate"], as_index=False)["val_accuracy"].mean()
    means = means.sort_values(["dataset", "model", "val_accuracy", "learning_rate"],
                              ascending=[True, True, False, True])
    return means.groupby(["dataset", "model"], as_index=False).head(1).reset_index(drop=True)


def read_tuned(out: Path) -> dict[str, Any]:
    """What `out` already holds (empty when it does not exist): a mapping with `learning_rate` and `chosen_by`
    mappings, as `write` leaves it."""
    if not out.is_file():
        return {}

    def read(path: Path) -> dict[str, Any]:
        current = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if not isinstance(current, dict) or not all(isinstance(current.get(k) or {}, dict)
                                                    for k in ("learning_rate", "chosen_by")):
            raise ValueError("expected a mapping with learning_rate: and chosen_by: mappings")
        return current

    return read_input(out, read, "the learning-rate file `python -m inductive.tune` writes", f"out={out}")


def write(chosen: pd.DataFrame, grid: list[float], command: str, out: Path, current: dict[str, Any]) -> None:
    """Merge the chosen rates into `out` (which held `current`), replacing only the datasets tuned here."""
    rates = current.get("learning_rate") or {}
    sources = current.get("chosen_by") or {}
    for dataset, group in chosen.groupby("dataset"):
        rates[dataset] = {row.model: float(row.learning_rate) for row in group.itertuples()}
        sources[dataset] = {"command": command, "grid": grid,
                            "val_accuracy": {row.model: round(float(row.val_accuracy), 4) for row in group.itertuples()}}
    header = "# Learning rates chosen by `python -m inductive.tune` from evidence_tuning sweeps: do not edit by hand.\n"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(header + yaml.safe_dump({"learning_rate": rates, "chosen_by": sources}, sort_keys=True))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE + "\n\n" + __doc__.split("\n\n", 1)[1])
        return 0 if argv else 2
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        folders, given = split(argv, {"out": "FILE"}, USAGE)
        if not folders:
            raise ConfigError(f"no sweep folder given. {USAGE}")
        out = output_path("out", given.get("out", config_dir() / "tuned" / "learning_rates.yaml"), "file",
                          example="a YAML file like configs/tuned/learning_rates.yaml")
        current = read_tuned(out)
        roots = [Path(f) for f in folders]
        try:
            table = tuning_table(roots)
        except FileNotFoundError as err:
            raise ConfigError(str(err)) from None
        if table.empty:
            raise ConfigError(f"no completed runs below {', '.join(map(str, roots))}. {USAGE}")
    except ConfigError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    chosen = choose(table)
    write(chosen, sorted(table["learning_rate"].unique().tolist()), "python -m inductive.tune " + " ".join(argv), out,
          current)
    print(chosen.to_string(index=False))
    print(f"written: {out}")
    return 0
