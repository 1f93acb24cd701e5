"""The fit stop rule on constructed loss and accuracy sequences (no training)."""

from types import SimpleNamespace

import pandas as pd
import pytest

from conftest import lazy
from inductive.training.record import stop_record

callbacks = lazy("inductive.training.callbacks")
pytestmark = pytest.mark.tensorflow


def test_plateau_needs_patience_epochs_without_min_delta_improvement():
    assert not callbacks.plateaued([1.0, 0.9, 0.8], patience=3, min_delta=0.01)
    assert callbacks.plateaued([1.0, 0.5, 0.499, 0.4995, 0.5], patience=3, min_delta=0.01)
    assert not callbacks.plateaued([1.0, 0.5, 0.499, 0.4995, 0.48], patience=3, min_delta=0.01)


def test_fit_is_the_last_epochs_accuracy_at_the_threshold():
    assert callbacks.fit_reached([0.5, 0.99], 0.99) and not callbacks.fit_reached([0.995, 0.98], 0.99) and not callbacks.fit_reached([], 0.9)


def trainer(stop="fit", epochs=10, accuracy=0.99):
    return SimpleNamespace(stop=stop, epochs=epochs, fit=SimpleNamespace(accuracy=accuracy))


def test_stop_reason_is_read_from_the_history():
    history = pd.DataFrame({"train_eval_accuracy": [0.5, 0.7, 0.995]})
    assert stop_record(history, trainer())["reason"] == "fit"
    assert stop_record(history.iloc[:2], trainer())["reason"] == "plateau"
    assert stop_record(history.iloc[:2], trainer(epochs=2))["reason"] == "max_epochs"
    assert stop_record(history, trainer(stop="epochs", epochs=3)) == {"rule": "epochs", "reason": "epochs", "epoch": 3}


def test_train_eval_logs_what_evaluate_gives_on_the_arrays_every_epoch():
    """Its pipeline, built once, must give exactly the numbers of evaluate(x, y) on the NumPy sample."""
    import keras
    import numpy as np

    from inductive.training.callbacks import TRAIN_EVAL, TrainEval

    rng = np.random.default_rng(0)
    x, y = rng.random((70, 6, 6, 1), dtype=np.float32), rng.integers(0, 3, 70)
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((6, 6, 1)), keras.layers.Conv2D(4, 3, activation="relu"),
                              keras.layers.Flatten(), keras.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    seen = []

    class Compare(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            expected = model.evaluate(x, y, batch_size=32, verbose=0)  # 32 does not divide 70: a short batch
            seen.append(([logs[f"{TRAIN_EVAL}_loss"], logs[f"{TRAIN_EVAL}_accuracy"]], expected))

    model.fit(x, y, epochs=3, batch_size=16, verbose=0, callbacks=[TrainEval(x, y, 32), Compare()])
    assert len(seen) == 3 and all(got == [float(v) for v in want] for got, want in seen)
    assert seen[0][0] != seen[-1][0]  # the weights moved, so an unchanging number would be caught
