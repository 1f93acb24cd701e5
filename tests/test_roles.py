"""Models by what they are: roles from config keys, the pairs each claim derives from them, order and colour; and a
model and a dataset added in a config folder of their own join the tables, figures and claims."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from conftest import _protocol_config, make_images
from inductive.evidence import roles, style
from inductive.evidence.claims import invariance, overfitting
from inductive.training.config_folder import ENV, config_dir
from inductive.training.schema import flatten

SIX = ["dense", "local", "conv_flatten", "gap", "deep_flatten", "deep_gap"]


def runs_of(models: list[str], condition: str = "F1k", target: int | None = None, **config) -> pd.DataFrame:
    """A runs table as `tables.collect` builds it (config flattened, lists as JSON), one completed run per model."""
    rows = []
    for model in models:
        flat = flatten(_protocol_config(model, 0, 0.99))
        flat.update({f"model.{key}": value for key, value in config.get(model, {}).items()})
        rows.append({"model": model, "dataset": "fashion_mnist", "condition": condition, "status": "completed",
                     "params_target": target,
                     **{k: json.dumps(v) if isinstance(v, list) else v for k, v in flat.items()}})
    return pd.DataFrame(rows)


def test_the_six_models_have_the_roles_their_keys_say():
    """Would catch: a role read from the name, or a list column (JSON text in the tables) misread."""
    found = roles.roles_by_model(runs_of(SIX))
    assert found["dense"].fully_connected and found["dense"].depth == 2
    assert found["local"].locally_connected and not found["local"].convolutional
    assert found["gap"].convolutional and found["gap"].head == "global_average" and found["gap"].blocks == 2
    assert found["deep_flatten"].trunk() == found["deep_gap"].trunk() != found["gap"].trunk()
    renamed = runs_of(["gap"]).assign(model="anything")
    assert roles.roles_by_model(renamed)["anything"] == found["gap"]


def test_a_role_comes_from_the_first_completed_run_and_a_run_that_recorded_none_is_passed_over():
    """Would catch: a role read from a failed run's config where a completed run of the model says otherwise, a row
    without a recorded model config taken for a model without a role, or completed rows not put first."""
    failed = runs_of(["gap"], gap={"conv_filters": [8, 16]}).assign(status="failed")
    unrecorded = runs_of(["gap"]).assign(**{"model.conv_type": None})
    only_failed = runs_of(["dense"]).assign(status="failed")
    found = roles.roles_by_model(pd.concat([failed, unrecorded, only_failed, runs_of(["gap"])], ignore_index=True))
    assert list(found) == ["gap", "dense"]  # completed first, then models that only failed
    assert found["gap"].conv_filters == roles.roles_by_model(runs_of(["gap"]))["gap"].conv_filters != (8, 16)
    assert roles.roles_by_model(failed.drop(columns="status"))["gap"].conv_filters == (8, 16)  # no status: first row
    assert roles.roles_by_model(unrecorded) == {}
    nullable = runs_of(["gap"]).assign(**{"model.head": pd.NA}).astype({"model.head": "string"})
    assert roles.role_from(nullable.iloc[0]) is None and roles.roles_by_model(nullable) == {}  # a row's NA, not NaN


def test_models_are_ordered_by_role_not_by_name():
    """Would catch: an order that follows names or the order runs were read (tables and figures list models so)."""
    assert roles.model_order(runs_of(SIX[::-1])) == SIX
    renamed = runs_of(["gap", "dense"]).assign(model=["a_gap_net", "z_dense_net"])
    assert roles.model_order(renamed) == ["z_dense_net", "a_gap_net"]


EXPECTED = {  # claim: its comparisons and, for the six models, the pairs (more, less, decides) in order
    3: (overfitting.CONV_VS_DENSE, [("dense", "conv_flatten", True), ("dense", "gap", True),
                                    ("dense", "deep_flatten", False), ("dense", "deep_gap", False)]),
    7: (overfitting.FLATTEN_VS_GAP, [("conv_flatten", "gap", True), ("deep_flatten", "deep_gap", True)]),
    8: (overfitting.SHARING, [("local", "conv_flatten", True), ("dense", "local", False)]),
    5: (invariance.COMPARISONS, [("gap", "conv_flatten", True), ("gap", "dense", True),
                                 ("deep_gap", "deep_flatten", True)]),
}


@pytest.mark.parametrize("claim", EXPECTED)
def test_each_claim_derives_its_pairs_of_record_from_the_six_models(claim):
    """Would catch: a derivation that adds, drops, reorders or flips a pair (pairs, their order and which decide
    make the verdicts of record), e.g. dense - local joining claim 3 or deep_gap - dense joining claim 5."""
    comparisons, expected = EXPECTED[claim]
    assert roles.pairs(comparisons, runs_of(SIX[::-1])) == expected
    some = runs_of(["gap", "dense", "conv_flatten"])
    assert roles.pairs(comparisons, some) == [p for p in expected if {p[0], p[1]} <= {"gap", "dense", "conv_flatten"}]


def test_a_capacity_matched_condition_pairs_by_structure_not_widths():
    """Would catch: twins lost where sizing to one parameter count gave them different widths (claim 9's condition),
    or widths ignored where they were chosen (two trunks of other widths are not the same trunk)."""
    sized = {"conv_flatten": {"conv_filters": [17, 33], "hidden_units": [67]}, "gap": {"conv_filters": [90, 180]},
             "dense": {"hidden_units": [171, 86]}, "local": {"conv_filters": [3, 7], "hidden_units": [14]}}
    matched = runs_of(["dense", "local", "conv_flatten", "gap"], "F1kp", 150000, **sized)
    assert roles.pairs(overfitting.MATCHED, matched) == [("dense", "conv_flatten", True), ("dense", "gap", True),
                                                         ("dense", "local", False)]
    assert roles.pairs(invariance.COMPARISONS, matched)[0] == ("gap", "conv_flatten", True)
    unmatched = runs_of(["conv_flatten", "gap"], gap={"conv_filters": [90, 180]})
    assert roles.pairs(overfitting.FLATTEN_VS_GAP, unmatched) == []


def test_a_new_structure_joins_every_comparison_it_is_eligible_for():
    """Would catch: a claim that only knows the shipped models (a new gap-headed conv net of the dense net's depth
    must enter claims 3, 5 and 7, and no other pair may change)."""
    runs = pd.concat([runs_of(SIX), runs_of(["gap"]).assign(model="gap_twin")], ignore_index=True)
    assert ("dense", "gap_twin", True) in roles.pairs(overfitting.CONV_VS_DENSE, runs)
    assert ("conv_flatten", "gap_twin", True) in roles.pairs(overfitting.FLATTEN_VS_GAP, runs)
    five = roles.pairs(invariance.COMPARISONS, runs)
    assert ("gap_twin", "conv_flatten", True) in five and ("gap_twin", "dense", True) in five
    assert [p for p in five if "gap_twin" not in p] == EXPECTED[5][1]


def test_colours_come_from_the_yaml_else_from_the_role():
    """Would catch: colours kept per name in code (a new model then gets a palette leftover unrelated to what it is),
    or a role colour that changes from run to run."""
    assert style.model_color("gap") == "#009E73" == roles.declared("gap").color
    role = roles.roles_by_model(runs_of(["gap"]))["gap"]
    assert style.role_color(role) == style.role_color(role) in style.ROLE_HUES["conv, pooled head"]
    dense = roles.roles_by_model(runs_of(["dense"]))["dense"]
    assert style.role_color(dense) in style.ROLE_HUES["fully connected"]
    assert roles.declared("no_such_model") is None and style.model_color("no_such_model").startswith("#")


# ---------------------------------------------------------------- a model and a dataset added, end to end

GAP_BN = """# The tests' added model: gap's trunk with batch normalisation after each conv, built by its own function.
defaults:
  - _base
  - _self_
name: gap_bn
conv_filters: [4, 8]
head: global_average
hidden_units: []
display:
  label: gap + batch norm
  color: "#117733"
"""

FIVE = """# The tests' added dataset: 12x12 grey images of 5 classes, from an .npz.
name: five
image_shape: [12, 12, 1]
num_classes: 5
train_images: 600
path: {path}
local_copies: []
tfds: {{name: five, data_dir: null, download: false, manual_dir: null}}
cache_dir: null
val_size: 100
split_seed: 0
train_size: null
normalize: unit
"""


def build_gap_bn(model, image_shape, num_classes):
    import keras

    layers = [keras.Input(shape=tuple(image_shape))]
    for filters in model.conv_filters:
        layers += [keras.layers.Conv2D(filters, model.kernel_size, padding=model.padding),
                   keras.layers.BatchNormalization(), keras.layers.Activation(model.activation),
                   keras.layers.MaxPooling2D(model.pool_size)]
    layers += [keras.layers.GlobalAveragePooling2D(), keras.layers.Dense(num_classes, activation="softmax")]
    return keras.Sequential(layers, name=model.name)


@pytest.mark.slow
def test_a_model_and_a_dataset_added_in_a_config_folder_join_tables_figures_and_claims(tmp_path, monkeypatch):
    """One model yaml plus one builder, one dataset yaml (5 classes) plus its .npz, in a copy of configs/ named by
    INDUCTIVE_CONFIG_DIR: trained at debug size, the report finds them with their roles and a chance line at 1/5.
    Would catch: any list of model names or any 10-class assumption left in the tables, figures or claims."""
    from conftest import compose_config
    from inductive.evidence import figures
    from inductive.evidence.report import build_report
    from inductive.training import models
    from inductive.training.train import run

    configs = tmp_path / "configs"
    shutil.copytree(config_dir(), configs)
    x_train, y_train = make_images(600, classes=5, seed=1)
    x_test, y_test = make_images(200, classes=5, seed=2)
    np.savez(tmp_path / "five.npz", x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    (configs / "model" / "gap_bn.yaml").write_text(GAP_BN)
    (configs / "data" / "five.yaml").write_text(FIVE.format(path=tmp_path / "five.npz"))
    monkeypatch.setenv(ENV, str(configs))
    monkeypatch.setitem(models.BUILDERS, "gap_bn", build_gap_bn)

    small = ["data=five", "trainer.epochs=3", "trainer.batch_size=32", "trainer.verbose=0",
             "trainer.precision=float32", "shift.max_images=200", f"output_root={tmp_path}"]
    shapes = {"dense": ["model.conv_filters=[]", "model.hidden_units=[16,16]"],
              "conv_flatten": ["model.conv_filters=[4,8]", "model.hidden_units=[16]"], "gap_bn": []}
    sweep, num = tmp_path / "sweep", 0
    for model, shape in shapes.items():
        for seed in (0, 1):
            run(compose_config(*small, f"model={model}", f"seed={seed}", *shape), sweep / f"{num}_{model}_five_seed{seed}")
            num += 1

    drawn = []
    keep = figures.save_figure
    monkeypatch.setattr(figures, "save_figure", lambda fig, stem: drawn.append((Path(stem).name, fig)) or keep(fig, stem))
    report = build_report([sweep], tmp_path / "report", claims=[3, 5, 6, 7]).parent

    runs = pd.read_csv(report / "runs.csv")
    assert set(runs["dataset"]) == {"five"} and set(runs["data.num_classes"]) == {5}
    assert (runs["status"] == "completed").all() and list(dict.fromkeys(runs["model"])) == list(shapes)
    found = roles.roles_by_model(runs)
    assert found["gap_bn"].convolutional and found["gap_bn"].head == "global_average"
    assert found["gap_bn"].trunk() == found["conv_flatten"].trunk()
    effects = pd.read_csv(report / "effects.csv")
    deciding = set(zip(effects.loc[effects["kind"] == "decides", "claim"],
                       effects.loc[effects["kind"] == "decides", "comparison"]))
    assert {(3, "dense - gap_bn"), (3, "dense - conv_flatten"), (7, "conv_flatten - gap_bn")} <= deciding
    assert {"gap_bn - conv_flatten", "gap_bn - dense"} <= set(effects.loc[effects["claim"] == 5, "comparison"])
    assert "gap_bn" in set(pd.read_csv(report / "claim6_heads.csv")["model"])

    shift_figure = next(fig for stem, fig in drawn if stem.startswith("claim5_shift"))
    chance = [line for line in shift_figure.axes[0].lines if line.get_label() == "chance (5 classes)"]
    assert len(chance) == 1 and list(chance[0].get_ydata()) == [0.2, 0.2]
    curves = next(fig for stem, fig in drawn if stem.startswith("claim7_curves"))
    panel = next(ax for ax in curves.axes if ax.get_title() == "gap + batch norm")
    assert panel.lines[0].get_color() == "#117733"
