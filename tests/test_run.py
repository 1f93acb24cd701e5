import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from conftest import compose_config, lazy, run_cli as cli, tiny_overrides
from inductive.training import precision, record

keras = lazy("keras")
training = lazy("inductive.training.train")
pytestmark = [pytest.mark.slow, pytest.mark.tensorflow]  # every test here trains or starts the command line

HISTORY_COLUMNS = {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "epoch_time_s", "train_eval_loss",
                   "train_eval_accuracy"}


@pytest.mark.parametrize("model", ["dense", "conv_flatten", "gap"])
def test_a_short_run_writes_a_complete_record(tiny_npz, tmp_path, model):
    cfg = compose_config(*tiny_overrides(tiny_npz, tmp_path), f"model={model}")
    summary = training.run(cfg, tmp_path / "run")
    history = pd.read_csv(tmp_path / "run" / record.HISTORY)
    assert set(history.columns) == HISTORY_COLUMNS and list(history.epoch) == [0, 1, 2]
    on_disk = json.loads((tmp_path / "run" / record.SUMMARY).read_text())
    assert on_disk == json.loads(json.dumps(summary))
    assert on_disk["status"] == "completed" and on_disk["epochs_run"] == 3
    last = history.iloc[-1]  # the record's train numbers are the eval-mode pass; Keras's running mean is named so
    assert on_disk["final"]["accuracy_gap"] == pytest.approx(last.train_eval_accuracy - last.val_accuracy)
    assert on_disk["final"]["train_accuracy_running"] == pytest.approx(last.accuracy)
    assert on_disk["best"]["val_accuracy"] == pytest.approx(history.val_accuracy.max())
    assert on_disk["params"]["trainable"] == sum(layer["trainable"] for layer in on_disk["params"]["layers"])
    assert on_disk["config"]["model"]["name"] == model and on_disk["data"]["train_size"] == 500
    assert 0 <= on_disk["test"]["accuracy"] <= 1 and on_disk["time"]["total_s"] > 0
    assert on_disk["device"]["device"] in ("CPU", "GPU") and on_disk["device"]["cpu"] == precision.cpu_name()
    assert on_disk["stop"] == {"rule": "epochs", "reason": "epochs", "epoch": 3}
    assert 0 <= history.train_eval_accuracy.iloc[-1] <= 1
    assert "Total params" in (tmp_path / "run" / record.MODEL_TXT).read_text()
    shifts = pd.read_csv(tmp_path / "run" / record.SHIFT)
    assert list(shifts.columns) == record.SHIFT_COLUMNS
    assert len(shifts) == 3 * (12 // 4 + 1) and (shifts[shifts["shift"] == 0].consistency == 1).all()
    assert on_disk["shift"]["max_shift"] == 3 and 0 <= on_disk["shift"]["zero"]["consistency"] <= 1


def test_a_model_sized_to_another_records_target_and_widths(tiny_npz, tmp_path):
    cfg = compose_config(*tiny_overrides(tiny_npz, tmp_path), "model=dense", "model.match_params_of=gap",
                         "trainer.epochs=1", "shift.enabled=false")
    summary = training.run(cfg, tmp_path / "run")
    target, achieved = summary["params"]["target"], summary["params"]["trainable"]
    assert abs(achieved - target) <= 0.05 * target
    assert summary["config"]["model"]["hidden_units"] != [256, 128]  # the widths actually built
    assert not (tmp_path / "run" / record.SHIFT).exists()


def test_same_seed_gives_identical_history(tiny_npz, tmp_path):
    histories = []
    for name in ("a", "b", "c"):
        seed = 1 if name == "c" else 0
        training.run(compose_config(*tiny_overrides(tiny_npz, tmp_path), f"seed={seed}"), tmp_path / name)
        histories.append(pd.read_csv(tmp_path / name / record.HISTORY).drop(columns="epoch_time_s"))
    pd.testing.assert_frame_equal(histories[0], histories[1])
    assert not histories[0].equals(histories[2])


@pytest.mark.parametrize("model", ["dense", "gap"])
def test_steps_per_execution_changes_the_calls_not_the_results(tiny_npz, tmp_path, model):
    """Batches per call into TensorFlow: 1 and 5 (the tiny set has 16 batches of 32, so the last call is short) and
    64 (more than an epoch's batches) give the same history and test accuracy, bit for bit."""
    from inductive.training.train import prepare

    histories, tests = [], []
    for steps in (1, 5, 64):
        cfg = compose_config(*tiny_overrides(tiny_npz, tmp_path), f"model={model}",
                             f"trainer.steps_per_execution={steps}", "shift.enabled=false")
        assert prepare(cfg)[0].steps_per_execution == steps
        summary = training.run(cfg, tmp_path / f"steps{steps}")
        histories.append(pd.read_csv(tmp_path / f"steps{steps}" / record.HISTORY).drop(columns="epoch_time_s"))
        tests.append(summary["test"]["accuracy"])
    for history in histories[1:]:
        pd.testing.assert_frame_equal(history, histories[0], check_exact=True)
    assert tests[1] == tests[0] == tests[2]


def test_the_progress_bar_counts_the_batches_run(tiny_npz, tmp_path, monkeypatch):
    """5 batches per call: the bar moves by 5 and stops at the epoch's batches (Keras's own overshot them)."""
    shown = []
    update = keras.utils.Progbar.update

    def spy(bar, current, values=None, finalize=None):
        shown.append((current, bar.target))
        return update(bar, current, values, finalize)

    monkeypatch.setattr(keras.utils.Progbar, "update", spy)
    cfg = compose_config(*tiny_overrides(tiny_npz, tmp_path), "trainer.steps_per_execution=5", "trainer.verbose=1",
                         "trainer.epochs=1", "shift.enabled=false")
    summary = training.run(cfg, tmp_path / "run")
    batches = -(-summary["data"]["train_size"] // cfg.trainer.batch_size)
    assert batches % 5  # the last call is short: the case Keras miscounted
    assert shown == [(step, batches) for step in [*range(5, batches, 5), batches, batches]]  # the last: epoch end


def test_nan_loss_ends_as_diverged(tiny_npz, tmp_path):
    cfg = compose_config(*tiny_overrides(tiny_npz, tmp_path), "trainer.learning_rate=1e6", "trainer.optimizer=sgd")
    summary = training.run(cfg, tmp_path / "run")
    assert summary["status"] == "diverged" and "NaN" in summary["error"]


def test_cli_runs_from_any_folder_and_prints_the_table(tiny_npz, tmp_path):
    result = cli(*tiny_overrides(tiny_npz, tmp_path / "out"), "trainer.epochs=1", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "train_accuracy" in result.stdout and "test_accuracy" in result.stdout
    (run_dir,) = (tmp_path / "out" / "runs").iterdir()
    assert {"history.csv", "summary.json", "model.txt", ".hydra"} <= {p.name for p in run_dir.iterdir()}


def test_bad_config_fails_before_training_and_keeps_earlier_runs(tiny_npz, tmp_path):
    earlier = tmp_path / "out" / "runs" / "earlier"
    earlier.mkdir(parents=True)
    (earlier / "summary.json").write_text('{"status": "completed"}')
    result = cli(*tiny_overrides(tiny_npz, tmp_path / "out"), "model.padding=valid", "model.kernel_size=13",
                 cwd=tmp_path)
    assert result.returncode == 2
    assert "model.kernel_size=13" in result.stderr and "(12, 12, 1)" in result.stderr
    assert "Traceback" not in result.stderr
    assert (earlier / "summary.json").read_text() == '{"status": "completed"}'
    assert not list((tmp_path / "out" / "runs").glob("*/history.csv"))


def test_sweep_puts_each_job_in_a_readable_folder(tiny_npz, tmp_path):
    result = cli("-m", *tiny_overrides(tiny_npz, tmp_path / "out"), "trainer.epochs=1", "model=dense,gap",
                 cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    (sweep,) = (tmp_path / "out" / "sweeps").iterdir()
    jobs = sorted(p.name for p in sweep.iterdir() if p.is_dir() and not p.name.startswith("."))
    assert jobs == ["0_dense_fashion_mnist_seed0", "1_gap_fashion_mnist_seed0"]
    statuses = [json.loads((sweep / job / "summary.json").read_text())["status"] for job in jobs]
    assert statuses == ["completed", "completed"]


FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.mark.real_data
@pytest.mark.skipif(not FASHION.is_dir(), reason="needs Debian's dataset-fashion-mnist (.ci/run installs it)")
def test_real_fashion_mnist_short_run_learns(tmp_path):
    cfg = compose_config("model=conv_flatten", "data.train_size=5000", "trainer.epochs=2", "trainer.verbose=0",
                         "data.cache_dir=null", f"output_root={tmp_path}")
    summary = training.run(cfg, tmp_path / "run")
    assert summary["data"]["source"] == f"local copy {FASHION}"
    assert summary["data"]["test_size"] == 10_000
    assert summary["test"]["accuracy"] > 0.6  # chance is 0.1


@pytest.mark.parametrize("policy", ["mixed_bfloat16", "mixed_float16"])
def test_reduced_precision_is_what_the_model_computes_in(tiny_npz, tmp_path, policy):
    """The layers compute in the asked dtype (not only the record), and results differ from float32's."""
    runs = {}
    for precision in ("float32", policy):
        cfg = compose_config(*tiny_overrides(tiny_npz, tmp_path), "trainer.epochs=2", "shift.enabled=false",
                             f"trainer.precision={precision}")
        runs[precision] = training.run(cfg, tmp_path / precision)
    assert runs[policy]["device"]["precision"] == policy
    assert runs["float32"]["device"]["precision"] == "float32"
    assert runs[policy]["final"]["train_loss"] != runs["float32"]["final"]["train_loss"]


def test_stop_fit_ends_at_the_fit_threshold(tiny_npz, tmp_path):
    cfg = compose_config(*tiny_overrides(tiny_npz, tmp_path), "trainer.stop=fit", "trainer.epochs=40",
                         "trainer.fit.accuracy=0.9", "shift.enabled=false")
    summary = training.run(cfg, tmp_path / "run")
    history = pd.read_csv(tmp_path / "run" / record.HISTORY)
    assert summary["stop"]["reason"] == "fit" and summary["stop"]["epoch"] == len(history) < 40
    assert history.train_eval_accuracy.iloc[-1] >= 0.9 > history.train_eval_accuracy.iloc[:-1].max()


def test_stop_fit_caps_at_max_epochs(tiny_npz, tmp_path):
    """A rate too small to fit the tiny images in two epochs (the widest tiny models fit them in one or two)."""
    cfg = compose_config(*tiny_overrides(tiny_npz, tmp_path), "trainer.stop=fit", "trainer.epochs=2",
                         "trainer.fit.accuracy=1.0", "trainer.fit.patience=5", "shift.enabled=false",
                         "trainer.learning_rate=1e-7")
    assert training.run(cfg, tmp_path / "run")["stop"] == {"rule": "fit", "reason": "max_epochs", "epoch": 2}


@pytest.mark.parametrize("overrides", [["trainer.precision=mixed_float16"], ["trainer.jit_compile=true", "trainer.precision=float32"],
                                       ["trainer.precision=mixed_bfloat16", "model=local"]])
def test_gpu_options_run_on_cpu_and_are_recorded(tiny_npz, tmp_path, overrides):
    cfg = compose_config(*tiny_overrides(tiny_npz, tmp_path), "trainer.epochs=1", "trainer.deterministic=false",
                         *overrides)
    summary = training.run(cfg, tmp_path / "run")
    assert summary["status"] == "completed"
    assert summary["device"]["precision"] == ("float32" if "precision" not in overrides[0] else cfg.trainer.precision)
    assert summary["device"]["jit_compile"] == (cfg.trainer.jit_compile is True)


def test_a_failure_in_shift_evaluation_is_recorded_not_left_running(tiny_npz, tmp_path, monkeypatch):
    from inductive.training import shift

    def broken(*args, **kwargs):
        raise MemoryError("out of memory while shifting")

    monkeypatch.setattr(shift, "shift_evaluation", broken)
    cfg = compose_config(*tiny_overrides(tiny_npz, tmp_path), "trainer.epochs=1")
    with pytest.raises(MemoryError):
        training.run(cfg, tmp_path / "run")
    summary = json.loads((tmp_path / "run" / record.SUMMARY).read_text())
    assert summary["status"] == "failed" and "out of memory while shifting" in summary["error"]


def test_tensorboard_logs_hold_the_runs_hparams(tiny_npz, tmp_path):
    pytest.importorskip("tensorboard")
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    from tensorboard.plugins.hparams import plugin_data_pb2

    cfg = compose_config(*tiny_overrides(tiny_npz, tmp_path), "trainer.epochs=1", "trainer.tensorboard=true",
                         "model=gap", "seed=3")
    training.run(cfg, tmp_path / "run")
    events = EventAccumulator(str(tmp_path / "run" / "tensorboard" / "hparams"))
    events.Reload()
    content = events.PluginTagToContent("hparams")["_hparams_/session_start_info"]
    start = plugin_data_pb2.HParamsPluginData.FromString(content).session_start_info
    assert start.hparams["model"].string_value == "gap" and start.hparams["seed"].number_value == 3
    assert start.hparams["learning_rate"].number_value == pytest.approx(cfg.trainer.learning_rate)
    assert {"final_val_accuracy", "test_accuracy"} <= set(events.Tags()["tensors"])
    assert list((tmp_path / "run" / "tensorboard").glob("train/events.*"))


def test_model_txt_holds_the_whole_summary_with_parameter_counts(composed):
    from inductive.training.train import prepare

    model, _ = prepare(composed("model=conv_flatten"))
    text = record.model_summary_text(model)
    assert "Param #" in text and "401,536" in text  # the Dense layer after the flatten


def test_a_run_prints_no_tensorflow_start_up_lines_unless_asked(tiny_npz, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    args = [sys.executable, "-m", "inductive.run", *tiny_overrides(tiny_npz, tmp_path), "trainer.epochs=1"]
    quiet = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300)
    assert quiet.returncode == 0, quiet.stderr
    notices = ("absl::InitializeLog", "port.cc", "cudart_stub.cc", "cpu_feature_guard.cc", "cuInit", "NodeDef",
               "To enable the following instructions")
    assert not [line for line in quiet.stderr.splitlines() if any(n in line for n in notices)]
    asked = subprocess.run(args, cwd=tmp_path, env={**env, "INDUCTIVE_TF_LOGS": "1"}, capture_output=True,
                           text=True, timeout=300)
    assert "absl::InitializeLog" in asked.stderr
