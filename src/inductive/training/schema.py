"""Every config key's type, range and allowed values, checked in one pass before TensorFlow loads.

`check(cfg)` raises ConfigError naming the first bad key, its value and what is valid; keys the
schema does not know (a typo such as `+trainer.epoch=3`) are errors too. Booleans are booleans:
`maybe` is not true. Shape consistency (a kernel larger than its feature map) is checked after
this, by `inductive.training.shapes`, still before anything is trained or written.
"""

from __future__ import annotations

import difflib
from typing import Any, Callable

from omegaconf import DictConfig, OmegaConf

from inductive.errors import ConfigError
from inductive.training.shapes import CONV_TYPES, HEAD_TYPES, POOL_TYPES

Check = tuple[Callable[[Any], bool], str]  # (accepts the value, what is valid)

ACTIVATIONS = ("relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "mish", "tanh", "sigmoid",
               "hard_sigmoid", "softplus", "softsign", "exponential", "linear")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "ftrl", "lion", "lamb",
              "adafactor")
MONITORS = ("loss", "accuracy", "val_loss", "val_accuracy", "train_eval_loss", "train_eval_accuracy")


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def positive_int() -> Check:
    return (lambda v: _int(v) and v > 0), "a positive int"


def natural() -> Check:
    return (lambda v: _int(v) and v >= 0), "an int >= 0"


def boolean() -> Check:
    return (lambda v: isinstance(v, bool)), "true or false"


def one_of(*options: Any) -> Check:
    return (lambda v: any(v == o and type(v) is type(o) for o in options)), "one of " + ", ".join(map(str, options))


def text() -> Check:
    return (lambda v: isinstance(v, str) and v != ""), "a non-empty string"


def maybe(check: Check, none: str = "null") -> Check:
    accepts, valid = check
    return (lambda v: v is None or accepts(v)), f"{none} or {valid}"


def size_or_pair() -> Check:
    return (lambda v: (_int(v) and v > 0) or (isinstance(v, list) and len(v) == 2 and all(_int(x) and x > 0 for x in v)),
            "a positive int or [height, width] of positive ints")


def int_list(allow_empty: bool = True) -> Check:
    return (lambda v: isinstance(v, list) and (allow_empty or v) and all(_int(x) and x > 0 for x in v),
            "a list of positive ints" + ("" if allow_empty else " (at least one)"))


SCHEMA: dict[str, Check] = {
    "seed": natural(),
    "objective": maybe(text()),
    "output_root": text(),
    "data.name": text(),
    "data.image_shape": ((lambda v: isinstance(v, list) and len(v) == 3 and all(_int(x) and x > 0 for x in v)),
                         "[height, width, channels] of positive ints"),
    "data.num_classes": ((lambda v: _int(v) and v >= 2), "an int >= 2"),
    "data.train_images": maybe(positive_int(), "null (not known)"),
    "data.path": maybe(text()),
    "data.local_copies": ((lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v)), "a list of folders"),
    "data.tfds.name": text(),
    "data.tfds.data_dir": maybe(text()),
    "data.tfds.download": boolean(),
    "data.tfds.manual_dir": maybe(text()),
    "data.cache_dir": maybe(text(), "null (no cache)"),
    "data.val_size": ((lambda v: (_int(v) and v > 0) or (isinstance(v, float) and 0 < v < 1)),
                      "a positive count or a fraction between 0 and 1"),
    "data.split_seed": natural(),
    "data.train_size": maybe(positive_int(), "null (all)"),
    "data.normalize": one_of("unit", "standardize"),
    "model.name": text(),
    "model.conv_type": one_of(*CONV_TYPES),
    "model.conv_filters": int_list(),
    "model.kernel_size": size_or_pair(),
    "model.strides": size_or_pair(),
    "model.padding": one_of("same", "valid"),
    "model.pool_size": maybe(size_or_pair(), "null (no pooling)"),
    "model.pool_type": one_of(*POOL_TYPES),
    "model.head": one_of(*HEAD_TYPES),
    "model.hidden_units": int_list(),
    "model.activation": one_of(*ACTIVATIONS),
    "model.dropout": ((lambda v: _number(v) and 0 <= v < 1), "a rate in [0, 1)"),
    "model.target_params": maybe(positive_int()),
    "model.match_params_of": maybe(text()),
    "trainer.optimizer": one_of(*OPTIMIZERS),
    "trainer.learning_rate": ((lambda v: _number(v) and v > 0), "a positive number"),
    "trainer.batch_size": positive_int(),
    "trainer.eval_batch_size": positive_int(),
    "trainer.steps_per_execution": positive_int(),
    "trainer.stop": one_of("epochs", "fit"),
    "trainer.epochs": positive_int(),
    "trainer.fit.accuracy": ((lambda v: _number(v) and 0 < v <= 1), "an accuracy in (0, 1]"),
    "trainer.fit.patience": positive_int(),
    "trainer.fit.min_delta": ((lambda v: _number(v) and v >= 0), "a number >= 0"),
    "trainer.fit.train_eval_images": maybe(positive_int(), "null (all training images)"),
    "trainer.early_stopping.enabled": boolean(),
    "trainer.early_stopping.monitor": one_of(*MONITORS),
    "trainer.early_stopping.patience": natural(),
    "trainer.early_stopping.restore_best_weights": boolean(),
    "trainer.deterministic": boolean(),
    "trainer.verbose": one_of("auto", 0, 1, 2),
    "trainer.precision": one_of("auto", "float32", "mixed_float16", "mixed_bfloat16"),
    "trainer.jit_compile": one_of("auto", True, False),
    "trainer.threads": ((lambda v: v in (None, "auto") or (_int(v) and v > 0)),
                        "null (TensorFlow's default), auto (under a parallel launcher) or a positive int"),
    "trainer.resume": boolean(),
    "trainer.backup_every_s": ((lambda v: _number(v) and v >= 0), "a number of seconds >= 0 (0: every epoch)"),
    "trainer.tensorboard": boolean(),
    "shift.enabled": boolean(),
    "shift.max_shift": maybe(positive_int(), "null (a quarter of the image)"),
    "shift.fills": ((lambda v: isinstance(v, list) and v and all(x in ("zero", "wrap") for x in v)),
                    "a list drawn from [zero, wrap], e.g. [zero] or [zero,wrap]"),
    "shift.max_images": maybe(positive_int(), "null (all test images)"),
}
FREE = ("tuned",)  # lookup tables presets may add (the tuned learning rates), not settings


def flatten(container: Any, prefix: str = "") -> dict[str, Any]:
    """{"trainer.fit.accuracy": 0.99, ...}: nested mappings flattened to dotted keys; lists stay values."""
    if not isinstance(container, dict):
        return {prefix: container}
    found: dict[str, Any] = {}
    for key, value in container.items():
        found |= flatten(value, f"{prefix}.{key}" if prefix else str(key))
    return found


def _resolved(cfg: DictConfig, key: str) -> Any:
    value = cfg[key]
    return OmegaConf.to_container(value, resolve=True) if OmegaConf.is_config(value) else value


def check(cfg: DictConfig) -> None:
    """Raise ConfigError for the first key that is unknown, missing, or holds a value outside its schema."""
    try:
        values = flatten({key: _resolved(cfg, key) for key in cfg if key not in ("hydra", *FREE)})
    except Exception as err:  # an interpolation that cannot resolve, e.g. a learning rate nobody tuned
        first = str(err).splitlines()[0]
        if "tuned.learning_rate" in first:
            raise ConfigError(f"{first}: configs/tuned/learning_rates.yaml has no rate for this dataset and model; "
                              "run +experiment=evidence_tuning, then python -m inductive.tune SWEEP") from None
        raise ConfigError(f"the config does not resolve: {first}") from None
    for key in values:
        if key not in SCHEMA:
            near = difflib.get_close_matches(key, SCHEMA, n=3)
            raise ConfigError(f"{key}={values[key]!r} is not a setting of inductive"
                              + (f"; did you mean {' or '.join(near)}?" if near else "; see configs/ for the keys"))
    for key, (accepts, valid) in SCHEMA.items():
        if key not in values:
            raise ConfigError(f"{key} is missing from the config: give {valid}")
        if not accepts(values[key]):
            raise ConfigError(f"{key}={values[key]!r} is invalid: use {valid}")
