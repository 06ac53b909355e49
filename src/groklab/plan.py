"""Plans: grid points x trials -> chunks of equal shape, minus what the store already holds.

Chunks are formed from the trials still missing, so a re-run of a finished plan does no work and a
killed one resumes with every trial exactly once, whatever chunk size either run used. A trial is
missing unless the store holds it under the current run key (store.provenance): a change of lanes,
backend or component version re-runs it.
"""
from __future__ import annotations

import itertools
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomllib

from groklab.config import make_config
from groklab.errors import GroklabInputError
from groklab.specs import MAX_SEED, TrialConfig

SECTIONS = ("task", "model", "loss", "optimizer", "train", "probes")
MAX_TRIALS = 2**31 - 1  # trial indices are folded into PRNG keys as uint32
TOP_LEVEL = {"name", "version", "seed", "trials", "chunk_size", "executor", *SECTIONS}


@dataclass(frozen=True)
class ChunkJob:
    experiment: str
    config: TrialConfig
    seed: int
    trial_indices: tuple[int, ...]
    experiment_version: str | None = None  # as a sweep file declares it (registered experiments: the registry's)


@dataclass(frozen=True)
class Plan:
    experiment: str
    configs: tuple[TrialConfig, ...]
    seed: int
    trials: int  # per config: trial indices 0..trials-1
    version: str | None = None  # the experiment's version, as a sweep file declares it

    def run_keys(self) -> dict[str, str]:
        """config hash -> the run key its trials get in this process."""
        from groklab.store.provenance import current_run_key

        return {config.config_hash(): current_run_key(config) for config in self.configs}

    def jobs(self, store, chunk_size: int, run_keys: dict[str, str] | None = None) -> list[ChunkJob]:
        """Chunks of the trials missing from `store` under their run key, interleaved across configs
        so that parallel workers start on different configs (each compiles its own; later chunks hit
        the cache)."""
        run_keys = run_keys if run_keys is not None else self.run_keys()
        per_config = []
        for config in self.configs:
            done = store.done_trials(config.config_hash(), self.seed, run_keys[config.config_hash()])
            missing = [i for i in range(self.trials) if i not in done]
            per_config.append([ChunkJob(self.experiment, config, self.seed, tuple(missing[start:start + chunk_size]),
                                        self.version)
                               for start in range(0, len(missing), chunk_size)])
        interleaved = itertools.zip_longest(*reversed(per_config))  # last configs (often the slowest) first
        return [job for round_ in interleaved for job in round_ if job is not None]


def expand_grid(sections: dict[str, dict[str, Any]]) -> list[dict[str, dict[str, Any]]]:
    """Every list-valued field is a grid axis; the result is the Cartesian product of all axes."""
    axes = [(section, key, values) for section, fields in sections.items()
            for key, values in fields.items() if isinstance(values, list)]
    for section, key, values in axes:
        if not values:
            raise GroklabInputError(f"{section}.{key}: empty list (a grid axis needs at least one value)")
    points = []
    for combo in itertools.product(*(values for _, _, values in axes)):
        point = {section: dict(fields) for section, fields in sections.items()}
        for (section, key, _), value in zip(axes, combo):
            point[section][key] = value
        points.append(point)
    return points


def _positive_int(value: Any, field: str) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value <= 0:
        raise GroklabInputError(f"{field}: must be a positive integer (got {value!r})")
    return value


def load_sweep(path: str | Path) -> tuple[Plan, int | None]:
    """Parse and fully validate a sweep file; returns (plan, chunk_size or None)."""
    path = Path(path)
    try:
        raw = tomllib.loads(path.read_text())
    except FileNotFoundError:
        raise GroklabInputError(f"sweep file: {path} not found") from None
    except tomllib.TOMLDecodeError as err:
        raise GroklabInputError(f"sweep file: {path} is not valid TOML ({err})") from None
    unknown = sorted(set(raw) - TOP_LEVEL)
    if unknown:
        raise GroklabInputError(f"sweep file: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(TOP_LEVEL))})")
    for section in (*SECTIONS, "executor"):
        if section in raw and not isinstance(raw[section], dict):
            raise GroklabInputError(f"{section}: must be a table ([{section}])")
    if "task" not in raw or "model" not in raw:
        raise GroklabInputError("sweep file: needs a [task] and a [model] table")
    seed = raw.get("seed", 0)
    if not isinstance(seed, int) or isinstance(seed, bool) or not 0 <= seed <= MAX_SEED:
        raise GroklabInputError(f"seed: must be an integer in [0, {MAX_SEED}] (got {seed!r})")
    trials = _positive_int(raw.get("trials", 1), "trials")
    if trials > MAX_TRIALS:
        raise GroklabInputError(f"trials: at most {MAX_TRIALS} per config (got {trials})")
    chunk_size = _positive_int(raw["chunk_size"], "chunk_size") if "chunk_size" in raw else None
    sections = {s: raw[s] for s in SECTIONS if s in raw}
    configs = tuple(make_config(**point) for point in expand_grid(sections))
    name = raw.get("name", path.stem)
    version = raw.get("version")
    if version is not None and (not isinstance(version, (str, int)) or isinstance(version, bool) or version == ""):
        raise GroklabInputError(f"version: must be a non-empty string or an integer (got {version!r})")
    return Plan(experiment=str(name), configs=configs, seed=seed, trials=trials,
                version=None if version is None else str(version)), chunk_size


def sweep_executor(path: str | Path) -> dict | None:
    """The sweep file's [executor] table (fields of executors.ExecutorOptions), if it has one; the
    caller validates it (load_sweep has checked that the file parses and the table is a table)."""
    return tomllib.loads(Path(path).read_text()).get("executor")
