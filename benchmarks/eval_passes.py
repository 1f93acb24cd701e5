"""What an evaluation pass costs fed NumPy arrays against a tf.data pipeline (`callbacks.eval_batches`).

A run under the fit protocol evaluates the training set in eval mode at every epoch's end, then the test
set once, then predicts the test set shifted 22 ways. Given NumPy arrays, each `evaluate` or `predict`
call builds a new input pipeline; for these small models that costs as much as the pass. This times both
feeds for the three base models at the evidence protocol's sizes (1,000 training images, the 10,000 test
images, 2,000 test images per shift) in this one process, and checks that both give identical numbers.
(Validation inside `fit` is not here: Keras keeps its input pipeline between epochs either way.)

    python benchmarks/eval_passes.py [repeats=5] [OVERRIDE ...]
"""

from __future__ import annotations

import sys
import time

from inductive import quiet  # noqa: E402

with quiet.start_up_lines():  # TensorFlow's C++ start-up notices stay off the terminal
    import tensorflow  # noqa: F401,E402  (the imports below reuse the loaded module)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from common import composed, settings  # noqa: E402

from inductive.training.callbacks import eval_batches  # noqa: E402
from inductive.training.train import prepare  # noqa: E402

MODELS = ("dense", "conv_flatten", "gap")
SIZES = {"eval-mode train, each epoch": 1000, "test, once": 10000, "one shift, 22 per run": 2000}


def median_ms(call, repeats: int) -> float:
    call()  # the first call traces the graph
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        call()
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def main(argv: list[str]) -> int:
    opts, extra = settings(argv, {"repeats": 5})
    rng = np.random.default_rng(0)
    rows, identical = [], True
    for name in MODELS:
        cfg = composed([f"model={name}", *extra])
        model, _ = prepare(cfg)
        shape, batch = tuple(cfg.data.image_shape), cfg.trainer.eval_batch_size
        for part, size in SIZES.items():
            x = rng.random((size, *shape), dtype=np.float32)
            y = rng.integers(0, cfg.data.num_classes, size)
            if part.startswith("one shift"):  # predict, as shift.shift_evaluation does
                arrays = lambda: model.predict(x, batch_size=batch, verbose=0)  # noqa: E731
                pipeline = lambda: model.predict(eval_batches(x, None, batch), verbose=0)  # noqa: E731
            else:  # the eval-mode pass reuses one pipeline every epoch; the test set builds its own, once
                batches = eval_batches(x, y, batch)
                arrays = lambda: model.evaluate(x, y, batch_size=batch, verbose=0)  # noqa: E731
                pipeline = (lambda: model.evaluate(batches, verbose=0)) if part.startswith("eval-mode") else (  # noqa: E731
                    lambda: model.evaluate(eval_batches(x, y, batch), verbose=0))
            same = np.array_equal(np.asarray(arrays()), np.asarray(pipeline()))
            identical &= same
            slow, fast = median_ms(arrays, opts["repeats"]), median_ms(pipeline, opts["repeats"])
            rows.append({"model": name, "pass": f"{part} ({size})", "ms, NumPy": slow, "ms, pipeline": fast,
                         "speed-up": slow / fast, "identical": same})
        keras.backend.clear_session()
    print(f"evaluation passes, NumPy arrays vs a tf.data pipeline; {opts}, precision as `auto` picks")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.1f}"))
    print("identical numbers from both feeds" if identical else "NUMBERS DIFFER between feeds")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
