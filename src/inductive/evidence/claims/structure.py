"""Claims about parameter counts and layer equivalence: exact, the same for every seed, so no intervals.

Counts come from the layers each run recorded (Keras's own counts), checked against the closed forms
in `inductive.arithmetic`; the equivalence claim reads the Keras check `inductive.conv_questions` ran.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from inductive import arithmetic
from inductive.evidence import roles
from inductive.evidence.claims.registry import NOT_RUN, Cell, Finding, register
from inductive.evidence.stats import CONTRADICTED, INCONCLUSIVE, SUPPORTED
from inductive.evidence.tables import Tables

FAR_FEWER = 10  # "far fewer" parameters: at least an order of magnitude
EQUIVALENCE_TOLERANCE = 1e-4  # float32 outputs of the two layers may differ by rounding only
LECTURE_RESULTS = Path("results/conv_questions")  # where `python -m inductive.conv_questions` writes by default


def layers_of(tables: Tables) -> pd.DataFrame:
    """One copy of each model's layers per dataset (counts depend on neither the seed nor the status)."""
    merged = tables.layers.merge(tables.runs[["run_id", "model", "dataset", "condition", "model.kernel_size"]],
                                 on="run_id")
    return merged.drop_duplicates(["dataset", "condition", "model", "position"]).reset_index(drop=True)


def dataset_pairs(runs: pd.DataFrame, dataset: str, comparison: roles.Comparison) -> list[tuple[str, str]]:
    """The deciding pairs `comparison` relates among a dataset's models (`roles.pairs`, condition by condition;
    layer counts depend on neither the seed nor the status, so every run counts)."""
    here = runs[runs["dataset"] == dataset]
    found = [pair for _, group in here.groupby("condition", sort=False) for pair in roles.pairs([comparison], group)]
    return list(dict.fromkeys((more, less) for more, less, decides in found if decides))


def _shape(text: str) -> tuple[int, ...]:
    return tuple(json.loads(text))


def _kernel(value: object) -> int | tuple[int, int]:
    value = json.loads(value) if isinstance(value, str) else value
    return tuple(value) if isinstance(value, list) else int(value)


def _span(ratios: pd.Series) -> str:
    low, high = ratios.min(), ratios.max()
    return f"{low:,.0f}x" if round(low) == round(high) else f"{low:,.0f}x to {high:,.0f}x"


@register(1, "params", "Weight sharing: a conv layer needs far fewer parameters than a dense layer on the same input",
          "Once we decrease the kernel size, we end up with spatial weight sharing, that is, we have fewer parameters "
          "than in the case where we flatten the feature maps and have a fully connected layer that takes the "
          "resulting vector as its input.",
          f"Every Conv2D layer of every run against a Dense layer joining the same input to the same output; "
          f"'far fewer' means at least {FAR_FEWER}x. Exact counts.", ("evidence",))
def conv_params(tables: Tables) -> Finding:
    lay = layers_of(tables)
    convs = lay[lay["class"] == "Conv2D"].rename(columns={"model.kernel_size": "kernel_size"})
    rows = []
    for conv in convs.itertuples():
        inp, out = _shape(conv.input_shape), _shape(conv.output_shape)
        rows.append({"dataset": conv.dataset, "model": conv.model, "layer": conv.name, "input": str(inp),
                     "output": str(out), "conv_params": conv.trainable,
                     "closed_form": arithmetic.conv2d_params(inp[-1], out[-1], _kernel(conv.kernel_size)).total,
                     "dense_params": arithmetic.dense_equivalent_params(inp, out).total})
    table = pd.DataFrame(rows, columns=["dataset", "model", "layer", "input", "output", "conv_params", "closed_form",
                                        "dense_params"])
    table["ratio"] = table["dense_params"] / table["conv_params"]
    cells = {}
    for dataset, group in table.groupby("dataset", sort=False):
        low = group["ratio"].min()
        verdict = SUPPORTED if low >= FAR_FEWER else CONTRADICTED if low < 1 else INCONCLUSIVE
        mismatch = (group["conv_params"] != group["closed_form"]).sum()
        cells[dataset] = Cell(verdict, f"{_span(group['ratio'])} fewer",
                              f"{len(group)} conv layers; dense on the same input and output needs "
                              f"{_span(group['ratio'])} the parameters"
                              + (f"; {mismatch} recorded counts differ from the closed form" if mismatch else ""))
    return Finding(cells, {"layers": table}, figures=[("ratios", "layers")], notes=whole_model_notes(lay, tables.runs))


def whole_model_notes(lay: pd.DataFrame, runs: pd.DataFrame) -> list[str]:
    """Where the per-layer saving does not carry to the whole model: a conv net with a flatten head against the
    dense net of its depth, when the Dense layer after the flatten makes the conv net the larger."""
    notes = []
    totals = lay.drop_duplicates(["dataset", "model", "position"]).groupby(["dataset", "model"])["trainable"].sum()
    for dataset in lay["dataset"].unique():
        heads = {m: r.head for m, r in roles.roles_by_model(runs[runs["dataset"] == dataset]).items()}
        for fully, conv_model in dataset_pairs(runs, dataset, roles.FULLY_CONNECTED_VS_CONV):
            if heads.get(conv_model) != "flatten" or (dataset, fully) not in totals or (dataset, conv_model) not in totals:
                continue
            dense, conv = totals[(dataset, fully)], totals[(dataset, conv_model)]
            if conv > dense:
                notes.append(f"{dataset}: each conv layer is far smaller than its dense equivalent, yet the {conv_model} "
                             f"model as a whole has {conv / dense:.1f}x the {fully} model's parameters ({conv:,} vs "
                             f"{dense:,}): the Dense layer after the flatten holds most of them. Weight sharing saves "
                             "parameters per layer, not per architecture.")
    return notes


@register(2, "equivalence", "A conv layer whose kernel covers the whole input is a dense layer with `filters` units",
          "a convolutional layer whose kernel covers the whole input is equivalent to a dense layer",
          "`python -m inductive.conv_questions` builds such a Conv2D and a Dense layer in Keras, copies the conv's "
          f"weights into the dense layer and compares parameter counts and outputs on random inputs (equal up to "
          f"{EQUIVALENCE_TOLERANCE:g}). The check does not depend on the dataset.")
def equivalence(tables: Tables) -> Finding:
    table = tables.equivalence
    datasets = list(dict.fromkeys(tables.runs["dataset"].dropna()))
    if table is None or table.empty:
        reason = f"not measured: run `python -m inductive.conv_questions out={LECTURE_RESULTS}` and give lecture=DIR"
        return Finding({d: Cell(NOT_RUN, "", reason) for d in datasets})
    same = (table["conv_params"] == table["dense_params"]).all() and (table["max_abs_diff"] < EQUIVALENCE_TOLERANCE).all()
    cell = Cell(SUPPORTED if same else CONTRADICTED, f"max |diff| {table['max_abs_diff'].max():.0e}",
                f"{len(table)} input shapes: equal parameter counts, outputs equal to float32 rounding"
                if same else "counts or outputs differ: see the table")
    return Finding({d: cell for d in datasets}, {"keras_check": table}, figures=[("equivalence", "keras_check")])


@register(4, "pool_weights", "Pooling layers have no trainable variables",
          "Pooling layers do not have any trainable variables.",
          "Every pooling layer of every run, trainable and non-trainable weights counted by Keras.", ("evidence",))
def pooling_weights(tables: Tables) -> Finding:
    lay = layers_of(tables)
    pools = lay[lay["class"].str.contains("Pool")]
    table = (pools.groupby(["dataset", "class"], sort=False)
             .agg(layers=("name", "size"), models=("model", lambda m: ", ".join(sorted(set(m)))),
                  max_trainable=("trainable", "max"), max_non_trainable=("non_trainable", "max"))
             .reset_index())
    cells = {}
    for dataset, group in pools.groupby("dataset", sort=False):
        weighted = int(((group["trainable"] > 0) | (group["non_trainable"] > 0)).sum())
        kinds = group["class"].nunique()
        cells[dataset] = Cell(SUPPORTED if weighted == 0 else CONTRADICTED, f"{weighted} of {len(group)} with weights",
                              f"{len(group)} pooling layers of {kinds} kind{'s' * (kinds != 1)}, {weighted} with weights")
    every_layer = lay[["dataset", "model", "position", "name", "class", "trainable", "non_trainable"]]
    return Finding(cells, {"pooling_layers": table, "layers": every_layer}, figures=[("layer_weights", "layers")])


def _head_rows(group: pd.DataFrame, flatten_model: str, pooled_model: str) -> list[dict]:
    rows = []
    for model, head_class in ((flatten_model, "Flatten"), (pooled_model, "GlobalAveragePooling2D")):
        layers = group[group["model"] == model].sort_values("position")
        found = layers[layers["class"] == head_class]
        if found.empty:
            return []
        at = found.iloc[0]
        inp = _shape(at["input_shape"])
        features = math.prod(inp) if head_class == "Flatten" else inp[-1]
        classes = _shape(layers.iloc[-1]["output_shape"])[-1]
        rows.append({"model": model, "feature_maps": str(inp), "classifier_input": features,
                     "trunk_params": int(layers.loc[layers["position"] < at["position"], "trainable"].sum()),
                     "head_params": int(layers.loc[layers["position"] > at["position"], "trainable"].sum()),
                     "linear_classifier_params": arithmetic.dense_params(features, classes).total})
    return rows


@register(6, "head_weights", "Global average pooling needs fewer weights than flattening before the classifier",
          "In convolutional architectures, global average pooling is preferred over flattening feature maps [...]. "
          "The reason is that the resulting dimensionality is much smaller and thus the fully connected layer "
          "will have fewer weights",
          "Weights after the head (flatten or global average pooling) of twin models that share a conv trunk, the "
          "pairs derived by their roles (`evidence.roles`): " + roles.FLATTEN_VS_POOLED.text + ".",
          ("evidence",))
def head_weights(tables: Tables) -> Finding:
    lay = layers_of(tables)
    rows, cells = [], {}
    for dataset, group in lay.groupby("dataset", sort=False):
        ratios = []
        for pair in dataset_pairs(tables.runs, dataset, roles.FLATTEN_VS_POOLED):
            found = _head_rows(group, *pair)
            if found:
                rows += [{"dataset": dataset, "pair": f"{pair[0]} / {pair[1]}", **r} for r in found]
                ratios.append(found[0]["head_params"] / found[1]["head_params"])
        if ratios:
            low = min(ratios)
            cells[dataset] = Cell(SUPPORTED if low > 1 else CONTRADICTED, f"{_span(pd.Series(ratios))} fewer",
                                  "weights after the head, flatten / global average pooling, per twin pair: "
                                  + ", ".join(f"{r:,.0f}x" for r in ratios))
    return Finding(cells, {"heads": pd.DataFrame(rows)}, figures=[("heads", "heads")])
