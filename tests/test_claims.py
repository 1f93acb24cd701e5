"""Claims judged from fake run folders: the verdict follows the numbers, whichever way they point."""

import pytest

from inductive.evidence import stats
from inductive.evidence.claims import REGISTRY, judge_all
from inductive.evidence.claims.invariance import per_run
from inductive.evidence.tables import collect

FIT = [0.5, 0.7, 0.85, 0.95, 0.995]
UNFIT = [0.4, 0.6, 0.75, 0.85, 0.86]


def lecture_holds():
    return {
        "dense": dict(train_eval=FIT, val=[0.5, 0.65, 0.75, 0.78, 0.80], test_accuracy=0.80, shift_kept=0.15),
        "conv_flatten": dict(train_eval=FIT, val=[0.5, 0.68, 0.82, 0.86, 0.88], test_accuracy=0.88, shift_kept=0.05),
        "gap": dict(train_eval=UNFIT, val=[0.4, 0.6, 0.74, 0.83, 0.84], test_accuracy=0.84, shift_kept=0.02),
        "local": dict(train_eval=FIT, val=[0.5, 0.66, 0.78, 0.82, 0.84], test_accuracy=0.84),
    }


def findings(sweep):
    tables = collect([sweep])
    return {f.spec.number: f for f in judge_all(tables, ["fashion_mnist"])}, tables


@pytest.fixture(scope="module")
def lecture(fake_sweep):
    """The findings of three seeds that follow the lecture, judged once: the tests that only read them share it."""
    return findings(fake_sweep(lecture_holds()))


def test_registry_is_in_the_lectures_order_with_controls_last():
    numbers = [spec.number for spec in REGISTRY]
    assert numbers == sorted(numbers) and numbers[:7] == list(range(1, 8))
    assert all(spec.lecture for spec in REGISTRY[:7]) and not any(spec.lecture for spec in REGISTRY[7:])
    assert len({spec.key for spec in REGISTRY}) == len(REGISTRY)


def test_overfitting_claim_supported_when_dense_generalizes_worse_at_fit(lecture):
    found, _ = lecture
    cell = found[3].cells["fashion_mnist"]
    assert cell.verdict == stats.SUPPORTED
    effects = found[3].tables["effects"]
    # gap does not fit, so its gap at stop is context and the matched gap decides dense - gap
    row = effects[(effects["comparison"] == "dense - gap") & (effects["measure"] == "gap at stop")].iloc[0]
    assert row["kind"] == "context" and "gap does not fit" in row["note"]
    assert "gap does not fit" in cell.reason


def test_overfitting_claim_contradicted_when_the_runs_say_so(fake_sweep):
    spec = lecture_holds()
    spec["dense"], spec["conv_flatten"] = ({**spec["conv_flatten"], "train_eval": FIT},
                                           {**spec["dense"], "train_eval": FIT})
    spec.pop("gap")
    found, _ = findings(fake_sweep(spec))
    assert found[3].cells["fashion_mnist"].verdict == stats.CONTRADICTED


def test_equal_models_are_negligible_not_inconclusive(fake_sweep):
    same = dict(train_eval=FIT, val=[0.5, 0.68, 0.82, 0.86, 0.88], test_accuracy=0.88)
    found, _ = findings(fake_sweep({"conv_flatten": same, "gap": same}, jitter=0.001))
    assert found[7].cells["fashion_mnist"].verdict == stats.NEGLIGIBLE


def test_failed_runs_never_enter_the_statistics(fake_sweep):
    spec = lecture_holds()
    sweep = fake_sweep(spec, seeds=3)
    from conftest import fake_run
    fake_run(sweep, 99, "dense", 7, FIT, [0.1] * 5, 0.1, status="failed")
    found, tables = findings(sweep)
    assert (tables.runs["status"] == "failed").sum() == 1
    assert found[3].tables["effects"]["n"].max() == 3


def test_invariance_supported_and_a_constant_predictor_is_excluded(lecture, fake_sweep):
    found, _ = lecture
    assert found[5].cells["fashion_mnist"].verdict == stats.SUPPORTED
    spec = lecture_holds()
    spec["gap"] = {**spec["gap"], "shift_kept": 0.0, "clean_accuracy": 0.1, "test_accuracy": 0.1}
    sweep = fake_sweep(spec, name="constant")
    found, tables = findings(sweep)
    runs = per_run(tables)
    assert runs.loc[runs["model"] == "gap", "near_chance"].all()
    assert found[5].cells["fashion_mnist"].verdict != stats.SUPPORTED
    assert "near chance" in found[5].cells["fashion_mnist"].reason


def test_structural_claims_from_the_recorded_layers(fake_sweep):
    found, _ = findings(fake_sweep(lecture_holds(), seeds=2))
    assert found[1].cells["fashion_mnist"].verdict == stats.SUPPORTED   # conv layers vs dense on the same input
    assert found[4].cells["fashion_mnist"].verdict == stats.SUPPORTED   # pooling layers: no weights
    assert found[6].cells["fashion_mnist"].verdict == stats.SUPPORTED   # 401,536 + 1,290 vs 650 after the head
    assert found[2].cells["fashion_mnist"].verdict == "not run"          # no Keras check given
