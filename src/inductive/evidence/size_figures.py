"""The figures of a study read size by size (`study.reading.answer_by_size`), each drawn from one saved table:
    size_figures.effect_vs_size(pd.read_csv("report/size_effects.csv"), "Effect against size", "effect_vs_size")
    size_figures.gap_vs_size(pd.read_csv("report/runs.csv"), "Gap against size", "gap_vs_size")
Training-set sizes go on a log axis ticked at the sizes run; datasets and models keep their colours (`style`).
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import pandas as pd

from inductive.evidence.roles import model_order
from inductive.evidence.style import (DATASET_NAMES, SLIDE, VERDICT_COLORS, clipped_ends, dataset_color, figure_title,
                                      model_color, model_label, save_figure, slide_style)


def _size_axis(ax: plt.Axes, sizes) -> None:
    """Log x axis ticked at the sizes run, written as image counts (1,000 not 10^3)."""
    ax.set_xscale("log")
    ax.set_xticks(sorted(set(sizes)), [f"{s:,.0f}" for s in sorted(set(sizes))])
    ax.xaxis.set_minor_locator(plt.NullLocator())
    ax.set_xlim(min(sizes) / 1.6, max(sizes) * 1.6)


def effect_vs_size(table: pd.DataFrame, title: str, stem: str | Path) -> list[Path]:
    """Each claim's headline deciding effect against training-set size (`sizes.size_effects`): a panel per claim,
    a line per dataset in its colour, the Holm-corrected interval as error bars, each point filled with its
    verdict's colour. The comparison and measure behind a point may change with size: a marker per pair, named
    in the panel's legend, and a line joins two sizes only where the same one is shown at both (a line from one
    comparison to another would draw a change of comparison as a change with data). Every panel spans every size,
    so a size a claim was not judged at shows "not judged"."""
    rows = table.dropna(subset=["mean", "train_size"]).reset_index(drop=True)
    if rows.empty:
        return []
    claims = list(dict.fromkeys(rows["claim"]))
    datasets = list(dict.fromkeys(rows["dataset"]))
    cols = min(2, len(claims))  # two at most: a panel must hold its legend of comparisons and measures
    nrows = -(-len(claims) // cols)
    with slide_style():
        fig, axes = plt.subplots(nrows, cols, figsize=(SLIDE[0], max(SLIDE[1], 3.4 * nrows + 1.4)),
                                 layout="constrained", squeeze=False)
        for ax, claim in zip(axes.flat, claims):
            part = rows[rows["claim"] == claim]
            kinds = list(dict.fromkeys(part["comparison"] + ": " + part["measure"]))
            ax.axhline(0, color="0.3", linestyle="--", linewidth=1.2)
            for i, dataset in enumerate(datasets):
                line = part[part["dataset"] == dataset].sort_values("train_size")
                if line.empty:
                    continue
                color = dataset_color(dataset)
                x = line["train_size"] * 1.06 ** (i - (len(datasets) - 1) / 2)  # dodge: intervals side by side
                low, high = clipped_ends(line)
                ax.errorbar(x, line["mean"], yerr=[line["mean"] - low, high - line["mean"]],
                            color=color, elinewidth=2.2, capsize=5, linestyle="none")
                kind = list(line["comparison"] + ": " + line["measure"])
                for k in range(len(kind) - 1):  # a line joins one effect at two sizes, never two different effects
                    if kind[k] == kind[k + 1]:
                        ax.plot(x.iloc[k:k + 2], line["mean"].iloc[k:k + 2], color=color, linewidth=2)
                for xi, row, row_kind in zip(x, line.itertuples(), kind):
                    marker = "osD^v"[kinds.index(row_kind) % 5]
                    ax.plot(xi, row.mean, marker, markersize=11, markeredgewidth=2, markeredgecolor=color,
                            markerfacecolor=VERDICT_COLORS.get(row.verdict, "0.5"), zorder=3)
            for j, kind in enumerate(kinds):
                ax.plot([], [], "osD^v"[j % 5], color="0.35", markerfacecolor="white", markersize=9, label=kind)
            low, high = (min(end.min(), 0) if i == 0 else max(end.max(), 0) for i, end in enumerate(clipped_ends(part)))
            span = (high - low) or 1.0
            ax.set_ylim(low - 0.05 * span, high + (0.12 + 0.13 * len(kinds)) * span)  # headroom: the legend's
            ax.legend(fontsize=10, loc="upper center", handletextpad=0.3, borderaxespad=0.3)
            _size_axis(ax, rows["train_size"])
            for size in sorted(set(rows["train_size"]) - set(part["train_size"])):
                ax.annotate("not judged", (size, 0), xytext=(0, 6), textcoords="offset points", ha="center",
                            va="bottom", fontsize=11, color="0.35")
            unit = part["unit"].iloc[0] if "unit" in part else "effect"
            ax.set_ylabel(f"effect ({unit})", fontsize=13)
            ax.set_title("\n".join(textwrap.wrap(claim, 64 if cols > 1 else 120)), fontsize=13, loc="left")
        for i, ax in enumerate(axes.flat):
            ax.set_visible(i < len(claims))
            if i + cols >= len(claims):  # lowest panel of its column
                ax.set_xlabel("training images (log scale)", fontsize=13)
        handles = [plt.Line2D([], [], color=dataset_color(d), linewidth=2.2, label=DATASET_NAMES.get(d, d))
                   for d in datasets]
        handles += [plt.Line2D([], [], marker="o", linestyle="none", markersize=10, markerfacecolor=VERDICT_COLORS[v],
                               markeredgecolor="0.35", label=v) for v in dict.fromkeys(rows["verdict"])
                    if v in VERDICT_COLORS]
        handles += [plt.Line2D([], [], color="0.3", marker="|", markersize=14, linestyle="none",
                               label="bar: Holm-corrected interval"),
                    plt.Line2D([], [], color="0.3", linestyle="--", label="0: no effect (> 0 favours the lecture)")]
        fig.legend(handles=handles, loc="outside lower center", ncols=min(4, len(handles)), fontsize=12)
        figure_title(fig, title)
        return save_figure(fig, stem)


def gap_vs_size(runs: pd.DataFrame, title: str, stem: str | Path) -> list[Path]:
    """Test gap (train accuracy at stop - test accuracy) against training-set size on log-log axes: a panel per
    dataset, a colour per model, a faint dot per run and the mean over seeds joined by a line. Gaps <= 0 have no
    place on a log axis: they are not drawn, and the axis label says how many."""
    done = runs[runs["status"] == "completed"] if "status" in runs else runs
    done = done.dropna(subset=["train_size", "test_gap"])
    if done.empty:
        return []
    datasets = list(dict.fromkeys(done["dataset"]))
    with slide_style():
        fig, axes = plt.subplots(1, len(datasets), figsize=SLIDE, layout="constrained", squeeze=False)
        for ax, dataset in zip(axes.flat, datasets):
            part = done[done["dataset"] == dataset]
            for model in model_order(part):
                runs_of = part[part["model"] == model]
                positive = runs_of[runs_of["test_gap"] > 0]
                ax.plot(positive["train_size"], positive["test_gap"], ".", color=model_color(model), alpha=0.35)
                means = runs_of.groupby("train_size")["test_gap"].mean()
                means = means[means > 0]
                ax.plot(means.index, means.values, "o-", color=model_color(model), label=model_label(model))
            ax.set_yscale("log")
            low, high = ax.get_ylim()
            shown = "123456789" if high / low < 10 else "125"  # within a decade, every tick: 0.06, 0.07, 0.08 ...
            for axis_ticks in (ax.yaxis.set_major_formatter, ax.yaxis.set_minor_formatter):
                axis_ticks(lambda v, _: f"{v:g}" if f"{v:.0e}"[0] in shown else "")  # 0.02, not 2 x 10^-2
            _size_axis(ax, part["train_size"])
            dropped = int((part["test_gap"] <= 0).sum())
            ax.set_xlabel("training images (log scale)" + (f"; {dropped} run(s) with gap <= 0 not drawn"
                                                           if dropped else ""), fontsize=13)
            ax.set_title(DATASET_NAMES.get(dataset, dataset))
        axes.flat[0].set_ylabel("test gap (accuracy; log scale)")
        fig.legend(*axes.flat[0].get_legend_handles_labels(), loc="outside lower center", ncols=6, fontsize=13)
        figure_title(fig, title)
        return save_figure(fig, stem)
