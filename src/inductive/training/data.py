"""Image classification data, from whichever source works, checked and held in memory.

Sources are tried in a fixed order and the one used is logged:
1. `data.path`: a folder of IDX files, a folder of CIFAR-10 batches (python or binary), or an .npz;
2. `data.local_copies`: known local copies, e.g. Debian's dataset-fashion-mnist package;
3. TensorFlow Datasets: `tfds.load`, downloading if allowed, or from `tfds.manual_dir`.
"""

from __future__ import annotations

import gzip
import logging
import math
import pickle
import socket
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from omegaconf import DictConfig

log = logging.getLogger(__name__)

MIN_VAL = 100  # validation images below which a warning says the split is too small to compare models
Arrays = tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]  # x_train, y_train, x_test, y_test


class DataError(RuntimeError):
    """Data that cannot be found or read: the message names the file or source and what would work."""


@dataclass
class Splits:
    """Train / validation / test arrays ready for `fit`, and where they came from."""

    x_train: np.ndarray
    y_train: np.ndarray
    x_val: np.ndarray
    y_val: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    source: str
    load_seconds: float
    blank: np.ndarray  # a black pixel in the scaled input (per channel): what zero-filled shifts fill with

    @property
    def sizes(self) -> dict[str, int]:
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}


# ---------------------------------------------------------------- readers, one per file format

IDX_DTYPES = {0x08: np.uint8, 0x09: np.int8, 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
IDX_NAMES = {  # accepts both upstream names (train-images-idx3-ubyte) and the dotted variant
    "x_train": "train-images*idx3-ubyte*",
    "y_train": "train-labels*idx1-ubyte*",
    "x_test": "t10k-images*idx3-ubyte*",
    "y_test": "t10k-labels*idx1-ubyte*",
}


def _read_bytes(path: Path) -> bytes:
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as f:
                return f.read()
        return path.read_bytes()
    except (OSError, EOFError) as err:  # gzip.BadGzipFile is an OSError; truncated gzip is EOFError
        raise DataError(f"{path}: cannot read ({err}); the file is truncated or corrupt, fetch it again") from None


def read_idx(path: str | Path) -> np.ndarray:
    """One IDX file (the MNIST format), gzip-compressed or not."""
    path = Path(path)
    raw = _read_bytes(path)
    if len(raw) < 4 or raw[0:2] != b"\x00\x00" or raw[2] not in IDX_DTYPES:
        raise DataError(f"{path}: not an IDX file (bad magic number {raw[:4].hex()})")
    ndim = raw[3]
    header = 4 + 4 * ndim
    if len(raw) < header:
        raise DataError(f"{path}: the header names {ndim} dimensions ({header} bytes) but the file has {len(raw)} "
                        "bytes; the file is truncated or corrupt")
    dims = tuple(int(d) for d in np.frombuffer(raw[4:header], dtype=">u4"))
    dtype = np.dtype(IDX_DTYPES[raw[2]])
    expected = header + math.prod(dims) * dtype.itemsize  # Python ints: no overflow, however large the header says
    if len(raw) != expected:
        raise DataError(f"{path}: header says shape {dims} ({expected} bytes) but the file has {len(raw)} bytes; "
                        "the file is truncated or corrupt")
    return np.frombuffer(raw, dtype=dtype, offset=header).reshape(dims)


def _find_one(folder: Path, pattern: str) -> Path:
    matches = sorted(folder.glob(pattern))
    if not matches:
        raise DataError(f"{folder}: no file matching {pattern!r} (expected the four MNIST-layout IDX files)")
    return matches[0]


def read_idx_folder(folder: str | Path) -> Arrays:
    """The four MNIST-layout IDX files in `folder`; images get a channel axis."""
    folder = Path(folder)
    x_train, y_train, x_test, y_test = (read_idx(_find_one(folder, p)) for p in IDX_NAMES.values())
    return x_train[..., None], y_train, x_test[..., None], y_test


class _ArraysOnly(pickle.Unpickler):
    """Unpickles plain containers, bytes and NumPy arrays only: a data file never runs code.

    A pickle names the functions it calls when loaded (os.system, say); any global other than
    NumPy's array reconstruction is refused.
    """

    ALLOWED = {("numpy.core.multiarray", "_reconstruct"), ("numpy._core.multiarray", "_reconstruct"),
               ("numpy", "ndarray"), ("numpy", "dtype"), ("numpy.core.multiarray", "scalar"),
               ("numpy._core.multiarray", "scalar"), ("_codecs", "encode")}

    def find_class(self, module: str, name: str):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refused to load {module}.{name}: only NumPy arrays and plain "
                                         "containers may be unpickled from a data file")
        return super().find_class(module, name)


def _cifar_python_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    try:
        with open(path, "rb") as f:
            batch = _ArraysOnly(f, encoding="bytes").load()
        data, labels = np.asarray(batch[b"data"], dtype=np.uint8), np.asarray(batch[b"labels"])
        return data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), labels
    except Exception as err:  # any reader failure (pickle, shape, keys) is a data error naming the file
        raise DataError(f"{path}: not a readable CIFAR-10 python batch ({type(err).__name__}: {err})") from None


def _cifar_binary_batch(path: Path) -> tuple[np.ndarray, np.ndarray]:
    raw = np.frombuffer(_read_bytes(path), dtype=np.uint8)
    if raw.size == 0 or raw.size % 3073:
        raise DataError(f"{path}: {raw.size} bytes is not a whole number of 3073-byte CIFAR-10 records; "
                        "the file is truncated or corrupt")
    records = raw.reshape(-1, 3073)
    return records[:, 1:].reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1), records[:, 0]


def read_cifar_folder(folder: str | Path) -> Arrays:
    """CIFAR-10 batches: the python version (data_batch_1..5, test_batch) or the binary one (*.bin)."""
    folder = Path(folder)
    if (folder / "test_batch").is_file():
        read, suffix = _cifar_python_batch, ""
    elif (folder / "test_batch.bin").is_file():
        read, suffix = _cifar_binary_batch, ".bin"
    else:
        raise DataError(f"{folder}: no test_batch or test_batch.bin (expected a CIFAR-10 batches folder)")
    train_files = sorted(folder.glob(f"data_batch_[0-9]{suffix}"))
    if not train_files:
        raise DataError(f"{folder}: no data_batch_1{suffix} .. data_batch_5{suffix}")
    train = [read(p) for p in train_files]
    x_test, y_test = read(folder / f"test_batch{suffix}")
    return np.concatenate([x for x, _ in train]), np.concatenate([y for _, y in train]), x_test, y_test


def read_npz(path: str | Path) -> Arrays:
    """An .npz with x_train, y_train, x_test, y_test; grey images may omit the channel axis."""
    path = Path(path)
    try:
        with np.load(path, allow_pickle=False) as f:  # object arrays would unpickle: refused
            missing = {"x_train", "y_train", "x_test", "y_test"} - set(f.files)
            if missing:
                raise DataError(f"{path}: missing arrays {sorted(missing)} (has {sorted(f.files)})")
            arrays = [f[k] for k in ("x_train", "y_train", "x_test", "y_test")]
    except DataError:
        raise
    except Exception as err:  # e.g. a .npy given as data.path, object arrays, a corrupt zip
        raise DataError(f"{path}: not a readable .npz with x_train, y_train, x_test, y_test "
                        f"({type(err).__name__}: {err})") from None
    for i in (0, 2):
        if arrays[i].ndim == 3:
            arrays[i] = arrays[i][..., None]
    return tuple(arrays)  # type: ignore[return-value]


def read_path(path: str | Path) -> Arrays:
    """Whatever `path` holds: an .npz, a CIFAR-10 batches folder or an IDX folder."""
    path = Path(path).expanduser()
    if not path.exists():
        raise DataError(f"data.path={str(path)!r} does not exist; give a folder of IDX files, "
                        "a CIFAR-10 batches folder or an .npz with x_train, y_train, x_test, y_test")
    if path.is_file():
        return read_npz(path)
    if any(path.glob("test_batch*")):
        return read_cifar_folder(path)
    return read_idx_folder(path)


def online(host: str = "storage.googleapis.com", port: int = 443, timeout: float = 3.0) -> bool:
    """Whether TFDS's download host answers; offline, TFDS would retry with backoff for minutes."""
    try:
        socket.create_connection((host, port), timeout=timeout).close()
        return True
    except OSError:
        return False


def read_tfds(name: str, data_dir: str | None, download: bool, manual_dir: str | None) -> Arrays:
    """Both splits of a TFDS image dataset as NumPy arrays (downloads and prepares on first use).

    Without a network a download is not attempted: TFDS then loads what is already prepared in
    `data_dir`, or fails at once, and the caller names the other sources.
    """
    import tensorflow_datasets as tfds

    if download and not manual_dir and not online():
        log.warning("TFDS's download host cannot be reached: using only data already prepared in %s",
                    data_dir or "~/tensorflow_datasets")
        download = False

    kwargs = {}
    if manual_dir:
        kwargs["download_and_prepare_kwargs"] = {
            "download_config": tfds.download.DownloadConfig(manual_dir=str(Path(manual_dir).expanduser()))}
    train, test = tfds.load(name, split=["train", "test"], as_supervised=True, data_dir=data_dir,
                            download=download, **kwargs)
    (x_train, y_train), (x_test, y_test) = _as_arrays(train), _as_arrays(test)
    return x_train, y_train, x_test, y_test


def _as_arrays(dataset) -> tuple[np.ndarray, np.ndarray]:
    """Whole split in memory; batched rather than batch_size=-1, which needs a known cardinality."""
    import tensorflow_datasets as tfds

    xs, ys = zip(*tfds.as_numpy(dataset.batch(10_000)))
    return np.concatenate(xs), np.concatenate(ys)


# ---------------------------------------------------------------- source resolution and checks

def read_arrays(data: DictConfig) -> tuple[Arrays, str]:
    """Raw arrays from the first source that works, and a description of that source."""
    if data.path:
        return read_path(data.path), f"path {data.path}"
    for copy in data.local_copies or []:
        if Path(copy).is_dir():
            return read_path(copy), f"local copy {copy}"
    tfds_cfg = data.tfds
    cache = Path(data.cache_dir).expanduser() / f"tfds-{tfds_cfg.name}.npz" if data.cache_dir else None
    if cache is not None and cache.is_file():
        return read_npz(cache), f"tfds {tfds_cfg.name} (cached in {cache})"
    log.info("reading %s with TensorFlow Datasets", tfds_cfg.name)
    try:
        arrays = read_tfds(tfds_cfg.name, tfds_cfg.data_dir, tfds_cfg.download, tfds_cfg.manual_dir)
    except Exception as err:  # TFDS raises many kinds (network, checksum, missing files)
        copies = ", ".join(data.local_copies or []) or "none configured"
        raise DataError(
            f"no source for data '{data.name}' worked. Ways to get it:\n"
            f"  1. data.path=DIR_OR_NPZ: a folder of IDX files, a CIFAR-10 batches folder, or an .npz;\n"
            f"  2. a known local copy (data.local_copies: {copies}"
            + ("; on Debian: apt-get install dataset-fashion-mnist" if data.name == "fashion_mnist" else "")
            + ");\n"
            f"  3. TensorFlow Datasets '{tfds_cfg.name}' (data.tfds.data_dir={tfds_cfg.data_dir}, "
            f"download={tfds_cfg.download}): needs internet once, or data.tfds.manual_dir=DIR holding the "
            f"upstream files.\nTFDS said: {type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
        ) from None
    if cache is not None:  # decoding through tf.data takes seconds; an .npy-backed .npz loads in milliseconds
        cache.parent.mkdir(parents=True, exist_ok=True)
        tmp = cache.with_name(f".{cache.name}.tmp.npz")
        np.savez(tmp, **dict(zip(("x_train", "y_train", "x_test", "y_test"), arrays)))
        tmp.replace(cache)
    where = tfds_cfg.manual_dir and f" (manual_dir {tfds_cfg.manual_dir})" or ""
    return arrays, f"tfds {tfds_cfg.name}{where}"


def check_arrays(arrays: Arrays, data: DictConfig, source: str) -> None:
    """Shapes, dtypes, label range and counts must match the config's promise."""
    x_train, y_train, x_test, y_test = arrays
    shape = tuple(data.image_shape)
    for split, x, y in (("train", x_train, y_train), ("test", x_test, y_test)):
        if x.ndim != 4 or tuple(x.shape[1:]) != shape:
            raise DataError(f"{source}: {split} images have shape {x.shape}, expected (N, *{shape}) "
                            f"from data.image_shape for '{data.name}'")
        if x.dtype != np.uint8:
            raise DataError(f"{source}: {split} images are {x.dtype}, expected uint8 pixels 0-255")
        if y.ndim != 1:
            raise DataError(f"{source}: {split} labels have shape {y.shape}, expected (N,): one integer class id "
                            "per image (not one-hot rows, not a single value)")
        if len(x) == 0 or len(x) != len(y):
            raise DataError(f"{source}: {split} has {len(x)} images but {len(y)} labels")
        valid = f"ints in 0..{data.num_classes - 1} (data.num_classes={data.num_classes})"
        if not np.issubdtype(y.dtype, np.integer):
            raise DataError(f"{source}: {split} labels are {y.dtype}, expected {valid}")
        if y.min() < 0 or y.max() >= data.num_classes:
            raise DataError(f"{source}: {split} labels ({y.dtype}, {y.min()}..{y.max()}) must be {valid}")


def split_and_scale(arrays: Arrays, data: DictConfig) -> tuple[np.ndarray, ...]:
    """Carve the validation split (fixed `split_seed`), subset the training set, scale to float32."""
    x_train, y_train, x_test, y_test = arrays
    n = len(y_train)
    n_val = int(round(data.val_size * n)) if isinstance(data.val_size, float) else data.val_size
    if n_val >= n:
        raise DataError(f"data.val_size={data.val_size} leaves no training images out of {n}")
    if n_val < 1:
        raise DataError(f"data.val_size={data.val_size} gives no validation image out of {n} training images; "
                        f"use a fraction of at least {1 / n:.2g} or a count >= 1")
    if n_val < MIN_VAL:
        log.warning("data.val_size=%s gives %d validation images: accuracies on fewer than %d images move in steps "
                    "of over 1%%, too coarse to compare models", data.val_size, n_val, MIN_VAL)
    order = np.random.default_rng(data.split_seed).permutation(n)
    val_idx, train_idx = order[:n_val], order[n_val:]
    if data.train_size is not None:
        if data.train_size > len(train_idx):
            raise DataError(f"data.train_size={data.train_size} is more than the {len(train_idx)} training "
                            f"images left after the validation split; use at most {len(train_idx)} or null")
        train_idx = train_idx[: data.train_size]
    scale = np.float32(1 / 255)
    x_tr = x_train[train_idx].astype(np.float32) * scale
    x_va, x_te = x_train[val_idx].astype(np.float32) * scale, x_test.astype(np.float32) * scale
    blank = np.zeros(x_tr.shape[-1], dtype=np.float32)
    if data.normalize == "standardize":
        mean, std = x_tr.mean(axis=(0, 1, 2)), x_tr.std(axis=(0, 1, 2)) + 1e-7
        x_tr, x_va, x_te = ((x - mean) / std for x in (x_tr, x_va, x_te))
        blank = -mean / std
    as_labels = lambda y: y.astype(np.int32)  # noqa: E731
    return (x_tr, as_labels(y_train[train_idx]), x_va, as_labels(y_train[val_idx]), x_te, as_labels(y_test),
            blank)


def load(data: DictConfig) -> Splits:
    """Read, check, split and scale the configured dataset, logging which source was used."""
    start = time.perf_counter()
    arrays, source = read_arrays(data)
    check_arrays(arrays, data, source)
    *arrays_scaled, blank = split_and_scale(arrays, data)
    splits = Splits(*arrays_scaled, source=source, load_seconds=time.perf_counter() - start, blank=blank)
    log.info("data %s from %s: %s (%.1f s)", data.name, source, splits.sizes, splits.load_seconds)
    return splits
