from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from conftest import lazy
from inductive.training.record import SHIFT_COLUMNS

keras = lazy("keras")
shifting = lazy("inductive.training.shift")
pytestmark = pytest.mark.tensorflow


def one_pixel(row: int, col: int, size: int = 4) -> np.ndarray:
    image = np.zeros((1, size, size, 1), "float32")
    image[0, row, col, 0] = 1
    return image


def where(images: np.ndarray) -> list[tuple[int, int]]:
    return [(int(r), int(c)) for r, c in zip(*np.nonzero(images[0, :, :, 0]))]


def test_positive_shifts_move_content_down_and_right():
    assert where(shifting.shift_images(one_pixel(1, 1), dy=1, dx=2)) == [(2, 3)]
    assert where(shifting.shift_images(one_pixel(1, 1), dy=0, dx=1)) == [(1, 2)]
    assert where(shifting.shift_images(one_pixel(1, 1), dy=2, dx=0)) == [(3, 1)]
    assert where(shifting.shift_images(one_pixel(2, 3), dy=-2, dx=-1)) == [(0, 2)]


def test_zero_fill_drops_what_leaves_and_wrap_brings_it_back():
    assert where(shifting.shift_images(one_pixel(1, 3), dy=0, dx=1)) == []
    assert where(shifting.shift_images(one_pixel(1, 3), dy=0, dx=1, mode="wrap")) == [(1, 0)]
    assert where(shifting.shift_images(one_pixel(3, 3), dy=2, dx=2, mode="wrap")) == [(1, 1)]
    assert where(shifting.shift_images(one_pixel(1, 1), dy=9, dx=0)) == []


def test_zero_fill_uses_the_blank_pixel_value():
    shifted = shifting.shift_images(np.full((1, 4, 4, 2), 5.0), dy=1, dx=0, fill_value=np.array([-1.0, -2.0]))
    assert shifted[0, 0].tolist() == [[-1.0, -2.0]] * 4
    assert (shifted[0, 1:] == 5.0).all()


@settings(max_examples=40, deadline=None)
@given(dy=st.integers(-6, 6), dx=st.integers(-6, 6), seed=st.integers(0, 100))
def test_zero_fill_is_wrap_without_the_wrapped_pixels(dy, dx, seed):
    x = np.random.default_rng(seed).integers(1, 9, (2, 5, 4, 3)).astype("uint8")
    zero, wrap = shifting.shift_images(x, dy, dx), shifting.shift_images(x, dy, dx, mode="wrap")
    rows, cols = np.arange(5) - dy, np.arange(4) - dx  # where each output pixel came from
    inside = ((rows >= 0) & (rows < 5))[:, None] & ((cols >= 0) & (cols < 4))[None, :]
    assert zero.dtype == x.dtype
    np.testing.assert_array_equal(zero[:, inside], wrap[:, inside])
    assert (zero[:, ~inside] == 0).all()
    np.testing.assert_array_equal(shifting.shift_images(wrap, -dy, -dx, mode="wrap"), x)


def constant_model(shape=(6, 6, 1), logits=(0.0, 1.0, 0.0)) -> keras.Model:
    """Always predicts class 1, whatever the image."""
    return keras.Sequential([keras.Input(shape), keras.layers.Flatten(),
                             keras.layers.Dense(len(logits), kernel_initializer="zeros",
                                                bias_initializer=keras.initializers.Constant(logits))])


def test_a_model_that_ignores_its_input_is_perfectly_consistent():
    rng = np.random.default_rng(0)
    x, y = rng.random((50, 6, 6, 1)).astype("float32"), rng.integers(0, 3, 50)
    table = shifting.shift_evaluation(constant_model(), x, y, max_shift=2, modes=("zero", "wrap"), batch_size=16)
    assert list(table.columns) == SHIFT_COLUMNS
    assert len(table) == 3 * 3 * 2
    assert set(table.direction) == {"x", "y", "diagonal"} and set(table["shift"]) == {0, 1, 2}
    assert (table.consistency == 1.0).all()
    assert np.allclose(table.accuracy, np.mean(y == 1))


def test_global_average_pooling_is_invariant_to_wrapped_shifts():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((8, 8, 2)), keras.layers.Conv2D(6, 1, activation="relu"),
                              keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(4)])
    rng = np.random.default_rng(1)
    x, y = rng.random((40, 8, 8, 2)).astype("float32"), rng.integers(0, 4, 40)
    table = shifting.shift_evaluation(model, x, y, max_shift=shifting.default_max_shift(x.shape[1:]), modes=("wrap",))
    assert (table.consistency == 1.0).all()
    assert table.accuracy.nunique() == 1


def test_shift_zero_is_the_unshifted_set_and_max_images_caps_the_set():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Flatten(), keras.layers.Dense(3)])
    rng = np.random.default_rng(2)
    x, y = rng.random((30, 6, 6, 1)).astype("float32"), rng.integers(0, 3, 30)
    capped = shifting.shift_evaluation(model, x, y, max_shift=1, max_images=10)
    assert capped.equals(shifting.shift_evaluation(model, x[:10], y[:10], max_shift=1))
    unshifted = np.mean(model.predict(x[:10], verbose=0).argmax(-1) == y[:10])
    at_zero = capped[capped["shift"] == 0]
    assert (at_zero.accuracy == unshifted).all() and (at_zero.consistency == 1.0).all()


def test_default_max_shift_is_a_quarter_of_the_image():
    assert shifting.default_max_shift((28, 28, 1)) == 7
    assert shifting.default_max_shift((32, 32, 3)) == 8


def test_refuses_unknown_fills():
    with pytest.raises(ValueError, match="mode must be one of"):
        shifting.shift_images(one_pixel(0, 0), 1, 1, mode="reflect")
    with pytest.raises(ValueError, match="modes must be drawn from"):
        shifting.shift_evaluation(constant_model(), np.zeros((2, 6, 6, 1)), np.zeros(2), max_shift=1, modes=("edge",))
