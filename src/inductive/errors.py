"""The errors every entry point turns into exit 2: a setting or input that cannot work, named with what is valid."""

from __future__ import annotations

from typing import Any


class ConfigError(ValueError):
    """A config value or argument that cannot work: the message names the key, the value and what is valid."""


def require(ok: bool, key: str, value: Any, valid: str) -> None:
    """Raise a ConfigError naming `key`, its `value` and what would be `valid` unless `ok`."""
    if not ok:
        raise ConfigError(f"{key}={value!r} is invalid: {valid}")


class ReportError(ConfigError):
    """Input a report, a tables export or a tuning cannot use: the message names the folder, file or argument
    and what would work."""
