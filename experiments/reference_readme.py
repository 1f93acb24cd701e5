"""Write results/reference/README.md from the reference reports: the claims x datasets table and what ran.

    python experiments/reference_readme.py   # after the reports in results/reference/{all,DATASET} are built
                                             # (and ten_seeds/, the second look, and replication/, where they ran)

Every number comes from the reports' saved tables (glance.csv, runs.csv); nothing is typed in by hand.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd

ROOT = Path("results/reference")
TEN = ROOT / "ten_seeds"  # the pre-registered second look (configs/experiment/evidence_second_look.yaml)
REPLICATION = ROOT / "replication"  # the pre-registered replication (configs/experiment/evidence_replication.yaml)
MATCHED = ROOT / "matched"  # control 9 at one parameter count (configs/experiment/evidence_matched.yaml)
NAMES = {"fashion_mnist": "Fashion-MNIST", "mnist": "MNIST", "cifar10": "CIFAR-10"}
EXPECTED_JOBS = 30  # each look: 6 models x 5 seeds
REPLICATION_SEEDS = range(10, 30)
# folder, seeds it adds, models per seed
LOOKS = ((ROOT, range(0, 5), 6), (TEN, range(5, 10), 6), (REPLICATION, REPLICATION_SEEDS, 6), (MATCHED, range(0, 5), 4))
MATCHED_CLAIM = "9. "  # the claim the matched look decides, as glance.csv's claim column starts


def claims_table(glance: pd.DataFrame) -> str:
    wide = glance.assign(cell="**" + glance["verdict"] + "** " + glance["effect"].fillna(""))
    table = wide.pivot_table(index="claim", columns="dataset", values="cell", aggfunc="first", sort=False)
    table = table.reindex(columns=[n for n in NAMES.values() if n in table.columns])
    lines = ["| claim | " + " | ".join(table.columns) + " |", "|---|" + "---|" * len(table.columns)]
    lines += [f"| {claim} | " + " | ".join(str(v).replace("|", "\\|") for v in row) + " |"
              for claim, row in table.iterrows()]
    return "\n".join(lines)


def runs_line(dataset: str) -> str:
    """A dataset's looks: reports, runs completed of those planned, and their cost."""
    cells = []
    for folder, seeds, models in LOOKS:
        folder, planned, span = folder / dataset, models * len(seeds), f"{seeds[0]}-{seeds[-1]}"
        if not (folder / "runs.csv").is_file():
            kept, link = sorted(folder.glob("seeds/seed*/runs.csv")), folder.relative_to(ROOT)  # whole seeds, unread
            cells.append(f"under way: {len(kept)} of {len(seeds)} seeds run, their tables kept unread in "
                         f"[{link}/seeds]({link}/seeds) until all have run" if kept else f"not run yet (seeds {span})")
            continue
        runs = pd.read_csv(folder / "runs.csv", low_memory=False)
        done = runs[(runs["status"] == "completed") & runs["seed"].isin(seeds)]
        missing = planned - len(done)
        link = folder.relative_to(ROOT)
        cells.append(f"[report]({link}/report.md): {len(done)} of {planned} runs of seeds {span}"
                     + (f" ({missing} still to run)" if missing > 0 else "")
                     + f", {done['time_total_s'].sum() / 3600:.2f} h of job time")
    return f"| {NAMES.get(dataset, dataset)} | " + " | ".join(cells) + " |"


def replicated() -> list[str]:
    """Datasets whose replication has run whole (all 120 runs ended: completed, diverged or failed, none
    incomplete or still running): only those are read, whichever way their runs went."""
    whole = []
    for dataset in NAMES:
        runs_csv = REPLICATION / dataset / "runs.csv"
        if runs_csv.is_file():
            runs = pd.read_csv(runs_csv, low_memory=False)
            ended = runs[runs["status"].isin(["completed", "diverged", "failed"]) & runs["seed"].isin(REPLICATION_SEEDS)]
            if len(ended) == 6 * len(REPLICATION_SEEDS):
                whole.append(dataset)
    return whole


def of_record(ten: pd.DataFrame, whole: list[str]) -> pd.DataFrame:
    """The verdicts of record: the replication's where it has run whole, the ten-seed verdict elsewhere; for
    control 9, the matched look's where it has run (the other looks train no sized models)."""
    names = [NAMES[d] for d in whole]
    rows = [ten[~ten["dataset"].isin(names)]]
    for dataset in whole:
        glance = pd.read_csv(REPLICATION / dataset / "glance.csv")
        rows.append(glance.assign(effect="(replication) " + glance["effect"].fillna("")))
    record = pd.concat(rows, ignore_index=True)
    for dataset in matched():
        glance = pd.read_csv(MATCHED / dataset / "glance.csv")
        row = glance[glance["claim"].str.startswith(MATCHED_CLAIM)].assign(
            effect=lambda g: "(matched) " + g["effect"].fillna(""))
        record = record[~(record["claim"].str.startswith(MATCHED_CLAIM) & (record["dataset"] == NAMES[dataset]))]
        record = pd.concat([record, row], ignore_index=True)
    return record


def matched() -> list[str]:
    """Datasets whose matched look has its report (written only once all its seeds have run)."""
    return [dataset for dataset in NAMES if (MATCHED / dataset / "glance.csv").is_file()]


def main() -> int:
    datasets = [d for d in NAMES if (ROOT / d / "runs.csv").is_file()]
    text = (ROOT / "README.template.md").read_text()
    text = text.replace("<!-- claims -->", claims_table(pd.read_csv(ROOT / "all" / "glance.csv")))
    ten = TEN / "all" / "glance.csv"
    text = text.replace("<!-- claims_ten -->", claims_table(pd.read_csv(ten)) if ten.is_file()
                        else "Not run yet: `experiments/second_look.sh DATASET`.")
    whole = replicated()
    text = text.replace("<!-- claims_replication -->", claims_table(pd.concat(
        [pd.read_csv(REPLICATION / d / "glance.csv") for d in whole])) if whole
        else "Not run yet: `experiments/replication.sh DATASET`.")
    text = text.replace("<!-- claims_record -->", claims_table(of_record(pd.read_csv(ten), whole)) if ten.is_file()
                        else "Not decided yet.")
    text = text.replace("<!-- runs -->", "\n".join(
        ["| dataset | first look: seeds 0-4, alpha 0.05 | second look: adds seeds 5-9, all ten at alpha 0.025 "
         "| replication: seeds 10-29 alone, alpha 0.05 | control 9: sized to 150,000 parameters, seeds 0-4, alpha 0.05 |",
         "|---|---|---|---|---|", *map(runs_line, datasets)]))
    (ROOT / "README.md").write_text(text)
    print(f"wrote {ROOT / 'README.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
