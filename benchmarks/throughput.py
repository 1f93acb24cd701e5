"""How fast do the models train, against what this machine can do?

Per model on Fashion-MNIST: training images per second, FLOPs per image (from the closed forms in
`inductive.arithmetic`; training ~ 3x the forward pass: forward, plus backward for inputs and
weights), achieved GFLOP/s, and the ratio to the machine's float32 matrix-multiply peak measured
in TensorFlow in this same run. Optionally (`preset=NAME`), the wall time of a claims preset run
sequentially vs through the joblib launcher.

    python benchmarks/throughput.py [train_size=20000] [epochs=3] [preset=evidence_quick]
"""

from __future__ import annotations

import os
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
from hydra import compose, initialize_config_dir  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from inductive.arithmetic import model_macs  # noqa: E402
from inductive.training.config import config_dir  # noqa: E402
from inductive.training.train import prepare, run  # noqa: E402


def matmul_peak_gflops(dtype: tf.DType = tf.float32, n: int = 2048, repeats: int = 10) -> float:
    """Best-of n x n matmul rate in `dtype`: the ceiling dense conv/matmul kernels can reach here."""
    a, b = tf.cast(tf.random.normal((n, n)), dtype), tf.cast(tf.random.normal((n, n)), dtype)
    matmul = tf.function(lambda: tf.matmul(a, b))
    matmul().numpy()
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        matmul().numpy()
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def preset_wall_time(preset: str, launcher: str | None, out: str) -> float:
    args = [sys.executable, "-m", "inductive.run", "-m", f"+experiment={preset}", f"output_root={out}"]
    if launcher:
        args.append(f"hydra/launcher={launcher}")
    start = time.perf_counter()
    subprocess.run(args, check=True, capture_output=True)
    return time.perf_counter() - start


def main(argv: list[str]) -> None:
    args = OmegaConf.merge({"train_size": 20000, "epochs": 3, "preset": None}, OmegaConf.from_dotlist(argv))
    peak = matmul_peak_gflops()
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in ("dense", "conv_flatten", "gap"):
            with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
                cfg = compose("config", overrides=[f"model={model}", f"data.train_size={args.train_size}",
                                                   f"trainer.epochs={args.epochs}", "trainer.verbose=0",
                                                   "trainer.precision=float32",  # measured against the float32 peak
                                                   f"output_root={tmp}"])
            flops = 3 * 2 * model_macs(prepare(cfg)[0])
            summary = run(cfg, Path(tmp) / model)
            history = pd.read_csv(Path(tmp) / model / "history.csv")
            epoch_s = float(history.epoch_time_s.iloc[1:].median())  # after the first (tracing) epoch
            images_per_s = summary["data"]["train_size"] / epoch_s  # validation pass is inside epoch_s too
            rows.append({"model": model, "params": summary["params"]["trainable"], "images_per_s": images_per_s,
                         "MFLOP_per_image": flops / 1e6, "GFLOP_per_s": images_per_s * flops / 1e9,
                         "of_matmul_peak": images_per_s * flops / 1e9 / peak})
    print(f"\nfloat32 matmul peak (2048^3, TensorFlow, {os.cpu_count()} cores): {peak:.1f} GFLOP/s")
    print(f"training throughput ({args.train_size} Fashion-MNIST images, batch {cfg.trainer.batch_size}, "
          f"median epoch after the first of {args.epochs}; training FLOPs = 3 x forward)")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3g}"))
    if args.preset:
        with tempfile.TemporaryDirectory() as tmp:
            sequential = preset_wall_time(args.preset, None, f"{tmp}/seq")
            parallel = preset_wall_time(args.preset, "joblib", f"{tmp}/par")
        print(f"\npreset {args.preset}: sequential {sequential / 60:.1f} min, joblib {parallel / 60:.1f} min, "
              f"speed-up {sequential / parallel:.2f}x")


if __name__ == "__main__":
    main(sys.argv[1:])
