"""The mixing and equivalence identities hold on random data; the generator writes the whole page."""

import os
import re

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from conftest import examples, lazy  # noqa: E402

conv_questions = lazy("inductive.lecture.conv_questions")
pytestmark = pytest.mark.tensorflow

FAST = settings(max_examples=examples(30), deadline=None)


def test_correlate2d_is_a_sliding_dot_product():
    image = np.arange(12.0).reshape(3, 4)
    kernel = np.array([[1.0, 0.0], [0.0, -1.0]])
    assert np.array_equal(conv_questions.correlate2d(image, kernel), np.full((2, 3), -5.0))  # image[i, j] - image[i + 1, j + 1]


def test_reference_output_map_is_a_sum_over_input_maps():
    rng = np.random.default_rng(0)
    x, kernel, bias = rng.normal(size=(1, 6, 6, 3)), rng.normal(size=(3, 3, 3, 2)), rng.normal(size=2)
    out = conv_questions.conv2d_reference(x, kernel, bias)
    by_hand = sum(conv_questions.correlate2d(x[0, :, :, c], kernel[:, :, c, 1]) for c in range(3)) + bias[1]
    assert np.allclose(out[0, :, :, 1], by_hand)


@st.composite
def mixing_settings(draw):
    h, w = draw(st.integers(1, 7)), draw(st.integers(1, 7))
    padding = draw(st.sampled_from(["valid", "same"]))
    high_h, high_w = (h, w) if padding == "valid" else (4, 4)  # a valid kernel must fit
    kernel = (draw(st.integers(1, high_h)), draw(st.integers(1, high_w)))
    shape = (draw(st.integers(1, 2)), h, w, draw(st.integers(1, 5)))
    return shape, draw(st.integers(1, 4)), kernel, padding, draw(st.integers(0, 2**16))


@FAST
@given(mixing_settings())
def test_keras_conv_mixes_maps_as_the_numpy_reference(setting):
    shape, filters, kernel, padding, seed = setting
    assert conv_questions.mixing_check(shape, filters, kernel, padding, seed)["max_abs_diff"] < 1e-5


@FAST
@given(h=st.integers(1, 6), w=st.integers(1, 6), c=st.integers(1, 5), filters=st.integers(1, 6),
       seed=st.integers(0, 2**16))
def test_whole_input_conv_is_dense_on_the_flattened_input(h, w, c, filters, seed):
    row = conv_questions.dense_equivalence(h, w, c, filters, seed)
    assert row["conv_params"] == row["dense_params"] == h * w * c * filters + filters
    assert row["max_abs_diff"] < 1e-5


@pytest.mark.slow
def test_generator_writes_tables_figures_and_page(tmp_path, capsys):
    assert conv_questions.main([f"out={tmp_path}"]) == 0
    names = {path.name for path in tmp_path.iterdir()}
    tables = {"lecture", "params", "output_size", "weight_sharing", "equivalence", "mixing"}
    figures = {"q1_params_vs_kernel", "q2_params_vs_filters", "q3_q4_output_vs_kernel", "q5_output_vs_stride",
               "q6_feature_map_mixing", "weight_sharing"}
    assert names == {f"{t}.csv" for t in tables} | {f"{f}.{ext}" for f in figures for ext in ("png", "svg")} | {
        "README.md"}
    page = (tmp_path / "README.md").read_text()
    assert f"python -m inductive.conv_questions out={tmp_path}" in page
    assert "`(32, 64, 64, 12)` and `3*3*16*12 + 12 = 1740`" in page
    assert "MaxPooling2D gives (32, 32, 32, 16)" in page and "GlobalAveragePooling2D gives (32, 16)" in page
    for number in range(1, 7):
        assert f"## {number}. " in page
    for link in re.findall(r"\]\(([^)]+)\)", page):
        assert link in names, link


def test_generator_rejects_unknown_keys(capsys):
    assert conv_questions.main(["output=somewhere"]) == 2
    assert "valid keys are: out" in capsys.readouterr().err
