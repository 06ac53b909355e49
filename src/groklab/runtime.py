"""Process set-up for numerics: call before JAX is imported (CLI entry, workers, tests, benchmarks).

CPU rule (design.md): one process per core, XLA single-threaded and pinned, so N workers give N
times the throughput and results do not depend on how many threads a matmul was split over.
"""
from __future__ import annotations

import os
from pathlib import Path

SINGLE_THREAD_XLA_FLAGS = "--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
CACHE_DIR = Path(os.environ.get("GROKLAB_CACHE_DIR", Path.home() / ".cache" / "groklab"))


def configure_process(core: int | None = None) -> None:
    """Single-threaded XLA on CPU, optional pinning to one core, and a persistent compile cache."""
    flags = os.environ.get("XLA_FLAGS", "")
    if "xla_cpu_multi_thread_eigen" not in flags:
        os.environ["XLA_FLAGS"] = f"{flags} {SINGLE_THREAD_XLA_FLAGS}".strip()
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    # On a GPU, XLA would reserve 75% of its memory in every process that touches it, the planning
    # parent included (it only evaluates shapes): allocate on demand instead.
    os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")
    if core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {core})
    import jax

    # Compiling a scan block takes about a second; caching it makes later processes start fast.
    jax.config.update("jax_compilation_cache_dir", str(CACHE_DIR / "jax"))
    jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.5)
