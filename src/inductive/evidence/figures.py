"""The report's figures, each drawn from one table a claim returned (saved beside it as CSV).

So any figure can be re-made from the saved tables alone:
    table = pd.read_csv("report/claim3_effects.csv")
    figures.DRAWERS["effects"](table, "Conv architectures overfit less", "claim3_effects")
Every model keeps its colour and every verdict its colour (`style`); no TensorFlow, no arithmetic.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Callable

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd

from inductive.evidence.style import (CLIPPED_LABEL, DATASET_NAMES, SLIDE, VERDICT_COLORS, draw_interval, figure_title,
                                      model_color, model_label, save_figure, slide_style)


def _models(table: pd.DataFrame) -> list[str]:
    """The models of a claim's table in the order it lists them: claims keep the runs table's role order."""
    return list(dict.fromkeys(table["model"].dropna()))


def effects(table: pd.DataFrame, title: str, stem: str | Path) -> list[Path]:
    """Forest plot of the deciding effects: corrected interval per comparison x measure, coloured by verdict."""
    rows = table[table["kind"] == "decides"].reset_index(drop=True)
    if rows.empty:
        return []
    with slide_style():  # two-line labels need about 0.5 in a row: taller than a slide past about 11 rows
        fig, ax = plt.subplots(figsize=(SLIDE[0], max(SLIDE[1], 0.5 * len(rows) + 1.6)), layout="constrained")
        y = np.arange(len(rows))[::-1]
        band = rows["band"].max()
        ax.axvspan(-band, band, color="0.88", zorder=0, label=f"negligible band (±{band:g})")
        ax.axvline(0, color="0.3", linewidth=1)
        clipped = False
        for yi, row in zip(y, rows.itertuples()):
            color = VERDICT_COLORS.get(row.verdict if isinstance(row.verdict, str) else "", "0.5")
            clipped |= draw_interval(ax, row, yi, color)
            ax.plot(row.mean, yi, "o", color=color, markersize=10)
        labels = [f"{r.condition}  {r.comparison}\n{r.measure}" for r in rows.itertuples()]
        ax.set_yticks(y, labels, fontsize=13)
        ax.set_xlabel(f"effect ({rows['unit'].iloc[0]}; > 0 favours the lecture), Holm-corrected interval"
                      + (f"\n({CLIPPED_LABEL})" if clipped else ""))
        for verdict in dict.fromkeys(rows["verdict"].fillna("")):
            ax.plot([], [], "o-", color=VERDICT_COLORS.get(verdict, "0.5"), linewidth=4, label=verdict or "no verdict")
        fig.legend(loc="outside lower center", ncols=5, fontsize=13)
        ax.grid(axis="y", visible=False)
        figure_title(fig, title)
        return save_figure(fig, stem)


def curves(table: pd.DataFrame, title: str, stem: str | Path) -> list[Path]:
    """Eval-mode train (dashed) and validation (solid) accuracy per epoch, a panel per model, a line per seed."""
    if table.empty:
        return []
    models = _models(table)
    cols = min(3, len(models))
    rows = -(-len(models) // cols)
    with slide_style():
        # each panel its own epoch range: a model that fits in 5 epochs is unreadable on a 150-epoch axis
        fig, axes = plt.subplots(rows, cols, figsize=SLIDE, sharey=True, layout="constrained", squeeze=False)
        lines = {key: (part["epoch"].to_numpy(), part["value"].to_numpy())  # one groupby, not a mask per line
                 for key, part in table.groupby(["model", "run_id", "split"], sort=True)}
        for ax, model in zip(axes.flat, models):
            color = model_color(model)
            for run_id in sorted({r for m, r, _ in lines if m == model}):
                for split, style in (("train", "--"), ("val", "-")):
                    epochs, values = lines.get((model, run_id, split), ([], []))
                    ax.plot(epochs, values, style, color=color, linewidth=1.4, alpha=0.8)
                epochs, values = lines.get((model, run_id, "train"), ([], []))
                ax.plot(epochs[-1:], values[-1:], "|", color="black", markersize=12)
            ax.set_title(model_label(model), color=color)
        for ax in axes.flat[len(models):]:
            ax.set_visible(False)
        fig.supxlabel("epoch")
        fig.supylabel("accuracy (fraction; the axis does not start at 0)")
        axes.flat[0].plot([], [], "k--", label="train (eval mode)")
        axes.flat[0].plot([], [], "k-", label="validation")
        axes.flat[0].plot([], [], "k|", markersize=12, linestyle="none", label="stop")
        handles = axes.flat[0].get_legend_handles_labels()
        if len(models) < axes.size:  # an empty panel holds the legend
            spare = axes.flat[len(models)]
            spare.set_visible(True)
            spare.axis("off")
            spare.legend(*handles, loc="center", fontsize=14)
        else:
            fig.legend(*handles, loc="outside right upper", fontsize=13)
        figure_title(fig, title)
        return save_figure(fig, stem)


def shift(table: pd.DataFrame, title: str, stem: str | Path) -> list[Path]:
    """Test accuracy and kept-correct fraction against shift in pixels (mean over x, y and seeds), and the chance
    line of the dataset's number of classes (the table's `num_classes`)."""
    if table.empty:
        return []
    with slide_style():
        fig, (acc_ax, kept_ax) = plt.subplots(1, 2, figsize=SLIDE, layout="constrained")
        for model in _models(table):
            part = table[table["model"] == model]
            acc_ax.plot(part["shift"], part["accuracy"], "o-", color=model_color(model), label=model_label(model))
            kept_ax.plot(part["shift"], part["kept_correct"], "o-", color=model_color(model), label=model_label(model))
        for classes in sorted(set(table.get("num_classes", pd.Series(dtype=float)).dropna().astype(int))):
            acc_ax.axhline(1 / classes, color="0.4", linestyle=":", label=f"chance ({classes} classes)")
        for ax in (acc_ax, kept_ax):
            ax.axvspan(0.5, 3.5, color="0.92", zorder=0)
            ax.set_xlabel("shift along x or y (pixels); shaded: shifts that decide")
            ax.set_ylim(0, 1.02)
        acc_ax.set_ylabel("test accuracy (fraction)")
        kept_ax.set_ylabel("correct answers kept (fraction)")
        fig.legend(*acc_ax.get_legend_handles_labels(), loc="outside lower center", ncols=5, fontsize=13)
        figure_title(fig, title)
        return save_figure(fig, stem)


def ratios(table: pd.DataFrame, title: str, stem: str | Path) -> list[Path]:
    """Parameters of a dense layer on the same input and output / the conv layer's, per conv layer (log axis)."""
    if table.empty:
        return []
    first = table.drop_duplicates(["model", "layer"])
    with slide_style():
        fig, ax = plt.subplots(figsize=SLIDE, layout="constrained")
        labels = [f"{model_label(r.model)} {r.layer}\n{r.input} -> {r.output}" for r in first.itertuples()]
        bars = ax.barh(labels[::-1], first["ratio"][::-1], color=[model_color(m) for m in first["model"][::-1]])
        ax.bar_label(bars, [f"{v:,.0f}x" for v in first["ratio"][::-1]], padding=4, fontsize=13)
        ax.axvline(10, color="0.3", linestyle="--", label="10x: 'far fewer'")
        ax.set_xscale("log")
        ax.set_xlabel("dense parameters / conv parameters (log scale)")
        ax.legend(loc="lower right")
        drawn_for = first["dataset"].iloc[0]
        figure_title(fig, title + f" (drawn for {DATASET_NAMES.get(drawn_for, drawn_for)})")
        return save_figure(fig, stem)


def heads(table: pd.DataFrame, title: str, stem: str | Path) -> list[Path]:
    """Weights after the head for each twin pair: flatten vs global average pooling (log axis)."""
    if table.empty:
        return []
    first = table[table["dataset"] == table["dataset"].iloc[0]]
    with slide_style():
        fig, ax = plt.subplots(figsize=SLIDE, layout="constrained")
        labels = [f"{model_label(r.model)}\n{r.feature_maps} -> {r.classifier_input:,}" for r in first.itertuples()]
        bars = ax.bar(labels, first["head_params"], color=[model_color(m) for m in first["model"]])
        ax.bar_label(bars, [f"{v:,}" for v in first["head_params"]], padding=4, fontsize=13)
        ax.set_yscale("log")
        ax.set_ylabel("trainable weights after the head (log scale)")
        drawn_for = first["dataset"].iloc[0]
        figure_title(fig, title + f" (drawn for {DATASET_NAMES.get(drawn_for, drawn_for)})")
        return save_figure(fig, stem)


def glance(table: pd.DataFrame, title: str, stem: str | Path) -> list[Path]:
    """Claims x datasets: each cell's verdict as its colour and word, with its deciding effect.

    A slide's height holds four claims or more; fewer get a shorter figure (1.4 in a row), so that a study of one
    claim shows cells as wide as they are tall, not columns with the verdict far from its effect."""
    datasets = list(dict.fromkeys(table["dataset"]))
    claims = list(dict.fromkeys(table["claim"]))
    width = min(50, 96 // max(1, len(datasets)))  # characters per line that fit a cell at this font size
    with slide_style():
        fig, ax = plt.subplots(figsize=(SLIDE[0], min(SLIDE[1], 1.6 + 1.4 * len(claims))), layout="constrained")
        for row in table.itertuples():
            x, y = datasets.index(row.dataset), claims.index(row.claim)
            ax.add_patch(plt.Rectangle((x - 0.48, y - 0.45), 0.96, 0.9, color=VERDICT_COLORS.get(row.verdict, "0.8"),
                                       ec="0.6"))
            text_color = "white" if row.verdict in ("supported", "contradicted", "negligible") else "black"
            effect = row.effect if isinstance(row.effect, str) else ""
            lift = (0.2 if len(datasets) < 3 else 0.27) if effect else 0  # room for up to three lines below
            ax.text(x, y - lift, row.verdict, ha="center", va="center", fontsize=14, color=text_color, weight="bold")
            if effect:
                ax.text(x, y + 0.16, "\n".join(textwrap.wrap(effect, width)[:3]), ha="center", va="center",
                        fontsize=10 if len(datasets) < 3 else 8.5, color=text_color)
        ax.set_xlim(-0.5, len(datasets) - 0.5)
        ax.set_ylim(len(claims) - 0.5, -0.5)
        ax.set_xticks(range(len(datasets)), datasets)
        ax.set_yticks(range(len(claims)), ["\n".join(textwrap.wrap(c, 48)) for c in claims], fontsize=12)
        ax.xaxis.tick_top()
        ax.grid(False)
        for side in ax.spines.values():
            side.set_visible(False)
        figure_title(fig, title)
        return save_figure(fig, stem)


def layer_weights(table: pd.DataFrame, title: str, stem: str | Path) -> list[Path]:
    """Trainable weights of every layer of one model, in order, each bar labelled with its count: the model with
    the fewest conv blocks among those with pooling and a flatten head (conv, pooling and dense layers in one
    net), else the first."""
    if table.empty:
        return []
    first = table[table["dataset"] == table["dataset"].iloc[0]]
    classes = first.groupby("model", sort=False)["class"].agg(list)
    shown = [m for m, c in classes.items() if "Conv2D" in c and "Flatten" in c and any("Pool" in k for k in c)]
    model = min(shown, key=lambda m: classes[m].count("Conv2D")) if shown else table["model"].iloc[0]
    rows = first[first["model"] == model].sort_values("position")
    with slide_style():
        fig, ax = plt.subplots(figsize=SLIDE, layout="constrained")
        pooled = rows["class"].str.contains("Pool")
        colors = ["#1B7837" if p else model_color(model) for p in pooled]
        bars = ax.bar(range(len(rows)), rows["trainable"], color=colors)
        ax.bar_label(bars, [f"{v:,}" for v in rows["trainable"]], padding=4, fontsize=13)
        ax.set_xticks(range(len(rows)), [c.replace("2D", "") for c in rows["class"]], rotation=20, ha="right")
        for label, pool in zip(ax.get_xticklabels(), pooled):
            label.set_color("#1B7837" if pool else "black")
            label.set_fontweight("bold" if pool else "normal")
        ax.yaxis.set_major_formatter(lambda v, _: f"{v:,.0f}")
        ax.set_ylabel("trainable weights (count)")
        ax.set_xlabel(f"layers of {model_label(model)}, input to output (pooling layers in bold green)")
        figure_title(fig, title)
        return save_figure(fig, stem)


def equivalence(table: pd.DataFrame, title: str, stem: str | Path) -> list[Path]:
    """Parameters of the whole-input conv and of the dense layer per input shape, with the largest output difference."""
    if table.empty:
        return []
    with slide_style():
        fig, ax = plt.subplots(figsize=SLIDE, layout="constrained")
        x = np.arange(len(table))
        ax.bar(x - 0.2, table["conv_params"], 0.4, color="#0072B2", label="Conv2D, kernel = whole input")
        ax.bar(x + 0.2, table["dense_params"], 0.4, color="#D55E00", label="Dense(filters) on the flattened input")
        for xi, row in zip(x, table.itertuples()):
            ax.text(xi, max(row.conv_params, row.dense_params) * 1.03, f"max |output diff| {row.max_abs_diff:.0e}",
                    ha="center", fontsize=13)
        ax.set_xticks(x, [f"input {r.input}, {r.filters} filters" for r in table.itertuples()])
        ax.set_ylabel("trainable parameters (count)")
        fig.legend(loc="outside lower center", ncols=2, fontsize=13)
        figure_title(fig, title)
        return save_figure(fig, stem)


def glance_effects(table: pd.DataFrame, title: str, stem: str | Path) -> list[Path]:
    """Each statistical claim's headline effect per dataset with its corrected interval, coloured by verdict.

    Rows are grouped under their claim's title (one heading per claim, then one line per dataset), and the
    figure grows with the rows, so that three datasets' labels never run into each other.
    """
    rows = table.dropna(subset=["mean"]).reset_index(drop=True)
    if rows.empty:
        return []
    slots: list[tuple[str, object]] = []  # ("claim", title) headings and ("row", row) effects, top to bottom
    for claim, part in rows.groupby("claim", sort=False):
        slots.append(("claim", claim))
        slots += [("row", row) for row in part.itertuples()]
    with slide_style():
        fig, ax = plt.subplots(figsize=(SLIDE[0], max(SLIDE[1], 0.42 * len(slots) + 1.6)), layout="constrained")
        y = np.arange(len(slots))[::-1]
        ax.axvspan(-0.01, 0.01, color="0.88", zorder=0, label="negligible band (±0.01)")
        ax.axvline(0, color="0.3", linewidth=1)
        labels, clipped = [], False
        for yi, (kind, item) in zip(y, slots):
            if kind == "claim":
                labels.append(textwrap.shorten(str(item), 70, placeholder="..."))
                continue
            color = VERDICT_COLORS.get(item.verdict, "0.5")
            clipped |= draw_interval(ax, item, yi, color)
            ax.plot(item.mean, yi, "o", color=color, markersize=10)
            labels.append(f"{item.dataset}: {item.measure}")
        ax.set_yticks(y, labels, fontsize=11)
        for tick, (kind, _) in zip(ax.get_yticklabels(), slots):
            if kind == "claim":
                tick.set_fontweight("bold")
                tick.set_fontsize(12)
        ax.tick_params(axis="y", length=0)
        ax.set_ylim(-0.6, len(slots) - 0.4)
        ax.set_xlabel("effect (> 0 favours the lecture), Holm-corrected interval"
                      + (f"\n({CLIPPED_LABEL})" if clipped else ""))
        for verdict in dict.fromkeys(rows["verdict"]):
            ax.plot([], [], "o-", color=VERDICT_COLORS.get(verdict, "0.5"), linewidth=4, label=verdict)
        fig.legend(loc="outside lower center", ncols=5, fontsize=13)
        ax.grid(axis="y", visible=False)
        figure_title(fig, title)
        return save_figure(fig, stem)


DRAWERS: dict[str, Callable[[pd.DataFrame, str, str | Path], list[Path]]] = {
    "effects": effects, "curves": curves, "shift": shift, "ratios": ratios, "heads": heads, "glance": glance,
    "layer_weights": layer_weights, "equivalence": equivalence, "glance_effects": glance_effects}


def per_condition(kind: str, table: pd.DataFrame, title: str, stem: Path) -> list[Path]:
    """Curves and shift figures: one per condition (`stem`_CONDITION); the others: one for the table."""
    if kind not in ("curves", "shift") or "condition" not in table or table.empty:
        return DRAWERS[kind](table, title, stem)
    paths = []
    for condition, part in table.groupby("condition", sort=False):
        paths += DRAWERS[kind](part, f"{title}: {condition}", stem.with_name(f"{stem.name}_{condition}"))
    return paths
