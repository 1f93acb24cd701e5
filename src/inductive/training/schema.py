"""Every config key's type, range and allowed values, checked in one pass before TensorFlow loads.

`check(cfg)` raises ConfigError naming the first bad key, its value and what is valid; keys the
schema does not know (a typo such as `+trainer.epoch=3`) are errors too. Booleans are booleans:
`maybe` is not true. Every number has a range and is finite (no `inf`, no `nan`); seeds stay within
NumPy's 0..2^32-1 and counts within TensorFlow's int32. Then the values checked together (`RELATIONS`:
a shift smaller than the image, a validation split of at least one image) and, where the config holds
Hydra's node, the launcher's keys (`LAUNCHER`: parallel jobs, CPUs, time limits). Shape consistency (a
kernel larger than its feature map) is checked after this, by `inductive.training.shapes`, still before
anything is trained or written.
"""

from __future__ import annotations

import difflib
import math
from typing import Any, Callable

from omegaconf import DictConfig, OmegaConf

from inductive.errors import ConfigError
from inductive.training.record_schema import OBJECTIVES, SEED_MAX
from inductive.training.shapes import CONV_TYPES, HEAD_TYPES, POOL_TYPES

Check = tuple[Callable[[Any], bool], str]  # (accepts the value, what is valid)

ACTIVATIONS = ("relu", "relu6", "leaky_relu", "elu", "selu", "gelu", "silu", "swish", "mish", "tanh", "sigmoid",
               "hard_sigmoid", "softplus", "softsign", "exponential", "linear")
OPTIMIZERS = ("adam", "adamw", "sgd", "rmsprop", "adagrad", "adadelta", "adamax", "nadam", "ftrl", "lion", "lamb",
              "adafactor")
MONITORS = ("loss", "accuracy", "val_loss", "val_accuracy", "train_eval_loss", "train_eval_accuracy")
INT_MAX = 2**31 - 1  # counts and sizes: TensorFlow's int32


def _int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value <= INT_MAX


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def positive_int() -> Check:
    return (lambda v: _int(v) and v > 0), f"a positive int (at most {INT_MAX})"


def natural() -> Check:
    return (lambda v: _int(v) and v >= 0), f"an int in 0..{INT_MAX}"


def seed() -> Check:
    return ((lambda v: isinstance(v, int) and not isinstance(v, bool) and 0 <= v <= SEED_MAX),
            f"an int in 0..{SEED_MAX} (NumPy's seeds)")


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
    "seed": seed(),
    "objective": maybe(one_of(*OBJECTIVES), "null (no sweeper reads one)"),
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
    "data.split_seed": seed(),
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
    "model.display.label": maybe(text(), "null (the model's name)"),
    "model.display.color": maybe(((lambda v: isinstance(v, str) and len(v) == 7 and v[0] == "#"
                                   and all(c in "0123456789abcdefABCDEF" for c in v[1:])), 'a colour "#RRGGBB"'),
                                 "null (a colour from the model's role)"),
    "trainer.optimizer": one_of(*OPTIMIZERS),
    "trainer.learning_rate": ((lambda v: _number(v) and v > 0), "a positive finite number"),
    "trainer.batch_size": positive_int(),
    "trainer.eval_batch_size": positive_int(),
    "trainer.steps_per_execution": positive_int(),
    "trainer.stop": one_of("epochs", "fit"),
    "trainer.epochs": positive_int(),
    "trainer.fit.accuracy": ((lambda v: _number(v) and 0 < v <= 1), "an accuracy in (0, 1]"),
    "trainer.fit.patience": positive_int(),
    "trainer.fit.min_delta": ((lambda v: _number(v) and v >= 0), "a finite number >= 0"),
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
    "trainer.backup_every_s": ((lambda v: _number(v) and v >= 0),
                               "a finite number of seconds >= 0 (0: every epoch)"),
    "trainer.tensorboard": boolean(),
    "shift.enabled": boolean(),
    "shift.max_shift": maybe(positive_int(), "null (a quarter of the image)"),
    "shift.fills": ((lambda v: isinstance(v, list) and v and all(x in ("zero", "wrap") for x in v)),
                    "a list drawn from [zero, wrap], e.g. [zero] or [zero,wrap]"),
    "shift.max_images": maybe(positive_int(), "null (all test images)"),
}
FREE = ("tuned",)  # lookup tables presets may add (the tuned learning rates), not settings


def _shift_fits(values: dict[str, Any]) -> str | None:
    shift, (height, width, _) = values["shift.max_shift"], values["data.image_shape"]
    if shift is not None and shift >= min(height, width):
        return (f"shift.max_shift={shift!r} is invalid: use null (a quarter of the image) or a shift smaller than "
                f"the {height}x{width} image (at most {min(height, width) - 1}): a larger one measures blank images")
    return None


def _validation_fits(values: dict[str, Any]) -> str | None:
    """Known only for a named dataset's own images (data.train_images), not for data.path (checked on load)."""
    size, images = values["data.val_size"], values["data.train_images"]
    if images is None or values["data.path"] is not None:
        return None
    count = int(round(size * images)) if isinstance(size, float) else size
    if not 1 <= count < images:
        return (f"data.val_size={size!r} is invalid: it gives {count} validation images of the {images:,} training "
                f"images (data.train_images); use a count in 1..{images - 1} or a fraction of at least "
                f"{1 / images:.2g} and below 1")
    return None


# Values that must fit together: each returns the message naming the key, or None.
RELATIONS: tuple[Callable[[dict[str, Any]], str | None], ...] = (_shift_fits, _validation_fits)

# The launcher keys checked where a composed config has them (hydra/launcher=joblib, slurm, submitit_local, ray).
LAUNCHER: dict[str, Check] = {
    "n_jobs": ((lambda v: _int(v) and v != 0 and v >= -INT_MAX),
               "a nonzero int: parallel jobs (-1: one per core, -2: all cores but one)"),
    "timeout": maybe(((lambda v: _number(v) and v > 0), "a positive number of seconds")),
    "timeout_min": positive_int(),
    "cpus_per_task": maybe(positive_int()),
    "gpus_per_node": maybe(natural()),
    "mem_gb": maybe(positive_int()),
    "nodes": positive_int(),
    "tasks_per_node": positive_int(),
    "array_parallelism": positive_int(),
    "max_num_timeout": natural(),
    "ray.init.num_cpus": maybe(positive_int()),
    "ray.remote.num_cpus": maybe(((lambda v: _number(v) and v > 0), "a positive number of CPUs per job")),
}


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
    """Raise ConfigError for the first key that is unknown, missing, holds a value outside its schema, or does
    not fit with the others; then for a launcher key outside its range."""
    try:
        values = flatten({key: _resolved(cfg, key) for key in cfg if key not in ("hydra", *FREE)})
    except Exception as err:  # an interpolation that cannot resolve, e.g. a learning rate nobody tuned
        first = str(err).splitlines()[0]
        if "tuned.learning_rate" in first:
            raise ConfigError(f"{first}: configs/tuned/learning_rates.yaml has no rate for this dataset and model; "
                              "run +experiment=evidence_tuning, then python -m inductive.tune SWEEP") from None
        key = getattr(err, "full_key", None)
        raise ConfigError(f"{key + ' ' if key else 'the config '}does not resolve: {first}") from None
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
    for relation in RELATIONS:
        message = relation(values)
        if message:
            raise ConfigError(message)
    if "hydra" in cfg:
        check_launcher(cfg)


def check_launcher(cfg: DictConfig) -> None:
    """The launcher keys `LAUNCHER` knows, where `hydra.launcher` has them (other keys are the plugin's)."""
    for key, (accepts, valid) in LAUNCHER.items():
        try:
            value = OmegaConf.select(cfg, f"hydra.launcher.{key}", default=_ABSENT, throw_on_missing=True)
        except Exception as err:  # an interpolation that cannot resolve
            raise ConfigError(f"hydra.launcher.{key} does not resolve: {str(err).splitlines()[0]}") from None
        if value is not _ABSENT and not accepts(value):
            raise ConfigError(f"hydra.launcher.{key}={value!r} is invalid: use {valid}")


_ABSENT = object()
