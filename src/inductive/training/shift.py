"""How a trained model's predictions survive moving the test images by a few pixels.

The lecture credits convolution and pooling with translation invariance; this measures it. Each
test set is shifted along x, along y and diagonally by 0..max_shift pixels, either filling the
uncovered border with blank pixels ("zero") or wrapping what falls off back in ("wrap").
Consistency is the fraction of images whose predicted class is unchanged by the shift;
`consistency_correct` counts only the images the model gets right unshifted, so a model that
predicts one class for everything cannot look invariant.
"""

from __future__ import annotations

import keras
import numpy as np
import pandas as pd

from inductive.training.callbacks import eval_batches
from inductive.training.record import SHIFT_COLUMNS

FILLS = ("zero", "wrap")
DIRECTIONS = {"x": (0, 1), "y": (1, 0), "diagonal": (1, 1)}  # (dy, dx) per pixel of shift


def default_max_shift(image_shape: tuple[int, ...]) -> int:
    """A quarter of the image's smaller side: 7 pixels for 28x28 images, 8 for 32x32."""
    return min(image_shape[0], image_shape[1]) // 4


def shift_images(
    x: np.ndarray, dy: int, dx: int, mode: str = "zero", fill_value: float | np.ndarray = 0.0
) -> np.ndarray:
    """NHWC images moved dy pixels down and dx pixels right (negative: up, left).

    mode "zero" fills the uncovered border with `fill_value`, which must be a blank pixel in the
    model's input scale (0 for pixels / 255; -mean / std per channel after standardization);
    mode "wrap" rolls the pixels that leave one side back in on the other.
    """
    if mode not in FILLS:
        raise ValueError(f"mode must be one of {FILLS}, got {mode!r}")
    if x.ndim != 4:
        raise ValueError(f"x must be a batch of images (N, H, W, C), got shape {x.shape}")
    if mode == "wrap":
        return np.roll(x, (dy, dx), axis=(1, 2))
    out = np.empty_like(x)
    out[...] = fill_value
    height, width = x.shape[1:3]
    if abs(dy) < height and abs(dx) < width:
        out[:, _target(dy), _target(dx)] = x[:, _source(dy), _source(dx)]
    return out


def _target(shift: int) -> slice:
    """Where the pixels that stay in the image land along one axis."""
    return slice(shift, None) if shift >= 0 else slice(None, shift)


def _source(shift: int) -> slice:
    """Where the pixels that stay in the image come from along one axis."""
    return slice(None, -shift or None) if shift >= 0 else slice(-shift, None)


def shift_evaluation(
    model: keras.Model,
    x: np.ndarray,
    y: np.ndarray,
    max_shift: int,
    modes: tuple[str, ...] = ("zero",),
    batch_size: int = 512,
    max_images: int | None = None,
    fill_value: float | np.ndarray = 0.0,
) -> pd.DataFrame:
    """One row per direction x shift (0..max_shift pixels) x fill: accuracy and consistency.

    The unshifted set is predicted once and stands for shift 0 of every direction and fill;
    `max_images` keeps the first that many images to cap the cost (1 + 3 * max_shift * len(modes)
    predict passes over them).
    """
    if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 0:
        raise ValueError(f"max_shift must be an int >= 0, got {max_shift!r}")
    for mode in modes:
        if mode not in FILLS:
            raise ValueError(f"modes must be drawn from {FILLS}, got {tuple(modes)!r}")
    if max_images is not None:
        x, y = x[:max_images], y[:max_images]
    y = np.asarray(y).reshape(-1)
    def predict(images: np.ndarray) -> np.ndarray:
        return model.predict(eval_batches(images, None, batch_size), verbose=0).argmax(axis=-1)

    unshifted = predict(x)
    correct = unshifted == y
    rows = []
    for mode in modes:
        for direction, (unit_dy, unit_dx) in DIRECTIONS.items():
            for shift in range(max_shift + 1):
                shifted = unshifted if shift == 0 else predict(
                    shift_images(x, unit_dy * shift, unit_dx * shift, mode, fill_value))
                rows.append({"direction": direction, "shift": shift, "fill": mode,
                             "accuracy": float(np.mean(shifted == y)),
                             "consistency": float(np.mean(shifted == unshifted)),
                             "consistency_correct": float(np.mean(shifted[correct] == y[correct]))
                             if correct.any() else float("nan")})
    return pd.DataFrame(rows, columns=SHIFT_COLUMNS)
