"""A locally connected 2D layer: Conv2D's receptive fields and strides, without the weight sharing.

Keras 3 no longer ships one. Every output position (i, j) has its own kernel, so the layer sees
the same pixels as a Conv2D but must learn each feature once per position: the control for
"weight sharing helps" against "locality helps".

Weights: kernel (out_h * out_w, kh * kw * C_in, filters), one Conv2D kernel flattened per output
position in row-major (i, j) order; bias (out_h, out_w, filters), one bias per position and filter.
With every position's kernel and bias equal to a Conv2D's, the layer computes that Conv2D.
"""

from __future__ import annotations

import math

import keras
import numpy as np
import tensorflow as tf

from inductive.arithmetic import PADDINGS, _pair, _positive, conv2d_output_shape


@keras.saving.register_keras_serializable(package="inductive")
class LocallyConnected2D(keras.layers.Layer):
    """Conv2D with a separate kernel at every output position (channels_last, no dilation).

    padding="same" pads as Conv2D does: pad_total = max((out - 1) * stride + kernel - size, 0)
    per axis, pad_total // 2 of it before (top/left) and the rest after.
    """

    def __init__(
        self,
        filters: int,
        kernel_size: int | tuple[int, int],
        strides: int | tuple[int, int] = 1,
        padding: str = "valid",
        activation: str | None = None,
        use_bias: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {PADDINGS}, got {padding!r}")
        self.filters = _positive(filters, "filters")
        self.kernel_size = _pair(kernel_size, "kernel_size")
        self.strides = _pair(strides, "strides")
        self.padding = padding
        self.activation = keras.activations.get(activation)
        self.use_bias = use_bias

    def compute_output_shape(self, input_shape: tuple[int | None, ...]) -> tuple[int | None, ...]:
        batch, height, width, channels = input_shape
        if height is None or width is None or channels is None:
            raise ValueError(f"LocallyConnected2D needs a fixed (H, W, C) input shape, got {tuple(input_shape)}")
        return (batch, *conv2d_output_shape((height, width, channels), self.filters, self.kernel_size,
                                            self.strides, self.padding))

    def build(self, input_shape: tuple[int | None, ...]) -> None:
        _, out_h, out_w, _ = self.compute_output_shape(input_shape)
        kh, kw = self.kernel_size
        taps = kh * kw * input_shape[-1]
        # Each position's kernel starts as glorot_uniform starts a Conv2D kernel. Keras' own glorot
        # would count the out_h * out_w positions into the fans and start the layer ~sqrt(positions) too small.
        limit = math.sqrt(6 / (taps + kh * kw * self.filters))
        self.kernel = self.add_weight(shape=(out_h * out_w, taps, self.filters), name="kernel",
                                      initializer=keras.initializers.RandomUniform(-limit, limit))
        self.bias = (self.add_weight(shape=(out_h, out_w, self.filters), name="bias", initializer="zeros")
                     if self.use_bias else None)

    def call(self, inputs):
        outputs = self.contract(self.patches(inputs))
        _, out_h, out_w, _ = self.compute_output_shape(inputs.shape)
        outputs = keras.ops.reshape(outputs, (-1, out_h, out_w, self.filters))
        if self.use_bias:
            outputs = outputs + self.bias
        return self.activation(outputs)

    def patches(self, inputs):
        """(positions, batch, taps): each output position's receptive field, flattened as a Conv2D kernel is
        (kernel row, kernel column, channel), positions in row-major (i, j) order.

        The same numbers, forward and backward, as tf.image.extract_patches transposed to positions leading,
        which it replaced (with TensorFlow 2.21's gradient for that op; tests/test_local.py checks it bit for
        bit). With extract_patches a `local` epoch and its evaluation passes took 1.41x longer at Fashion-MNIST's
        shape and 1.90x at CIFAR-10's on the 2-core CPU where this was measured (benchmarks/local_layer.py
        times the ways and checks the trained weights are identical).

        Forward, the patches are kh * kw strided slices of the padded input with the batch axis moved behind
        the spatial ones, so they come out positions-leading for `contract` and only the small input is ever
        transposed. Backward, each input pixel sums the gradients of the taps that read it, with the same
        unsorted_segment_sum over the same rows in the same order as extract_patches' own gradient: summing the
        slices' gradients instead (what autodiff gives) changes the last bits of the gradients upstream.
        """
        kh, kw = self.kernel_size
        sh, sw = self.strides
        _, height, width, channels = inputs.shape
        _, out_h, out_w, _ = self.compute_output_shape(inputs.shape)
        # "same" pads as Conv2D does, the odd pixel after; "valid" has nothing to pad (both are 0 there)
        pad_h, pad_w = (max((out - 1) * stride + kernel - size, 0)
                        for out, stride, kernel, size in ((out_h, sh, kh, height), (out_w, sw, kw, width)))
        top, left = pad_h // 2, pad_w // 2
        rows = np.arange(out_h)[:, None, None, None] * sh - top + np.arange(kh)[None, None, :, None]
        cols = np.arange(out_w)[None, :, None, None] * sw - left + np.arange(kw)[None, None, None, :]
        inside = (rows >= 0) & (rows < height) & (cols >= 0) & (cols < width)
        pixel = np.where(inside, rows * width + cols, -1).reshape(-1)  # per (i, j, tap row, tap col); -1: padding

        @tf.custom_gradient
        def cut(spatial_first):  # (H, W, batch, C) -> (positions, batch, taps)
            padded = tf.pad(spatial_first, ((top, pad_h - top), (left, pad_w - left), (0, 0), (0, 0)))
            taps = [padded[i:i + (out_h - 1) * sh + 1:sh, j:j + (out_w - 1) * sw + 1:sw]
                    for i in range(kh) for j in range(kw)]
            patches = tf.reshape(tf.concat(taps, axis=-1), (out_h * out_w, -1, kh * kw * channels))

            def scatter_back(upstream):  # rows (i, j, tap row, tap col), columns (batch, C), as extract_patches'
                batch = tf.shape(upstream)[1]
                by_tap = tf.transpose(tf.reshape(upstream, (out_h * out_w, batch, kh * kw, channels)), (0, 2, 1, 3))
                summed = tf.math.unsorted_segment_sum(tf.reshape(by_tap, (-1, batch * channels)),
                                                      tf.constant(pixel, tf.int64), num_segments=height * width)
                return tf.reshape(summed, (height, width, batch, channels))

            return patches, scatter_back

        return cut(tf.transpose(inputs, (1, 2, 0, 3)))

    def contract(self, patches):
        """(batch, positions, filters): each position's patch times that position's own kernel.

        One small matmul per position, positions leading. einsum("bpk,pkf->bpf") on batch-leading patches, as
        the layer once did, ends in the same batched matmul and gives the same trained weights
        (benchmarks/local_layer.py checks it), but took 1.2-1.4x longer per `local` training epoch."""
        return keras.ops.transpose(keras.ops.matmul(patches, self.kernel), (1, 0, 2))

    def get_config(self) -> dict:
        return {**super().get_config(), "filters": self.filters, "kernel_size": self.kernel_size,
                "strides": self.strides, "padding": self.padding,
                "activation": keras.activations.serialize(self.activation), "use_bias": self.use_bias}
