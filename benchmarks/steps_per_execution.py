"""How much of an evidence epoch is Python's round trip per batch? `trainer.steps_per_execution` 1 vs N.

The evidence protocol trains at batch 32 on 1,000 images: 32 small steps an epoch, where calling into
TensorFlow once per batch costs about as much as the batch itself on 2 CPU cores. Keras runs N batches
per call when compiled with `steps_per_execution=N`. This trains the three base models under the
evidence protocol's sizes (fixed epochs) with 1 and with N steps per call, alternating, in this one
process, and prints the median epoch time of each (training and validation; first epoch left out: it
holds graph tracing), their ratio, and whether every number in history.csv and the test accuracy came
out identical (they should: the same updates in the same order).

    python benchmarks/steps_per_execution.py [steps=32] [repeats=2] [epochs=8] [data.path=...]
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

from inductive.training.train import run  # noqa: E402

MODELS = ("dense", "conv_flatten", "gap")
PROTOCOL = ("data.train_size=1000", "data.val_size=2000", "trainer.batch_size=32", "trainer.stop=epochs",
            "trainer.verbose=0", "trainer.resume=false", "shift.enabled=false", "data.cache_dir=null")



def one_run(model: str, steps: int, repeat: int, opts: dict[str, int], extra: list[str], out: Path) -> dict:
    overrides = [f"model={model}", f"trainer.steps_per_execution={steps}", f"trainer.epochs={opts['epochs']}",
                 *PROTOCOL, *extra]
    cfg = composed(overrides)
    run_dir = out / f"{model}_{steps}_{repeat}"
    summary = run(cfg, run_dir)
    history = pd.read_csv(run_dir / "history.csv")
    return {"model": model, "steps": steps, "repeat": repeat, "precision": summary["device"]["precision"],
            "epoch_s": float(history["epoch_time_s"].iloc[1:].median()), "total_s": summary["time"]["total_s"],
            "numbers": (history.drop(columns="epoch_time_s"), summary["test"]["accuracy"])}


def main(argv: list[str]) -> int:
    opts, extra = settings(argv, {"steps": 32, "repeats": 2, "epochs": 8})
    print(f"steps_per_execution 1 vs {opts['steps']}; {opts}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for repeat in range(opts["repeats"]):
            for model in MODELS:
                for steps in (1, opts["steps"]) if repeat % 2 == 0 else (opts["steps"], 1):
                    rows.append(one_run(model, steps, repeat, opts, extra, Path(tmp)))
    table = pd.DataFrame(rows)
    lines, identical = [], True
    for model, group in table.groupby("model", sort=False):
        one, many = group[group["steps"] == 1], group[group["steps"] == opts["steps"]]
        reference = one["numbers"].iloc[0]
        same = all(h.equals(reference[0]) and t == reference[1] for h, t in group["numbers"])
        identical &= same
        lines.append({"model": model, "precision": group["precision"].iloc[0], "epoch_s, 1": one["epoch_s"].median(),
                      f"epoch_s, {opts['steps']}": many["epoch_s"].median(),
                      "speed-up": one["epoch_s"].median() / many["epoch_s"].median(),
                      "run s, 1": one["total_s"].median(), f"run s, {opts['steps']}": many["total_s"].median(),
                      "identical numbers": same})
    print(pd.DataFrame(lines).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("every history and test accuracy identical" if identical else "NUMBERS DIFFER between settings")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
