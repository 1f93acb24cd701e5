"""`python -m inductive.evidence.report`: run folders on disk -> tables, figures, verdicts; and the experiment presets."""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import OmegaConf

from inductive import claims, figures, record, report
from inductive.training.config import config_dir
from inductive.training.models import build_model

MODELS = ("dense", "conv_flatten", "gap")
SEEDS = (0, 1, 2)
# Per model: train accuracy, validation accuracy, train loss, validation loss over six epochs.
CURVES = {
    "dense": ([0.70, 0.85, 0.93, 0.97, 0.99, 0.995], [0.68, 0.78, 0.80, 0.80, 0.79, 0.78],
              [0.90, 0.45, 0.22, 0.10, 0.05, 0.03], [0.95, 0.70, 0.65, 0.75, 0.90, 1.05]),
    "conv_flatten": ([0.72, 0.84, 0.90, 0.93, 0.95, 0.96], [0.71, 0.83, 0.87, 0.88, 0.89, 0.89],
                     [0.90, 0.48, 0.32, 0.24, 0.19, 0.16], [0.92, 0.52, 0.40, 0.37, 0.38, 0.42]),
    "gap": ([0.25, 0.38, 0.47, 0.53, 0.57, 0.60], [0.26, 0.39, 0.47, 0.53, 0.57, 0.59],
            [2.10, 1.80, 1.60, 1.45, 1.35, 1.28], [2.08, 1.78, 1.59, 1.44, 1.34, 1.28]),
}


def compose_config(*overrides: str):
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


@pytest.fixture(scope="module")
def params() -> dict[str, dict]:
    """Parameter counts as train.run records them, from the real model configs."""
    found = {}
    for model in MODELS:
        cfg = compose_config(f"model={model}")
        found[model] = record.parameter_counts(build_model(cfg.model, tuple(cfg.data.image_shape), 10))
    return found


def write_run(sweep: Path, num: int, model: str, seed: int, params: dict, status: str = "completed",
              epochs: int = 6) -> Path:
    """A run folder shaped like the ones train.run leaves: .hydra/config.yaml, history.csv, summary.json."""
    cfg = compose_config(f"model={model}", f"seed={seed}", "data.train_size=1000", "trainer.epochs=6")
    run_dir = sweep / f"{num}_{model}_fashion_mnist_seed{seed}"
    (run_dir / ".hydra").mkdir(parents=True)
    OmegaConf.save(cfg, run_dir / ".hydra" / "config.yaml")
    acc, val_acc, loss, val_loss = (np.array(c[:epochs]) for c in CURVES[model])
    jitter = 0.003 * ((3 * seed + MODELS.index(model)) % 5 - 2)
    history = pd.DataFrame({"epoch": range(epochs), "accuracy": acc, "epoch_time_s": 0.5, "loss": loss,
                            "val_accuracy": val_acc + jitter, "val_loss": val_loss + jitter})
    if status == "diverged":
        history.loc[epochs - 1, ["loss", "val_loss"]] = np.nan
    history.to_csv(run_dir / record.HISTORY, index=False)
    errors = {"failed": "RuntimeError: out of memory", "diverged": "loss became NaN or infinite"}
    summary = {"status": status, "error": errors.get(status),
               "model": model, "dataset": "fashion_mnist", "seed": seed,
               "config": OmegaConf.to_container(cfg, resolve=True), "params": params[model],
               "data": {"source": "synthetic", "train_size": 1000, "val_size": 500, "test_size": 500},
               "device": {"device": "CPU"}}
    if status != "running":
        summary |= record.history_metrics(history)
    if status == "completed":
        summary |= {"test": {"loss": float(val_loss[-1]), "accuracy": float(val_acc[-1])},
                    "time": {"load_s": 0.1, "train_s": 3.0, "epoch_mean_s": 0.5, "total_s": 3.1}}
    record.write_json_atomic(run_dir / record.SUMMARY, summary)
    return run_dir


@pytest.fixture(scope="module")
def sweep(tmp_path_factory, params) -> Path:
    """Nine completed runs; one failed, one diverged, one killed while training, one that never wrote a summary."""
    root = tmp_path_factory.mktemp("outputs") / "2026-01-01_00-00-00_weight_sharing_quick"
    num = 0
    for model in MODELS:
        for seed in SEEDS:
            write_run(root, num, model, seed, params)
            num += 1
    write_run(root, num, "dense", 3, params, status="failed", epochs=2)
    write_run(root, num + 1, "conv_flatten", 3, params, status="running", epochs=1)
    write_run(root, num + 3, "dense", 4, params, status="diverged", epochs=3)
    never = root / f"{num + 2}_gap_fashion_mnist_seed3" / ".hydra"
    never.mkdir(parents=True)
    OmegaConf.save(compose_config("model=gap", "seed=3"), never / "config.yaml")
    return root


@pytest.fixture(scope="module")
def built(sweep) -> Path:
    assert report.main([str(sweep)]) == 0
    return sweep / "report"


def test_runs_table_has_one_row_per_run_with_its_status(built):
    runs = pd.read_csv(built / "runs.csv")
    assert len(runs) == 13
    assert runs["status"].value_counts().to_dict() == {"completed": 9, "incomplete": 2, "failed": 1, "diverged": 1}
    done = runs[runs["status"] == "completed"]
    assert list(done["model"]) == ["dense"] * 3 + ["conv_flatten"] * 3 + ["gap"] * 3  # tables keep this order
    failed = runs[runs["status"] == "failed"].iloc[0]
    assert failed["error"] == "RuntimeError: out of memory" and failed["epochs_run"] == 2
    never = runs[runs["run_id"].str.startswith("2026-01-01_00-00-00_weight_sharing_quick/11_gap")].iloc[0]
    assert never["status"] == "incomplete" and "no summary.json" in never["error"] and never["model"] == "gap"
    done = runs[runs["status"] == "completed"].set_index("run_id")
    dense = done.loc["2026-01-01_00-00-00_weight_sharing_quick/0_dense_fashion_mnist_seed0"]
    assert dense["params_trainable"] == 235_146 and dense["model.hidden_units"] == "[256, 128]"
    assert dense["final_epoch"] == 6 and dense["best_epoch"] == 3  # epochs count from 1
    assert dense["val_loss_rise"] == pytest.approx(1.05 - 0.65)
    assert dense["condition"] == "fashion_mnist, 1,000 train images, 6 epochs"


def test_epochs_table_is_long_form_and_keeps_partial_histories(built):
    epochs = pd.read_csv(built / "epochs.csv")
    assert list(epochs.columns) == ["run_id", "epoch", "split", "metric", "value"]
    assert len(epochs) == (9 * 6 + 2 + 3 + 1) * 2 * 2  # run x epoch x {train, val} x {loss, accuracy}
    one = epochs[epochs["run_id"].str.endswith("/3_conv_flatten_fashion_mnist_seed0")]
    val_acc = one[(one["split"] == "val") & (one["metric"] == "accuracy")].sort_values("epoch")["value"]
    assert val_acc.iloc[0] == pytest.approx(CURVES["conv_flatten"][1][0] + 0.003 * (1 % 5 - 2))
    if importlib.util.find_spec("pyarrow"):  # Parquet is written when an engine is installed
        assert pd.read_parquet(built / "epochs.parquet").shape == epochs.shape


def test_report_gives_verdicts_from_the_data(built):
    text = (built / "report.md").read_text()
    verdicts = dict(re.findall(r"^\| (\d)\. .*? \| \*\*(.+?)\*\* \|", text, flags=re.M))
    # gap underfits, so only dense - conv_flatten is decided: claims 2 (mixed) and 4 stay inconclusive
    assert {claim: verdicts[claim] for claim in "12345"} == {"1": "supported", "2": "inconclusive", "3": "supported", "4": "inconclusive",
                        "5": "supported"}
    assert "| dense - conv_flatten | fashion_mnist, 1,000 train images, 6 epochs | supported |  |" in text
    assert "| conv_flatten - gap | fashion_mnist, 1,000 train images, 6 epochs | inconclusive | gap underfits" in text
    assert "6 epochs: gap underfits: its train accuracy is" in text and "is no evidence that it generalizes" in text
    assert "paired t, 3 seeds" in text
    assert "Nowhere: no claim or comparison came out `not supported`." in text
    effects = pd.read_csv(built / "effects.csv")
    rise = effects[(effects["comparison"] == "dense - conv_flatten")
                   & (effects["measure"] == "val loss rise above its minimum")].iloc[0]
    assert rise["mean"] == pytest.approx((1.05 - 0.65) - (0.42 - 0.37), abs=0.01) and rise["n"] == 3


def test_contradictions_are_listed_up_front():
    found = [claims.Claim(4, claims.NOT_SUPPORTED, "h4", {}, ["**Our runs contradict the lecture** under c: x"]),
             claims.Claim(5, claims.NOT_SUPPORTED, "1 with any weights", {}, []),
             claims.Claim(1, claims.SUPPORTED, "h1", {}, [])]
    assert report.contradictions(found) == [
        "- Claim 4 (Global average pooling overfits less than flattening): **Our runs contradict the lecture** "
        "under c: x",
        "- Claim 5 (Pooling layers have no trainable variables): not supported: 1 with any weights."]


def test_failed_and_incomplete_runs_are_listed_not_dropped(built):
    text = (built / "report.md").read_text()
    left_out = text.split("### Runs left out of the statistics", 1)[1].split("## Claim 1", 1)[0]
    assert "9_dense_fashion_mnist_seed3 | failed | 2 | RuntimeError: out of memory" in left_out
    assert "10_conv_flatten_fashion_mnist_seed3 | incomplete | 1 | killed while training" in left_out
    assert "11_gap_fashion_mnist_seed3 | incomplete | 0 |" in left_out
    assert "12_dense_fashion_mnist_seed4 | diverged | 3 | loss became NaN or infinite" in left_out


def test_every_figure_in_the_report_exists_as_png_and_svg(built):
    text = (built / "report.md").read_text()
    stems = re.findall(r"!\[(.+?)\]\(\1\.png\)", text)
    assert {"claim1_conv_vs_dense_params", "claim2_effects", "claim3_head_params", "claim4_effects",
            "claim5_params_per_layer", "curves__fashion_mnist_1000_train_images_6_epochs",
            "gap_vs_params__fashion_mnist_1000_train_images_6_epochs",
            "gap_by_model__fashion_mnist_1000_train_images_6_epochs"} <= set(stems)
    for stem in stems:
        assert (built / f"{stem}.png").stat().st_size > 10_000 and (built / f"{stem}.svg").is_file()


def test_figures_can_be_remade_from_the_saved_csvs(built, tmp_path):
    runs, epochs = pd.read_csv(built / "runs.csv"), pd.read_csv(built / "epochs.csv")
    layers, effects = pd.read_csv(built / "layers.csv"), pd.read_csv(built / "effects.csv")
    condition = runs.loc[runs["status"] == "completed", "condition"].iloc[0]
    figures.overfitting_curves(runs, epochs, condition, tmp_path / "curves")
    figures.effects_forest(effects, 2, tmp_path / "effects")
    figures.params_per_layer(runs, layers, tmp_path / "layers")
    assert all((tmp_path / f"{stem}.png").is_file() for stem in ("curves", "effects", "layers"))


def test_broken_files_make_an_incomplete_run_not_a_crash(params, tmp_path):
    run_dir = write_run(tmp_path / "sweep", 0, "gap", 0, params)
    (run_dir / record.SUMMARY).write_text('{"status": "comp')
    (run_dir / record.HISTORY).write_text("epoch,accuracy\n0,0.5\n1,")
    assert report.main([str(tmp_path / "sweep")]) == 0
    runs = pd.read_csv(tmp_path / "sweep" / "report" / "runs.csv")
    assert runs.loc[0, "status"] == "incomplete" and "summary.json unreadable" in runs.loc[0, "error"]
    assert runs.loc[0, "model"] == "gap" and runs.loc[0, "epochs_run"] == 1


def test_data_efficiency_needs_two_training_set_sizes(params, tmp_path):
    root = tmp_path / "sweep"
    for num, (model, seed) in enumerate((m, s) for m in MODELS for s in (0, 1)):
        write_run(root, num, model, seed, params)
    small = tmp_path / "small"
    for num, model in enumerate(MODELS):
        run_dir = write_run(small, num, model, 0, params)
        summary = json.loads((run_dir / record.SUMMARY).read_text())
        summary["data"]["train_size"] = 500
        (run_dir / record.SUMMARY).write_text(json.dumps(summary))
    assert report.main([str(root), str(small), f"out={tmp_path / 'out'}"]) == 0
    text = (tmp_path / "out" / "report.md").read_text()
    assert "data_efficiency__fashion_mnist_6_epochs.png" in text
    assert (tmp_path / "out" / "data_efficiency__fashion_mnist_6_epochs.svg").is_file()


def test_report_reads_the_files_record_writes():
    assert (report.SUMMARY, report.HISTORY) == (record.SUMMARY, record.HISTORY)


@pytest.mark.parametrize("args, message", [
    (["{tmp}/missing"], "no such folder"),
    (["{tmp}"], "no runs below"),
    (["{tmp}", "colour=red"], "unknown argument 'colour=red'"),
    ([], "no sweep folder given"),
])
def test_bad_arguments_give_one_clear_line_and_exit_2(tmp_path, capsys, args, message):
    assert report.main([a.format(tmp=tmp_path) for a in args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


# ---------------------------------------------------------------- a real sweep, end to end

@pytest.mark.slow
def test_a_tiny_real_sweep_ends_up_in_the_tables(tmp_path):
    rng = np.random.default_rng(0)
    data = tmp_path / "tiny.npz"
    np.savez(data, x_train=rng.integers(0, 256, (400, 8, 8), dtype=np.uint8), y_train=rng.integers(0, 10, 400),
             x_test=rng.integers(0, 256, (50, 8, 8), dtype=np.uint8), y_test=rng.integers(0, 10, 50))
    command = [sys.executable, "-m", "inductive.run", "-m", "model=dense,gap", "seed=0", "trainer.epochs=1",
               "trainer.batch_size=64", "trainer.deterministic=false", "trainer.verbose=0", f"data.path={data}",
               "data.image_shape=[8,8,1]", "data.val_size=64", "data.train_size=256", f"output_root={tmp_path}"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=300,
                          env=os.environ | {"TF_CPP_MIN_LOG_LEVEL": "3"})
    assert done.returncode == 0, done.stderr[-2000:]
    (sweep,) = (tmp_path / "sweeps").iterdir()
    assert report.main([str(sweep)]) == 0
    runs = pd.read_csv(sweep / "report" / "runs.csv")
    assert sorted(runs["model"]) == ["dense", "gap"] and set(runs["status"]) == {"completed"}
    assert set(runs["train_size"]) == {256} and set(runs["data.image_shape"]) == {"[8, 8, 1]"}
    assert len(pd.read_csv(sweep / "report" / "epochs.csv")) == 2 * 1 * 2 * 2


# ---------------------------------------------------------------- experiment presets

PRESETS = sorted(p.stem for p in (config_dir() / "experiment").glob("*.yaml"))


def test_every_preset_has_a_quick_variant_and_the_reverse():
    assert PRESETS, "no presets in configs/experiment"
    full = {p for p in PRESETS if not p.endswith("_quick")}
    assert {"weight_sharing", "pooling", "data_efficiency"} <= full
    assert {f"{p}_quick" for p in full} == set(PRESETS) - full


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_header_says_what_it_tests_command_cost_and_result(preset):
    lines = (config_dir() / "experiment" / f"{preset}.yaml").read_text().splitlines()
    assert lines[0] == "# @package _global_" and len(lines[1]) > 20  # then what the sweep tests
    header = "\n".join(line for line in lines[: next(i for i, l in enumerate(lines) if not l.startswith("#"))])
    for field in ("Command:", f"+experiment={preset}", "Cost:", "Observed:"):
        assert field in header


@pytest.mark.parametrize("preset", ["weight_sharing", "pooling", "data_efficiency"])
def test_claim_presets_name_the_claims_they_test(preset):
    for name in (preset, f"{preset}_quick"):
        assert re.match(r"# @package _global_\n# Claims \d and \d",
                        (config_dir() / "experiment" / f"{name}.yaml").read_text())


@pytest.mark.parametrize("preset", PRESETS)
def test_preset_composes_into_a_sweep_of_models_and_seeds(preset):
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        cfg = compose(config_name="config", overrides=[f"+experiment={preset}"], return_hydra_config=True)
    params = cfg.hydra.sweeper.params
    assert {"model", "seed"} <= set(params)
    models = {p.stem for p in (config_dir() / "model").glob("*.yaml")}
    assert set(params.model.split(",")) <= models
    assert len(params.seed.split(",")) >= 2
    assert cfg.hydra.sweep.dir.endswith(f"_{preset}")
