"""Shared test helpers: composing the real configs, and small learnable image data made here."""

from __future__ import annotations

import gzip
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np
import pytest
from hydra import compose, initialize_config_dir
from omegaconf import DictConfig

from inductive.training.config import config_dir


def compose_config(*overrides: str) -> DictConfig:
    with initialize_config_dir(config_dir=str(config_dir()), version_base="1.3"):
        return compose(config_name="config", overrides=list(overrides))


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


@pytest.fixture
def tiny_npz(tmp_path: Path) -> Path:
    x_train, y_train = make_images(600, seed=1)
    x_test, y_test = make_images(200, seed=2)
    path = tmp_path / "tiny.npz"
    np.savez(path, x_train=x_train, y_train=y_train, x_test=x_test, y_test=y_test)
    return path


def tiny_overrides(npz: Path, out: Path, *extra: str) -> list[str]:
    """Overrides that point a run at `tiny_npz` and shrink it to seconds."""
    return [f"data.path={npz}", "data.image_shape=[12,12,1]", "data.num_classes=3", "data.val_size=100",
            "data.cache_dir=null", "model.conv_filters=[4,8]", "model.hidden_units=[16]",
            "trainer.epochs=3", "trainer.batch_size=32", "trainer.verbose=0", f"output_root={out}", *extra]
