"""The fit stop rule on constructed loss and accuracy sequences (no training)."""

from types import SimpleNamespace

import pandas as pd

from inductive.training.callbacks import fit_reached, plateaued
from inductive.training.record import stop_record


def test_plateau_needs_patience_epochs_without_min_delta_improvement():
    assert not plateaued([1.0, 0.9, 0.8], patience=3, min_delta=0.01)
    assert plateaued([1.0, 0.5, 0.499, 0.4995, 0.5], patience=3, min_delta=0.01)
    assert not plateaued([1.0, 0.5, 0.499, 0.4995, 0.48], patience=3, min_delta=0.01)


def test_fit_is_the_last_epochs_accuracy_at_the_threshold():
    assert fit_reached([0.5, 0.99], 0.99) and not fit_reached([0.995, 0.98], 0.99) and not fit_reached([], 0.9)


def trainer(stop="fit", epochs=10, accuracy=0.99):
    return SimpleNamespace(stop=stop, epochs=epochs, fit=SimpleNamespace(accuracy=accuracy))


def test_stop_reason_is_read_from_the_history():
    history = pd.DataFrame({"train_eval_accuracy": [0.5, 0.7, 0.995]})
    assert stop_record(history, trainer())["reason"] == "fit"
    assert stop_record(history.iloc[:2], trainer())["reason"] == "plateau"
    assert stop_record(history.iloc[:2], trainer(epochs=2))["reason"] == "max_epochs"
    assert stop_record(history, trainer(stop="epochs", epochs=3)) == {"rule": "epochs", "reason": "epochs", "epoch": 3}
