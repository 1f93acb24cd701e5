"""A study file, read and checked as a whole before anything trains.

A study is configs/study/NAME.yaml (or any path): the question, the claims it decides, the grid of jobs, the
protocol they inherit, alpha and the family Holm corrects over, when it was registered and what it follows,
and which verdicts become of record. `load` returns a `Study` or raises ConfigError naming the first key that
cannot work (an unknown model, dataset, claim or key, a size larger than the dataset, a job whose config the
schema refuses), so a bad file exits 2 and writes nothing. Jobs are composed with Hydra's compose API and
checked by `inductive.training.config.check`: the same checks `python -m inductive.run` makes.
"""

from __future__ import annotations

import datetime as dt
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from inductive.errors import ConfigError

KEYS = {"question", "claims", "registered", "follows", "replaces", "pools", "protocol", "grid", "alpha", "family",
        "record", "notes", "cost", "results"}
REQUIRED = ("question", "claims", "registered", "protocol", "grid")
GRID_KEYS = {"datasets", "models", "train_sizes", "seeds", "overrides", "skip", "set"}
FAMILIES = ("condition", "dataset")  # Holm across a claim's deciding effects per condition, or per dataset (all sizes)
MATCH_KEYS = ("dataset", "model", "train_size", "seed")


@dataclass(frozen=True)
class Job:
    """One training run of a study: a dataset, a model, a training-set size and a seed (plus fixed overrides)."""

    dataset: str
    model: str
    train_size: int | None
    seed: int
    overrides: tuple[str, ...] = ()  # key=value, from grid.overrides and grid.set

    @property
    def key(self) -> str:
        """A stable name: the kept folder and the run folder are named by it, never by a job number."""
        return f"{self.dataset}/n{self.train_size if self.train_size is not None else 'all'}_seed{self.seed}/{self.model}"

    @property
    def group(self) -> tuple[str, int | None, int]:
        """Jobs that differ only by model run as one Hydra sweep."""
        return self.dataset, self.train_size, self.seed


@dataclass(frozen=True)
class Record:
    """Which of a study's verdicts become the verdicts of record, once a dataset's grid is read whole."""

    claims: tuple[int, ...] = ()
    train_sizes: tuple[int | None, ...] | None = None  # None: at every size the study ran
    note: str = ""


@dataclass
class Study:
    name: str
    path: Path
    question: str
    claims: list[int]
    registered: str
    follows: list[str]
    protocol: str
    datasets: list[str]
    models: list[str]
    train_sizes: list[int | None]
    seeds: list[int]
    alpha: float
    family: str
    record: Record
    replaces: list[str]   # studies whose verdicts of record this one's replace, per dataset it has read
    pools: list[str]      # studies whose kept jobs are read with this one's (a second look reads the first's seeds)
    notes: dict[str, str]
    cost: dict[str, Any]
    results: str | None
    jobs: list[Job] = field(default_factory=list)

    def jobs_of(self, dataset: str) -> list[Job]:
        return [job for job in self.jobs if job.dataset == dataset]


def study_dir() -> Path:
    from inductive.training.config import config_dir

    return config_dir() / "study"


def study_names() -> list[str]:
    return sorted(p.stem for p in study_dir().glob("*.yaml"))


def find(name: str) -> Path:
    """configs/study/NAME.yaml, or NAME itself when it is a path to a YAML file."""
    as_path = Path(name)
    if as_path.suffix in (".yaml", ".yml") and as_path.is_file():
        return as_path
    candidate = study_dir() / f"{name}.yaml"
    if candidate.is_file():
        return candidate
    raise ConfigError(f"study {name!r} not found: give one of {study_names()} (configs/study/) or a path to a "
                      "study's .yaml file")


def render(value: Any) -> str:
    """A YAML value as Hydra's override grammar reads it: [4,8], 0.001, null, true, text."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value).replace(" ", "")
    return str(value)


def _list(raw: dict, key: str, where: str, kind: type | tuple[type, ...], allow_none: bool = False) -> list:
    value = raw.get(key)
    if not isinstance(value, list) or not value:
        raise ConfigError(f"{where}.{key}={value!r} is invalid: give a non-empty list")
    for item in value:
        ok = (item is None and allow_none) or (isinstance(item, kind) and not isinstance(item, bool))
        if not ok:
            raise ConfigError(f"{where}.{key}: {item!r} is invalid: each entry must be "
                              f"{'null or ' if allow_none else ''}{' or '.join(k.__name__ for k in (kind if isinstance(kind, tuple) else (kind,)))}")
    if len(set(map(str, value))) != len(value):
        raise ConfigError(f"{where}.{key}={value!r} repeats an entry: give each once")
    return value


def _unknown(keys: set, known: set, where: str) -> None:
    extra = sorted(map(str, keys - known))
    if extra:
        raise ConfigError(f"{where}: unknown key {extra[0]!r}: the keys are {', '.join(sorted(known))}")


def _cost(cost: Any, data_names: list[str], model_names: list[str]) -> dict[str, Any]:
    """`cost`: `estimate_s` (seconds per job, DATASET -> SIZE -> MODEL, what `plan` reads) and `pilot` (a pilot's
    raw timings, kept as written). A misspelt key or name would be ignored silently, so each is checked against the
    config folder (not the grid: a copy that narrows the grid keeps the estimates it no longer needs)."""
    takes = "cost takes estimate_s ({DATASET: {SIZE: {MODEL: seconds}}}, read by plan) and pilot (kept as written)"
    if not isinstance(cost, dict):
        raise ConfigError(f"cost={cost!r} is invalid: {takes}")
    for key in cost:
        if key not in ("estimate_s", "pilot"):
            raise ConfigError(f"cost.{key} is not a key: {takes}")
    levels = [("dataset", data_names), ("train_size", None), ("model", model_names)]

    def check(value: Any, where: str, depth: int) -> None:
        if depth == len(levels):
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < float("inf"):
                raise ConfigError(f"{where}={value!r} is invalid: give the job's estimated seconds (a number >= 0)")
            return
        name, valid = levels[depth]
        if not isinstance(value, dict):
            raise ConfigError(f"{where}={value!r} is invalid: give a mapping {name} -> ...")
        for key, inner in value.items():
            size = key is None or (isinstance(key, int) and not isinstance(key, bool) and key > 0)  # null: all images
            if (key not in valid) if valid is not None else not size:
                raise ConfigError(f"{where}.{key if valid else repr(key)} is not a {name}: use "
                                  + (f"one of {valid}" if valid else "an image count, unquoted, or null (all)"))
            check(inner, f"{where}.{key}", depth + 1)

    check({} if cost.get("estimate_s") is None else cost["estimate_s"], "cost.estimate_s", 0)
    return cost


def _matcher(raw: Any, where: str, options: dict[str, list]) -> dict[str, list]:
    """A `skip` or `set` entry's `where`: {dataset: .., model: .., train_size: .., seed: ..}, each a value or list."""
    if not isinstance(raw, dict) or not raw:
        raise ConfigError(f"{where}={raw!r} is invalid: give a mapping of {', '.join(MATCH_KEYS)} to a value or list")
    _unknown(set(raw), set(MATCH_KEYS), where)
    matcher = {}
    for key, value in raw.items():
        values = value if isinstance(value, list) else [value]
        bad = [v for v in values if v not in options[key]]
        if bad:
            raise ConfigError(f"{where}.{key}={bad[0]!r} is not in the grid: use one of {options[key]}")
        matcher[key] = values
    return matcher


def _matches(job: dict, matcher: dict[str, list]) -> bool:
    return all(job[key] in values for key, values in matcher.items())


def parse(raw: Any, name: str, path: Path) -> Study:
    """The file's mapping as a Study, every key checked but the jobs' composed configs (see `check_jobs`)."""
    from inductive.evidence.claims import REGISTRY
    from inductive.training.config import config_dir, model_names

    if not isinstance(raw, dict):
        raise ConfigError(f"{path}: a study file is a YAML mapping with the keys {', '.join(sorted(KEYS))}")
    _unknown(set(raw), KEYS, str(path))
    for key in REQUIRED:
        if raw.get(key) in (None, "", [], {}):
            raise ConfigError(f"{path}: {key} is missing: every study states {', '.join(REQUIRED)}")
    if not isinstance(raw["question"], str):
        raise ConfigError(f"question={raw['question']!r} is invalid: give the question in one sentence")
    claims = _list(raw, "claims", "study", int)
    known = {spec.number for spec in REGISTRY}
    for claim in claims:
        if claim not in known:
            raise ConfigError(f"claims: {claim} is not a registered claim: use some of {sorted(known)} "
                              "(python -m inductive.report --help lists them)")
    registered = raw["registered"]
    if isinstance(registered, str):
        try:
            registered = dt.date.fromisoformat(registered)
        except ValueError:
            pass
    if not isinstance(registered, dt.date):
        raise ConfigError(f"registered={raw['registered']!r} is invalid: give the date it was registered, YYYY-MM-DD")
    follows = raw.get("follows") or []
    follows = [follows] if isinstance(follows, str) else follows
    if not isinstance(follows, list) or not all(isinstance(f, str) for f in follows):
        raise ConfigError(f"follows={raw.get('follows')!r} is invalid: give a study or preset name, or a list of them")
    protocol = raw["protocol"]
    presets = sorted(p.stem for p in (config_dir() / "experiment").glob("*.yaml"))
    if protocol not in presets:
        raise ConfigError(f"protocol={protocol!r} is not a preset: use one of {presets} (configs/experiment/)")
    alpha = raw.get("alpha", 0.05)
    if not isinstance(alpha, float) or not 0 < alpha <= 0.2:
        raise ConfigError(f"alpha={alpha!r} is invalid: give a family-wise error between 0 and 0.2, e.g. 0.05")
    family = raw.get("family", "condition")
    if family not in FAMILIES:
        raise ConfigError(f"family={family!r} is invalid: use condition (Holm per claim and condition) or dataset "
                          "(Holm per claim and dataset, across its train sizes)")
    record = _record(raw.get("record"), claims)
    replaces, pools = _names(raw, "replaces"), _names(raw, "pools")

    grid = raw["grid"]
    if not isinstance(grid, dict):
        raise ConfigError(f"grid={grid!r} is invalid: give datasets, models, train_sizes and seeds")
    _unknown(set(grid), GRID_KEYS, "grid")
    datasets = _list(grid, "datasets", "grid", str)
    data_names = sorted(p.stem for p in (config_dir() / "data").glob("*.yaml"))
    for dataset in datasets:
        if dataset not in data_names:
            raise ConfigError(f"grid.datasets: {dataset!r} is not a dataset: use some of {data_names} (configs/data/)")
    models = _list(grid, "models", "grid", str)
    for model in models:
        if model not in model_names():
            raise ConfigError(f"grid.models: {model!r} is not a model: use some of {model_names()} (configs/model/)")
    sizes = _list(grid, "train_sizes", "grid", int, allow_none=True)
    for size in sizes:
        if size is not None and size <= 0:
            raise ConfigError(f"grid.train_sizes: {size} is invalid: give positive image counts, or null (all)")
    for dataset in datasets:
        total = read_yaml(config_dir() / "data" / f"{dataset}.yaml").get("train_images")
        too_big = [s for s in sizes if s is not None and total is not None and s >= total]
        if too_big:
            raise ConfigError(f"grid.train_sizes: {too_big[0]} is not below {dataset}'s {total:,} training images "
                              f"(configs/data/{dataset}.yaml train_images), from which the validation split is carved too")
    seeds = _list(grid, "seeds", "grid", int)
    if any(not 0 <= s < 2**32 for s in seeds):
        raise ConfigError(f"grid.seeds={seeds} is invalid: seeds are ints from 0 to 2**32 - 1")
    overrides = grid.get("overrides") or {}
    if not isinstance(overrides, dict):
        raise ConfigError(f"grid.overrides={overrides!r} is invalid: give a mapping of config keys to values")
    options = {"dataset": datasets, "model": models, "train_size": sizes, "seed": seeds}
    skips = [_matcher(s, f"grid.skip[{i}]", options) for i, s in enumerate(grid.get("skip") or [])]
    sets = []
    for i, entry in enumerate(grid.get("set") or []):
        if not isinstance(entry, dict) or set(entry) != {"where", "overrides"} or not isinstance(entry["overrides"], dict):
            raise ConfigError(f"grid.set[{i}]={entry!r} is invalid: give {{where: {{...}}, overrides: {{key: value}}}}")
        sets.append((_matcher(entry["where"], f"grid.set[{i}].where", options), entry["overrides"]))

    notes = raw.get("notes") or {}
    if not isinstance(notes, dict) or any(k not in datasets or not isinstance(v, str) for k, v in notes.items()):
        raise ConfigError(f"notes={notes!r} is invalid: map a dataset of the grid to a Markdown file")
    cost = _cost(raw.get("cost") or {}, data_names, model_names())
    results = raw.get("results")
    if results is not None and not isinstance(results, str):
        raise ConfigError(f"results={results!r} is invalid: give a folder (default results/studies/{name})")

    jobs = []
    for dataset, seed, size, model in itertools.product(datasets, seeds, sizes, models):
        where = {"dataset": dataset, "model": model, "train_size": size, "seed": seed}
        if any(_matches(where, skip) for skip in skips):
            continue
        fixed = dict(overrides)
        for matcher, extra in sets:
            if _matches(where, matcher):
                fixed |= extra
        jobs.append(Job(dataset, model, size, seed, tuple(f"{k}={render(v)}" for k, v in fixed.items())))
    if not jobs:
        raise ConfigError(f"{path}: grid.skip leaves no job")
    if record.train_sizes is not None and not set(record.train_sizes) <= set(sizes):
        raise ConfigError(f"record.train_sizes={list(record.train_sizes)} is invalid: use sizes of grid.train_sizes {sizes}")
    return Study(name, path, raw["question"].strip(), claims, registered.isoformat(), follows, protocol, datasets,
                 models, sizes, seeds, alpha, family, record, replaces, pools, notes, cost, results, jobs)


def _names(raw: dict, key: str) -> list[str]:
    value = raw.get(key) or []
    value = [value] if isinstance(value, str) else value
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ConfigError(f"{key}={raw.get(key)!r} is invalid: give a study name or a list of them")
    missing = [v for v in value if v not in study_names()] if key in ("replaces", "pools") else []
    if missing:
        raise ConfigError(f"{key}: {missing[0]!r} is not a study: use some of {study_names()} (configs/study/)")
    return value


def _record(raw: Any, claims: list[int]) -> Record:
    """`record: none`, or {claims: [...], train_sizes: [...], note: text}."""
    if raw in (None, "none"):
        return Record()
    if not isinstance(raw, dict) or not set(raw) <= {"claims", "train_sizes", "note"}:
        raise ConfigError(f"record={raw!r} is invalid: give none, or {{claims: [...], train_sizes: [...], note: ...}}")
    numbers = raw.get("claims") or []
    if not isinstance(numbers, list) or not set(numbers) <= set(claims):
        raise ConfigError(f"record.claims={numbers!r} is invalid: give some of the study's claims {claims}")
    sizes = raw.get("train_sizes")
    if sizes is not None and not isinstance(sizes, list):
        raise ConfigError(f"record.train_sizes={sizes!r} is invalid: give a list of the grid's train sizes")
    note = raw.get("note") or ""
    if not isinstance(note, str):
        raise ConfigError(f"record.note={note!r} is invalid: give a sentence")
    return Record(tuple(numbers), None if sizes is None else tuple(sizes), note.strip())


def job_overrides(study: Study, job: Job) -> list[str]:
    """What `python -m inductive.run` is given for this job (the sweep's own keys aside)."""
    size = render(job.train_size)
    return [f"+experiment={study.protocol}", f"data={job.dataset}", f"model={job.model}", f"seed={job.seed}",
            f"data.train_size={size}", *job.overrides]


def check_jobs(study: Study, extra: list[str] = ()) -> None:
    """Run every check `inductive.run` runs on one job per dataset x model x size x fixed overrides (its first seed).

    `config_folder.composed` merges the files of each dataset x model x fixed overrides once and sets the seed and
    size on a copy, as Hydra sets a value override."""
    from hydra.errors import HydraException
    from omegaconf.errors import OmegaConfBaseException

    from inductive.training.config import check
    from inductive.training.config_folder import composed

    seen = set()
    for job in study.jobs:
        if (job.dataset, job.model, job.overrides, job.train_size) in seen:
            continue
        seen.add((job.dataset, job.model, job.overrides, job.train_size))
        try:
            cfg = composed([*job_overrides(study, job), *extra])
        except (HydraException, OmegaConfBaseException) as err:
            raise ConfigError(f"{study.path}: job {job.key}: {str(err).splitlines()[0]}") from None
        try:
            check(cfg)
        except ConfigError as err:
            raise ConfigError(f"{study.path}: job {job.key}: {err}") from None


def shared_results(study: Study) -> None:
    """Refuse a study whose results folder another study file in configs/study/ uses too (a copied file that kept
    its `results:` line): their kept jobs share names, so each would take the other's for its own."""
    mine = Path(study.results or f"results/studies/{study.name}").resolve()
    for other in sorted(study_dir().glob("*.yaml")):
        if other.resolve() == study.path.resolve():
            continue
        try:
            raw = read_yaml(other)
        except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError):
            continue
        theirs = raw.get("results") if isinstance(raw, dict) else None
        if Path(theirs if isinstance(theirs, str) else f"results/studies/{other.stem}").resolve() == mine:
            raise ConfigError(f"{study.path}: results={study.results or mine} is where {other.stem} keeps its jobs "
                              f"too: give this study its own folder (delete its `results:` line to use "
                              f"results/studies/{study.name})")


def read_yaml(path: Path) -> Any:
    """A YAML file's values, parsed by libyaml where PyYAML has it: the same safe constructor as `yaml.safe_load`
    builds them (no tag runs code), ten times faster (a study check reads every study file)."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


def load(name: str) -> Study:
    """The study file `name` (configs/study/NAME.yaml, or a path), parsed and checked on its own; `check_jobs`
    then checks every job's config as `inductive.run` would."""
    path = find(name)
    try:
        raw = read_yaml(path)
    except (OSError, UnicodeDecodeError, yaml.YAMLError, ValueError) as err:  # ValueError: a date like 2026-13-45
        raise ConfigError(f"{path}: not a readable YAML file ({type(err).__name__}: {str(err).splitlines()[0]})") from None
    study = parse(raw, path.stem, path)
    shared_results(study)
    return study
