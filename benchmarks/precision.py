"""Is bfloat16 (trainer.precision=auto here) safe for the claims, and how much faster is it than float32?

The three base models x seeds, trained by `inductive.training.train.run` in this one process on the
same data and budget in float32 and in the precision `auto` picks on this machine. Prints, per model:
the median epoch time of each (first epoch left out: it holds graph tracing) and their ratio, and the
paired difference (auto - float32) over seeds in final validation accuracy and in the eval-mode
train - validation gap, with 95% t intervals. bfloat16 counts as safe for the claims when every
interval lies inside +-0.005.

    python benchmarks/precision.py [seeds=5] [train_size=4000] [epochs=6] [data.path=...]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from inductive import quiet  # noqa: E402

with quiet.start_up_lines():  # TensorFlow's C++ start-up notices stay off the terminal
    import tensorflow  # noqa: F401,E402  (the imports below reuse the loaded module)

import pandas as pd  # noqa: E402
from common import composed, settings  # noqa: E402

from inductive.evidence.stats import paired_effect  # noqa: E402
from inductive.training import precision  # noqa: E402
from inductive.training.train import run  # noqa: E402

MODELS = ("dense", "conv_flatten", "gap")
SAFE = 0.005



def one_run(model: str, seed: int, policy: str, opts: dict[str, int], extra: list[str], out: Path) -> dict:
    overrides = [f"model={model}", f"seed={seed}", f"data.train_size={opts['train_size']}", "data.split_seed=0",
                 f"trainer.epochs={opts['epochs']}", f"trainer.precision={policy}", "trainer.verbose=0",
                 "trainer.resume=false", "shift.enabled=false", "data.cache_dir=null", *extra]
    cfg = composed(overrides)
    summary = run(cfg, out / f"{model}_{seed}_{policy}")
    history = pd.read_csv(out / f"{model}_{seed}_{policy}" / "history.csv")
    return {"model": model, "seed": seed, "policy": summary["device"]["precision"],
            "epoch_s": float(history["epoch_time_s"].iloc[1:].median()),
            "val_accuracy": summary["final"]["val_accuracy"], "accuracy_gap": summary["final"]["accuracy_gap"]}


def main(argv: list[str]) -> int:
    opts, extra = settings(argv, {"seeds": 5, "train_size": 4000, "epochs": 6})
    chosen, why = precision.choose("auto", precision.gpu_capabilities(), precision.cpu_bf16_flags())
    print(f"auto -> {chosen} ({why}); {opts}", flush=True)
    if chosen == "float32":
        print("auto picks float32 on this machine: nothing to compare")
        return 0
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in MODELS:
            for seed in range(opts["seeds"]):
                for policy in ("float32", chosen):
                    rows.append(one_run(model, seed, policy, opts, extra, Path(tmp)))
    table = pd.DataFrame(rows)
    lines, safe = [], True
    for model, group in table.groupby("model", sort=False):
        by = {p: g.set_index("seed") for p, g in group.groupby("policy")}
        f32, low = by["float32"], by[chosen]
        acc, gap = (paired_effect(low[c], f32[c]) for c in ("val_accuracy", "accuracy_gap"))
        safe &= all(-SAFE < e.low and e.high < SAFE for e in (acc, gap))
        lines.append({"model": model, "epoch_s float32": f32["epoch_s"].median(), f"epoch_s {chosen}":
                      low["epoch_s"].median(), "speed-up": f32["epoch_s"].median() / low["epoch_s"].median(),
                      "val acc diff [95%]": str(acc), "gap diff [95%]": str(gap)})
    print(pd.DataFrame(lines).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print(f"{chosen} is {'safe' if safe else 'NOT shown safe'} for the claims (every interval inside +-{SAFE})")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
