"""Claims 6 and 7 from run folders: the shifts table, translation invariance, weight sharing vs locality."""

from __future__ import annotations

import functools
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from omegaconf import OmegaConf

from conftest import compose_config
from inductive import claims, figures, record, report

INCONCLUSIVE, NOT_SUPPORTED, SUPPORTED = claims.INCONCLUSIVE, claims.NOT_SUPPORTED, claims.SUPPORTED
MODELS = ("dense", "local", "conv_flatten", "gap")
SEEDS = (0, 1, 2)
CONDITION = "fashion_mnist, 1,000 train images, 6 epochs"
# Train accuracy, validation accuracy, train loss, validation loss over six epochs.
OVERFITS = ([0.70, 0.85, 0.93, 0.97, 0.99, 0.995], [0.68, 0.78, 0.80, 0.80, 0.79, 0.78],
            [0.90, 0.45, 0.22, 0.10, 0.05, 0.03], [0.95, 0.70, 0.65, 0.75, 0.90, 1.05])
FITS_WELL = ([0.72, 0.84, 0.90, 0.93, 0.95, 0.96], [0.71, 0.83, 0.87, 0.88, 0.89, 0.89],
             [0.90, 0.48, 0.32, 0.24, 0.19, 0.16], [0.92, 0.52, 0.40, 0.37, 0.38, 0.42])
# Weight sharing regularises, locality alone does not: local overfits like dense.
CURVES = {"dense": OVERFITS, "local": OVERFITS, "conv_flatten": FITS_WELL, "gap": FITS_WELL}
# Consistency lost per pixel of shift: gap keeps its predictions best, dense worst.
DROP = {"dense": 0.20, "local": 0.15, "conv_flatten": 0.12, "gap": 0.05}
MAX_SHIFT = 4


@functools.lru_cache(maxsize=None)
def model_config(model: str) -> dict:
    return OmegaConf.to_container(compose_config(f"model={model}", "data.train_size=1000", "trainer.epochs=6"),
                                  resolve=True)


def write_run(sweep: Path, num: int, model: str, seed: int, curves=CURVES, drop=DROP, fills=("zero",),
              target: int | None = None) -> Path:
    """A completed run folder as train.run leaves it, with shift.csv unless `drop` is None."""
    config = model_config(model) | {"seed": seed}
    run_dir = sweep / f"{num}_{model}_fashion_mnist_seed{seed}"
    (run_dir / ".hydra").mkdir(parents=True)
    OmegaConf.save(OmegaConf.create(config), run_dir / ".hydra" / "config.yaml")
    rng = np.random.default_rng(10 * MODELS.index(model) + seed)
    acc, val_acc, loss, val_loss = (np.array(c) for c in curves[model])
    jitter = rng.normal(0, 0.004)
    history = pd.DataFrame({"epoch": range(6), "accuracy": acc, "epoch_time_s": 0.5, "loss": loss,
                            "val_accuracy": val_acc + jitter, "val_loss": val_loss + jitter})
    history.to_csv(run_dir / record.HISTORY, index=False)
    trainable = {"dense": 235_146, "local": 900_000, "conv_flatten": 420_000, "gap": 60_000}[model]
    if target is not None:
        trainable = int(target * (1 + 0.01 * MODELS.index(model)))
    summary = {"status": "completed", "model": model, "dataset": "fashion_mnist", "seed": seed, "config": config,
               "params": {"trainable": trainable, "non_trainable": 0, "total": trainable, "layers": [],
                          "target": target},
               "data": {"source": "synthetic", "train_size": 1000, "val_size": 500, "test_size": 500},
               "test": {"loss": float(val_loss[-1]), "accuracy": float(val_acc[-1])},
               "time": {"load_s": 0.1, "train_s": 3.0, "epoch_mean_s": 0.5, "total_s": 3.1},
               **record.history_metrics(history)}
    record.write_json_atomic(run_dir / record.SUMMARY, summary)
    if drop is not None:
        rows = []
        for fill in fills:
            for direction in ("x", "y", "diagonal"):
                for shift in range(MAX_SHIFT + 1):
                    kept = 1.0 if shift == 0 else float(np.clip(1 - drop[model] * shift + rng.normal(0, 0.01), 0, 1))
                    rows.append({"direction": direction, "shift": shift, "fill": fill,
                                 "accuracy": kept * val_acc[-1], "consistency": kept})
        pd.DataFrame(rows).to_csv(run_dir / record.SHIFT, index=False)
    return run_dir


def write_sweep(root: Path, models=MODELS, **kwargs) -> Path:
    for num, (model, seed) in enumerate((m, s) for m in models for s in SEEDS):
        write_run(root, num, model, seed, **kwargs)
    return root


def judged(root: Path) -> tuple[dict[int, claims.Claim], pd.DataFrame, pd.DataFrame]:
    runs, epochs, layers = report.collect([root])
    shifts = report.collect_shifts([root], runs)
    found, effects = claims.judge(runs, epochs, layers, shifts)
    return {c.number: c for c in found}, effects, shifts


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    """The report over four models x three seeds, with the zero and wrap fills."""
    root = write_sweep(tmp_path_factory.mktemp("outputs") / "2026-01-01_00-00-00_locality_quick",
                       fills=("zero", "wrap"))
    assert report.main([str(root)]) == 0
    return root / "report"


def verdicts_in(text: str) -> dict[str, str]:
    return dict(re.findall(r"^\| (\d)\. .*? \| \*\*(.+?)\*\* \|", text, flags=re.M))


def test_shifts_table_is_tidy_and_joined_to_the_runs(built):
    shifts = pd.read_csv(built / "shifts.csv")
    assert list(shifts.columns) == ["run_id", "model", "seed", "condition", "budget", "direction", "shift", "fill",
                                    "accuracy", "consistency"]
    assert len(shifts) == len(MODELS) * len(SEEDS) * 2 * 3 * (MAX_SHIFT + 1)  # run x fill x direction x shift
    assert set(shifts["condition"]) == {CONDITION} and set(shifts["fill"]) == {"zero", "wrap"}
    unshifted = shifts[shifts["shift"] == 0]
    assert (unshifted["consistency"] == 1).all()
    runs = pd.read_csv(built / "runs.csv")
    assert set(shifts["run_id"]) == set(runs["run_id"]) and runs["params_target"].isna().all()


def test_report_supports_claims_6_and_7_from_the_runs(built):
    text = (built / "report.md").read_text()
    assert verdicts_in(text)["6"] == SUPPORTED and verdicts_in(text)["7"] == SUPPORTED
    effects = pd.read_csv(built / "effects.csv")
    six = effects[(effects["claim"] == 6) & (effects["measure"] == claims.CONSISTENCY)].set_index("comparison")
    # mean over shifts 1..4 of the per-pixel drop difference: (1 + 2 + 3 + 4) / 4 * (0.12 - 0.05) = 0.175
    assert six.loc["gap - conv_flatten", "mean"] == pytest.approx(2.5 * (0.12 - 0.05), abs=0.01)
    assert six.loc["gap - dense", "mean"] == pytest.approx(2.5 * (0.20 - 0.05), abs=0.01)
    assert (six["verdict"] == SUPPORTED).all() and (six["n"] == 3).all()
    assert "| local - conv_flatten | fashion_mnist, 1,000 train images, 6 epochs | supported |" in text
    assert f"| local - conv_flatten | {CONDITION} | supported |  | yes |" in text
    assert f"| dense - local | {CONDITION} | inconclusive |  | no (context) |" in text  # reported, not judged
    assert "rests on local - conv_flatten alone" in text
    assert "Test consistency per shift (zero fill" in text and "| 4 px |" in text


def test_shift_figures_exist_for_each_fill(built):
    text = (built / "report.md").read_text()
    slug = figures.slug(CONDITION)
    for stem in (f"shift__{slug}", f"shift_wrap__{slug}", "claim7_effects"):
        assert f"![{stem}]({stem}.png)" in text
        assert (built / f"{stem}.png").stat().st_size > 10_000 and (built / f"{stem}.svg").is_file()


def test_claims_6_and_7_come_out_not_supported_when_the_runs_say_so(tmp_path):
    swapped = {"dense": DROP["gap"], "local": 0.15, "conv_flatten": 0.12, "gap": DROP["dense"]}
    curves = CURVES | {"local": FITS_WELL, "conv_flatten": OVERFITS}  # sharing makes it worse
    found, effects, _ = judged(write_sweep(tmp_path / "sweep", curves=curves, drop=swapped))
    assert found[6].verdict == NOT_SUPPORTED and found[7].verdict == NOT_SUPPORTED
    assert any("contradict the lecture" in note and "gap keeps its prediction" in note for note in found[6].notes)
    assert report.contradictions([found[6], found[7]])


def test_claim_7_rests_on_weight_sharing_alone(tmp_path):
    curves = CURVES | {"dense": FITS_WELL}  # locality goes the other way: only context, no contradiction
    found, _, _ = judged(write_sweep(tmp_path / "sweep", curves=curves))
    table = found[7].tables["Verdict per comparison (from the measures marked 'decides')"].set_index("comparison")
    assert table.loc["dense - local", "verdict"] == NOT_SUPPORTED
    assert table.loc["dense - local", "decides the claim"] == "no (context)"
    assert found[7].verdict == SUPPORTED
    assert not any("contradict the lecture" in note for note in found[7].notes)
    assert any(note.startswith("Context, not judged: under") for note in found[7].notes)


def test_old_runs_without_shift_csv_or_local_leave_claims_6_and_7_inconclusive(tmp_path):
    found, effects, shifts = judged(write_sweep(tmp_path / "sweep", models=("dense", "conv_flatten", "gap"),
                                                drop=None))
    assert shifts.empty and list(shifts.columns)[:5] == ["run_id", "model", "seed", "condition", "budget"]
    assert found[6].verdict == INCONCLUSIVE and "no completed run recorded shift.csv" in found[6].headline
    assert found[7].verdict == INCONCLUSIVE and "local and conv_flatten" in found[7].headline
    assert set(effects["claim"]) == {2, 4}


def test_claim_7_without_conv_flatten_says_what_it_misses(tmp_path):
    found, _, _ = judged(write_sweep(tmp_path / "sweep", models=("dense", "local")))
    assert found[7].verdict == INCONCLUSIVE
    assert found[7].notes[0].startswith("No condition has completed runs of local and conv_flatten")
    assert found[6].verdict == INCONCLUSIVE and "gap and conv_flatten" in found[6].headline


def test_parameter_matched_runs_form_their_own_condition_and_say_so(tmp_path):
    write_sweep(tmp_path / "plain", models=("dense", "conv_flatten"))
    write_sweep(tmp_path / "matched", target=150_000)
    roots = [tmp_path / "plain", tmp_path / "matched"]
    runs, epochs, layers = report.collect(roots)
    matched = f"{CONDITION}, matched at 150,000 params"
    assert set(runs["condition"]) == {CONDITION, matched}
    assert set(runs.loc[runs["condition"] == matched, "params_target"]) == {150_000}
    found, _ = claims.judge(runs, epochs, layers, report.collect_shifts(roots, runs))
    assert any(note.startswith(f"{matched}: parameter-matched") for note in found[6].notes)
    drawn = {"conditions": [], "data_efficiency": []}  # no figures: the text is what is tested
    text = report.render("python -m inductive.evidence.report ...", runs, found, pd.DataFrame(), drawn)
    assert f"- {matched}: parameter-matched" in text
    assert "dense 150,000 of 150,000 (+0.0%), local 151,500 of 150,000 (+1.0%)" in text
    assert "| params_target |" in text


def test_claim_6_says_when_the_invariant_model_is_the_weaker_classifier(tmp_path):
    weaker = (FITS_WELL[0], list(np.subtract(FITS_WELL[1], 0.1)), *FITS_WELL[2:])
    found, _, _ = judged(write_sweep(tmp_path / "sweep", models=("conv_flatten", "gap"),
                                     curves=CURVES | {"gap": weaker}))
    assert found[6].verdict == SUPPORTED
    assert any(note.startswith(f"{CONDITION}: gap is less accurate than conv_flatten on the unshifted test images")
               for note in found[6].notes)
