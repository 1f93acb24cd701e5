"""`python -m inductive.report SWEEP_DIR [SWEEP_DIR ...] [out=DIR]`: run folders -> tables, figures, report.md.

Every folder below the given ones that holds a run (a summary.json, or a .hydra/config.yaml of a job
that stopped before writing one) becomes one row of `runs`; its history becomes rows of `epochs`
(run x epoch x split x metric), its layers rows of `layers` and its shift.csv rows of `shifts` (run x
direction x shift x fill; none for runs that predate it), all joined by `run_id`. Runs that
failed, diverged or never finished keep their status in the tables and are listed in the report;
only completed runs enter the statistics. Epochs count from 1: epoch 1 is the end of the first pass.
"""

from __future__ import annotations

import json
import logging
import math
import os
import sys
from pathlib import Path
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")  # TensorFlow computes t quantiles; keep its chatter out

import pandas as pd  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402
from omegaconf.errors import OmegaConfBaseException  # noqa: E402
from yaml import YAMLError  # noqa: E402

from inductive import claims, figures  # noqa: E402
from inductive.training.record import HISTORY, SHIFT, SUMMARY  # noqa: E402

log = logging.getLogger("inductive.evidence.report")

USAGE = "usage: python -m inductive.report SWEEP_DIR [SWEEP_DIR ...] [out=DIR]"
# The files inductive.training.record writes; not imported from there, as record loads TensorFlow and a bad
# argument should fail at once with one line, not after TensorFlow's start-up chatter.
SHIFT_COLUMNS = ["direction", "shift", "fill", "accuracy", "consistency"]
METRICS = {"loss": ("train", "loss"), "accuracy": ("train", "accuracy"),
           "val_loss": ("val", "loss"), "val_accuracy": ("val", "accuracy")}
SKIPPED_CONFIG = {"seed", "output_root"}  # already columns, or where files went rather than what was run


class ReportError(RuntimeError):
    """Input the report cannot use: the message names the folder or argument and what would work."""


# ---------------------------------------------------------------- finding and reading runs

def find_run_dirs(roots: list[Path]) -> list[Path]:
    """Run folders at or below `roots`, each once, in path order."""
    found: set[Path] = set()
    for root in roots:
        if not root.is_dir():
            raise ReportError(f"{root}: no such folder; give sweep or run folders (e.g. outputs/sweeps/<timestamp>)")
        markers = [*root.rglob(SUMMARY), *(p for p in root.rglob(".hydra") if p.is_dir())]
        found.update(marker.parent.resolve() for marker in markers)
    return sorted(found)


def _flatten(prefix: str, value: Any, into: dict[str, Any]) -> None:
    if isinstance(value, dict):
        for key, inner in value.items():
            _flatten(f"{prefix}.{key}" if prefix else key, inner, into)
    else:
        into[prefix] = json.dumps(value) if isinstance(value, list) else value


def _read_summary(run_dir: Path) -> tuple[dict[str, Any], str | None]:
    """summary.json, or a stand-in built from .hydra/config.yaml with why the summary is missing."""
    path = run_dir / SUMMARY
    if path.is_file():
        try:
            return json.loads(path.read_text()), None
        except (OSError, ValueError) as err:
            problem = f"{path.name} unreadable ({err})"
    else:
        problem = f"no {SUMMARY}: the job stopped before training started (see its run.log)"
    try:
        config = OmegaConf.to_container(OmegaConf.load(run_dir / ".hydra" / "config.yaml"))
    except (OSError, YAMLError, OmegaConfBaseException):
        config = {}
    return {"status": "incomplete", "error": problem, "model": config.get("model", {}).get("name"),
            "dataset": config.get("data", {}).get("name"), "seed": config.get("seed"), "config": config}, problem


def read_history(run_dir: Path) -> pd.DataFrame:
    """history.csv with epochs from 1 and every metric column; empty when the run wrote none."""
    path = run_dir / HISTORY
    try:
        history = pd.read_csv(path)
    except (OSError, ValueError):
        history = pd.DataFrame()
    history = history.reindex(columns=["epoch", *METRICS]).apply(pd.to_numeric, errors="coerce")
    history = history.dropna(subset=["epoch"]).dropna(subset=list(METRICS), how="all").astype({"epoch": int})
    return history.assign(epoch=history["epoch"] + 1)


def _at(prefix: str, metrics: dict[str, Any] | None) -> dict[str, Any]:
    metrics = dict(metrics or {})
    if "epoch" in metrics:
        metrics["epoch"] = metrics["epoch"] + 1
    return {f"{prefix}_{key}": value for key, value in metrics.items()}


def run_row(run_id: str, summary: dict[str, Any], history: pd.DataFrame) -> dict[str, Any]:
    """One row of `runs`: identity, status, sizes, final/best metrics, gaps, times and flattened config."""
    status = summary.get("status", "incomplete")
    params, data = summary.get("params") or {}, summary.get("data") or {}
    config = summary.get("config") or {}
    row: dict[str, Any] = {
        "run_id": run_id, "sweep": run_id.rsplit("/", 1)[0],
        "status": "incomplete" if status == "running" else status,
        "error": summary.get("error") or ("killed while training" if status == "running" else None),
        "model": summary.get("model"), "dataset": summary.get("dataset"), "seed": summary.get("seed"),
        "train_size": data.get("train_size", (config.get("data") or {}).get("train_size")),
        "val_size": data.get("val_size"), "test_size": data.get("test_size"), "data_source": data.get("source"),
        "epochs_run": len(history),
        "params_trainable": params.get("trainable"), "params_non_trainable": params.get("non_trainable"),
        "params_total": params.get("total"), "params_target": params.get("target"),
    }
    row |= _at("final", summary.get("final")) | _at("best", summary.get("best"))
    if history["val_loss"].notna().any():
        lowest = history.loc[history["val_loss"].idxmin()]
        row |= {"min_val_loss": lowest["val_loss"], "min_val_loss_epoch": int(lowest["epoch"]),
                "val_loss_rise": history["val_loss"].iloc[-1] - lowest["val_loss"]}
    row |= {f"test_{k}": v for k, v in (summary.get("test") or {}).items()}
    row |= {f"time_{k}": v for k, v in (summary.get("time") or {}).items()}
    row["device"] = (summary.get("device") or {}).get("device")
    flat: dict[str, Any] = {}
    _flatten("", {k: v for k, v in config.items() if k not in SKIPPED_CONFIG}, flat)
    return row | flat


def epoch_rows(run_id: str, history: pd.DataFrame) -> pd.DataFrame:
    """Long form of one history: a row per epoch x split x metric."""
    present = [c for c in METRICS if c in history]
    long = history.melt(id_vars="epoch", value_vars=present, var_name="column", value_name="value")
    long["split"] = long["column"].map(lambda c: METRICS[c][0])
    long["metric"] = long["column"].map(lambda c: METRICS[c][1])
    return long.assign(run_id=run_id)[["run_id", "epoch", "split", "metric", "value"]]


def layer_rows(run_id: str, summary: dict[str, Any]) -> list[dict[str, Any]]:
    """A row per layer with its input shape (the previous layer's output; the image for the first)."""
    layers = (summary.get("params") or {}).get("layers") or []
    shape = ((summary.get("config") or {}).get("data") or {}).get("image_shape")
    rows = []
    for position, layer in enumerate(layers):
        rows.append({"run_id": run_id, "position": position, "name": layer["name"], "class": layer["class"],
                     "input_shape": json.dumps(shape), "output_shape": json.dumps(layer["output_shape"]),
                     "trainable": layer["trainable"], "non_trainable": layer["non_trainable"]})
        shape = layer["output_shape"]
    return rows


def collect(roots: list[Path]) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """The `runs`, `epochs` and `layers` tables of every run below `roots`."""
    run_dirs = find_run_dirs(roots)
    if not run_dirs:
        raise ReportError(f"no runs below {', '.join(map(str, roots))}: expected folders holding {SUMMARY} "
                          "or .hydra/config.yaml, as `python -m inductive.run -m ...` writes them")
    runs, epochs, layers, seen = [], [], [], {}
    for run_dir in run_dirs:
        run_id = f"{run_dir.parent.name}/{run_dir.name}"
        if run_id in seen:
            raise ReportError(f"two run folders share the id {run_id!r}: {seen[run_id]} and {run_dir}; "
                              "give sweep folders with distinct names")
        seen[run_id] = run_dir
        summary, problem = _read_summary(run_dir)
        if problem:
            log.warning("%s: %s", run_dir, problem)
        history = read_history(run_dir)
        runs.append(run_row(run_id, summary, history))
        epochs.append(epoch_rows(run_id, history))
        layers.extend(layer_rows(run_id, summary))
    runs_table = claims.sort_runs(claims.add_conditions(pd.DataFrame(runs)))
    log.info("read %d runs: %s", len(runs_table), runs_table["status"].value_counts().to_dict())
    epochs_table = pd.concat(epochs, ignore_index=True).astype({"epoch": int, "value": float})
    return runs_table, epochs_table, pd.DataFrame(layers)


def read_shift(run_dir: Path) -> pd.DataFrame:
    """shift.csv with its five columns; empty when the run wrote none (runs before it existed) or it is unreadable."""
    path = run_dir / SHIFT
    if not path.is_file():
        return pd.DataFrame(columns=SHIFT_COLUMNS)
    try:
        table = pd.read_csv(path)
    except (OSError, ValueError) as err:
        log.warning("%s unreadable (%s); its run has no shift results", path, err)
        return pd.DataFrame(columns=SHIFT_COLUMNS)
    if not set(SHIFT_COLUMNS) <= set(table.columns):
        log.warning("%s lacks columns %s; its run has no shift results", path, sorted(set(SHIFT_COLUMNS) - set(table)))
        return pd.DataFrame(columns=SHIFT_COLUMNS)
    return table[SHIFT_COLUMNS]


def collect_shifts(roots: list[Path], runs: pd.DataFrame) -> pd.DataFrame:
    """The `shifts` table: every run's shift.csv (run x direction x shift x fill), with the run's identity
    and condition from `runs` (as `collect` returns it); runs without shift.csv add no rows."""
    identity = ["run_id", "model", "seed", "condition", "budget"]
    tables = [read_shift(run_dir).assign(run_id=f"{run_dir.parent.name}/{run_dir.name}")
              for run_dir in find_run_dirs(roots)]
    shifts = pd.concat([pd.DataFrame(columns=[*SHIFT_COLUMNS, "run_id"]), *tables], ignore_index=True)
    shifts = runs[identity].merge(shifts, on="run_id")[[*identity, *SHIFT_COLUMNS]]
    return shifts.astype({"shift": int, "accuracy": float, "consistency": float})


# ---------------------------------------------------------------- writing tables and report.md

def save_table(table: pd.DataFrame, out: Path, name: str) -> list[Path]:
    """NAME.csv, and NAME.parquet when pyarrow (or fastparquet) is installed."""
    paths = [out / f"{name}.csv"]
    table.to_csv(paths[0], index=False)
    try:
        table.to_parquet(out / f"{name}.parquet", index=False)
        paths.append(out / f"{name}.parquet")
    except ImportError:
        log.info("no Parquet engine installed; wrote %s only", paths[0].name)
    return paths


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "" if math.isnan(value) else f"{value:,.0f}" if abs(value) >= 1000 else f"{value:.3f}"
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value).replace("|", "\\|").replace("\n", " ")


def markdown_table(table: pd.DataFrame) -> str:
    lines = ["| " + " | ".join(map(str, table.columns)) + " |", "|" + "---|" * len(table.columns)]
    lines += ["| " + " | ".join(_cell(v) for v in row) + " |" for row in table.itertuples(index=False)]
    return "\n".join(lines)


def _figure_links(stems: list[str]) -> str:
    return "\n".join(f"![{stem}]({stem}.png)" for stem in stems)


def overview(runs: pd.DataFrame) -> pd.DataFrame:
    """Completed runs per condition and model: seeds, parameters and mean final metrics."""
    done = runs[runs["status"] == "completed"]
    if done.empty:
        return pd.DataFrame()
    return (done.groupby(["condition", "model"], sort=False)
            .agg(runs=("run_id", "size"), seeds=("seed", lambda s: ",".join(str(int(v)) for v in sorted(s.unique()))),
                 params=("params_trainable", "first"),
                 **({"params_target": ("params_target", "first")}
                    if "params_target" in done and done["params_target"].notna().any() else {}),
                 train_acc=("final_train_accuracy", "mean"),
                 val_acc=("final_val_accuracy", "mean"), acc_gap=("final_accuracy_gap", "mean"),
                 loss_gap=("final_loss_gap", "mean"), test_acc=("test_accuracy", "mean"),
                 epoch_s=("time_epoch_mean_s", "mean"), total_s=("time_total_s", "sum"))
            .reset_index())


def contradictions(found: list[claims.Claim]) -> list[str]:
    """One bullet per claim or comparison that came out `not supported`."""
    lines = []
    for claim in found:
        against = [note for note in claim.notes if "contradict the lecture" in note]
        if claim.verdict == claims.NOT_SUPPORTED and not against:
            against = [f"not supported: {claim.headline}."]
        lines += [f"- Claim {claim.number} ({claim.statement}): {note}" for note in against]
    return lines


def render(command: str, runs: pd.DataFrame, found: list[claims.Claim], efficiency: pd.DataFrame,
           drawn: dict[str, list[str]]) -> str:
    """report.md: verdicts first, then each claim's evidence, figure and notes."""
    counts = runs["status"].value_counts().to_dict()
    lines = [
        "# The lecture's claims, tested", "",
        f"Generated by `{command}` from {len(runs)} runs "
        f"({', '.join(f'{n} {s}' for s, n in counts.items())}) in {runs['sweep'].nunique()} sweep folder(s): "
        + ", ".join(f"`{s}`" for s in sorted(runs["sweep"].unique())) + ".", "",
        "## Verdicts", "",
        markdown_table(pd.DataFrame([{"claim": f"{c.number}. {c.statement}", "verdict": f"**{c.verdict}**",
                                      "effect (95% interval)": c.headline} for c in found])), "",
        "### Where our runs contradict the lecture", "",
        *(contradictions(found) or ["Nowhere: no claim or comparison came out `not supported`."]), "",
        "## Runs", "",
        "Completed runs per training condition (same data, training-set size and trainer settings) and "
        "model; accuracies and gaps are means over seeds at the last epoch.", "",
        markdown_table(overview(runs)), "",
        *[f"- {note}" for note in claims.matching_notes(runs, list(runs["condition"].unique()))], "",
    ]
    others = runs[runs["status"] != "completed"]
    lines += ["### Runs left out of the statistics", ""]
    if others.empty:
        lines += ["None: every run completed.", ""]
    else:
        lines += [markdown_table(others[["run_id", "status", "epochs_run", "error"]]), ""]
    for claim in found:
        lines += [f"## Claim {claim.number}: {claim.statement}", "", f"> {claim.quote}", "",
                  f"**Verdict: {claim.verdict}.** {claim.headline}", "", claim.method, ""]
        for title, table in claim.tables.items():
            lines += [f"**{title}**", "", markdown_table(table) if not table.empty else "(no runs to compare)", ""]
        lines += [_figure_links(claim.figures), ""] + [f"- {note}" for note in claim.notes] + [""]
    lines += ["## Data efficiency", "",
              "Validation accuracy and accuracy gap (train - val) at the last epoch against training-set "
              "size, mean ± 95% t half-width over seeds.", ""]
    if efficiency.empty:
        lines += ["No model was trained at two or more training-set sizes under otherwise equal settings.", ""]
    else:
        lines += [markdown_table(efficiency), "", _figure_links(drawn["data_efficiency"]), ""]
    lines += ["## Training curves and gaps per condition", ""]
    for stem in drawn["conditions"]:
        lines += [_figure_links([stem]), ""]
    lines += ["## How the numbers are made", "", *claims.METHOD_NOTES, "",
              "Tables: `runs.csv` (one row per run), `epochs.csv` (run x epoch x split x metric), "
              "`layers.csv` (run x layer), `shifts.csv` (run x direction x shift x fill), "
              "`effects.csv` (claim x comparison x condition x measure), "
              "each also as Parquet; every figure is drawn from these tables by `inductive.evidence.figures`.", ""]
    return "\n".join(lines)


def build_report(roots: list[Path], out: Path | None = None, command: str | None = None) -> Path:
    """Collect the runs below `roots`, judge the claims, write tables, figures and report.md; returns its path."""
    runs, epochs, layers = collect(roots)
    shifts = collect_shifts(roots, runs)
    out = out or roots[0] / "report"
    out.mkdir(parents=True, exist_ok=True)
    found, effects = claims.judge(runs, epochs, layers, shifts)
    efficiency = claims.data_efficiency_table(runs)
    for name, table in {"runs": runs, "epochs": epochs, "layers": layers, "shifts": shifts,
                        "effects": effects}.items():
        save_table(table, out, name)
    drawn = figures.draw_all(runs, epochs, layers, effects, out, shifts)
    for claim in found:
        claim.figures = drawn[f"claim{claim.number}"]
    command = command or "python -m inductive.report " + " ".join(map(str, roots))
    path = out / "report.md"
    path.write_text(render(command, runs, found, efficiency, drawn))
    return path


def parse_args(argv: list[str]) -> tuple[list[Path], Path | None]:
    roots, out = [], None
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep:
            roots.append(Path(arg))
        elif key == "out" and value:
            out = Path(value)
        else:
            raise ReportError(f"unknown argument {arg!r}: the only option is out=DIR. {USAGE}")
    if not roots:
        raise ReportError(f"no sweep folder given. {USAGE}")
    return roots, out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] in ("-h", "--help"):
        print(USAGE + "\n\n" + __doc__.split("\n\n", 1)[1])
        return 0
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        roots, out = parse_args(argv)
        path = build_report(roots, out, "python -m inductive.report " + " ".join(argv))
    except ReportError as err:
        print(f"error: {err}", file=sys.stderr)
        return 2
    print(f"report: {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
