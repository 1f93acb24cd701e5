"""Does XLA (`trainer.jit_compile=true`) speed up the dense model on this CPU?

The speed issue saw XLA make the conv models 2-6x slower on a 2-core CPU and the dense model about 2x
faster once. This trains `dense` (and, for contrast, `conv_flatten`) with `inductive.training.train.run`
in one process, alternating jit_compile=false / true `repeats` times in the precision `auto` picks,
and prints the median epoch time of each (first epoch left out: it holds tracing and compiling) and
their ratio. Both arms run with trainer.deterministic=false: Keras turns XLA off under TensorFlow's op
determinism (the suite's default). `jit_compile=auto` would be worth extending to dense-only models only if every repeat of
dense is faster with XLA.

    python benchmarks/xla.py [repeats=3] [train_size=8000] [epochs=5] [models=dense,conv_flatten]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from inductive import quiet

with quiet.start_up_lines():  # TensorFlow's C++ start-up notices stay off the terminal
    import tensorflow  # noqa: F401  (the imports below reuse the loaded module)

import pandas as pd  # noqa: E402
from common import composed, settings  # noqa: E402

from inductive.training.train import run  # noqa: E402



def epoch_seconds(model: str, jit: bool, repeat: int, opts: dict, extra: list[str], out: Path) -> float:
    overrides = [f"model={model}", "seed=0", f"data.train_size={opts['train_size']}", f"trainer.epochs={opts['epochs']}",
                 f"trainer.jit_compile={str(jit).lower()}", "trainer.deterministic=false", "trainer.verbose=0", "trainer.resume=false",
                 "shift.enabled=false", "data.cache_dir=null", *extra]
    cfg = composed(overrides)
    folder = out / f"{model}_{jit}_{repeat}"
    summary = run(cfg, folder)
    assert summary["device"]["jit_compile"] is jit, "the model was not compiled as asked"
    return float(pd.read_csv(folder / "history.csv")["epoch_time_s"].iloc[1:].median())


def main(argv: list[str]) -> int:
    opts, extra = settings(argv, {"repeats": 3, "train_size": 8000, "epochs": 5, "models": "dense,conv_flatten"})
    print(f"{opts}", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in str(opts["models"]).split(","):
            for repeat in range(int(opts["repeats"])):
                times = {jit: epoch_seconds(model, jit, repeat, opts, extra, Path(tmp)) for jit in (False, True)}
                rows.append({"model": model, "repeat": repeat, "epoch_s no XLA": times[False],
                             "epoch_s XLA": times[True], "speed-up": times[False] / times[True]})
    table = pd.DataFrame(rows)
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    for model, group in table.groupby("model", sort=False):
        faster = bool((group["speed-up"] > 1).all())
        print(f"{model}: XLA {'faster in every repeat' if faster else 'not reliably faster'} "
              f"(median speed-up {group['speed-up'].median():.2f}x)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
