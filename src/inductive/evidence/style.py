"""One look for every figure: slide-readable fonts, one colour per model, PNG and SVG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures are files; never needs a screen
import matplotlib.pyplot as plt  # noqa: E402

# How datasets are named for people, in reports and figure titles.
DATASET_NAMES = {"fashion_mnist": "Fashion-MNIST", "mnist": "MNIST", "cifar10": "CIFAR-10"}

# The same model keeps the same colour in every figure (colour-blind-safe Okabe-Ito palette).
MODEL_COLORS = {
    "dense": "#D55E00",
    "conv_flatten": "#0072B2",
    "gap": "#009E73",
    "local": "#CC79A7",
    "deep_flatten": "#56B4E9",
    "deep_gap": "#E69F00",
}
# One colour per dataset where datasets share a plot (effect against training-set size), none a model's colour.
DATASET_COLORS = {"fashion_mnist": "#332288", "mnist": "#882255", "cifar10": "#44AA99"}
# One colour per verdict word, everywhere (the glance figure, effect plots, report.html).
VERDICT_COLORS = {"supported": "#1B7837", "contradicted": "#B2182B", "negligible": "#7F7F7F",
                  "inconclusive": "#E0A100", "not run": "#FFFFFF", "": "#BBBBBB"}
SLIDE = (12.8, 7.2)  # inches at 100 dpi: 1280 x 720 px, 16:9
_FALLBACK = ["#F0E442", "#000000", "#999999", "#882255", "#44AA99"]

SLIDE_STYLE = {
    "figure.figsize": (8, 5),
    "figure.dpi": 100,
    "savefig.dpi": 100,  # 800x500 px figures: sharp on a slide, small in git
    "savefig.bbox": "tight",
    "svg.hashsalt": "inductive",  # fixed ids in SVGs: an unchanged figure redrawn is the same file
    "font.size": 15,        # >= 14 pt at 1280 px wide: readable on a slide
    "axes.titlesize": 17,
    "axes.labelsize": 15,
    "legend.fontsize": 14,
    "xtick.labelsize": 14,
    "ytick.labelsize": 14,
    "lines.linewidth": 2.2,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def model_color(model: str) -> str:
    """Colour of a model; unknown names get a stable colour from a spare palette."""
    if model in MODEL_COLORS:
        return MODEL_COLORS[model]
    return _FALLBACK[sum(map(ord, model)) % len(_FALLBACK)]


def dataset_color(dataset: str) -> str:
    """Colour of a dataset; unknown names get a stable colour from the spare palette."""
    return DATASET_COLORS.get(dataset) or _FALLBACK[sum(map(ord, dataset)) % len(_FALLBACK)]


def slide_style():
    """Context manager applying the slide style to figures made inside it."""
    return plt.rc_context(SLIDE_STYLE)


def save_figure(fig: plt.Figure, stem: str | Path) -> list[Path]:
    """Save `fig` as STEM.png and STEM.svg, close it, return both paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".svg")]  # stems may hold dots (F2.5k)
    fig.savefig(paths[0], metadata={"Software": None})
    fig.savefig(paths[1], metadata={"Date": None})  # no timestamp: regenerating an unchanged figure changes nothing
    plt.close(fig)
    return paths
