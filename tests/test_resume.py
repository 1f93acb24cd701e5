import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest

from conftest import compose_config, tiny_overrides

pytestmark = pytest.mark.slow  # trains and kills real runs

EPOCHS = 40  # enough that a kill sent after the second epoch lands well before the last, even on a busy machine


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
            "trainer.backup_every_s=0", f"hydra.run.dir={run_dir}"]  # a backup at every epoch end
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


def test_a_resume_from_an_older_backup_trains_the_epochs_after_it_again(tiny_npz, tmp_path, monkeypatch):
    """Backups are taken at most every trainer.backup_every_s seconds, so a killed run's history.csv can hold
    epochs past its backup: the resumed run cuts them and trains them again, and every epoch is there once."""
    import keras

    from inductive.training import callbacks, folders, record, train

    class KilledAfter(keras.callbacks.Callback):
        def __init__(self, epoch: int):
            super().__init__()
            self.epoch = epoch

        def on_epoch_end(self, epoch, logs=None):
            if epoch == self.epoch:  # after CSVLogger wrote the epoch's row
                raise KeyboardInterrupt

    def backs_up_after_epochs_1_and_2(backup):
        if backup._current_epoch in (1, 2):
            real_save(backup)

    cfg = compose_config(*tiny_overrides(tiny_npz, tmp_path), "trainer.epochs=6", "trainer.backup_every_s=0")
    run_dir = tmp_path / "run"
    real_save, real_callbacks = callbacks.AtomicBackupAndRestore._save_model, train.callbacks
    with monkeypatch.context() as patched:
        patched.setattr(callbacks.AtomicBackupAndRestore, "_save_model", backs_up_after_epochs_1_and_2)
        patched.setattr(train, "callbacks", lambda *args: [*real_callbacks(*args), KilledAfter(3)])
        with pytest.raises(KeyboardInterrupt):
            train.run(cfg, run_dir)
    killed = record.read_history(run_dir)
    assert list(killed.epoch) == [0, 1, 2, 3]
    backup = run_dir / folders.BACKUP
    assert folders.last_backup(backup) == (2, backup / "epoch2.weights.h5")
    assert sorted(path.name for path in backup.iterdir()) == ["epoch2.weights.h5", folders.BACKUP_RECORD]

    with monkeypatch.context() as patched:  # killed again after its first epoch: epochs 2 and 3 were cut first
        patched.setattr(callbacks.AtomicBackupAndRestore, "_save_model", lambda backup: None)
        patched.setattr(train, "callbacks", lambda *args: [*real_callbacks(*args), KilledAfter(2)])
        with pytest.raises(KeyboardInterrupt):
            train.run(cfg, run_dir)
    assert list(record.read_history(run_dir).epoch) == [0, 1, 2]

    resumed = train.run(compose_config(*tiny_overrides(tiny_npz, tmp_path), "trainer.epochs=6",
                                       "trainer.backup_every_s=0"), run_dir)
    assert resumed["status"] == "completed" and resumed["resumed_from"] == "interrupted"
    history = record.read_history(run_dir)
    assert list(history.epoch) == list(range(6)) and resumed["epochs_run"] == 6
    pd.testing.assert_frame_equal(history.iloc[:2], killed.iloc[:2])  # the backed-up epochs kept as they were


def test_backups_wait_backup_every_s_seconds(tmp_path, monkeypatch):
    """Backups are taken at the first epoch end `every_s` seconds after the last one (0: at every epoch end)."""
    from inductive.training import callbacks

    clock = [100.0]
    monkeypatch.setattr(callbacks.time, "perf_counter", lambda: clock[0])
    for every_s, expected in ((30, [3, 6, 9]), (0, list(range(1, 10)))):
        backup = callbacks.AtomicBackupAndRestore(str(tmp_path / "backup"), every_s)
        saved = []
        monkeypatch.setattr(backup, "_save_model", lambda backup=backup: saved.append(backup._current_epoch))
        backup._last_backup = clock[0]  # as on_train_begin sets it
        for epoch in range(9):
            clock[0] += 12.0  # each epoch takes 12 s
            backup.on_epoch_end(epoch)
        assert saved == expected, every_s


def test_a_backup_in_keras_layout_from_before_2026_12_04_is_resumed(tiny_npz, tmp_path, monkeypatch):
    """Folders interrupted under the old code (latest.weights.h5 and a record that names no file) resume."""
    import keras

    from inductive.training import callbacks, folders, record, train

    class KilledAfterEpoch3(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            if epoch == 2:  # after the backup of epoch 3
                self.weights = self.model.get_weights()
                raise KeyboardInterrupt

    cfg = compose_config(*tiny_overrides(tiny_npz, tmp_path), "trainer.epochs=5", "trainer.backup_every_s=0")
    run_dir, real_callbacks, killer = tmp_path / "run", train.callbacks, KilledAfterEpoch3()
    with monkeypatch.context() as patched:
        patched.setattr(train, "callbacks", lambda *args: [*real_callbacks(*args), killer])
        with pytest.raises(KeyboardInterrupt):
            train.run(cfg, run_dir)
    backup = run_dir / folders.BACKUP
    (backup / "epoch3.weights.h5").rename(backup / folders.LEGACY_WEIGHTS)  # as Keras's BackupAndRestore left it
    record.write_json_atomic(backup / folders.BACKUP_RECORD, {"epoch": 3, "batch": 0})
    assert folders.last_backup(backup) == (3, backup / folders.LEGACY_WEIGHTS)

    resumed_weights = []
    real_load = callbacks.AtomicBackupAndRestore._load_model
    with monkeypatch.context() as patched:
        def load_and_keep(callback):
            real_load(callback)
            resumed_weights.append(callback.model.get_weights())
        patched.setattr(callbacks.AtomicBackupAndRestore, "_load_model", load_and_keep)
        resumed = train.run(cfg, run_dir)
    assert resumed["status"] == "completed" and resumed["resumed_from"] == "interrupted"
    assert list(record.read_history(run_dir).epoch) == list(range(5)) and resumed["epochs_run"] == 5
    assert all(np.array_equal(a, b) for a, b in zip(resumed_weights[0], killer.weights))  # epoch 3's, loaded
