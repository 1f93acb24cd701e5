import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from conftest import tiny_overrides

pytestmark = pytest.mark.slow  # trains and kills real runs

EPOCHS = 12


def start(args, cwd):
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    # A shell that starts a job in the background (`cmd &`) makes it ignore SIGINT, and children inherit
    # that: give the run Python's default, so Ctrl-C is tested whatever launched the tests.
    return subprocess.Popen([sys.executable, "-m", "inductive.run", *args], cwd=cwd, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_killed_run_resumes_with_every_epoch_once(tiny_npz, tmp_path, sig):
    run_dir = tmp_path / "run"
    args = [*tiny_overrides(tiny_npz, tmp_path), f"trainer.epochs={EPOCHS}", "trainer.batch_size=8",
            f"hydra.run.dir={run_dir}"]
    first = start(args, tmp_path)
    history = run_dir / "history.csv"
    deadline = time.time() + 120
    while not (history.is_file() and len(history.read_text().splitlines()) >= 3):  # header + 2 epochs
        assert first.poll() is None, first.stderr.read()
        assert time.time() < deadline, "the first run never finished an epoch"
        time.sleep(0.02)
    first.send_signal(sig)
    first.wait(timeout=60)
    interrupted = pd.read_csv(history)
    assert len(interrupted) < EPOCHS, "the run finished before it was killed: make epochs longer"
    assert json.loads((run_dir / "summary.json").read_text())["status"] in ("running", "failed")

    second = start(args, tmp_path)
    assert second.wait(timeout=300) == 0, second.stderr.read()
    resumed = pd.read_csv(history)
    assert list(resumed.epoch) == list(range(EPOCHS))
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["status"] == "completed" and summary["resumed"] and summary["epochs_run"] == EPOCHS
    assert not (run_dir / "backup").exists()  # deleted once summary.json says completed

    third = start(args, tmp_path)  # a finished run folder is never overwritten
    assert third.wait(timeout=120) == 2 and "already holds a completed run" in third.stderr.read()
    pd.testing.assert_frame_equal(pd.read_csv(history), resumed)
