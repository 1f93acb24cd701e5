"""Does `inductive.run` cost more per epoch than a bare Keras script? Target: ratio <= 1.05.

Same process, same data, same model, same batch size. Both sides train `EPOCHS` epochs and we
compare the median time of the epochs after the first (which includes tracing); repeats
alternate between the two sides so machine noise hits both alike.

    python benchmarks/epoch_overhead.py [train_size=null] [epochs=3] [repeats=3] [data=fashion_mnist]
        [deterministic=true] [resume=true]

deterministic and resume are inductive's defaults; turn them off to see what each costs (the bare
script has neither: no deterministic ops, no per-epoch backup).
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from inductive import quiet  # noqa: E402

with quiet.start_up_lines():  # TensorFlow's C++ start-up notices stay off the terminal
    import tensorflow  # noqa: F401,E402  (the imports below reuse the loaded module)

import keras  # noqa: E402
from tensorflow.python.framework import config as tf_framework_config  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from hydra import compose, initialize_config_dir  # noqa: E402
from omegaconf import OmegaConf  # noqa: E402

from inductive.training import data as data_module  # noqa: E402
from inductive.training.callbacks import EpochClock  # noqa: E402
from inductive.training.config import config_dir  # noqa: E402
from inductive.training.models import build_model  # noqa: E402
from inductive.training.train import run  # noqa: E402


def bare_keras(cfg, splits) -> float:
    """The keras-io script: build, compile, fit. Median epoch time after the first."""
    keras.backend.clear_session()
    keras.utils.set_random_seed(cfg.seed)
    tf_framework_config.disable_op_determinism()  # what a plain script runs with
    model = build_model(cfg.model, tuple(cfg.data.image_shape), cfg.data.num_classes)
    model.compile(optimizer=keras.optimizers.Adam(cfg.trainer.learning_rate),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(splits.x_train, splits.y_train, validation_data=(splits.x_val, splits.y_val),
                        batch_size=cfg.trainer.batch_size, epochs=cfg.trainer.epochs, callbacks=[EpochClock()],
                        verbose=0)
    return float(np.median(history.history["epoch_time_s"][1:]))


def inductive_run(cfg, out: Path) -> float:
    summary = run(cfg, out)
    history = pd.read_csv(out / "history.csv")
    assert summary["status"] == "completed", summary["error"]
    return float(history.epoch_time_s.iloc[1:].median())


def main(argv: list[str]) -> None:
    args = OmegaConf.merge({"train_size": None, "epochs": 3, "repeats": 3, "data": "fashion_mnist",
                            "deterministic": True, "resume": True},
                           OmegaConf.from_dotlist(argv))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for model in ("dense", "conv_flatten", "gap"):
            with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
                cfg = compose("config", overrides=[
                    f"model={model}", f"data={args.data}", f"data.train_size={'null' if args.train_size is None else args.train_size}",
                    f"trainer.epochs={args.epochs}", "trainer.verbose=0",
                    f"trainer.deterministic={args.deterministic}", f"trainer.resume={args.resume}",
                    "trainer.precision=float32",  # the bare Keras script runs float32: compare like for like
                    "shift.enabled=false", f"output_root={tmp}"])
            splits = data_module.load(cfg.data)
            bare, ours = [], []
            for repeat in range(args.repeats):
                bare.append(bare_keras(cfg, splits))
                ours.append(inductive_run(cfg, Path(tmp) / f"{model}_{repeat}"))
            rows.append({"model": model, "bare_keras_s": np.median(bare), "inductive_s": np.median(ours),
                         "ratio": np.median(ours) / np.median(bare)})
    table = pd.DataFrame(rows)
    print(f"\nseconds per epoch ({len(splits.y_train)} {args.data} images, batch {cfg.trainer.batch_size}, "
          f"median of {args.repeats} runs x {args.epochs - 1} epochs, inductive deterministic={args.deterministic} "
          f"resume={args.resume}; "
          "target ratio <= 1.05)")
    print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))


if __name__ == "__main__":
    main(sys.argv[1:])
