"""What every executor shares: the protocol, the options that choose and configure one, and the
import of an optional extra."""
from __future__ import annotations

from typing import Callable, Literal, Optional, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from groklab.errors import GroklabInputError
from groklab.plan import ChunkJob, Plan

# progress(trials_finished, trial_steps) is called as work happens, from the calling process.
Progress = Callable[[int, int], None]

# SLURM defaults, per array task (one chunk each): a chunk of <= 64 CPU trials takes minutes.
SLURM_TIME_MIN = 60  # wall-clock limit of one array task, minutes
SLURM_MEM_GB = 4.0  # memory of one array task, GB (one single-threaded JAX process)
SLURM_PARALLELISM = 64  # array tasks running at once (SLURM's %N throttle); also sizes chunks


class Executor(Protocol):
    name: str
    # True: run() returns once every chunk is committed, and its workers commit under the writer lock
    # the caller holds throughout. False: tasks lock the store for their own commit, so the caller
    # must not hold the lock while they run (SLURM).
    holds_lock: bool

    @property
    def workers(self) -> int:
        """Chunks that run at once (sizes the default chunk: about four per worker)."""

    def run_keys(self, plan: Plan) -> dict[str, str]:
        """config hash -> the run key the workers' rows will carry (their backend and device)."""

    def run(self, jobs: list[ChunkJob], store, progress: Progress | None = None) -> bool:
        """Run `jobs`; each finished chunk is committed to `store` by the process that trained it.
        True when every chunk is committed on return; False when they were submitted to run later."""


SLURM_ONLY = ("slurm_partition", "slurm_time_min", "slurm_mem_gb", "slurm_parallelism", "slurm_cluster", "wait")


class ExecutorOptions(BaseModel):
    """How to run a plan's chunks: the command line's executor options, validated before any work."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    executor: Literal["local", "ray", "slurm"] = "local"
    workers: Optional[int] = Field(None, ge=0, description="local: worker processes (0 = in-process); "
                                                           "ray: CPUs of a local Ray instance")
    ray_address: Optional[str] = Field(None, min_length=1, description="an existing Ray cluster ('auto' or host:port); "
                                                                       "None starts a local instance")
    slurm_partition: Optional[str] = Field(None, min_length=1)
    slurm_time_min: int = Field(SLURM_TIME_MIN, gt=0, le=60 * 24 * 30)
    slurm_mem_gb: float = Field(SLURM_MEM_GB, gt=0, le=4096)
    slurm_parallelism: int = Field(SLURM_PARALLELISM, gt=0, le=100_000)
    # "local": submitit's local executor, the same job-array code path on this machine (tests, trying it out)
    slurm_cluster: Literal["slurm", "local"] = "slurm"
    wait: bool = Field(True, description="slurm: wait for the array and show progress; False submits and returns")

    @model_validator(mode="after")
    def _options_match_the_executor(self) -> "ExecutorOptions":
        if self.ray_address is not None and self.executor != "ray":
            raise ValueError(f"ray_address: only with executor 'ray' (executor is {self.executor!r})")
        if self.executor != "slurm":
            for name in SLURM_ONLY:
                if getattr(self, name) != type(self).model_fields[name].default:
                    raise ValueError(f"{name}: only with executor 'slurm' (executor is {self.executor!r})")
        if self.ray_address is not None and self.workers is not None:
            raise ValueError("workers: not with ray_address (the cluster's CPUs are its workers)")
        if self.executor == "slurm" and self.workers is not None:
            raise ValueError("workers: not with executor 'slurm' (use slurm_parallelism)")
        return self


def executor_options(**fields) -> ExecutorOptions:
    """ExecutorOptions from plain values, failing with one line naming the field."""
    from pydantic import ValidationError

    try:
        return ExecutorOptions(**fields)
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "executor"
        message = first["msg"].removeprefix("Value error, ")
        raise GroklabInputError(f"{where}: {message}" if first["loc"] else message) from None


def require_extra(module: str, extra: str):
    """Import an optional dependency, or fail with one line naming the extra that provides it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise GroklabInputError(f"executor: the {extra!r} executor needs {module}: "
                                f"pip install 'groklab[{extra}]'") from None
