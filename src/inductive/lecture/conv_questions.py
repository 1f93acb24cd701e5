"""`python -m inductive.conv_questions [out=DIR]`: the lecture's six Conv2D questions, answered by Keras.

Writes a CSV table and a PNG+SVG figure per question, and DIR/README.md with each answer as a
sentence, a formula and its figure. Every point is a Keras layer built and called on random data
and checked equal to the closed form in inductive.arithmetic. About 10 s on 2 CPU cores.

    python -m inductive.conv_questions                    # -> results/conv_questions/
"""

from __future__ import annotations

import sys
from typing import Any

import numpy as np
import pandas as pd
from numpy.lib.stride_tricks import sliding_window_view

from inductive import quiet
from inductive.arguments import output_path, parse_overrides, wants_help
from inductive.arithmetic import PADDINGS, Arithmetic, layer_arithmetic
from inductive.errors import ConfigError
from inductive.lecture.explain import keras_arithmetic
from inductive.lecture.conv_figures import draw_figures

DEFAULTS = {"out": "results/conv_questions"}
LECTURE_INPUT = (32, 64, 64, 16)  # the lecture's tf.random.normal((32, 64, 64, 16))
KERNELS = range(1, 8)
FILTERS = (1, 4, 8, 12, 16, 32, 64)
SIZE = 28  # an MNIST image, for the output-size questions
STRIDES = range(1, 8)
SHARING_SIZES = (4, 8, 12, 16, 20, 24, 28, 32)  # up to a CIFAR-10 image, 3 channels
SHARING_FILTERS = 8


def _keras():
    """Keras, imported where a layer is first built: a bad `out=` is refused before TensorFlow loads (seconds)."""
    with quiet.start_up_lines():
        import keras
    return keras


def measure(name: str, config: dict[str, Any], input_shape: tuple[int, ...], batch: int = 1) -> Arithmetic:
    """The closed form of one layer, after checking it against the Keras layer built and called on a batch."""
    closed = layer_arithmetic(name, config, input_shape)
    shape, params = keras_arithmetic(name, config, (batch, *input_shape))
    if shape != (batch, *closed.output_shape) or params != closed.params:
        raise RuntimeError(f"{name}({config}) on {input_shape}: Keras gives {shape[1:]} and {params}, "
                           f"the closed form {closed.output_shape} and {closed.params}")
    return closed


def params_table() -> pd.DataFrame:
    """Q1, Q2: parameters of Conv2D(filters, k x k) on the lecture's 16 input maps (H and W do not matter)."""
    rows = []
    for kernel in KERNELS:
        for filters in FILTERS:
            closed = measure("Conv2D", {"filters": filters, "kernel_size": kernel}, (8, 8, LECTURE_INPUT[-1]))
            rows.append({"kernel": kernel, "filters": filters, "in_channels": LECTURE_INPUT[-1],
                         "weights": closed.params.weights, "biases": closed.params.biases,
                         "params": closed.params.total, "formula": closed.params_formula})
    return pd.DataFrame(rows)


def output_size_table() -> pd.DataFrame:
    """Q3, Q4, Q5: output height of Conv2D on a SIZE x SIZE image, by kernel size and by stride."""
    settings = [(kernel, 1) for kernel in range(1, SIZE + 1)] + [(3, stride) for stride in STRIDES]
    rows = []
    for padding in PADDINGS:
        for kernel, stride in settings:
            config = {"filters": 1, "kernel_size": kernel, "strides": stride, "padding": padding}
            closed = measure("Conv2D", config, (SIZE, SIZE, 1))
            rows.append({"input_size": SIZE, "kernel": kernel, "strides": stride, "padding": padding,
                         "output_size": closed.output_shape[0], "macs": closed.macs})
    return pd.DataFrame(rows).drop_duplicates()


def weight_sharing_table() -> pd.DataFrame:
    """Parameters of a 3x3 conv, a conv whose kernel is the whole input, and the dense layers matching them."""
    rows = []
    for size in SHARING_SIZES:
        shape, flat = (size, size, 3), size * size * 3
        layers = {
            "Conv2D 3x3, same": ("Conv2D", {"filters": SHARING_FILTERS, "kernel_size": 3, "padding": "same"}, shape),
            "Conv2D kernel = input, valid": ("Conv2D", {"filters": SHARING_FILTERS, "kernel_size": size}, shape),
            f"Dense({SHARING_FILTERS}) on the flattened input": ("Dense", {"units": SHARING_FILTERS}, (flat,)),
            "Dense joining input to the 3x3 conv's output":
                ("Dense", {"units": size * size * SHARING_FILTERS}, (flat,)),
        }
        for layer, (name, config, input_shape) in layers.items():
            rows.append({"input_size": size, "layer": layer, "params": measure(name, config, input_shape).params.total})
    return pd.DataFrame(rows)


def dense_equivalence(height: int, width: int, channels: int, filters: int, seed: int = 0) -> dict[str, Any]:
    """Conv2D with an H x W kernel and valid padding vs Dense(filters) on the flattened input, same weights."""
    keras = _keras()
    x = np.random.default_rng(seed).normal(size=(4, height, width, channels)).astype("float32")
    conv = keras.layers.Conv2D(filters, (height, width), bias_initializer="random_normal")
    dense = keras.layers.Dense(filters)
    conv_out = keras.ops.convert_to_numpy(conv(x)).reshape(len(x), filters)
    flat = keras.layers.Flatten()(x)
    dense.build(flat.shape)
    kernel, bias = conv.get_weights()
    dense.set_weights([kernel.reshape(-1, filters), bias])  # (H, W, C, F) rows in the order Flatten reads pixels
    dense_out = keras.ops.convert_to_numpy(dense(flat))
    return {"input": f"{height}x{width}x{channels}", "filters": filters, "conv_params": conv.count_params(),
            "dense_params": dense.count_params(), "max_abs_diff": float(np.abs(conv_out - dense_out).max())}


def correlate2d(image: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Valid 2D cross-correlation of one map with one kernel slice (what Keras calls convolution)."""
    return np.einsum("ijkl,kl->ij", sliding_window_view(image, kernel.shape), kernel)


def conv2d_reference(x: np.ndarray, kernel: np.ndarray, bias: np.ndarray, padding: str = "valid") -> np.ndarray:
    """Conv2D at stride 1 in NumPy: output map f = sum over input maps c of correlate(x[c], kernel[c, f]) + bias[f]."""
    kh, kw, channels, filters = kernel.shape
    if padding == "same":  # zeros around the input; TensorFlow puts the odd row/column at the bottom/right
        x = np.pad(x, ((0, 0), ((kh - 1) // 2, kh // 2), ((kw - 1) // 2, kw // 2), (0, 0)))
    out = np.zeros((len(x), x.shape[1] - kh + 1, x.shape[2] - kw + 1, filters))
    for b in range(len(x)):
        for f in range(filters):
            for c in range(channels):
                out[b, :, :, f] += correlate2d(x[b, :, :, c], kernel[:, :, c, f])
    return out + bias


def mixing_check(shape: tuple[int, int, int, int], filters: int, kernel_size: int | tuple[int, int],
                 padding: str = "valid", seed: int = 0) -> dict[str, Any]:
    """Max |Keras Conv2D - NumPy| on random data: against the 1x1 matrix product, or the per-map sum."""
    keras = _keras()
    x = np.random.default_rng(seed).normal(size=shape).astype("float32")
    layer = keras.layers.Conv2D(filters, kernel_size, padding=padding, bias_initializer="random_normal")
    y = keras.ops.convert_to_numpy(layer(x))
    kernel, bias = layer.get_weights()
    if kernel.shape[:2] == (1, 1):
        reference = x @ kernel[0, 0] + bias  # (B, H, W, C_in) @ (C_in, filters) at every pixel
        check = "1x1 conv = matrix product over channels"
    else:
        reference = conv2d_reference(x, kernel, bias, padding)
        check = "k x k conv = sum over input maps of 2D correlations"
    return {"check": check, "input": "x".join(map(str, shape)), "filters": filters,
            "kernel": "x".join(map(str, kernel.shape[:2])), "padding": padding,
            "max_abs_diff": float(np.abs(y - reference).max())}


def mixing_table() -> pd.DataFrame:
    """Q6 on random data, including the lecture's 16 -> 12 maps."""
    return pd.DataFrame([
        mixing_check((2, 8, 8, 16), 12, 1),
        mixing_check((2, 8, 8, 16), 12, 3),
        mixing_check((2, 8, 8, 16), 12, 3, "same"),
        mixing_check((2, 9, 7, 3), 5, (2, 4), "same"),
    ])


def lecture_table() -> pd.DataFrame:
    """The lecture's own cells (and the other pooling layers): output shapes and trainable parameters."""
    layers = [("Conv2D", {"filters": 12, "kernel_size": 3, "strides": 1, "padding": "same"}),
              ("MaxPooling2D", {"pool_size": 2}), ("AveragePooling2D", {"pool_size": 2}),
              ("GlobalAveragePooling2D", {}), ("GlobalMaxPooling2D", {})]
    rows = []
    for name, config in layers:
        batch, *shape = LECTURE_INPUT
        closed = measure(name, config, tuple(shape), batch)
        rows.append({"layer": name, "config": repr(config), "input_shape": str(LECTURE_INPUT),
                     "output_shape": str((batch, *closed.output_shape)), "params": closed.params.total,
                     "formula": closed.params_formula if closed.params.total else "no trainable variables"})
    return pd.DataFrame(rows)


def mixing_example(size: int = 20) -> tuple[np.ndarray, np.ndarray, list[np.ndarray], np.ndarray]:
    """Three input maps (square, disk, bar) and one 3x3 filter: vertical edges + horizontal edges + blur."""
    yy, xx = np.mgrid[:size, :size] - (size - 1) / 2
    maps = np.stack([(abs(yy) < 5) & (abs(xx) < 5), yy**2 + xx**2 < 36, abs(yy - xx) < 2], axis=-1).astype("float32")
    sobel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], "float32")
    kernel = np.stack([sobel, sobel.T, np.full((3, 3), 1 / 9, "float32")], axis=-1)[..., None]  # (3, 3, 3 in, 1 out)
    keras = _keras()
    layer = keras.layers.Conv2D(1, 3)
    layer.build((None, size, size, 3))
    layer.set_weights([kernel, np.zeros(1, "float32")])
    output = keras.ops.convert_to_numpy(layer(maps[None]))[0, :, :, 0]
    parts = [correlate2d(maps[:, :, c], kernel[:, :, c, 0]) for c in range(3)]
    return maps, kernel, parts, output


def answers_page(tables: dict[str, pd.DataFrame], command: str) -> str:
    """The six answers as Markdown: a sentence with numbers from the tables, a formula, a figure."""
    params, sizes, sharing = tables["params"], tables["output_size"], tables["weight_sharing"]
    lecture, mixing, equivalence = tables["lecture"], tables["mixing"], tables["equivalence"]
    keras = _keras()

    def p(kernel: int, filters: int) -> int:
        return int(params[(params.kernel == kernel) & (params.filters == filters)].params.iloc[0])

    def size(kernel: int, stride: int, padding: str) -> int:
        rows = sizes[(sizes.kernel == kernel) & (sizes.strides == stride) & (sizes.padding == padding)]
        return int(rows.output_size.iloc[0])

    def shared(layer: str, input_size: int) -> int:
        return int(sharing[(sharing.layer.str.startswith(layer)) & (sharing.input_size == input_size)].params.iloc[0])

    conv = lecture.iloc[0]
    pools = lecture.iloc[1:]
    big = SHARING_SIZES[-1]
    return f"""# The lecture's six Conv2D questions, answered with Keras layers

Made by `{command}` with Keras {keras.version()} ({keras.backend.backend()} backend).
Every number below comes from a Keras layer built and called, and equals the closed form in
`inductive.arithmetic` (about 10 s on 2 CPU cores); try any single layer with `python -m inductive.explain`, e.g.
`python -m inductive.explain input=32x64x64x16 filters=12 kernel=3 padding=same strides=1`.

The lecture's cell, `Conv2D(filters=12, kernel_size=(3,3), strides=(1,1), padding="same")` on a
`{LECTURE_INPUT}` input, gives `{conv.output_shape}` and `{conv.formula} = {conv.params}` parameters
([lecture.csv](lecture.csv)). Symbols: input H x W x C_in, kernel k_h x k_w, F filters, stride s.

## 1. How does the kernel size affect the number of parameters?

Parameters grow with the kernel's area, not its side: on 16 input maps with 12 filters a 3x3 kernel
has {p(3, 12)} parameters, 5x5 has {p(5, 12)} ({p(5, 12) / p(3, 12):.1f}x) and 7x7 has {p(7, 12)}.
The input's height and width play no part.

**params = k_h · k_w · C_in · F + F** (weights + one bias per filter)

![parameters vs kernel size](q1_params_vs_kernel.png) — table: [params.csv](params.csv)

## 2. How does the number of filters affect the number of parameters?

Linearly: each filter has its own k_h · k_w · C_in weights and one bias, so a 3x3 filter on 16 maps
costs {p(3, 1)} parameters and 64 of them cost {p(3, 64)} = 64 x {p(3, 1)}.

**params = F · (k_h · k_w · C_in + 1)**

![parameters vs filters](q2_params_vs_filters.png) — table: [params.csv](params.csv)

## 3. How does the kernel size affect the height and width of the output?

With `padding="valid"` the kernel must fit inside the input, so each axis loses k - 1 pixels: a
{SIZE}x{SIZE} image gives {size(3, 1, 'valid')}x{size(3, 1, 'valid')} with a 3x3 kernel,
{size(7, 1, 'valid')}x{size(7, 1, 'valid')} with 7x7, and 1x1 when the kernel covers the whole image.

**H_out = H - k_h + 1** (and the same for W)

![output size vs kernel size](q3_q4_output_vs_kernel.png) — table: [output_size.csv](output_size.csv)

## 4. How does that change when padding is "same" instead of "valid"?

`padding="same"` surrounds the input with zeros so that, at stride 1, the output keeps the input's
size whatever the kernel ({SIZE}x{SIZE} for every k from 1 to {SIZE}); the parameters do not change,
the border outputs just see some zeros.

**H_out = H** (at stride 1; in general ⌈H / s⌉)

![output size vs kernel size](q3_q4_output_vs_kernel.png) — table: [output_size.csv](output_size.csv)

## 5. What does strides do and how does it affect the output shape?

The stride is the step between two kernel positions: stride s keeps every s-th position, so the
output shrinks about s times per axis (and the multiply-accumulates s² times) with the same
parameters. A 3x3 kernel on {SIZE}x{SIZE} gives {size(3, 1, 'same')}, {size(3, 2, 'same')} and
{size(3, 4, 'same')} pixels per axis at strides 1, 2 and 4 with `same`; {size(3, 1, 'valid')},
{size(3, 2, 'valid')} and {size(3, 4, 'valid')} with `valid`.

**H_out = ⌈H / s⌉ (same), ⌊(H - k_h) / s⌋ + 1 (valid)**

![output size vs stride](q5_output_vs_stride.png) — table: [output_size.csv](output_size.csv)

## 6. How are different feature maps mixed with each other?

Every output map reads all input maps: filter f holds one k_h x k_w slice per input map, correlates
each map with its slice and adds the results plus a bias. A 1x1 convolution is therefore a matrix
product over channels at every pixel, and a k x k convolution a sum of per-map 2D correlations; both
match a NumPy reference on random data to {mixing.max_abs_diff.max():.0e} (float32).

**out[:, :, f] = b_f + Σ_c correlate(in[:, :, c], W[:, :, c, f])**

![feature map mixing](q6_feature_map_mixing.png) — table: [mixing.csv](mixing.csv)

## The lecture's other claims

**A conv whose kernel covers the whole input is a dense layer with `filters` units.** Conv2D with a
H x W kernel and `valid` padding has exactly the parameters of Dense(filters) on the flattened input
({equivalence.conv_params.iloc[0]} = {equivalence.dense_params.iloc[0]} for {equivalence.input.iloc[0]}
with {equivalence.filters.iloc[0]} filters), and with the conv's weights copied into the dense layer the
outputs agree to {equivalence.max_abs_diff.max():.0e} ([equivalence.csv](equivalence.csv)).
Shrinking the kernel is what weight sharing buys: a 3x3 conv keeps {shared('Conv2D 3x3', big)} parameters
at any input size, while the dense layer joining a {big}x{big}x3 input to the same {big}x{big}x{SHARING_FILTERS}
output needs {shared('Dense joining', big):,}.

**params(dense equivalent) = (H · W · C_in) · (H_out · W_out · F) + H_out · W_out · F**

![weight sharing](weight_sharing.png) — table: [weight_sharing.csv](weight_sharing.csv)

**Pooling layers have no trainable variables.** On the lecture's input,
{", ".join(f"{row.layer} gives {row.output_shape}" for row in pools.itertuples())}, each with
{pools.params.sum()} parameters ([lecture.csv](lecture.csv)).
"""


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if wants_help(argv, __doc__):
        return 0
    try:
        cfg, _ = parse_overrides(argv, DEFAULTS)
        out = output_path("out", cfg["out"], "folder", may_hold="the tables, figures and README.md it wrote before",
                          example="a folder like results/conv_questions")
    except ConfigError as err:
        print(f"conv_questions: {err}", file=sys.stderr)
        return 2
    tables = {
        "lecture": lecture_table(),
        "params": params_table(),
        "output_size": output_size_table(),
        "weight_sharing": weight_sharing_table(),
        "equivalence": pd.DataFrame([dense_equivalence(h, w, c, f) for h, w, c, f in
                                     [(8, 8, 3, SHARING_FILTERS), (28, 28, 1, 10), (5, 7, 16, 12)]]),
        "mixing": mixing_table(),
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.to_csv(out / f"{name}.csv", index=False)
    draw_figures(tables, mixing_example(), out, SHARING_FILTERS)
    (out / "README.md").write_text(answers_page(tables, " ".join(["python -m inductive.conv_questions", *argv])))
    print(f"wrote {len(tables)} tables, 6 figures (PNG + SVG) and README.md to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
