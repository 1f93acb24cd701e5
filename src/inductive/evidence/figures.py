"""The report's figures, each drawn only from the tidy tables (runs, epochs, layers, effects).

So any figure can be re-made from the saved CSVs:
    runs, epochs = pd.read_csv("report/runs.csv"), pd.read_csv("report/epochs.csv")
    figures.overfitting_curves(runs, epochs, runs["condition"][0], "curves")
    figures.shift_curves(runs, pd.read_csv("report/shifts.csv"), runs["condition"][0], "shift")
Every model keeps its colour from `inductive.evidence.style`; means carry 95% t intervals over seeds.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from inductive import arithmetic
from inductive.evidence.claims_old import (MEASURES, MODEL_ORDER, NOT_SUPPORTED, OVERFITTING_COMPARISONS, SUPPORTED, completed,
                              mean_interval)
from inductive.evidence.style import model_color, save_figure, slide_style

VERDICT_MARKERS = {SUPPORTED: ("o", "black"), NOT_SUPPORTED: ("X", "black"), "": ("D", "0.55")}


def slug(text: str) -> str:
    """A file-name-safe version of a condition label."""
    return re.sub(r"[^A-Za-z0-9]+", "_", text.replace(",", "")).strip("_").lower()


def ordered_models(models) -> list[str]:
    """Known models in their usual order (dense, conv_flatten, gap), then any others by name."""
    models = set(models)
    return [m for m in MODEL_ORDER if m in models] + sorted(models - set(MODEL_ORDER))


def _interval(values: pd.Series) -> tuple[float, float]:
    """Mean and 95% t half-width (0 when there is no interval)."""
    interval = mean_interval(values)
    return interval.mean, 0.0 if math.isnan(interval.low) else interval.half_width


def _seeds_note(runs: pd.DataFrame) -> str:
    per_model = runs.groupby("model")["seed"].nunique()
    low, high = per_model.min(), per_model.max()
    return f"{low} seeds" if low == high else f"{low}-{high} seeds"


# ---------------------------------------------------------------- per condition

def overfitting_curves(runs: pd.DataFrame, epochs: pd.DataFrame, condition: str, stem: str | Path) -> list[Path]:
    """Train (dashed) vs validation (solid) loss and accuracy per epoch, a column per model, band over seeds."""
    done = completed(runs)
    done = done[done["condition"] == condition]
    models = ordered_models(done["model"])
    data = epochs.merge(done[["run_id", "model"]], on="run_id")
    with slide_style():
        fig, axes = plt.subplots(2, len(models), figsize=(4.6 * len(models), 8.5), sharex=True, sharey="row",
                                 squeeze=False)
        for col, model in enumerate(models):
            color = model_color(model)
            for row, metric in enumerate(("loss", "accuracy")):
                ax = axes[row, col]
                for split, style in (("train", "--"), ("val", "-")):
                    values = data[(data["model"] == model) & (data["metric"] == metric) & (data["split"] == split)]
                    by_epoch = values.groupby("epoch")["value"]
                    mean = by_epoch.mean()
                    ax.plot(mean.index, mean.to_numpy(), style, color=color)
                    ax.fill_between(mean.index, by_epoch.min().to_numpy(), by_epoch.max().to_numpy(), color=color,
                                    alpha=0.2, linewidth=0)
                ax.xaxis.set_major_locator(MaxNLocator(integer=True))
                if row == 1:
                    ax.set_xlabel("epoch")
            params = done.loc[done["model"] == model, "params_trainable"].iloc[0]
            axes[0, col].set_title(f"{model}\n{params:,.0f} params", color=color)
        axes[0, 0].set_ylabel("loss")
        axes[1, 0].set_ylabel("accuracy")
        handles = [Line2D([], [], color="0.3", linestyle="--", label="train"),
                   Line2D([], [], color="0.3", linestyle="-", label="validation")]
        fig.legend(handles=handles, loc="lower center", ncol=2, bbox_to_anchor=(0.5, -0.04), frameon=False)
        fig.suptitle(f"{condition}\nmean over {_seeds_note(done)}, band: min to max", y=1.02)
        fig.tight_layout()
        return save_figure(fig, stem)


def gap_vs_params(runs: pd.DataFrame, condition: str, stem: str | Path) -> list[Path]:
    """Final accuracy and loss gaps against trainable parameters (log x): seeds as dots, means with 95% CI."""
    done = completed(runs)
    done = done[done["condition"] == condition]
    with slide_style():
        fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
        for ax, column, label in ((axes[0], "final_accuracy_gap", "accuracy gap (train - val)"),
                                  (axes[1], "final_loss_gap", "loss gap (val - train)")):
            for model in ordered_models(done["model"]):
                rows = done[done["model"] == model]
                color, params = model_color(model), rows["params_trainable"].iloc[0]
                ax.scatter(rows["params_trainable"], rows[column], color=color, alpha=0.35, s=30)
                mean, half = _interval(rows[column])
                ax.errorbar(params, mean, yerr=half, fmt="o", color=color, markersize=10, capsize=6, label=model)
                ax.annotate(model, (params, mean), xytext=(10, 6), textcoords="offset points", color=color)
            ax.axhline(0, color="0.5", linewidth=1)
            ax.set_xscale("log")
            ax.set_xlabel("trainable parameters")
            ax.set_ylabel(label)
            ax.margins(x=0.25)
        fig.suptitle(f"Generalization gap vs model size at the last epoch\n{condition}")
        fig.tight_layout()
        return save_figure(fig, stem)


def gap_by_model(runs: pd.DataFrame, condition: str, stem: str | Path) -> list[Path]:
    """Each model's gap beside its train and validation accuracy: a small gap can mean underfitting."""
    done = completed(runs)
    done = done[done["condition"] == condition]
    models = ordered_models(done["model"])
    panels = [("final_train_accuracy", "train accuracy"), ("final_val_accuracy", "validation accuracy"),
              ("final_accuracy_gap", "accuracy gap (train - val)"), ("val_loss_rise", "val loss rise above min")]
    with slide_style():
        fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 5.2))
        for ax, (column, label) in zip(axes, panels):
            for x, model in enumerate(models):
                values = done.loc[done["model"] == model, column]
                mean, half = _interval(values)
                color = model_color(model)
                ax.scatter(np.full(len(values), x) + 0.18, values, color=color, alpha=0.4, s=25)
                ax.errorbar(x, mean, yerr=half, fmt="o", color=color, markersize=10, capsize=6)
            ax.set_xticks(range(len(models)), models, rotation=20)
            ax.set_xlim(-0.6, len(models) - 0.4)
            ax.set_title(label, fontsize=14)
        fig.suptitle(f"Last epoch, mean and 95% t interval over {_seeds_note(done)} (dots: seeds)\n{condition}")
        fig.tight_layout()
        return save_figure(fig, stem)


def shift_curves(runs: pd.DataFrame, shifts: pd.DataFrame, condition: str, stem: str | Path,
                 fill: str = "zero") -> list[Path]:
    """Test accuracy (left) and consistency (right) against shift in pixels, a line per model, band over seeds.

    Each run is first averaged over the directions (x, y, diagonal); the line is the mean over seeds and the
    band spans their min to max, as in the training curves.
    """
    done = completed(runs)
    done = done[done["condition"] == condition]
    rows = shifts[(shifts["fill"] == fill) & shifts["run_id"].isin(done["run_id"])]
    per_run = rows.groupby(["model", "run_id", "shift"])[["accuracy", "consistency"]].mean().reset_index()
    fills = {"zero": "uncovered pixels blank", "wrap": "pixels wrap around"}
    with slide_style():
        fig, axes = plt.subplots(1, 2, figsize=(13, 5.4), sharex=True)
        for ax, column, label in ((axes[0], "accuracy", "test accuracy on shifted images"),
                                  (axes[1], "consistency", "consistency (same class as unshifted)")):
            for model in ordered_models(per_run["model"]):
                by_shift = per_run[per_run["model"] == model].groupby("shift")[column]
                mean, color = by_shift.mean(), model_color(model)
                ax.plot(mean.index, mean.to_numpy(), "o-", color=color, markersize=5, label=model)
                ax.fill_between(mean.index, by_shift.min().to_numpy(), by_shift.max().to_numpy(), color=color,
                                alpha=0.2, linewidth=0)
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set_xlabel("shift (pixels)")
            ax.set_ylabel(label)
            ax.set_ylim(0, 1.02)
        axes[1].legend(loc="lower left")
        fig.suptitle(f"Translation invariance, {fill} fill ({fills.get(fill, fill)}): {condition}\n"
                     f"mean over x, y, diagonal shifts and {_seeds_note(done[done['run_id'].isin(rows['run_id'])])}, "
                     "band: min to max over seeds")
        fig.tight_layout()
        return save_figure(fig, stem)


# ---------------------------------------------------------------- across conditions

def data_efficiency(runs: pd.DataFrame, budget: str, stem: str | Path) -> list[Path]:
    """Validation accuracy and accuracy gap against training-set size (log x), per model, 95% t intervals."""
    done = completed(runs)
    done = done[done["budget"] == budget]
    with slide_style():
        fig, axes = plt.subplots(1, 2, figsize=(13, 5.2))
        for ax, column, label in ((axes[0], "final_val_accuracy", "validation accuracy"),
                                  (axes[1], "final_accuracy_gap", "accuracy gap (train - val)")):
            for model in ordered_models(done["model"]):
                stats = (done[done["model"] == model].groupby("train_size")[column]
                         .apply(lambda v: pd.Series(_interval(v), index=["mean", "half"])).unstack())
                ax.errorbar(stats.index, stats["mean"], yerr=stats["half"], fmt="o-", color=model_color(model),
                            capsize=5, label=model)
            ax.set_xscale("log")
            sizes = sorted(done["train_size"].unique())
            ax.set_xticks(sizes, [f"{size:,.0f}" for size in sizes])
            ax.minorticks_off()
            ax.set_xlabel("training images")
            ax.set_ylabel(label)
        axes[1].axhline(0, color="0.5", linewidth=1)
        axes[0].legend()
        fig.suptitle(f"Data efficiency at the last epoch: {budget}\nmean and 95% t interval over "
                     f"{_seeds_note(done)}")
        fig.tight_layout()
        return save_figure(fig, stem)


def effects_forest(effects: pd.DataFrame, claim: int, stem: str | Path) -> list[Path]:
    """Per-seed paired differences with 95% intervals, a panel per measure; right of 0 favours the lecture.

    Measures that did not decide the verdict (raw gaps; val loss rise next to an underfitting model) are faded.
    """
    rows = effects[effects["claim"] == claim]
    measures = [m for m in MEASURES if m in set(rows["measure"])]
    keys = rows[["comparison", "condition"]].drop_duplicates().reset_index(drop=True)
    labels = [f"{r.comparison}\n{r.condition}" for r in keys.itertuples()]
    with slide_style():
        fig, axes = plt.subplots(1, len(measures), figsize=(3.1 * len(measures) + 2.5, 0.9 * len(keys) + 2.6),
                                 sharey=True, squeeze=False)
        for ax, measure in zip(axes[0], measures):
            for y, key in keys.iterrows():
                effect = rows[(rows["measure"] == measure) & (rows["comparison"] == key["comparison"])
                              & (rows["condition"] == key["condition"])].iloc[0]
                marker, color = VERDICT_MARKERS.get(effect["verdict"], ("o", "white"))
                alpha = 1.0 if effect["decides"] or effect["kind"] == "context" else 0.35
                if np.isfinite(effect["low"]):
                    ax.plot([effect["low"], effect["high"]], [y, y], color="0.3", linewidth=2.5, alpha=alpha)
                ax.plot(effect["mean"], y, marker=marker, markersize=11, color="black", markerfacecolor=color,
                        alpha=alpha)
            ax.axvline(0, color="0.5", linewidth=1)
            ax.set_title(measure.replace(" (", "\n(").replace(" at ", "\nat ").replace(" above", "\nabove"),
                         fontsize=13)
            ax.set_xlabel(f"difference ({effect['unit']})")
        axes[0, 0].set_yticks(range(len(keys)), labels, fontsize=11)
        axes[0, 0].set_ylim(len(keys) - 0.5, -0.5)
        handles = [Line2D([], [], marker=m, color="black", markerfacecolor=c, linestyle="", markersize=10, label=v)
                   for v, (m, c) in (("supported", VERDICT_MARKERS[SUPPORTED]),
                                     ("not supported", VERDICT_MARKERS[NOT_SUPPORTED]),
                                     ("inconclusive", ("o", "white")),
                                     ("context (not judged)", VERDICT_MARKERS[""]))]
        fig.legend(handles=handles, loc="lower center", ncol=4, bbox_to_anchor=(0.5, -0.06), frameon=False)
        fig.suptitle(f"Claim {claim}: more - less overfitting model, 95% interval over seeds; right of 0 favours "
                     "the lecture, faded: did not decide the verdict")
        fig.tight_layout()
        return save_figure(fig, stem)


# ---------------------------------------------------------------- parameter counts (claims 1, 3, 5)

def _model_layers(runs: pd.DataFrame, layers: pd.DataFrame) -> pd.DataFrame:
    merged = layers.merge(runs[["run_id", "model", "dataset"]], on="run_id")
    return merged.drop_duplicates(["dataset", "model", "position"])


def _bar_labels(ax, bars, values) -> None:
    for bar, value in zip(bars, values):
        ax.annotate(f"{value:,.0f}", (bar.get_x() + bar.get_width() / 2, bar.get_height()), xytext=(0, 3),
                    textcoords="offset points", ha="center", fontsize=10)


def conv_vs_dense_params(runs: pd.DataFrame, layers: pd.DataFrame, stem: str | Path) -> list[Path]:
    """Each Conv2D's parameters next to a Dense layer joining the same input to the same output (log y)."""
    lay = _model_layers(runs, layers)
    convs = lay[lay["class"] == "Conv2D"]
    datasets = list(dict.fromkeys(convs["dataset"]))
    with slide_style():
        fig, axes = plt.subplots(1, len(datasets), figsize=(1.0 + 2.6 * convs.groupby("dataset").size().max(), 5.8),
                                 squeeze=False)
        for ax, dataset in zip(axes[0], datasets):
            rows = convs[convs["dataset"] == dataset].reset_index(drop=True)
            dense = [arithmetic.dense_equivalent_params(tuple(json.loads(r.input_shape)),
                                                        tuple(json.loads(r.output_shape))).total
                     for r in rows.itertuples()]
            x = np.arange(len(rows))
            conv_bars = ax.bar(x - 0.2, rows["trainable"], 0.4, color=[model_color(m) for m in rows["model"]])
            dense_bars = ax.bar(x + 0.2, dense, 0.4, color="0.75", hatch="//", edgecolor="0.4")
            _bar_labels(ax, conv_bars, rows["trainable"])
            _bar_labels(ax, dense_bars, dense)
            for xi, conv, full in zip(x, rows["trainable"], dense):
                ax.annotate(f"{full / conv:,.0f}x", (xi, math.sqrt(conv * full)), ha="center", fontweight="bold")
            ax.set_xticks(x, [f"{r.model}\n{r.name}\n{tuple(json.loads(r.input_shape))}" for r in rows.itertuples()],
                          fontsize=10)
            ax.set_yscale("log")
            ax.set_ylabel("parameters")
            ax.set_title(dataset)
            ax.margins(y=0.15)
        handles = [plt.Rectangle((0, 0), 1, 1, color="0.3", label="Conv2D (colour: model)"),
                   plt.Rectangle((0, 0), 1, 1, facecolor="0.75", hatch="//", edgecolor="0.4",
                                 label="Dense, same input and output")]
        fig.legend(handles=handles, loc="lower center", ncol=2, bbox_to_anchor=(0.5, -0.06), frameon=False)
        fig.suptitle("Claim 1: weight sharing, conv layer vs dense layer on the same input")
        fig.tight_layout()
        return save_figure(fig, stem)


def head_params(runs: pd.DataFrame, layers: pd.DataFrame, stem: str | Path) -> list[Path]:
    """Weights between the feature maps and the output: flatten vs global average pooling (log y)."""
    lay = _model_layers(runs, layers)
    heads = {"conv_flatten": "Flatten", "gap": "GlobalAveragePooling2D"}
    datasets = list(dict.fromkeys(lay.loc[lay["model"].isin(list(heads)), "dataset"]))
    with slide_style():
        fig, axes = plt.subplots(1, len(datasets), figsize=(7 * len(datasets), 5.8), squeeze=False)
        for ax, dataset in zip(axes[0], datasets):
            for x, (model, head_class) in enumerate(heads.items()):
                rows = lay[(lay["dataset"] == dataset) & (lay["model"] == model)].sort_values("position")
                at = rows[rows["class"] == head_class]
                if at.empty:
                    continue
                at = at.iloc[0]
                shape = json.loads(at["input_shape"])
                classes = json.loads(rows.iloc[-1]["output_shape"])[-1]
                built = rows.loc[rows["position"] > at["position"], "trainable"].sum()
                linear = arithmetic.dense_params(math.prod(shape) if model == "conv_flatten" else shape[-1],
                                                 classes).total
                bars = ax.bar([x - 0.2, x + 0.2], [built, linear], 0.38, color=model_color(model),
                              edgecolor="black", hatch=["", "//"])
                _bar_labels(ax, bars, [built, linear])
            ax.set_xticks(range(len(heads)), [f"{m}\n({c})" for m, c in heads.items()])
            ax.set_yscale("log")
            ax.set_ylabel("weights after the head")
            ax.set_title(dataset)
            ax.margins(y=0.15)
        handles = [plt.Rectangle((0, 0), 1, 1, facecolor="0.6", edgecolor="black", label="as built"),
                   plt.Rectangle((0, 0), 1, 1, facecolor="0.6", edgecolor="black", hatch="//",
                                 label="a linear classifier alone")]
        fig.legend(handles=handles, loc="lower center", ncol=2, bbox_to_anchor=(0.5, -0.06), frameon=False)
        fig.suptitle("Claim 3: classifier weights after flatten vs global average pooling")
        fig.tight_layout()
        return save_figure(fig, stem)


def params_per_layer(runs: pd.DataFrame, layers: pd.DataFrame, stem: str | Path) -> list[Path]:
    """Trainable parameters of every layer, a panel per model; layers without any are marked 0."""
    lay = _model_layers(runs, layers)
    panels = lay[["dataset", "model"]].drop_duplicates()
    panels = panels.assign(order=panels["model"].map(ordered_models(panels["model"]).index)).sort_values(
        ["dataset", "order"])
    with slide_style():
        height = 1.5 + 0.55 * lay.groupby(["dataset", "model"]).size().max()
        fig, axes = plt.subplots(1, len(panels), figsize=(5.4 * len(panels), height), sharex=True, squeeze=False)
        for ax, panel in zip(axes[0], panels.itertuples()):
            rows = lay[(lay["dataset"] == panel.dataset) & (lay["model"] == panel.model)].sort_values("position")
            y = np.arange(len(rows))
            ax.barh(y, rows["trainable"].where(rows["trainable"] > 0, np.nan), color=model_color(panel.model))
            for yi, count in zip(y, rows["trainable"]):
                ax.annotate(f"{count:,}", (max(count, 1), yi), xytext=(4, 0), textcoords="offset points",
                            va="center", fontsize=11, fontweight="normal" if count else "bold")
            ax.set_yticks(y, rows["class"], fontsize=11)
            ax.invert_yaxis()
            ax.set_xscale("log")
            ax.set_xlim(1, lay["trainable"].max() * 20)
            ax.set_xlabel("trainable parameters")
            ax.set_title(f"{panel.model} ({panel.dataset})", color=model_color(panel.model), fontsize=14)
        fig.suptitle("Claim 5: trainable parameters per layer (pooling, flatten: 0)")
        fig.tight_layout()
        return save_figure(fig, stem)


# ---------------------------------------------------------------- everything the report shows

def draw_all(runs: pd.DataFrame, epochs: pd.DataFrame, layers: pd.DataFrame, effects: pd.DataFrame,
             out: Path, shifts: pd.DataFrame | None = None) -> dict[str, list[str]]:
    """Draw every figure into `out`; returns the stems (file names without suffix) by report section."""
    drawn: dict[str, list[str]] = {key: [] for key in ("claim1", "claim2", "claim3", "claim4", "claim5",
                                                       "claim6", "claim7", "conditions", "data_efficiency")}
    classes, models = set(layers.get("class", [])), set(runs["model"])
    structural = (("claim1", conv_vs_dense_params, "claim1_conv_vs_dense_params", "Conv2D" in classes),
                  ("claim3", head_params, "claim3_head_params", {"conv_flatten", "gap"} <= models and bool(classes)),
                  ("claim5", params_per_layer, "claim5_params_per_layer", bool(classes)))
    for key, draw, name, drawable in structural:
        if drawable:
            draw(runs, layers, out / name)
            drawn[key].append(name)
    done = completed(runs)
    for claim in OVERFITTING_COMPARISONS:
        if (effects["claim"] == claim).any():
            name = f"claim{claim}_effects"
            effects_forest(effects, claim, out / name)
            drawn[f"claim{claim}"].append(name)
    for condition in done["condition"].unique():
        stems = {kind: f"{kind}__{slug(condition)}" for kind in ("curves", "gap_by_model", "gap_vs_params")}
        overfitting_curves(runs, epochs, condition, out / stems["curves"])
        gap_by_model(runs, condition, out / stems["gap_by_model"])
        gap_vs_params(runs, condition, out / stems["gap_vs_params"])
        drawn["conditions"] += [stems["curves"], stems["gap_vs_params"]]
        models = set(done.loc[done["condition"] == condition, "model"])
        for claim, pairs in OVERFITTING_COMPARISONS.items():
            if any({more, less} <= models for more, less in pairs):
                drawn[f"claim{claim}"].append(stems["gap_by_model"])
    shifted = pd.DataFrame(columns=["run_id", "fill"]) if shifts is None else shifts
    shifted = shifted[shifted["run_id"].isin(done["run_id"])]
    for condition in done.loc[done["run_id"].isin(shifted["run_id"]), "condition"].unique():
        fills = set(shifted.loc[shifted["run_id"].isin(done.loc[done["condition"] == condition, "run_id"]), "fill"])
        for fill in [f for f in ("zero", "wrap") if f in fills]:
            name = f"shift{'' if fill == 'zero' else '_' + fill}__{slug(condition)}"
            shift_curves(runs, shifted, condition, out / name, fill)
            drawn["claim6"].append(name)
    for budget, group in done.groupby("budget", sort=False):
        if group["train_size"].nunique() >= 2:
            name = f"data_efficiency__{slug(budget)}"
            data_efficiency(runs, budget, out / name)
            drawn["data_efficiency"].append(name)
    return drawn
