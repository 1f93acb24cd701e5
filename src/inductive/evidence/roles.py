"""What a model is, read from the config keys it trained with, never from its name.

A model's `Role` is its structure: the trunk (`model.conv_type`, `model.conv_filters` and the geometry of its
blocks), the head (`model.head`) and the dense layers after it (`model.hidden_units`). Every run records these in
the runs table, so a claim asks for roles ("fully connected vs convolutional, same depth") and the pairs it judges
are derived from the models a study ran: a new model joins every comparison its structure makes it eligible for,
with no edit to a claim. The same roles order models in every table and figure (`model_order`).

How a model is shown (`display.label`, `display.color` in its yaml) is read from the config folder (`declared`).
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from typing import Any, Callable, Iterable

import pandas as pd

HEAD_ORDER = ("flatten", "global_average", "global_max")
GEOMETRY = ("kernel_size", "strides", "padding", "pool_size", "pool_type")  # what a trunk's blocks are, widths aside
KEYS = ("conv_type", "conv_filters", *GEOMETRY, "head", "hidden_units")  # the model keys a role is read from


def _value(value: Any) -> Any:
    """A config value as the runs table holds it (lists as JSON text, ints as floats where a column has gaps)
    turned back into a plain, hashable value: [32, 64] -> (32, 64), 2.0 -> 2, NaN or NA -> None."""
    if isinstance(value, str) and value.startswith("["):
        value = json.loads(value)
    if isinstance(value, (list, tuple)):
        return tuple(_value(v) for v in value)
    if value is None or pd.isna(value):  # NaN of any float type, pandas NA
        return None
    if isinstance(value, float):
        return int(value) if value.is_integer() else value
    return value


@dataclass(frozen=True)
class Role:
    """A model's structure, from its `model.*` keys."""

    conv_type: str                  # conv: one kernel shared by all positions | local: a kernel per position
    conv_filters: tuple[int, ...]   # one block per entry; () for no trunk
    geometry: tuple                 # kernel_size, strides, padding, pool_size, pool_type of the blocks
    head: str                       # flatten | global_average | global_max
    hidden_units: tuple[int, ...]   # dense layers between the head and the classifier

    @property
    def blocks(self) -> int:
        return len(self.conv_filters)

    @property
    def fully_connected(self) -> bool:
        """No trunk: the image is flattened straight into dense layers."""
        return self.blocks == 0 and self.head == "flatten"

    @property
    def convolutional(self) -> bool:
        """A trunk of Conv2D blocks: local receptive fields, one kernel shared by every position."""
        return self.blocks > 0 and self.conv_type == "conv"

    @property
    def locally_connected(self) -> bool:
        """A trunk of locally connected blocks: local receptive fields, a kernel of its own at every position."""
        return self.blocks > 0 and self.conv_type == "local"

    @property
    def depth(self) -> int:
        """Feature layers before the classifier's input: the trunk's blocks, or for a net without a trunk its
        hidden dense layers (a conv net of depth 2 has as many feature layers as a dense net with 2 hidden)."""
        return self.blocks if self.blocks else len(self.hidden_units)

    def trunk(self, widths: bool = True) -> tuple:
        """What must be equal for two models to share a trunk; `widths=False` where a condition sized every model
        to one parameter count (the sizing scales widths, so only the number of blocks is the design's)."""
        return (self.conv_type, self.conv_filters if widths else self.blocks, self.geometry)

    @property
    def rank(self) -> tuple[int, int, int]:
        """Order of models in tables and figures: by trunk depth (none first), then locally connected before
        convolutional (weight sharing added), then flatten before pooled heads."""
        head = HEAD_ORDER.index(self.head) if self.head in HEAD_ORDER else len(HEAD_ORDER)
        return (self.blocks, int(self.conv_type != "local"), head)

    def describe(self) -> str:
        """'conv trunk of 2 blocks, global_average head, 0 hidden dense layers'."""
        trunk = f"{self.conv_type} trunk of {self.blocks} blocks" if self.blocks else "no trunk"
        return f"{trunk}, {self.head} head, {len(self.hidden_units)} hidden dense layers"


def role_from(config: dict[str, Any] | pd.Series, prefix: str = "model.") -> Role | None:
    """The role in a runs-table row (`model.conv_type`, ... columns) or a model config (prefix=""); None when
    the row recorded no model config (a run that stopped before its config was kept)."""
    get = lambda key: _value(config.get(prefix + key))  # noqa: E731
    if get("conv_type") is None or get("head") is None:
        return None
    return Role(get("conv_type"), tuple(get("conv_filters") or ()), tuple(get(key) for key in GEOMETRY),
                get("head"), tuple(get("hidden_units") or ()))


def roles_by_model(runs: pd.DataFrame) -> dict[str, Role]:
    """Each model of a runs table with its role, from its first row that recorded one (completed rows first).

    A loop over the records of the few columns a role needs: a report asks this once or more per claim and condition,
    and boolean masks, a concat and a de-duplication cost ten times as much on the small tables it reads."""
    if not {"model", "model.conv_type", "model.head"} <= set(runs.columns):
        return {}
    has_status = "status" in runs
    statuses = runs["status"].tolist() if has_status else [None] * len(runs)
    completed: dict[str, Role] = {}
    others: dict[str, Role] = {}
    for status, row in zip(statuses, runs.reindex(columns=["model", *(f"model.{key}" for key in KEYS)])
                           .to_dict("records")):
        model = row["model"]
        firsts = completed if not has_status or status == "completed" else others
        if not isinstance(model, str) or model in firsts:
            continue
        role = role_from(row)  # None for a row that recorded no model config: a later row of the model may have one
        if role is not None:
            firsts[model] = role
    return completed | {model: role for model, role in others.items() if model not in completed}


def model_order(runs: pd.DataFrame) -> list[str]:
    """The models of a runs table in role order (`Role.rank`, then name); models without a recorded role last."""
    roles = roles_by_model(runs)
    models = {m for m in runs["model"] if isinstance(m, str)}
    return sorted(models, key=lambda m: (0, roles[m].rank, m) if m in roles else (1, (), m))


# ---------------------------------------------------------------- comparisons a claim makes


@dataclass(frozen=True)
class Comparison:
    """Two roles a claim compares: models in role `more` against models in role `less` (`more` - `less` is each
    effect's sign), the relation a pair must have (`related`: more, less, whether widths count), and which of the
    related pairs decide the claim (the others are context)."""

    text: str
    more: Callable[[Role], bool]
    less: Callable[[Role], bool]
    related: Callable[[Role, Role, bool], bool] = lambda more, less, widths: True
    decides: Callable[[Role, Role], bool] = lambda more, less: True


def _same_trunk(more: Role, less: Role, widths: bool) -> bool:
    return more.trunk(widths) == less.trunk(widths)


def _twins_but_sharing(more: Role, less: Role, widths: bool) -> bool:
    """Everything equal but the conv type: the same blocks, head and dense layers."""
    return ((more.conv_filters if widths else more.blocks) == (less.conv_filters if widths else less.blocks)
            and more.geometry == less.geometry and more.head == less.head
            and (more.hidden_units if widths else len(more.hidden_units))
            == (less.hidden_units if widths else len(less.hidden_units)))


FULLY_CONNECTED_VS_CONV = Comparison(
    "fully connected vs convolutional: deciding where the conv trunk has as many blocks as the dense net has "
    "hidden layers (same depth), context otherwise",
    more=lambda r: r.fully_connected, less=lambda r: r.convolutional,
    decides=lambda more, less: less.depth == more.depth)
FULLY_CONNECTED_VS_LOCAL = Comparison(
    "fully connected vs locally connected (locality without weight sharing): context",
    more=lambda r: r.fully_connected, less=lambda r: r.locally_connected, decides=lambda more, less: False)
FLATTEN_VS_POOLED = Comparison(
    "flatten head vs global average pooling head, same trunk",
    more=lambda r: r.blocks > 0 and r.head == "flatten", less=lambda r: r.blocks > 0 and r.head == "global_average",
    related=_same_trunk)
LOCAL_VS_CONV = Comparison(
    "locally connected vs convolutional, same trunk and head (only the weight sharing differs)",
    more=lambda r: r.locally_connected, less=lambda r: r.convolutional, related=_twins_but_sharing)
POOLED_VS_FLATTEN = Comparison(
    "global average pooling head vs flatten head, same trunk",
    more=FLATTEN_VS_POOLED.less, less=FLATTEN_VS_POOLED.more, related=_same_trunk)
POOLED_VS_FULLY_CONNECTED = Comparison(
    "global average pooling head on a conv trunk vs fully connected, same depth",
    more=lambda r: r.convolutional and r.head == "global_average", less=lambda r: r.fully_connected,
    related=lambda more, less, widths: more.depth == less.depth)


def pairs(comparisons: Iterable[Comparison], runs: pd.DataFrame) -> list[tuple[str, str, bool]]:
    """(more, less, decides) for every pair of models in `runs` (one condition's) that a comparison relates.

    Deciding pairs first; then by the `more` model's order, the comparison's place in `comparisons` and the
    `less` model's order. Where the runs were sized to one parameter count (`params_target`), widths are the
    sizing's and do not count towards a shared trunk."""
    roles, order = roles_by_model(runs), model_order(runs)
    widths = not ("params_target" in runs and runs["params_target"].notna().any())
    found = []
    for index, comparison in enumerate(comparisons):
        for more in order:
            for less in order:
                if more == less or more not in roles or less not in roles:
                    continue
                a, b = roles[more], roles[less]
                if comparison.more(a) and comparison.less(b) and comparison.related(a, b, widths):
                    decides = comparison.decides(a, b)
                    found.append(((not decides, order.index(more), index, order.index(less)), (more, less, decides)))
    ordered = [pair for _, pair in sorted(found)]
    return [pair for i, pair in enumerate(ordered) if all(pair[:2] != seen[:2] for seen in ordered[:i])]


def pairs_by_condition(comparisons: Iterable[Comparison], runs: pd.DataFrame) -> dict[str, list[tuple[str, str, bool]]]:
    """`pairs` under each condition of a runs table (its completed runs), conditions in table order."""
    comparisons = list(comparisons)
    done = runs[runs["status"] == "completed"] if "status" in runs else runs
    return {condition: pairs(comparisons, group) for condition, group in done.groupby("condition", sort=False)}


# ---------------------------------------------------------------- how a model is shown


@dataclass(frozen=True)
class Declared:
    """A model as its yaml in the config folder declares it: its role and how it is shown (None: not given)."""

    role: Role | None
    label: str | None
    color: str | None


def declared(model: str) -> Declared | None:
    """The model's yaml (configs/model/MODEL.yaml, composed with its defaults), or None where the config folder
    has no such model (a saved table from elsewhere)."""
    from inductive.training.config_folder import config_dir

    return _declared(str(config_dir()), model)


@functools.lru_cache(maxsize=None)
def _declared(folder: str, model: str) -> Declared | None:
    from omegaconf import OmegaConf

    from inductive.training.config_folder import model_config, model_names

    if model not in model_names():
        return None
    config = OmegaConf.to_container(model_config(model), resolve=True)
    display = config.get("display") or {}
    return Declared(role_from(config, prefix=""), display.get("label"), display.get("color"))
