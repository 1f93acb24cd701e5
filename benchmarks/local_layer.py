"""The locally connected layer as it is against the two ways it was written before, trained side by side.

`LocallyConnected2D` multiplies each output position's patch by that position's own kernel. `local` took half
of CIFAR-10's evidence job time (a third since the layer is written as `now`), so how it is written matters:
- einsum: tf.image.extract_patches, then einsum("bpk,pkf->bpf") (until the morning of 2026-12-04);
- extract_patches: the same patches transposed to positions leading, then one batched matmul (that afternoon);
- now: the patches cut as strided slices of the padded input, positions leading from the start, then the
  same matmul.
All three compute the same numbers. This trains the `local` model at the protocol's batch size each way, in
this one process, alternating, on the same images from the same seed, checks that the trained weights are
identical, and times the evaluation pass (batch 512) as well, which a run makes over 3,000 images an epoch.

    python benchmarks/local_layer.py [repeats=3] [epochs=4] [images=1000] [OVERRIDE ...]
"""

from __future__ import annotations

import sys
import time

from inductive import quiet  # noqa: E402

with quiet.start_up_lines():  # TensorFlow's C++ start-up notices stay off the terminal
    import tensorflow as tf  # noqa: E402

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from common import composed, settings  # noqa: E402

from inductive.training.callbacks import EpochClock, eval_batches  # noqa: E402
from inductive.training.local import LocallyConnected2D  # noqa: E402
from inductive.training.train import computed_precision, prepare  # noqa: E402

DATASETS = ("fashion_mnist", "cifar10")
EVAL_IMAGES = 3000  # validation (2,000) and eval-mode train (1,000) images: one epoch's evaluation in a run


class ExtractPatchesLocallyConnected2D(LocallyConnected2D):
    """The layer as it was for most of 2026-12-04: tf.image.extract_patches, transposed to positions leading."""

    def patches(self, inputs):
        kh, kw = self.kernel_size
        sh, sw = self.strides
        patches = tf.image.extract_patches(inputs, sizes=[1, kh, kw, 1], strides=[1, sh, sw, 1],
                                           rates=[1, 1, 1, 1], padding=self.padding.upper())
        _, out_h, out_w, taps = patches.shape
        return keras.ops.transpose(keras.ops.reshape(patches, (-1, out_h * out_w, taps)), (1, 0, 2))


class EinsumLocallyConnected2D(ExtractPatchesLocallyConnected2D):
    """The layer as it was until the morning of 2026-12-04: extract_patches, batch leading, contracted with einsum."""

    def patches(self, inputs):
        return keras.ops.transpose(super().patches(inputs), (1, 0, 2))

    def contract(self, patches):
        return keras.ops.einsum("bpk,pkf->bpf", patches, self.kernel)


VARIANTS = {"einsum": EinsumLocallyConnected2D, "extract_patches": ExtractPatchesLocallyConnected2D,
            "now": LocallyConnected2D}


def train(cfg, x, y, variant: str) -> tuple[float, float, list[np.ndarray], str]:
    """Median training-epoch time after the first (which traces), median time of an evaluation pass over
    3,000 images (a run's validation and eval-mode train passes of an epoch), the trained weights, and the
    policy computed in."""
    model, _ = prepare(cfg)
    for layer in model.layers:  # before the first call traces it: the model's locally connected layers as `variant`
        if isinstance(layer, LocallyConnected2D):
            layer.__class__ = VARIANTS[variant]
    history = model.fit(x, y, batch_size=cfg.trainer.batch_size, epochs=cfg.trainer.epochs, callbacks=[EpochClock()],
                        verbose=0, shuffle=True)
    batches = eval_batches(np.resize(x, (EVAL_IMAGES, *x.shape[1:])), np.resize(y, EVAL_IMAGES),
                           cfg.trainer.eval_batch_size)
    evaluations = []
    for _ in range(4):
        start = time.perf_counter()
        model.evaluate(batches, verbose=0)
        evaluations.append(time.perf_counter() - start)
    return (float(np.median(history.history["epoch_time_s"][1:])), float(np.median(evaluations[1:])),
            model.get_weights(), computed_precision(model))


def main(argv: list[str]) -> int:
    opts, extra = settings(argv, {"repeats": 3, "epochs": 4, "images": 1000})
    rows, identical = [], True
    for dataset in DATASETS:
        cfg = composed(["model=local", f"data={dataset}", "trainer.batch_size=32", f"trainer.epochs={opts['epochs']}",
                        *extra])
        rng = np.random.default_rng(0)
        x = rng.random((opts["images"], *cfg.data.image_shape), dtype=np.float32)
        y = rng.integers(0, cfg.data.num_classes, opts["images"])
        epochs, evaluations, same = {v: [] for v in VARIANTS}, {v: [] for v in VARIANTS}, True
        for _ in range(opts["repeats"]):
            weights = {}
            for variant in VARIANTS:
                epoch_s, eval_s, weights[variant], policy = train(cfg, x, y, variant)
                epochs[variant].append(epoch_s)
                evaluations[variant].append(eval_s)
            same &= all(np.array_equal(a, b) for other in VARIANTS for a, b in zip(weights[other], weights["now"]))
        identical &= same
        for variant in VARIANTS:
            epoch_s, eval_s = np.median(epochs[variant]), np.median(evaluations[variant])
            rows.append({"data": dataset, "precision": policy, "layer": variant, "train epoch s": epoch_s,
                         f"eval {EVAL_IMAGES:,} s": eval_s, "both s": epoch_s + eval_s,
                         "speed-up, both": (np.median(epochs["einsum"]) + np.median(evaluations["einsum"]))
                         / (epoch_s + eval_s),
                         "identical weights": same})
    print(f"local model, {opts['images']} random images, batch 32 (evaluation: batch {cfg.trainer.eval_batch_size}); "
          f"{opts}; medians after the first epoch or pass, then over repeats")
    print(pd.DataFrame(rows).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    print("identical trained weights every way" if identical else "WEIGHTS DIFFER between the ways of writing it")
    return 0 if identical else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
