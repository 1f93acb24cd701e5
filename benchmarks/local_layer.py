"""The locally connected layer's contraction: one batched matmul with positions leading, against the einsum it replaced.

`LocallyConnected2D` multiplies each output position's patch by that position's own kernel. Written as
einsum("bpk,pkf->bpf") TensorFlow ends in the same batched matmul as transposing the patches to
(positions, batch, taps) and calling matmul, and computes the same numbers bit for bit, but the einsum path
was about twice as slow per call on this CPU, and `local` is the slowest model of the evidence protocol (half of
CIFAR-10's job time). This trains the `local` model at the protocol's batch size both ways, in this one
process, alternating, on the same images from the same seed, and checks that the trained weights are identical.

    python benchmarks/local_layer.py [repeats=3] [epochs=4] [images=1000] [OVERRIDE ...]
"""

from __future__ import annotations

import sys

from inductive import quiet  # noqa: E402

with quiet.start_up_lines():  # TensorFlow's C++ start-up notices stay off the terminal
    import tensorflow  # noqa: F401,E402  (the imports below reuse the loaded module)

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from common import composed, settings  # noqa: E402

from inductive.training.callbacks import EpochClock  # noqa: E402
from inductive.training.local import LocallyConnected2D  # noqa: E402
from inductive.training.train import computed_precision, prepare  # noqa: E402

DATASETS = ("fashion_mnist", "cifar10")


class EinsumLocallyConnected2D(LocallyConnected2D):
    """The layer as it was before 2026-12-04: the same patches, contracted with einsum."""

    def contract(self, patches):
        return keras.ops.einsum("bpk,pkf->bpf", patches, self.kernel)


def train(cfg, x, y, einsum: bool) -> tuple[float, list[np.ndarray], str]:
    """Median epoch time after the first (which traces), the trained weights, and the policy computed in."""
    model, _ = prepare(cfg)
    if einsum:  # before the first call traces it: the model's locally connected layers contract with einsum
        for layer in model.layers:
            if isinstance(layer, LocallyConnected2D):
                layer.__class__ = EinsumLocallyConnected2D
    history = model.fit(x, y, batch_size=cfg.trainer.batch_size, epochs=cfg.trainer.epochs, callbacks=[EpochClock()],
                        verbose=0, shuffle=True)
    return float(np.median(history.history["epoch_time_s"][1:])), model.get_weights(), computed_precision(model)


def main(argv: list[str]) -> int:
    opts, extra = settings(argv, {"repeats": 3, "epochs": 4, "images": 1000})
    rows, identical = [], True
    for dataset in DATASETS:
        cfg = composed(["model=local", f"data={dataset}", "trainer.batch_size=32", f"trainer.epochs={opts['epochs']}",
                        *extra])
        rng = np.random.default_rng(0)
        x = rng.random((opts["images"], *cfg.data.image_shape), dtype=np.float32)
        y = rng.integers(0, cfg.data.num_classes, opts["images"])
        times, same = {True: [], False: []}, True
        for _ in range(opts["repeats"]):
            weights = {}
            for einsum in (True, False):
                seconds, weights[einsum], policy = train(cfg, x, y, einsum)
                times[einsum].append(seconds)
            same &= all(np.array_equal(a, b) for a, b in zip(weights[True], weights[False]))
        identical &= same
        before, after = np.median(times[True]), np.median(times[False])
        rows.append({"data": dataset, "precision": policy, "epoch s, einsum": before, "epoch s, matmul": after,
                     "speed-up": before / after, "identical weights": same})
    print(f"local model, {opts['images']} random images, batch 32; {opts}; median epoch after the first, "
          "median over repeats")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("identical trained weights both ways" if identical else "WEIGHTS DIFFER between the two contractions")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
