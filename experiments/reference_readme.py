"""Write results/reference/README.md from the reference reports: the claims x datasets table and what ran.

    python experiments/reference_readme.py   # after the reports in results/reference/{all,DATASET} are built

Every number comes from the reports' saved tables (glance.csv, runs.csv); nothing is typed in by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path("results/reference")
NAMES = {"fashion_mnist": "Fashion-MNIST", "mnist": "MNIST", "cifar10": "CIFAR-10"}
EXPECTED_JOBS = 30  # the evidence preset: 6 models x 5 seeds


def claims_table(glance: pd.DataFrame) -> str:
    wide = glance.assign(cell="**" + glance["verdict"] + "** " + glance["effect"].fillna(""))
    table = wide.pivot_table(index="claim", columns="dataset", values="cell", aggfunc="first", sort=False)
    table = table.reindex(columns=[n for n in NAMES.values() if n in table.columns])
    lines = ["| claim | " + " | ".join(table.columns) + " |", "|---|" + "---|" * len(table.columns)]
    lines += [f"| {claim} | " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |"
              for claim, row in table.iterrows()]
    return "\n".join(lines)


def runs_line(dataset: str) -> str:
    runs = pd.read_csv(ROOT / dataset / "runs.csv")
    done = runs[runs["status"] == "completed"]
    hours = done["time_total_s"].sum() / 3600
    missing = EXPECTED_JOBS - len(done)
    return (f"| {NAMES.get(dataset, dataset)} | [report]({dataset}/report.md), [html]({dataset}/report.html) | "
            f"{len(done)} of {EXPECTED_JOBS} completed" + (f" ({missing} still to run)" if missing > 0 else "")
            + f" | {hours:.2f} h (sum of job times on 2 CPU cores; conditions below) |")


def main() -> int:
    glance = pd.read_csv(ROOT / "all" / "glance.csv")
    datasets = [d for d in NAMES if (ROOT / d / "runs.csv").is_file()]
    text = (ROOT / "README.template.md").read_text()
    text = text.replace("<!-- claims -->", claims_table(glance))
    text = text.replace("<!-- runs -->", "\n".join(["| dataset | report | evidence runs | cost |", "|---|---|---|---|",
                                                     *map(runs_line, datasets)]))
    (ROOT / "README.md").write_text(text)
    print(f"wrote {ROOT / 'README.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
