"""The figures of the six questions' answers page, drawn from the tables `conv_questions` measured."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from inductive.arithmetic import PADDINGS
from inductive.evidence.style import save_figure, slide_style


def draw_figures(tables: dict[str, pd.DataFrame], example: tuple, out: Path, sharing_filters: int) -> None:
    """One figure per question, drawn from the tables alone (the input sizes measured are in them), plus the small
    mixing example `example`: (input maps, kernel, per-map correlations, Keras output) from
    `conv_questions.mixing_example`. `sharing_filters`: the output maps of the weight-sharing table's layers."""
    params, sizes, sharing = tables["params"], tables["output_size"], tables["weight_sharing"]
    size = int(sizes["input_size"].iloc[0])  # one input size: the output-size questions' image
    sharing_sizes = sorted(sharing["input_size"].unique())
    with slide_style():
        fig, ax = plt.subplots()
        for filters in (4, 12, 32, 64):
            rows = params[params.filters == filters]
            ax.plot(rows.kernel, rows.params, "o-", label=f"{filters} filters")
        ax.set(xlabel="kernel size k (a k x k kernel, pixels)", ylabel="trainable parameters (count)",
               title="Q1: parameters grow with the kernel's area (16 input maps)")
        ax.legend()
        save_figure(fig, out / "q1_params_vs_kernel")

        fig, ax = plt.subplots()
        for kernel in (1, 3, 5, 7):
            rows = params[params.kernel == kernel]
            ax.plot(rows.filters, rows.params, "o-", label=f"{kernel}x{kernel} kernel")
        ax.set(xlabel="filters (output feature maps)", ylabel="trainable parameters (count)",
               title="Q2: parameters grow linearly with filters (16 input maps)")
        ax.legend()
        save_figure(fig, out / "q2_params_vs_filters")

        fig, ax = plt.subplots()
        for padding in PADDINGS:
            rows = sizes[(sizes.strides == 1) & (sizes.padding == padding)]
            ax.plot(rows.kernel, rows.output_size, "o-", label=f"padding='{padding}'")
        ax.set(xlabel="kernel size k (pixels)", ylabel="output height = width (pixels)",
               title=f"Q3, Q4: output size of a {size}x{size} input, stride 1")
        ax.legend()
        save_figure(fig, out / "q3_q4_output_vs_kernel")

        fig, ax = plt.subplots()
        for padding in PADDINGS:
            rows = sizes[(sizes.kernel == 3) & (sizes.padding == padding)]
            ax.plot(rows.strides, rows.output_size, "o-", label=f"padding='{padding}'")
        ax.set(xlabel="stride s (pixels)", ylabel="output height = width (pixels)",
               title=f"Q5: output size of a {size}x{size} input, 3x3 kernel")
        ax.legend()
        save_figure(fig, out / "q5_output_vs_stride")

        fig, ax = plt.subplots()
        for layer, rows in sharing.groupby("layer", sort=False):
            # Dense(filters) as bare crosses, so the conv it equals shows through.
            crosses = layer.startswith("Dense(")
            style = dict(linestyle="none", marker="x", markersize=12) if crosses else dict(marker="o")
            ax.plot(rows.input_size, rows.params, label=layer, **style)
        ax.set(xscale="log", yscale="log", ylim=(100, 1e11), xlabel="input height = width (pixels, 3 channels)",
               ylabel="trainable parameters (count, log scale)",
               title=f"Weight sharing: conv vs dense, {sharing_filters} output maps")
        ax.minorticks_off()
        ax.set_xticks(sharing_sizes, [str(s) for s in sharing_sizes])
        ax.legend(fontsize=11, loc="upper left")
        save_figure(fig, out / "weight_sharing")

        maps, kernel, parts, output = example
        fig, axes = plt.subplots(3, 4, figsize=(11, 8))
        names = ["square", "disk", "bar"]
        for c, row in enumerate(axes):
            row[0].imshow(maps[:, :, c], cmap="gray")
            row[0].set_title(f"input map {c}: {names[c]}")
            row[1].imshow(kernel[:, :, c, 0], cmap="RdBu_r", vmin=-2, vmax=2)
            for (i, j), value in np.ndenumerate(kernel[:, :, c, 0]):
                row[1].text(j, i, f"{value:.2g}", ha="center", va="center", fontsize=11)
            row[1].set_title(f"kernel[:, :, {c}, 0]")
            limit = np.abs(parts[c]).max()
            row[2].imshow(parts[c], cmap="RdBu_r", vmin=-limit, vmax=limit)
            row[2].set_title(f"map {c} correlated")
            row[3].set_visible(c == 1)
        limit = np.abs(output).max()
        axes[1, 3].imshow(output, cmap="RdBu_r", vmin=-limit, vmax=limit)
        axes[1, 3].set_title("sum = Keras output")
        for ax in axes.flat:
            ax.set(xticks=[], yticks=[])
            ax.grid(False)
        diff = np.abs(sum(parts) - output).max()
        fig.suptitle(f"Q6: one output map mixes all input maps (max |NumPy sum - Keras| = {diff:.1e})")
        save_figure(fig, out / "q6_feature_map_mixing")
