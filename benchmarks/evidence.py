"""Time to evidence: a preset's wall time beside its compute floor on this machine.

Runs the preset (default `evidence_quick`) as `python -m inductive.run -m` would, into a fresh sweep
folder, then counts the work every job did from its own records: per epoch, training (3x the forward
pass: forward, backward for inputs and for weights) over the training images, a forward pass over the
validation images and over the eval-mode training sample; then the test set and the shifted test sets
once. FLOPs per image are 2x the multiply-accumulates of the closed forms (`inductive.arithmetic`; a
LocallyConnected2D layer does the multiply-accumulates of the Conv2D it mirrors). The floor is those
FLOPs divided by the matrix-multiply peak measured here in the precision the runs used. The ratio
wall / floor says how much start-up, input pipeline, small batches and framework overhead cost.

    python benchmarks/evidence.py [preset=evidence_quick] [data=fashion_mnist] [launchers=basic,joblib]
                                  [sweep=DIR] [OVERRIDE ...]

`launchers=basic,joblib` runs the preset once per Hydra launcher, in that order, and prints each one's wall
time and its speed-up over the first: `basic` runs the jobs one after another, each with all cores;
`joblib` runs as many at once as there are cores, each with one thread (`trainer.threads=auto`). The
jobs' numbers differ between the two in the last bits (thread count changes the order of sums), so the
sweeps are different samples of the same design, not copies. `sweep=DIR` reads an existing sweep instead
of running one (its wall time is then the sum of its job times).
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from inductive import quiet  # noqa: E402

with quiet.start_up_lines():  # TensorFlow's C++ start-up notices stay off the terminal
    import tensorflow  # noqa: F401,E402  (the imports below reuse the loaded module)

import pandas as pd  # noqa: E402
import tensorflow as tf  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from inductive.arithmetic import layer_arithmetic  # noqa: E402
from inductive.training.models import build_model  # noqa: E402
from inductive.training.record import find_run_dirs  # noqa: E402
from inductive.training.record_schema import read_summary  # noqa: E402
from common import composed  # noqa: E402  (benchmarks/ is on the path when run as a script)
from throughput import matmul_peak_gflops  # noqa: E402


def forward_flops(model_cfg: dict, image_shape: list[int], classes: int) -> int:
    """2 x multiply-accumulates per image of the model the run built."""
    model = build_model(OmegaConf.create(model_cfg), tuple(image_shape), classes)
    macs = 0
    for layer in model.layers:
        name = "Conv2D" if type(layer).__name__ == "LocallyConnected2D" else type(layer).__name__
        macs += layer_arithmetic(name, layer.get_config(), layer.input.shape[1:]).macs
    return 2 * macs


def job_work(run_dir: Path) -> dict | None:
    summary, _ = read_summary(run_dir)
    if summary is None or summary.status != "completed":
        return None
    cfg, sizes = summary.config, summary.data
    per_image = forward_flops(cfg["model"], summary.image_shape, cfg["data"]["num_classes"])
    epochs = summary.epochs_run
    train_eval = min(sizes.train_size, cfg["trainer"]["fit"].get("train_eval_images") or sizes.train_size)
    shift = cfg["shift"]
    shifted = 0
    if shift["enabled"]:
        shifted = min(shift["max_images"] or sizes.test_size, sizes.test_size) * (
            1 + 3 * summary.shift.get("max_shift", 0) * len(shift["fills"]))
    images = {"train (3x forward)": 3 * epochs * sizes.train_size, "validation": epochs * sizes.val_size,
              "eval-mode train": epochs * train_eval, "test": sizes.test_size, "shifted test": shifted}
    return {"job": run_dir.name, "model": summary.model, "precision": summary.device.precision,
            "time_s": summary.time["total_s"], **{k: v * per_image for k, v in images.items()}}


def launcher_available(name: str) -> bool:
    """`hydra/launcher=NAME` composes here: Hydra's own `basic`, or an installed plugin's launcher."""
    try:
        composed([f"hydra/launcher={name}"], return_hydra_config=True)
    except Exception:  # noqa: BLE001  (Hydra raises several kinds for a missing config option)
        return False
    return True


def run_preset(preset: str, overrides: list[str], sweep: Path) -> float:
    args = [sys.executable, "-m", "inductive.run", "-m", f"+experiment={preset}", f"hydra.sweep.dir={sweep}",
            *overrides]
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"error: {' '.join(args[1:])} exited {done.returncode}:\n{done.stderr[-3000:]}")
    return time.perf_counter() - start


def sweep_work(sweep: Path) -> pd.DataFrame:
    return pd.DataFrame([w for d in find_run_dirs([sweep]) if d != sweep and (w := job_work(d))])


def main(argv: list[str]) -> int:
    opts = {"preset": "evidence_quick", "sweep": None, "launchers": "basic"}
    overrides = []
    for arg in argv:
        key, _, value = arg.partition("=")
        if key in opts:
            opts[key] = value
        else:
            overrides.append(arg)
    launchers = opts["launchers"].split(",")
    unknown = [name for name in launchers if not launcher_available(name)]
    if opts["sweep"] and opts["launchers"] != "basic":
        print("error: launchers= times new sweeps; sweep=DIR reads one that has run: give one or the other",
              file=sys.stderr)
        return 2
    if unknown:
        print(f"error: launchers={opts['launchers']}: {', '.join(unknown)} not available here (basic, or a Hydra "
              "launcher plugin that is installed: joblib needs pip install -e '.[joblib]')", file=sys.stderr)
        return 2
    runs = []
    with tempfile.TemporaryDirectory() as tmp:
        if opts["sweep"]:
            work = sweep_work(Path(opts["sweep"]))
            runs.append(("(read back)", work["time_s"].sum() if not work.empty else None, work))
        else:
            for launcher in launchers:
                sweep = Path(tmp) / launcher
                wall = run_preset(opts["preset"], [f"hydra/launcher={launcher}", *overrides], sweep)
                runs.append((launcher, wall, sweep_work(sweep)))
    if any(work.empty for _, _, work in runs):
        print("no completed jobs to measure")
        return 1
    policy = runs[0][2]["precision"].mode().iloc[0]
    dtype = tf.bfloat16 if "bfloat16" in policy else tf.float16 if "float16" in policy else tf.float32
    peak = matmul_peak_gflops(dtype)
    rows = []
    for launcher, wall, work in runs:
        phases = [c for c in work.columns if c not in ("job", "model", "precision", "time_s")]
        flops = work[phases].sum()
        floor = flops.sum() / (peak * 1e9)
        rows.append({"launcher": launcher, "jobs": len(work), "precision": policy, "wall_s": round(wall, 1),
                     "compute_floor_s": round(floor, 1), "wall_over_floor": round(wall / floor, 2),
                     "speed_up_over_first": round(runs[0][1] / wall, 2),
                     "sum_of_job_times_s": round(float(work["time_s"].sum()), 1),
                     "share_of_flops": {k: round(float(v / flops.sum()), 3) for k, v in flops.items()}})
    print(json.dumps({"preset": opts["preset"] if not opts["sweep"] else None, "sweep": opts["sweep"],
                      "matmul_peak_gflops": round(peak, 1), "runs": rows}, indent=2))
    for launcher, _, work in runs:
        print(f"\n{launcher}: where the job time goes, per model (achieved = all its FLOPs over its job time)")
        print(by_model(work, peak).to_string(float_format=lambda v: f"{v:.3g}"))
    return 0


def by_model(work: pd.DataFrame, peak: float) -> pd.DataFrame:
    """Per model: jobs, job time and its share, FLOPs, the rate achieved and its fraction of the matmul peak."""
    phases = [c for c in work.columns if c not in ("job", "model", "precision", "time_s")]
    table = work.assign(flops=work[phases].sum(axis=1)).groupby("model").agg(
        jobs=("job", "size"), time_s=("time_s", "sum"), gflop=("flops", lambda f: f.sum() / 1e9))
    table["share_of_time"] = table["time_s"] / table["time_s"].sum()
    table["achieved_gflop_s"] = table["gflop"] / table["time_s"]
    table["of_peak"] = table["achieved_gflop_s"] / peak
    return table.sort_values("time_s", ascending=False)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
