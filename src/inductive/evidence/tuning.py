"""`python -m inductive.tune SWEEP_DIR [...] [out=FILE]`: learning rates chosen from evidence_tuning sweeps.

Per dataset x model, the learning rate whose runs reach the highest mean validation accuracy where
they stopped (the fit protocol's stop epoch). Only validation data is read: never the test set.
The choice is merged into configs/tuned/learning_rates.yaml (the evidence presets read it), each
dataset's block headed by the command and the grid it came from.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import yaml

from inductive.training.config import config_dir
from inductive.training.record import find_run_dirs, read_summary

USAGE = "usage: python -m inductive.tune SWEEP_DIR [SWEEP_DIR ...] [out=FILE]"


def tuning_table(roots: list[Path]) -> pd.DataFrame:
    """One row per completed run: dataset, model, learning rate, seed, stop reason, validation accuracy at stop."""
    rows = []
    for run_dir in find_run_dirs(roots):
        summary = read_summary(run_dir)
        if not isinstance(summary, dict) or summary.get("status") != "completed":
            continue
        rows.append({"dataset": summary["dataset"], "model": summary["model"], "seed": summary["seed"],
                     "learning_rate": summary["config"]["trainer"]["learning_rate"],
                     "stop_reason": (summary.get("stop") or {}).get("reason"),
                     "val_accuracy": summary["final"]["val_accuracy"]})
    return pd.DataFrame(rows)


def choose(table: pd.DataFrame) -> pd.DataFrame:
    """Per dataset x model: the learning rate with the best mean validation accuracy at stop (ties: the smaller)."""
    means = table.groupby(["dataset", "model", "learning_rate"], as_index=False)["val_accuracy"].mean()
    means = means.sort_values(["dataset", "model", "val_accuracy", "learning_rate"],
                              ascending=[True, True, False, True])
    return means.groupby(["dataset", "model"], as_index=False).head(1).reset_index(drop=True)


def write(chosen: pd.DataFrame, grid: list[float], command: str, out: Path) -> None:
    """Merge the chosen rates into `out`, replacing only the datasets tuned here."""
    current = yaml.safe_load(out.read_text()) if out.is_file() else None
    rates = (current or {}).get("learning_rate") or {}
    sources = (current or {}).get("chosen_by") or {}
    for dataset, group in chosen.groupby("dataset"):
        rates[dataset] = {row.model: float(row.learning_rate) for row in group.itertuples()}
        sources[dataset] = {"command": command, "grid": grid,
                            "val_accuracy": {row.model: round(float(row.val_accuracy), 4) for row in group.itertuples()}}
    header = "# Learning rates chosen by `python -m inductive.tune` from evidence_tuning sweeps: do not edit by hand.\n"
    out.write_text(header + yaml.safe_dump({"learning_rate": rates, "chosen_by": sources}, sort_keys=True))


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE + "\n\n" + __doc__.split("\n\n", 1)[1])
        return 0 if argv else 2
    roots = [Path(a) for a in argv if not a.startswith("out=")]
    outs = [a.partition("=")[2] for a in argv if a.startswith("out=")]
    out = Path(outs[-1]) if outs else config_dir() / "tuned" / "learning_rates.yaml"
    try:
        table = tuning_table(roots)
    except FileNotFoundError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    if table.empty:
        print(f"error: no completed runs below {', '.join(map(str, roots))}. {USAGE}", file=sys.stderr)
        return 2
    chosen = choose(table)
    write(chosen, sorted(table["learning_rate"].unique().tolist()), "python -m inductive.tune " + " ".join(argv), out)
    print(chosen.to_string(index=False))
    print(f"written: {out}")
    return 0
