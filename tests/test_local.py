from __future__ import annotations

import numpy as np
import pytest

from conftest import lazy

from inductive.arithmetic import LayerSettingError
from inductive.arithmetic import local2d_params
from inductive.training.precision import cpu_bf16_flags

keras = lazy("keras")
layers = lazy("inductive.training.local")
pytestmark = pytest.mark.tensorflow


def shared_like(conv: keras.layers.Conv2D, local: layers.LocallyConnected2D) -> None:
    """Give every output position of `local` the kernel and bias of `conv`."""
    kernel, bias = conv.get_weights()
    positions, taps, filters = local.kernel.shape
    local.set_weights([np.tile(kernel.reshape(1, taps, filters), (positions, 1, 1)),
                       np.broadcast_to(bias, local.bias.shape)])


@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("kernel_size, strides", [(3, 1), (3, 2), ((2, 3), (2, 1)), (4, 3), (1, 1)])
def test_equal_kernels_at_every_position_compute_conv2d(padding, kernel_size, strides):
    x = np.random.default_rng(0).normal(size=(2, 9, 8, 3)).astype("float32")
    conv = keras.layers.Conv2D(4, kernel_size, strides=strides, padding=padding, bias_initializer="random_normal")
    local = layers.LocallyConnected2D(4, kernel_size, strides=strides, padding=padding)
    expected = keras.ops.convert_to_numpy(conv(x))
    local.build(x.shape)
    shared_like(conv, local)
    got = keras.ops.convert_to_numpy(local(x))
    assert got.shape == expected.shape
    assert np.abs(got - expected).max() < 1e-5


def test_each_position_has_its_own_kernel():
    local = layers.LocallyConnected2D(2, 3, padding="same")
    local.build((None, 5, 5, 1))
    kernel = np.zeros(local.kernel.shape, "float32")
    kernel[2 * 5 + 3] = 1.0  # only output position (2, 3) sees anything
    local.set_weights([kernel, np.zeros(local.bias.shape, "float32")])
    out = keras.ops.convert_to_numpy(local(np.ones((1, 5, 5, 1), "float32")))[0]
    assert out[2, 3].tolist() == [9.0, 9.0]
    assert np.count_nonzero(out) == 2


@pytest.mark.parametrize("input_shape, filters, kernel_size, strides, padding, use_bias", [
    ((28, 28, 1), 32, 3, 1, "same", True), ((14, 14, 32), 64, 3, 1, "same", True),
    ((9, 8, 3), 5, (2, 3), (2, 1), "valid", True), ((9, 8, 3), 5, 4, 3, "same", False),
])
def test_parameter_count_closed_form(input_shape, filters, kernel_size, strides, padding, use_bias):
    layer = layers.LocallyConnected2D(filters, kernel_size, strides=strides, padding=padding, use_bias=use_bias)
    layer.build((None, *input_shape))
    closed = local2d_params(input_shape, filters, kernel_size, strides, padding, use_bias)
    assert closed.total == layer.count_params() == sum(int(np.prod(w.shape)) for w in layer.weights)
    assert closed.biases == (int(np.prod(layer.bias.shape)) if use_bias else 0)


def test_parameter_count_is_a_conv2d_count_per_output_position():
    assert local2d_params((28, 28, 1), 32, 3, padding="same").total == 28 * 28 * (3 * 3 * 1 * 32 + 32)
    assert local2d_params((28, 28, 1), 32, 3).total == 26 * 26 * (3 * 3 * 1 * 32 + 32)


def test_kernels_start_at_conv2d_scale():
    keras.utils.set_random_seed(0)
    local = layers.LocallyConnected2D(64, 3)
    local.build((None, 14, 14, 32))
    limit = np.sqrt(6 / (3 * 3 * 32 + 3 * 3 * 64))  # glorot_uniform of the matching Conv2D kernel
    assert 0.9 * limit < np.abs(keras.ops.convert_to_numpy(local.kernel)).max() <= np.float32(limit)


def test_saves_and_loads(tmp_path):
    model = keras.Sequential([keras.Input((6, 6, 2)), layers.LocallyConnected2D(3, 3, strides=2, padding="same",
                                                                         activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(2)])
    x = np.random.default_rng(1).normal(size=(4, 6, 6, 2)).astype("float32")
    model.save(tmp_path / "local.keras")
    loaded = keras.saving.load_model(tmp_path / "local.keras")
    assert loaded.layers[0].get_config() == model.layers[0].get_config()
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_mixed_precision_computes_in_float16():
    x = np.random.default_rng(2).normal(size=(2, 6, 6, 3)).astype("float32")
    full = layers.LocallyConnected2D(4, 3)
    expected = keras.ops.convert_to_numpy(full(x))
    keras.mixed_precision.set_global_policy("mixed_float16")
    try:
        half = layers.LocallyConnected2D(4, 3)
        half.build(x.shape)
        half.set_weights(full.get_weights())
        got = half(x)
    finally:
        keras.mixed_precision.set_global_policy("float32")
    assert half.kernel.dtype == "float32" and got.dtype == "float16"
    np.testing.assert_allclose(keras.ops.convert_to_numpy(got).astype("float32"), expected, atol=2e-2)


@pytest.mark.slow
def test_outputs_and_gradients_compile_under_xla():
    """The layer, its custom gradient included, compiles under XLA (`trainer.jit_compile=true`) and gives the
    eager numbers to float32 rounding. Keras's fit quietly turns XLA off while op determinism is on, as it is
    for most of this suite, so this compiles a tf.function itself."""
    import tensorflow as tf

    keras.utils.set_random_seed(3)
    layer = layers.LocallyConnected2D(2, 3, strides=2, padding="same", activation="tanh")
    x = tf.constant(np.random.default_rng(3).normal(size=(4, 7, 6, 3)).astype("float32"))
    layer.build(x.shape)

    def outputs_and_gradients(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = layer(x)
            loss = tf.reduce_sum(outputs * outputs)
        return [outputs, *tape.gradient(loss, [x, layer.kernel])]

    compiled = tf.function(outputs_and_gradients, jit_compile=True)
    assert "HloModule" in compiled.experimental_get_compiler_ir(x)(stage="hlo")  # raises if XLA cannot compile it
    eager = [v.numpy() for v in outputs_and_gradients(x)]
    for got, expected in zip(compiled(x), eager):
        np.testing.assert_allclose(got.numpy(), expected, rtol=1e-5, atol=1e-6)
    assert np.abs(eager[1]).max() > 0  # the gradient reaches the input through the patches


def test_refuses_a_kernel_larger_than_a_valid_input():
    with pytest.raises(LayerSettingError, match="larger than the input size 4"):
        layers.LocallyConnected2D(2, 5).build((None, 4, 4, 1))
    with pytest.raises(ValueError, match="padding must be one of"):
        layers.LocallyConnected2D(2, 3, padding="causal")
    with pytest.raises(ValueError, match="fixed"):
        layers.LocallyConnected2D(2, 3).build((None, None, None, 1))


def extract_patches_reference(layer: layers.LocallyConnected2D, x):
    """The output from tf.image.extract_patches, as the layer itself computed it until late on 2026-12-04."""
    import tensorflow as tf

    (kh, kw), (sh, sw), dtype = layer.kernel_size, layer.strides, layer.compute_dtype
    patches = tf.image.extract_patches(tf.cast(x, dtype), [1, kh, kw, 1], [1, sh, sw, 1], [1, 1, 1, 1],
                                       layer.padding.upper())
    _, out_h, out_w, taps = patches.shape
    outputs = tf.einsum("bpk,pkf->bpf", tf.reshape(patches, (-1, out_h * out_w, taps)), tf.cast(layer.kernel, dtype))
    return tf.reshape(outputs, (-1, out_h, out_w, layer.filters)) + tf.cast(layer.bias, dtype)


@pytest.mark.parametrize("policy", ["float32", "mixed_bfloat16"])
@pytest.mark.parametrize("padding", ["valid", "same"])
@pytest.mark.parametrize("kernel_size, strides, batch", [(3, 1, 3), (3, 2, 3), ((2, 3), (2, 1), 3), (4, 3, 3),
                                                         (2, 2, 3), (2, 3, 1)])
def test_outputs_and_gradients_are_extract_patches_own_bit_for_bit(policy, padding, kernel_size, strides, batch):
    """The sliced patches and their segment-sum gradient give exactly extract_patches' numbers: the layer could
    change speed without changing a single run's history."""
    import tensorflow as tf

    if policy == "mixed_bfloat16" and not cpu_bf16_flags():
        pytest.skip("bit-identity in bfloat16 is a property of oneDNN's native bf16 kernels; this CPU has no "
                    "amx_bf16 or avx512_bf16 flag, so bfloat16 is emulated and may sum in another order")

    x = tf.constant(np.random.default_rng(4).normal(size=(batch, 9, 8, 5)).astype("float32"))
    layer = layers.LocallyConnected2D(4, kernel_size, strides=strides, padding=padding, dtype=policy)
    layer.build(x.shape)
    layer.bias.assign(np.random.default_rng(5).normal(size=layer.bias.shape))
    results = []
    for forward in (layer, lambda inputs: extract_patches_reference(layer, inputs)):
        with tf.GradientTape() as tape:
            tape.watch(x)
            outputs = tf.cast(forward(x), "float32")
            loss = tf.reduce_sum(outputs * outputs)
        results.append([outputs, *tape.gradient(loss, [x, layer.kernel])])
    assert results[0][0].shape == results[1][0].shape and layer.compute_dtype == policy.removeprefix("mixed_")
    for got, expected in zip(*results):
        np.testing.assert_array_equal(got.numpy(), expected.numpy())
