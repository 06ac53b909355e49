"""What every result row records about how it was made, and the run key resuming is keyed on.

A trial is identified by (config hash, seed, trial index). Its numbers are bit-identical only
between runs that also share the group size (lanes), the backend and device kind, and the code
of groklab, of its components and of JAX/XLA: together with the config hash these make the
`run_key`. A
finished trial counts as done for a re-run only under the same run key, so changing `train.lanes`,
moving from a CPU to a GPU, or bumping a component's version re-runs the trials instead of mixing
results that are not bit-identical into one sweep.
"""
from __future__ import annotations

import hashlib
import json
import platform
import socket
import subprocess
from functools import lru_cache
from importlib import metadata
from pathlib import Path

from groklab import registry
from groklab._version import __version__
from groklab.specs import probe_name

DEFAULT_EXPERIMENT_VERSION = "1"


@lru_cache(maxsize=1)
def environment_versions() -> dict[str, str]:
    versions = {"groklab_version": __version__, "python_version": platform.python_version()}
    for package in ("jax", "jaxlib", "optax", "numpy"):
        try:
            versions[f"{package}_version"] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[f"{package}_version"] = "unknown"
    try:
        root = Path(__file__).resolve().parents[3]
        versions["git_commit"] = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                                                capture_output=True, text=True, timeout=5).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        versions["git_commit"] = ""
    versions["hostname"] = socket.gethostname()
    return versions


def component_versions(config) -> dict[str, str]:
    return {
        "task_version": registry.tasks.get(config.task.name).version,
        "model_version": registry.models.get(config.model.name).version,
        "loss_version": registry.losses.get(config.loss.name).version,
        "optimizer_version": registry.optimizers.get(config.optimizer.name).version,
    }


def probe_versions(probes) -> str:
    """The version of each probe, as one JSON object (a stable column whatever the probes):
    query with e.g. `probe_versions->>'hidden-progress'`."""
    names = [probe_name(entry) for entry in probes]
    return json.dumps({name: registry.probes.get(name).version for name in names}, sort_keys=True)


def experiment_version(name: str, declared: str | None = None) -> str:
    """A registered experiment's version; else what a sweep file declares (`version = ...`); else "1"."""
    if name in registry.experiments:
        return registry.experiments.get(name).version
    return DEFAULT_EXPERIMENT_VERSION if declared is None else str(declared)


def run_key(config, lanes: int, backend: str, device_kind: str) -> str:
    """Hash of everything a trial's numbers depend on besides its spec, seed and index."""
    fields = {"config_hash": config.config_hash(), "lanes": int(lanes), "backend": backend,
              "device_kind": device_kind, "groklab_version": __version__, **component_versions(config),
              # An XLA upgrade can change a float's last bits: a new jax/jaxlib re-runs, not mixes.
              "jax_version": environment_versions()["jax_version"],
              "jaxlib_version": environment_versions()["jaxlib_version"],
              "probe_versions": probe_versions(config.probes)}
    blob = json.dumps(fields, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def device() -> tuple[str, str]:
    """(backend, device kind) of this process, e.g. ("cpu", "cpu") or ("gpu", "NVIDIA H200")."""
    import jax

    return jax.default_backend(), jax.devices()[0].device_kind


def current_run_key(config) -> str:
    """The run key `config` would be trained under in this process (lanes as the engine resolves
    them here): what resuming compares the stored rows against."""
    from groklab.engine.train import resolve_lanes

    return run_key(config, resolve_lanes(config), *device())
