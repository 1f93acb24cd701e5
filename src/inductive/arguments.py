"""The `key=value` command lines of report, tables, tune, explain, conv_questions and explorer: one parser,
one help rule, one check for every `out=` and one guard for every file a command reads beside its runs.

Each raises ConfigError (exit 2) naming the key or file, the value and what is valid, before the command reads
or writes anything else. (`run` is Hydra's command line and `study` argparse's; both exit 2 on bad input too.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Callable, TypeVar

import yaml
from omegaconf import OmegaConf
from omegaconf.errors import OmegaConfBaseException

from inductive.errors import ConfigError, require

T = TypeVar("T")


def wants_help(argv: list[str], doc: str) -> bool:
    """Print `doc` (the command's module docstring) for -h / --help."""
    if any(arg in ("-h", "--help") for arg in argv):
        print(doc.strip())
        return True
    return False


def split(argv: list[str], options: dict[str, str], usage: str) -> tuple[list[str], dict[str, str]]:
    """Folders (the arguments without `=`) and `key=value` options as text: each key among `options` (key ->
    what it takes), given once, with a value."""
    folders, given = [], {}
    valid = ", ".join(f"{key}={what}" for key, what in options.items())
    for arg in argv:
        key, sep, value = arg.partition("=")
        if not sep:
            folders.append(arg)
            continue
        if key not in options:
            raise ConfigError(f"unknown argument {arg!r}: the options are {valid}. {usage}")
        if key in given:
            raise ConfigError(f"{key}= is given twice ({given[key]!r} and {value!r}): give it once. {usage}")
        if not value:
            raise ConfigError(f"{key}= is empty: give {key}={options[key]}. {usage}")
        given[key] = value
    return folders, given


def parse_overrides(argv: list[str], defaults: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """`key=value` arguments, typed as YAML (12 is an int), merged over `defaults`, and the keys given;
    unknown keys are an error."""
    valid = ", ".join(defaults)
    for arg in argv:
        require("=" in arg, "argument", arg, f"write key=value with a key among: {valid}")
    try:
        overrides = OmegaConf.to_container(OmegaConf.from_dotlist(argv))
    except (OmegaConfBaseException, yaml.YAMLError) as err:  # e.g. an unclosed bracket in kernel=[3,
        raise ConfigError(f"cannot read {argv} as key=value arguments ({type(err).__name__}); "
                          f"write sizes like 3x5, not lists") from None
    for key in overrides:
        require(key in defaults, key, overrides[key], f"unknown key; valid keys are: {valid}")
    return OmegaConf.to_container(OmegaConf.merge(defaults, overrides)), set(overrides)


def parse_sizes(key: str, value: Any) -> tuple[int, ...]:
    """`3` or `3x5` (positive ints joined by x) as a tuple of ints."""
    parts = [] if isinstance(value, bool) else str(value).lower().split("x")
    require(bool(parts) and all(p.isdigit() and int(p) > 0 for p in parts), key, value,
            "use positive ints joined by x, like 3 or 3x5")
    return tuple(int(p) for p in parts)


def output_path(key: str, value: Any, kind: str, may_hold: str = "", example: str = "") -> Path:
    """`key=value` as the folder (`kind="folder"`) or file (`kind="file"`) a command writes, checked before the
    command reads or writes anything: refused when empty, when a file stands where a folder is wanted (or a
    folder where a file is), when it lies under a file, on a filesystem that holds no files (/proc, /sys), or
    where it cannot be written. An existing folder is refused unless `may_hold` says what of it the command
    overwrites; missing parent folders are made by the command."""
    wanted = example or ("a folder" if kind == "folder" else "a file")
    if value is None or isinstance(value, (bool, list, dict)) or str(value).strip() == "":
        raise ConfigError(f"{key}={'' if value is None else value!r} is invalid: give {wanted}")
    path = Path(str(value)).expanduser()
    shown = f"{key}={str(value)!r}"
    if path.is_dir() and kind == "file":
        raise ConfigError(f"{shown} is a folder: give {wanted}")
    if path.exists() and not path.is_dir() and kind == "folder":
        raise ConfigError(f"{shown} is a file: give {wanted}")
    if path.is_dir() and not may_hold and any(path.iterdir()):
        raise ConfigError(f"{shown} already exists and is not an empty folder: give a new one (nothing is "
                          "overwritten)")
    existing = path
    while not existing.exists() and existing.parent != existing:
        existing = existing.parent
    if existing != path and not existing.is_dir():
        raise ConfigError(f"{shown} lies under {existing}, which is a file: give a path in a folder")
    if os.statvfs(existing).f_blocks == 0:
        raise ConfigError(f"{shown} is on a filesystem that holds no files ({existing}, like /proc or /sys): "
                          "give a path on a disk")
    writable = existing if existing.is_dir() else existing.parent
    if not os.access(writable, os.W_OK | os.X_OK) or (existing.is_file() and not os.access(existing, os.W_OK)):
        raise ConfigError(f"{shown}: {existing} is not writable (read-only or no permission): give a path you "
                          "can write to")
    return path


def read_input(path: Path, read: Callable[[Path], T], expected: str, given: str = "") -> T:
    """A file a command reads beside its runs (a note, a lecture table, an earlier output), through one guard:
    what cannot be read as `expected` is a ConfigError naming `given` (the `key=value` that led to it) and the
    file. `read` raises ValueError itself for content of the wrong shape."""
    try:
        return read(path)
    except (OSError, UnicodeDecodeError, ValueError, EOFError, yaml.YAMLError) as err:
        detail = (str(err).strip().splitlines() or [""])[0][:200]
        named = given if given.endswith(f"={path}") else f"{given}: {path}" if given else str(path)
        raise ConfigError(f"{named}: cannot read it as {expected} ({type(err).__name__}"
                          f"{': ' + detail if detail else ''})") from None
