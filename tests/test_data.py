import pickle
from pathlib import Path

import numpy as np
import pytest

from conftest import compose_config, lazy, make_images, write_idx
from inductive.training import data

tfds = lazy("tensorflow_datasets")  # 0.6 s of every worker's collection otherwise


def fashion_like(n_train=50, n_test=20):
    (x_train, y_train), (x_test, y_test) = make_images(n_train, (28, 28, 1), 10, 1), make_images(n_test, (28, 28, 1), 10, 2)
    return x_train, y_train, x_test, y_test


def write_idx_folder(folder, arrays, suffix=".gz"):
    folder.mkdir(exist_ok=True)
    names = ["train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"]
    for name, array in zip(names, arrays):
        write_idx(folder / f"{name}{suffix}", array[..., 0] if array.ndim == 4 else array)
    return folder


def assert_same(read, written):
    for got, want in zip(read, written):
        np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("suffix", [".gz", ""])
def test_idx_folder_round_trips(tmp_path, suffix):
    arrays = fashion_like()
    assert_same(data.read_path(write_idx_folder(tmp_path / "idx", arrays, suffix)), arrays)


def test_truncated_idx_file_is_named(tmp_path):
    folder = write_idx_folder(tmp_path / "idx", fashion_like(), suffix="")
    victim = folder / "train-images-idx3-ubyte"
    victim.write_bytes(victim.read_bytes()[:-100])
    with pytest.raises(data.DataError, match="train-images-idx3-ubyte.*truncated"):
        data.read_path(folder)


def test_corrupt_gzip_is_named(tmp_path):
    folder = write_idx_folder(tmp_path / "idx", fashion_like())
    victim = folder / "t10k-labels-idx1-ubyte.gz"
    victim.write_bytes(victim.read_bytes()[: len(victim.read_bytes()) // 2])
    with pytest.raises(data.DataError, match="t10k-labels-idx1-ubyte.gz"):
        data.read_path(folder)


def cifar_like():
    (x_train, y_train), (x_test, y_test) = make_images(30, (32, 32, 3), 10, 1), make_images(10, (32, 32, 3), 10, 2)
    return x_train, y_train, x_test, y_test


def channel_major(x):
    return x.transpose(0, 3, 1, 2).reshape(len(x), -1)


def test_cifar_python_batches_round_trip(tmp_path):
    x_train, y_train, x_test, y_test = cifar_like()
    for i, part in enumerate(np.array_split(np.arange(30), 5), start=1):
        batch = {b"data": channel_major(x_train[part]), b"labels": y_train[part].tolist()}
        (tmp_path / f"data_batch_{i}").write_bytes(pickle.dumps(batch))
    (tmp_path / "test_batch").write_bytes(pickle.dumps({b"data": channel_major(x_test), b"labels": y_test.tolist()}))
    assert_same(data.read_path(tmp_path), (x_train, y_train, x_test, y_test))
    (tmp_path / "data_batch_3").write_bytes(b"\x80\x04 not a pickle")
    with pytest.raises(data.DataError, match="data_batch_3"):
        data.read_path(tmp_path)


def test_cifar_binary_batches_round_trip(tmp_path):
    x_train, y_train, x_test, y_test = cifar_like()
    records = lambda x, y: np.concatenate([y[:, None], channel_major(x)], axis=1).astype(np.uint8).tobytes()  # noqa: E731
    (tmp_path / "data_batch_1.bin").write_bytes(records(x_train, y_train))
    (tmp_path / "test_batch.bin").write_bytes(records(x_test, y_test))
    assert_same(data.read_path(tmp_path), (x_train, y_train, x_test, y_test))
    (tmp_path / "test_batch.bin").write_bytes(records(x_test, y_test)[:-7])
    with pytest.raises(data.DataError, match="test_batch.bin.*truncated"):
        data.read_path(tmp_path)


def test_npz_round_trips_and_names_missing_arrays(tmp_path):
    arrays = fashion_like()
    np.savez(tmp_path / "d.npz", **dict(zip(["x_train", "y_train", "x_test", "y_test"], arrays)))
    assert_same(data.read_path(tmp_path / "d.npz"), arrays)
    np.savez(tmp_path / "bad.npz", x_train=arrays[0])
    with pytest.raises(data.DataError, match=r"bad.npz.*missing.*y_train"):
        data.read_path(tmp_path / "bad.npz")
    (tmp_path / "junk.npz").write_bytes(b"PK\x03\x04 junk")
    with pytest.raises(data.DataError, match="junk.npz"):
        data.read_path(tmp_path / "junk.npz")


def test_explicit_path_wins_over_local_copy_and_splits_are_seeded(tmp_path):
    arrays = fashion_like(200, 20)
    cfg = compose_config(f"data.path={write_idx_folder(tmp_path / 'idx', arrays)}",
                         f"data.local_copies=[{tmp_path / 'nowhere'}]", "data.val_size=0.25", "data.train_size=100")
    first, second = data.load(cfg.data), data.load(cfg.data)
    assert first.source.startswith("path ") and first.sizes == {"train": 100, "val": 50, "test": 20}
    np.testing.assert_array_equal(first.y_val, second.y_val)
    assert first.x_train.dtype == np.float32 and 0 <= first.x_train.min() and first.x_train.max() <= 1


def test_local_copy_is_used_when_no_path(tmp_path):
    folder = write_idx_folder(tmp_path / "copy", fashion_like(100, 20))
    cfg = compose_config(f"data.local_copies=[{tmp_path / 'absent'},{folder}]", "data.val_size=10")
    assert data.load(cfg.data).source == f"local copy {folder}"


def test_wrong_shape_and_labels_are_rejected(tmp_path):
    folder = write_idx_folder(tmp_path / "idx", fashion_like())
    with pytest.raises(data.DataError, match=r"shape .*data.image_shape"):
        data.load(compose_config(f"data.path={folder}", "data=cifar10", "data.val_size=10").data)
    with pytest.raises(data.DataError, match="labels .* 0..2"):
        data.load(compose_config(f"data.path={folder}", "data.num_classes=3", "data.val_size=10").data)


@pytest.mark.tensorflow  # TFDS reads its mock data through tf.data
def test_tfds_path_under_mock_data(tmp_path):
    cfg = compose_config("data.local_copies=[]", "data.val_size=0.1", f"data.cache_dir={tmp_path / 'cache'}")
    with tfds.testing.mock_data(num_examples=40):
        splits = data.load(cfg.data)
    assert splits.source == "tfds fashion_mnist" and splits.sizes == {"train": 36, "val": 4, "test": 40}
    again = data.load(cfg.data)  # the decoded arrays were cached: no TFDS this time
    assert "cached" in again.source
    np.testing.assert_array_equal(again.y_test, splits.y_test)


def test_no_source_names_all_three_ways(tmp_path, monkeypatch):
    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    monkeypatch.setattr(data, "read_tfds", offline)
    cfg = compose_config(f"data.local_copies=[{tmp_path / 'absent'}]", "data.cache_dir=null")
    with pytest.raises(data.DataError) as err:
        data.load(cfg.data)
    message = str(err.value)
    assert all(s in message for s in ("data.path=", "apt-get install dataset-fashion-mnist", "manual_dir", "no network"))


class _Exploit:
    """Unpickling this calls os.system: what a malicious data_batch_1 would do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        import os
        return (os.system, (f"touch {self.marker}",))


def test_a_cifar_pickle_that_runs_code_is_refused(tmp_path):
    import pickle

    folder, marker = tmp_path / "cifar", tmp_path / "pwned"
    folder.mkdir()
    for name in ("data_batch_1", "test_batch"):
        (folder / name).write_bytes(pickle.dumps({b"data": _Exploit(marker), b"labels": [0]}))
    with pytest.raises(data.DataError, match="data_batch_1.*refused to load posix.system"):
        data.read_cifar_folder(folder)
    assert not marker.exists()


@pytest.mark.parametrize("arrays, message", [
    ({"x_train": np.array([object()], dtype=object)}, "not a readable .npz"),
])
def test_npz_object_arrays_are_refused(tmp_path, arrays, message):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays, y_train=np.zeros(1), x_test=np.zeros(1), y_test=np.zeros(1))
    with pytest.raises(data.DataError, match=message):
        data.read_npz(path)


def test_a_npy_given_as_data_path_is_a_data_error(tmp_path):
    path = tmp_path / "images.npy"
    np.save(path, np.zeros((2, 2)))
    with pytest.raises(data.DataError, match="images.npy"):
        data.read_npz(path)


def test_offline_tfds_is_not_asked_to_download(monkeypatch):
    asked = {}

    def load(name, split, as_supervised, data_dir, download, **kwargs):
        asked["download"] = download
        raise AssertionError("could not find data")

    monkeypatch.setattr(data, "online", lambda: False)
    monkeypatch.setattr("tensorflow_datasets.load", load)
    with pytest.raises(AssertionError):
        data.read_tfds("mnist", None, True, None)
    assert asked == {"download": False}


def test_each_seed_draws_its_own_training_subset_and_validation_split(composed):
    x, y = make_images(400, seed=3)
    arrays = (x, y, x[:50], y[:50])

    def drawn(seed):
        cfg = composed("+experiment=evidence_protocol", f"seed={seed}", "data.image_shape=[12,12,1]",
                       "data.num_classes=3", "data.val_size=100", "data.train_size=200")
        x_train, _, x_val, *_ = data.split_and_scale(arrays, cfg.data)
        return x_train, x_val

    (a_train, a_val), (b_train, b_val), (c_train, _) = drawn(0), drawn(1), drawn(0)
    assert not np.array_equal(a_train, b_train) and not np.array_equal(a_val, b_val)
    np.testing.assert_array_equal(a_train, c_train)
