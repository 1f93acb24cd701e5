"""One look for every figure: slide-readable fonts, one colour per model, PNG and SVG."""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures are files; never needs a screen
import matplotlib.pyplot as plt  # noqa: E402

# The same model keeps the same colour in every figure (colour-blind-safe Okabe-Ito palette).
MODEL_COLORS = {
    "dense": "#D55E00",
    "conv_flatten": "#0072B2",
    "gap": "#009E73",
    "local": "#CC79A7",
}
_FALLBACK = ["#E69F00", "#56B4E9", "#F0E442", "#000000", "#999999"]

SLIDE_STYLE = {
    "figure.figsize": (8, 5),
    "figure.dpi": 100,
    "savefig.dpi": 100,  # 800x500 px figures: sharp on a slide, small in git
    "savefig.bbox": "tight",
    "font.size": 14,
    "axes.titlesize": 16,
    "axes.labelsize": 14,
    "legend.fontsize": 12,
    "xtick.labelsize": 12,
    "ytick.labelsize": 12,
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


def slide_style():
    """Context manager applying the slide style to figures made inside it."""
    return plt.rc_context(SLIDE_STYLE)


def save_figure(fig: plt.Figure, stem: str | Path) -> list[Path]:
    """Save `fig` as STEM.png and STEM.svg, close it, return both paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_suffix(".png"), stem.with_suffix(".svg")]
    fig.savefig(paths[0], metadata={"Software": None})
    fig.savefig(paths[1], metadata={"Date": None})  # no timestamp: regenerating an unchanged figure changes nothing
    plt.close(fig)
    return paths
