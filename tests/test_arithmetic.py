"""The closed form in inductive.arithmetic equals what real Keras layers do."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import pytest  # noqa: E402
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from conftest import examples, lazy  # noqa: E402
from inductive import arithmetic  # noqa: E402
from inductive.arithmetic import LayerSettingError, ParamCount, layer_arithmetic, model_macs  # noqa: E402
from inductive.lecture.explain import keras_arithmetic  # noqa: E402

keras = lazy("keras")
pytestmark = pytest.mark.tensorflow

FAST = settings(max_examples=examples(40), deadline=None)


@st.composite
def conv_settings(draw) -> tuple[tuple[int, int, int], dict]:
    """A Conv2D that Keras accepts on an (H, W, C) input: a valid kernel fits, dilation only at stride 1."""
    h, w, c = draw(st.integers(1, 9)), draw(st.integers(1, 9)), draw(st.integers(1, 4))
    padding = draw(st.sampled_from(arithmetic.PADDINGS))
    dilation = draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    strides = (1, 1) if max(dilation) > 1 else draw(st.tuples(st.integers(1, 3), st.integers(1, 3)))
    if padding == "valid":  # the dilated kernel must fit: d * (k - 1) + 1 <= size
        kernel = (draw(st.integers(1, (h - 1) // dilation[0] + 1)), draw(st.integers(1, (w - 1) // dilation[1] + 1)))
    else:
        kernel = (draw(st.integers(1, 5)), draw(st.integers(1, 5)))
    config = {"filters": draw(st.integers(1, 5)), "kernel_size": kernel, "strides": strides, "padding": padding,
              "dilation_rate": dilation, "use_bias": draw(st.booleans())}
    return (h, w, c), config


@FAST
@given(conv_settings())
def test_conv2d_closed_form_equals_keras(setting):
    shape, config = setting
    closed = layer_arithmetic("Conv2D", config, shape)
    assert keras_arithmetic("Conv2D", config, (2, *shape)) == ((2, *closed.output_shape), closed.params)
    # the older single-purpose functions agree with the bundle
    assert closed.output_shape == arithmetic.conv2d_output_shape(
        shape, config["filters"], config["kernel_size"], config["strides"], config["padding"], config["dilation_rate"])
    assert closed.params == arithmetic.conv2d_params(
        shape[2], config["filters"], config["kernel_size"], config["use_bias"])
    assert closed.macs == closed.output_shape[0] * closed.output_shape[1] * config["filters"] * (
        config["kernel_size"][0] * config["kernel_size"][1] * shape[2])


@st.composite
def pool_settings(draw) -> tuple[str, tuple[int, int, int], dict]:
    h, w, c = draw(st.integers(1, 9)), draw(st.integers(1, 9)), draw(st.integers(1, 3))
    padding = draw(st.sampled_from(arithmetic.PADDINGS))
    high_h, high_w = (h, w) if padding == "valid" else (5, 5)
    config = {"pool_size": (draw(st.integers(1, high_h)), draw(st.integers(1, high_w))), "padding": padding,
              "strides": draw(st.one_of(st.none(), st.integers(1, 3)))}
    return draw(st.sampled_from(["MaxPooling2D", "AveragePooling2D"])), (h, w, c), config


@FAST
@given(pool_settings())
def test_pool2d_closed_form_equals_keras(setting):
    name, shape, config = setting
    closed = layer_arithmetic(name, config, shape)
    assert keras_arithmetic(name, config, (2, *shape)) == ((2, *closed.output_shape), ParamCount(0, 0))
    assert closed.macs == 0


@FAST
@given(
    shape=st.lists(st.integers(1, 6), min_size=1, max_size=3).map(tuple),
    units=st.integers(1, 6),
    use_bias=st.booleans(),
)
def test_dense_closed_form_equals_keras(shape, units, use_bias):
    closed = layer_arithmetic("Dense", {"units": units, "use_bias": use_bias}, shape)
    assert keras_arithmetic("Dense", {"units": units, "use_bias": use_bias}, (2, *shape)) == (
        (2, *closed.output_shape), closed.params)
    assert closed.params == arithmetic.dense_params(shape[-1], units, use_bias)


@FAST
@given(shape=st.tuples(st.integers(1, 6), st.integers(1, 6), st.integers(1, 5)), keepdims=st.booleans(),
       name=st.sampled_from(["GlobalAveragePooling2D", "GlobalMaxPooling2D"]))
def test_global_pooling_closed_form_equals_keras(shape, keepdims, name):
    closed = layer_arithmetic(name, {"keepdims": keepdims}, shape)
    assert keras_arithmetic(name, {"keepdims": keepdims}, (2, *shape)) == ((2, *closed.output_shape), ParamCount(0, 0))


@settings(max_examples=examples(50), deadline=None)
@given(h=st.integers(1, 30), w=st.integers(1, 30), c=st.integers(1, 16), filters=st.integers(1, 64),
       use_bias=st.booleans())
def test_whole_input_kernel_costs_what_dense_costs(h, w, c, filters, use_bias):
    conv = layer_arithmetic("Conv2D", {"filters": filters, "kernel_size": (h, w), "use_bias": use_bias}, (h, w, c))
    dense = layer_arithmetic("Dense", {"units": filters, "use_bias": use_bias}, (h * w * c,))
    assert conv.output_shape == (1, 1, filters)
    assert (conv.params, conv.macs) == (dense.params, dense.macs)
    # a 1x1 conv is the same Dense applied at every pixel
    pointwise = layer_arithmetic("Conv2D", {"filters": filters, "kernel_size": 1, "use_bias": use_bias}, (h, w, c))
    per_pixel = layer_arithmetic("Dense", {"units": filters, "use_bias": use_bias}, (h, w, c))
    assert (pointwise.output_shape, pointwise.params, pointwise.macs) == (
        per_pixel.output_shape, per_pixel.params, per_pixel.macs)


def test_lecture_numbers():
    conv = layer_arithmetic("Conv2D", {"filters": 12, "kernel_size": 3, "padding": "same"}, (64, 64, 16))
    assert conv.output_shape == (64, 64, 12)
    assert (conv.params, conv.params.total) == (ParamCount(1728, 12), 1740)
    assert conv.params_formula == "3*3*16*12 + 12"
    assert conv.macs == 64 * 64 * 12 * 3 * 3 * 16
    assert layer_arithmetic("MaxPooling2D", {"pool_size": 2}, (64, 64, 16)).output_shape == (32, 32, 16)
    assert layer_arithmetic("GlobalAveragePooling2D", {}, (64, 64, 16)).output_shape == (16,)


def test_dense_equivalent_params():
    assert arithmetic.dense_equivalent_params((64, 64, 16), (64, 64, 12)) == ParamCount(65536 * 49152, 49152)
    assert arithmetic.dense_equivalent_params((4, 4, 3), (2, 2, 8), use_bias=False).total == 48 * 32


def test_existing_functions_keep_their_behaviour():
    assert arithmetic.conv2d_output_shape((28, 28, 1), 32, 3) == (26, 26, 32)
    assert arithmetic.conv2d_output_shape((28, 28, 1), 32, (3, 5), 2, "same") == (14, 14, 32)
    assert arithmetic.pool2d_output_shape((26, 26, 32), 2) == (13, 13, 32)
    assert arithmetic.output_size(28, 5, 1, "valid", 2) == 20
    assert arithmetic.dense_params(784, 10).total == 7850
    assert arithmetic.global_pool2d_output_shape((7, 7, 64)) == (64,)


def test_model_macs_sums_the_layers():
    model = keras.Sequential([
        keras.Input((28, 28, 1)),
        keras.layers.Conv2D(8, 3, activation="relu"),
        keras.layers.MaxPooling2D(2),
        keras.layers.Conv2D(16, 3, padding="same"),
        keras.layers.AveragePooling2D(2),
        keras.layers.Flatten(),
        keras.layers.Dropout(0.5),
        keras.layers.Dense(10),
    ])
    assert model_macs(model) == 26 * 26 * 8 * 9 + 13 * 13 * 16 * 9 * 8 + 6 * 6 * 16 * 10

    inputs = keras.Input((8, 8, 3))
    outputs = keras.layers.Dense(4)(keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(5, 1)(inputs)))
    assert model_macs(keras.Model(inputs, outputs)) == 8 * 8 * 5 * 3 + 5 * 4


def test_model_macs_names_the_layer_it_cannot_count():
    model = keras.Sequential([keras.Input((8, 8, 3)), keras.layers.BatchNormalization(name="bn")])
    with pytest.raises(LayerSettingError, match="'bn'.*BatchNormalization.*use one of"):
        model_macs(model)


@pytest.mark.parametrize(
    ("name", "config", "shape", "message"),
    [
        ("Conv2D", {"filters": 4, "kernel_size": 9}, (8, 8, 3), "kernel 9 .* larger than the input size 8"),
        ("Conv2D", {"filters": 4, "kernel_size": 3, "dilation_rate": 4}, (8, 8, 3), "effective 9"),
        ("Conv2D", {"filters": 0, "kernel_size": 3}, (8, 8, 3), "filters must be a positive int, got 0"),
        ("Conv2D", {"filters": 4, "kernel_size": -1}, (8, 8, 3), "kernel_size must be a positive int"),
        ("Conv2D", {"filters": 4, "kernel_size": True}, (8, 8, 3), "kernel_size"),
        ("Conv2D", {"filters": 4, "kernel_size": 3, "padding": "full"}, (8, 8, 3), r"padding must be one of .*'full'"),
        ("Conv2D", {"filters": 4, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, (8, 8, 3), "strides"),
        ("Conv2D", {"filters": 4, "kernel_size": 3, "groups": 2}, (8, 8, 4), "groups must be 1"),
        ("Conv2D", {"filters": 4, "kernel_size": 3, "data_format": "channels_first"}, (3, 8, 8), "channels_last"),
        ("Conv2D", {"filters": 4, "kernel_size": 3}, (0, 8, 3), "input_shape must be"),
        ("Conv2D", {"filters": 4, "kernel_size": 3}, (8, 8), r"\(H, W, C\)"),
        ("MaxPooling2D", {"pool_size": 5}, (4, 4, 3), "larger than the input size 4"),
        ("MaxPooling2D", {"pool_size": 2, "strides": 0}, (4, 4, 3), "strides"),
        ("Dense", {"units": -2}, (10,), "units must be a positive int"),
        ("Conv3D", {"filters": 4, "kernel_size": 3}, (8, 8, 8, 3), "use one of"),
    ],
)
def test_invalid_settings_are_clear_errors(name, config, shape, message):
    with pytest.raises(LayerSettingError, match=message):
        layer_arithmetic(name, config, shape)
