"""One look for every figure: slide-readable fonts, one colour per model, intervals drawn as the report prints them
(clipped to their measure's range), PNG and SVG."""

from __future__ import annotations

import math
import textwrap
import zlib
from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # figures are files; never needs a screen
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from inductive.evidence.roles import Role, declared  # noqa: E402

# How datasets are named for people, in reports and figure titles.
DATASET_NAMES = {"fashion_mnist": "Fashion-MNIST", "mnist": "MNIST", "cifar10": "CIFAR-10"}

# A model keeps one colour in every figure: its yaml's display.color (the shipped models use the colour-blind-safe
# Okabe-Ito palette), else one drawn from the hues of its role, the same on every run (`role_color`).
ROLE_HUES = {  # role kind -> colours its models are drawn from
    "fully connected": ["#D55E00", "#B2182B", "#E66101"],
    "locally connected": ["#CC79A7", "#AA4499", "#762A83"],
    "conv, flatten head": ["#0072B2", "#56B4E9", "#2166AC"],
    "conv, pooled head": ["#009E73", "#E69F00", "#1B9E77"],
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


def _stable_pick(options: list[str], key: str) -> str:
    return options[zlib.crc32(key.encode()) % len(options)]


def role_color(role: Role) -> str:
    """A colour from the hues of the role's kind, picked by its whole structure: the same role, the same colour."""
    kind = ("fully connected" if role.blocks == 0 else "locally connected" if role.conv_type == "local"
            else "conv, flatten head" if role.head == "flatten" else "conv, pooled head")
    structure = [role.conv_type, [int(f) for f in role.conv_filters], str(role.geometry), role.head,
                 [int(u) for u in role.hidden_units]]
    return _stable_pick(ROLE_HUES[kind], str(structure))


def model_color(model: str) -> str:
    """Colour of a model: its yaml's display.color, else its role's (`role_color`); a model the config folder does
    not hold gets a stable colour from a spare palette."""
    found = declared(model)
    if found is not None and found.color:
        return found.color
    if found is not None and found.role is not None:
        return role_color(found.role)
    return _FALLBACK[sum(map(ord, model)) % len(_FALLBACK)]


def model_label(model: str) -> str:
    """How figures name a model: its yaml's display.label, else its name."""
    found = declared(model)
    return (found.label if found else None) or model


def dataset_color(dataset: str) -> str:
    """Colour of a dataset; unknown names get a stable colour from the spare palette."""
    return DATASET_COLORS.get(dataset) or _FALLBACK[sum(map(ord, dataset)) % len(_FALLBACK)]


def slide_style():
    """Context manager applying the slide style to figures made inside it."""
    return plt.rc_context(SLIDE_STYLE)


def figure_title(fig: plt.Figure, title: str) -> None:
    """A figure's title, wrapped to the slide's width."""
    fig.suptitle("\n".join(textwrap.wrap(title, 90)), fontsize=17)


def save_figure(fig: plt.Figure, stem: str | Path) -> list[Path]:
    """Save `fig` as STEM.png and STEM.svg, close it, return both paths."""
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".svg")]  # stems may hold dots (F2.5k)
    fig.savefig(paths[0], metadata={"Software": None})
    fig.savefig(paths[1], metadata={"Date": None})  # no timestamp: regenerating an unchanged figure changes nothing
    plt.close(fig)
    return paths


def draw_interval(ax: plt.Axes, row, y: float, color) -> bool:
    """An effect's interval as a bar at `y`, clipped to its measure's range where the row gives one (`span_low`,
    `span_high`), with an arrowhead at a clipped end, as the report prints it with a dagger; True if clipped."""
    lowest, highest = getattr(row, "span_low", math.nan), getattr(row, "span_high", math.nan)
    lowest = -math.inf if pd.isna(lowest) else lowest
    highest = math.inf if pd.isna(highest) else highest
    if not np.isfinite(row.low):
        return False
    ax.plot([max(row.low, lowest), min(row.high, highest)], [y, y], color=color, linewidth=4, solid_capstyle="butt")
    for end, bound, marker in ((row.low, lowest, "<"), (row.high, highest, ">")):
        if (end < bound) if marker == "<" else (end > bound):
            ax.plot(bound, y, marker=marker, color=color, markersize=13)
    return row.low < lowest or row.high > highest


CLIPPED_LABEL = "arrowhead: interval clipped to the measure's range"


def clipped_ends(rows: pd.DataFrame) -> tuple[pd.Series, pd.Series]:
    """The rows' interval ends clipped to their measures' ranges, where the table gives them."""
    low, high = rows["low"].astype(float), rows["high"].astype(float)
    if "span_low" in rows:
        low = low.where(~(low < rows["span_low"].astype(float)), rows["span_low"].astype(float))
    if "span_high" in rows:
        high = high.where(~(high > rows["span_high"].astype(float)), rows["span_high"].astype(float))
    return low, high
