"""Shared fixtures: composed real configs, small learnable image data made here, and fake run folders."""

from __future__ import annotations

import copy
import functools
import gzip
import importlib
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Callable

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pandas as pd
import pytest
import yaml
from omegaconf import DictConfig, OmegaConf

from inductive.training import record
from inductive.training import config_folder


SAFE_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)  # libyaml's emitter: a fake run's config in 1 ms, not 10
FAST_LOOP = False  # set by pytest_configure before any test module is imported


def pytest_configure(config):
    global FAST_LOOP
    FAST_LOOP = "not slow" in (config.getoption("markexpr", "") or "")


class lazy:
    """A module imported at its first attribute use: `keras = lazy("keras")` at a test module's top.

    Collecting the suite imports every test module, and TensorFlow would be 6 to 8 s of that on this machine (of a
    collection that now takes about 5 s): a test file or test that needs no TensorFlow starts without it. A test
    that needs it is marked `pytest.mark.tensorflow` (`-m "not tensorflow"` runs the others)."""

    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        if attr.startswith("_"):  # pytest probes every module global (`__test__`, `_pytestfixturefunction`)
            raise AttributeError(attr)
        return getattr(importlib.import_module(self._name), attr)

    def __setattr__(self, attr: str, value) -> None:
        if not attr.startswith("_"):  # it would patch this stand-in, not the module
            raise AttributeError(f"patch the module itself: monkeypatch.setattr('{self._name}.{attr}', ...)")
        super().__setattr__(attr, value)


def examples(n: int) -> int:
    """How many examples a Hypothesis property tries: `n` in `make test`, a quarter (at least 10) in the fast loop
    (`-m "not slow"`), where a property is a smoke check run on every edit and the full search still runs in CI."""
    return max(10, n // 4) if FAST_LOOP else n


def compose_config(*overrides: str) -> DictConfig:
    """The config `python -m inductive.run` composes for these overrides (`config_folder.composed`: each choice of
    config groups merged once per process, value overrides set as Hydra sets them)."""
    return config_folder.composed(list(overrides))


@pytest.fixture
def composed() -> Callable[..., DictConfig]:
    """The real configs composed with overrides, as `python -m inductive.run` would."""
    return compose_config


def make_images(n: int, shape=(12, 12, 1), classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Noisy images whose class is a bright bar's position: learnable in a few epochs."""
    rng = np.random.default_rng(seed)
    y = rng.integers(0, classes, n)
    x = rng.integers(0, 60, (n, *shape)).astype(np.uint8)
    rows = shape[0] // classes
    for i, label in enumerate(y):
        x[i, label * rows:(label + 1) * rows] = 220
    return x, y.astype(np.uint8)


def write_idx(path: Path, array: np.ndarray) -> Path:
    header = bytes([0, 0, 0x08, array.ndim]) + np.asarray(array.shape, dtype=">u4").tobytes()
    payload = header + array.astype(np.uint8).tobytes()
    if path.suffix == ".gz":
        payload = gzip.compress(payload)
    path.write_bytes(payload)
    return path


@pytest.fixture(scope="session")
def tiny_npz(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tests' tiny images as an .npz, one file per test process and read-only, so that every test that names
    it gives the same `data.path=` and its composition is remembered (`config_folder.composed`)."""
    x_train, y_train = make_images(600, seed=1)
    x_test, y_test = make_images(200, seed=2)
    path = tmp_path_factory.mktemp("data") / "tiny.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    path.chmod(0o444)
    return path


def run_cli(*args: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """`python -m inductive.run ARGS` in `cwd`, output captured."""
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    return subprocess.run([sys.executable, "-m", "inductive.run", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def tiny_overrides(npz: Path, out: Path, *extra: str) -> list[str]:
    """Point a run at `tiny_npz` and shrink it to seconds: the `debug=tiny` config plus the paths."""
    return ["debug=tiny", f"data.path={npz}", f"output_root={out}", *extra]


def unrendered(fig, stem) -> list[Path]:
    """`figures.save_figure` without the rendering: the figure is closed and empty PNG and SVG files take its place."""
    import matplotlib.pyplot as plt

    plt.close(fig)
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    paths = [stem.with_name(stem.name + ".png"), stem.with_name(stem.name + ".svg")]
    for path in paths:
        path.touch()
    return paths


@pytest.fixture
def undrawn(monkeypatch):
    """For tests of what a report or study read says, not how its figures look: each figure is still built from its
    table, then closed with empty PNG and SVG files in its place. Rendering them is about three quarters of a
    report's time (a 12-run report: 16 of 21 s); the figure tests and the slow whole-report tests render."""
    from inductive.evidence import figures

    monkeypatch.setattr(figures, "save_figure", unrendered)


# ---------------------------------------------------------------- fake run folders

LAYERS = {  # (class, output shape, trainable) per layer, for 28x28x1 images and 10 classes
    "dense": [("Flatten", [784], 0), ("Dense", [256], 200_960), ("Dense", [128], 32_896), ("Dense", [10], 1_290)],
    "conv_flatten": [("Conv2D", [28, 28, 32], 320), ("MaxPooling2D", [14, 14, 32], 0), ("Conv2D", [14, 14, 64], 18_496),
                     ("MaxPooling2D", [7, 7, 64], 0), ("Flatten", [3136], 0), ("Dense", [128], 401_536),
                     ("Dense", [10], 1_290)],
    "gap": [("Conv2D", [28, 28, 32], 320), ("MaxPooling2D", [14, 14, 32], 0), ("Conv2D", [14, 14, 64], 18_496),
            ("MaxPooling2D", [7, 7, 64], 0), ("GlobalAveragePooling2D", [64], 0), ("Dense", [10], 650)],
}


def fake_run(sweep: Path, num: int, model: str, seed: int, train_eval: list[float], val: list[float],
             test_accuracy: float, fit_accuracy: float = 0.99, shift_kept: float | None = None,
             clean_accuracy: float | None = None, status: str = "completed", dataset: str = "fashion_mnist") -> Path:
    """A run folder shaped like the ones `train.run` leaves, from the numbers given.

    `train_eval` and `val` are per-epoch accuracies; losses follow from them. `shift_kept` writes a
    shift.csv whose kept-correct fraction falls by that much per pixel; `clean_accuracy` its shift 0.
    """
    run_dir = sweep / f"{num}_{model}_{dataset}_seed{seed}"
    (run_dir / ".hydra").mkdir(parents=True)
    config = copy.deepcopy(_protocol_config(model, seed, fit_accuracy))
    config["data"]["name"] = dataset
    (run_dir / ".hydra" / "config.yaml").write_text(yaml.dump(config, Dumper=SAFE_DUMPER, sort_keys=False))
    epochs = len(train_eval)
    acc, val = np.asarray(train_eval, float), np.asarray(val, float)
    history = pd.DataFrame({"epoch": range(epochs), "accuracy": acc - 0.01, "epoch_time_s": 0.5, "loss": 1 - acc,
                            "train_eval_accuracy": acc, "train_eval_loss": 1 - acc, "val_accuracy": val,
                            "val_loss": 1 - val + 0.02 * np.arange(epochs) / epochs})
    history.to_csv(run_dir / record.HISTORY, index=False)
    layers = [{"name": f"{cls.lower()}_{i}", "class": cls, "output_shape": shape, "trainable": n, "non_trainable": 0}
              for i, (cls, shape, n) in enumerate(LAYERS.get(model, LAYERS["conv_flatten"]))]
    trainable = sum(layer["trainable"] for layer in layers)
    summary = {"status": status, "error": None, "model": model, "dataset": dataset, "seed": seed, "config": config,
               "params": {"trainable": trainable, "non_trainable": 0, "total": trainable, "layers": layers,
                          "target": None},
               "data": {"source": "fake", "train_size": 1000, "val_size": 2000, "test_size": 10000},
               "device": {"device": "CPU", "precision": "float32"},
               **record.history_metrics(history),
               "stop": record.stop_record(history, OmegaConf.create(config["trainer"]))}
    if status == "completed":
        summary["test"] = {"loss": 1 - test_accuracy, "accuracy": test_accuracy}
    record.write_json_atomic(run_dir / record.SUMMARY, summary)
    if shift_kept is not None:
        clean = test_accuracy if clean_accuracy is None else clean_accuracy
        rows = [{"direction": d, "shift": s, "fill": "zero", "accuracy": clean * max(0.0, 1 - shift_kept * s),
                 "consistency": max(0.0, 1 - shift_kept * s), "consistency_correct": max(0.0, 1 - shift_kept * s)}
                for d in ("x", "y", "diagonal") for s in range(8)]
        pd.DataFrame(rows, columns=record.SHIFT_COLUMNS).to_csv(run_dir / record.SHIFT, index=False)
    return run_dir


@functools.lru_cache(maxsize=None)
def _protocol_config(model: str, seed: int, fit_accuracy: float) -> dict:
    """The resolved config of an evidence-protocol run (cached: callers copy it before changing it)."""
    cfg = compose_config(f"model={model}", "+experiment=evidence_protocol", f"trainer.fit.accuracy={fit_accuracy}",
                         f"seed={seed}")
    return OmegaConf.to_container(cfg, resolve=True)


@pytest.fixture(scope="session")
def fake_sweep(tmp_path_factory) -> Callable[..., Path]:
    """Write a sweep folder of fake runs: `fake_sweep({model: dict(fake_run keywords)}, seeds=3)`."""
    def make(spec: dict[str, dict], seeds: int = 3, name: str = "sweep", jitter: float = 0.004,
             first_seed: int = 0) -> Path:
        sweep = tmp_path_factory.mktemp("fake") / name
        num = 0
        for model, numbers in spec.items():
            for seed in range(first_seed, first_seed + seeds):
                rng = np.random.default_rng(100 * num + seed)
                wiggle = float(rng.normal(0, jitter))
                kwargs = dict(numbers)
                kwargs["test_accuracy"] = kwargs["test_accuracy"] + wiggle
                kwargs["val"] = [v + wiggle for v in kwargs["val"]]
                fake_run(sweep, num, model, seed, **kwargs)
                num += 1
        return sweep
    return make


def whole_record(**fields) -> dict:
    """A completed run's summary.json with everything the record schema asks of one, `fields` replaced."""
    at = {"epoch": 2, "train_loss": 0.04, "train_accuracy": 0.995, "train_loss_running": 0.05,
          "train_accuracy_running": 0.99, "val_loss": 0.3, "val_accuracy": 0.9, "accuracy_gap": 0.095, "loss_gap": 0.26}
    record = {"status": "completed", "error": None, "model": "dense", "dataset": "fashion_mnist", "seed": 0,
              "config": {"data": {"name": "fashion_mnist", "image_shape": [28, 28, 1], "train_size": 1000},
                         "model": {"name": "dense"}, "trainer": {"learning_rate": 0.001}, "seed": 0},
              "params": {"trainable": 10, "non_trainable": 0, "total": 10, "target": None,
                         "layers": [{"name": "dense", "class": "Dense", "output_shape": [10], "trainable": 10,
                                     "non_trainable": 0}]},
              "data": {"source": "fake", "train_size": 1000, "val_size": 200, "test_size": 100},
              "device": {"device": "CPU", "precision": "float32"}, "epochs_run": 3, "final": at, "best": at,
              "stop": {"rule": "fit", "reason": "fit", "epoch": 3}, "test": {"loss": 0.35, "accuracy": 0.89},
              "time": {"load_s": 0.1, "train_s": 2.0, "epoch_mean_s": 0.6, "total_s": 2.5}}
    return record | fields


# ---------------------------------------------------------------- headless Chromium (Debian's chromium + chromedriver)

CHROMIUM, CHROMEDRIVER = shutil.which("chromium"), shutil.which("chromedriver")
CHROMIUM_FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--disable-dev-shm-usage", "--hide-scrollbars", "--window-size=1440,1400")


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed (pip install selenium)")
    from selenium.webdriver.chrome.service import Service

    if not (CHROMIUM and CHROMEDRIVER):
        pytest.skip("chromium and chromedriver are not installed (apt-get install chromium chromium-driver)")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"performance": "ALL", "browser": "ALL"})
    # An explicit driver path: selenium then never tries to download one.
    driver = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
    driver.set_script_timeout(60)
    yield driver
    driver.quit()
