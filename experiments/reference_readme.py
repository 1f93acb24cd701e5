"""Write results/reference/README.md from the reference reports: the claims x datasets table and what ran.

    python experiments/reference_readme.py   # after the reports in results/reference/{all,DATASET} are built
                                             # (and ten_seeds/{all,DATASET}, the second look, where it ran)

Every number comes from the reports' saved tables (glance.csv, runs.csv); nothing is typed in by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path("results/reference")
TEN = ROOT / "ten_seeds"  # the pre-registered second look (configs/experiment/evidence_second_look.yaml)
NAMES = {"fashion_mnist": "Fashion-MNIST", "mnist": "MNIST", "cifar10": "CIFAR-10"}
EXPECTED_JOBS = 30  # each look: 6 models x 5 seeds


def claims_table(glance: pd.DataFrame) -> str:
    wide = glance.assign(cell="**" + glance["verdict"] + "** " + glance["effect"].fillna(""))
    table = wide.pivot_table(index="claim", columns="dataset", values="cell", aggfunc="first", sort=False)
    table = table.reindex(columns=[n for n in NAMES.values() if n in table.columns])
    lines = ["| claim | " + " | ".join(table.columns) + " |", "|---|" + "---|" * len(table.columns)]
    lines += [f"| {claim} | " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |"
              for claim, row in table.iterrows()]
    return "\n".join(lines)


def runs_line(dataset: str) -> str:
    """A dataset's two looks: reports, runs completed of those planned, and their cost."""
    cells = []
    for folder, seeds, first in ((ROOT / dataset, "0-4", 0), (TEN / dataset, "5-9", 5)):
        if not (folder / "runs.csv").is_file():
            cells.append(f"not run yet (seeds {seeds})")
            continue
        runs = pd.read_csv(folder / "runs.csv", low_memory=False)
        done = runs[(runs["status"] == "completed") & runs["seed"].between(first, first + 4)]
        missing = EXPECTED_JOBS - len(done)
        link = folder.relative_to(ROOT)
        cells.append(f"[report]({link}/report.md): {len(done)} of {EXPECTED_JOBS} runs of seeds {seeds}"
                     + (f" ({missing} still to run)" if missing > 0 else "")
                     + f", {done['time_total_s'].sum() / 3600:.2f} h of job time")
    return f"| {NAMES.get(dataset, dataset)} | " + " | ".join(cells) + " |"


def main() -> int:
    datasets = [d for d in NAMES if (ROOT / d / "runs.csv").is_file()]
    text = (ROOT / "README.template.md").read_text()
    text = text.replace("<!-- claims -->", claims_table(pd.read_csv(ROOT / "all" / "glance.csv")))
    ten = TEN / "all" / "glance.csv"
    text = text.replace("<!-- claims_ten -->", claims_table(pd.read_csv(ten)) if ten.is_file()
                        else "Not run yet: `experiments/second_look.sh DATASET`.")
    text = text.replace("<!-- runs -->", "\n".join(
        ["| dataset | first look: 5 seeds, alpha 0.05 | second look: seeds 0-9, alpha 0.025 |", "|---|---|---|",
         *map(runs_line, datasets)]))
    (ROOT / "README.md").write_text(text)
    print(f"wrote {ROOT / 'README.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
