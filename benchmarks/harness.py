"""Benchmark harness: each measurement in a fresh spawned process pinned to one core (XLA
single-threaded, torch and OpenBLAS with one thread), load metering of the other cores, and the
machine description. Knows nothing about what is measured."""
from __future__ import annotations

import importlib.metadata
import multiprocessing as mp
import os
import platform
import time
import traceback
from pathlib import Path

CHILD_TIMEOUT_S = 900


# ----------------------------------------------------------------------------------------------
# Running one measurement in a fresh pinned process


def _child(conn, core: int, use_jax: bool, fn, args, kwargs) -> None:
    try:
        os.environ["OMP_NUM_THREADS"] = "1"
        os.environ["OPENBLAS_NUM_THREADS"] = "1"
        os.environ["MKL_NUM_THREADS"] = "1"
        if use_jax:
            from groklab.runtime import configure_process

            configure_process(core=core)  # before JAX is imported: single-threaded XLA, pinned
        elif hasattr(os, "sched_setaffinity"):
            os.sched_setaffinity(0, {core})
        conn.send(("ok", fn(*args, **kwargs)))
    except BaseException:  # noqa: BLE001  (reported to the parent)
        conn.send(("error", traceback.format_exc()))
    finally:
        conn.close()


def run_pinned(calls: list[tuple]) -> list:
    """Run each (fn, core, use_jax, args, kwargs) in its own spawned process, all at once; return
    their results in order. A failed child raises RuntimeError with its traceback."""
    ctx = mp.get_context("spawn")
    running = []
    for fn, core, use_jax, args, kwargs in calls:
        receive, send = ctx.Pipe(duplex=False)
        process = ctx.Process(target=_child, args=(send, core, use_jax, fn, args, kwargs), daemon=True)
        process.start()
        send.close()
        running.append((process, receive))
    results = []
    for process, receive in running:
        if not receive.poll(CHILD_TIMEOUT_S):
            process.terminate()
            raise RuntimeError(f"measurement {calls[len(results)][0].__name__} timed out")
        try:
            status, value = receive.recv()
        except EOFError:
            status, value = "error", f"child exited with code {process.exitcode} before reporting"
        process.join()
        if status != "ok":
            raise RuntimeError(f"measurement failed in its subprocess:\n{value}")
        results.append(value)
    return results


def run_one(fn, *args, core: int | None = None, use_jax: bool = True, retry: bool = True, **kwargs) -> dict:
    """One measurement in a fresh process pinned to `core` (default: the core idlest right now).

    On a shared machine other programs can take CPU time mid-measurement. When they took more
    than MAX_BACKGROUND_CORES during it, the measurement is run once more and the attempt with
    the lower background load is kept: chosen by load, never by its result."""
    attempts = []
    for attempt in range(2 if retry else 1):
        if attempt and retry_spent[0] >= RETRY_BUDGET_S:
            break
        started = time.perf_counter()
        chosen = idlest_core() if core is None else core
        meter = LoadMeter()
        result = run_pinned([(fn, chosen, use_jax, args, kwargs)])[0]
        load = meter.others([chosen])
        if attempt:
            retry_spent[0] += time.perf_counter() - started
        attempts.append((load, chosen, result))
        if not disturbed(load):
            break
    load, chosen, result = min(attempts, key=lambda a: background_load(a[0]))
    result.update(core=chosen, load=load, attempts=len(attempts), attempt_loads=[background_load(a[0]) for a in attempts])
    return result


MAX_BACKGROUND_CORES = 0.2
RETRY_BUDGET_S = 90.0  # at most this much time spent on repeats, so a busy machine cannot double the run
retry_spent = [0.0]


def background_load(load: dict | None) -> float:
    return load["other_cores"] if load else 0.0


def disturbed(load: dict | None) -> bool:
    return background_load(load) > MAX_BACKGROUND_CORES


def load_log(result: dict) -> str:
    loads = ", ".join(f"{x:.2f}" for x in result.get("attempt_loads", []))
    return f"  [core {result.get('core')}, background load {loads} cores]"


def _per_core_idle() -> dict[int, int]:
    idle = {}
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            fields = line.split()
            if fields[0].startswith("cpu") and fields[0] != "cpu":
                idle[int(fields[0][3:])] = int(fields[4]) + int(fields[5])
    except (OSError, ValueError, IndexError):
        pass
    return idle


def idlest_core(sample_seconds: float = 0.5) -> int:
    """The allowed core with the most idle time over a short sample. Other programs on a shared
    machine (their workers pinned to core 0, say) then disturb the single-core measurements least."""
    cores = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else [0]
    before = _per_core_idle()
    time.sleep(sample_seconds)
    after = _per_core_idle()
    if not before or not after:
        return cores[0]
    return max(cores, key=lambda c: (after.get(c, 0) - before.get(c, 0), -c))


# ----------------------------------------------------------------------------------------------
# Machine facts and background load


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def cache_sizes() -> str:
    sizes = []
    for index in sorted(Path("/sys/devices/system/cpu/cpu0/cache").glob("index*")):
        try:
            level, kind = (index / "level").read_text().strip(), (index / "type").read_text().strip()
            size = (index / "size").read_text().strip()
        except OSError:
            continue
        if kind != "Instruction":
            sizes.append(f"L{level} {size}")
    return ", ".join(sizes)


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for package in ("groklab", "jax", "jaxlib", "torch", "numpy"):
        try:
            out[package] = importlib.metadata.version(package)
        except importlib.metadata.PackageNotFoundError:
            out[package] = "not installed"
    return out


class LoadMeter:
    """CPU time other programs used while we measured, on given cores or the whole machine:
    /proc/stat busy time of those cores minus the CPU time of this process and its (joined)
    children. A measurement pinned to core c is disturbed only by what else ran on core c.
    Only informative: it is read, not controlled."""

    def __init__(self):
        self.start = self._snapshot()

    @staticmethod
    def _snapshot():
        per_cpu, steal = {}, 0
        try:
            for line in Path("/proc/stat").read_text().splitlines():
                name, *values = line.split()
                if not name.startswith("cpu"):
                    continue
                fields = [int(v) for v in values]
                idle = fields[3] + (fields[4] if len(fields) > 4 else 0)
                cpu_steal = fields[7] if len(fields) > 7 else 0
                busy = sum(fields[:8]) - idle - cpu_steal
                if name == "cpu":
                    steal = cpu_steal
                else:
                    per_cpu[int(name[3:])] = busy
        except (OSError, ValueError, IndexError):
            return None
        tick = os.sysconf("SC_CLK_TCK")
        t = os.times()
        mine = t.user + t.system + t.children_user + t.children_system
        return {"busy": {c: b / tick for c, b in per_cpu.items()}, "steal": steal / tick, "mine": mine,
                "wall": time.perf_counter()}

    def others(self, cores=None) -> dict | None:
        end = self._snapshot()
        if self.start is None or end is None:
            return None
        cores = sorted(end["busy"]) if cores is None else sorted(cores)
        wall = end["wall"] - self.start["wall"]
        busy = sum(end["busy"].get(c, 0.0) - self.start["busy"].get(c, 0.0) for c in cores)
        other = max(0.0, busy - (end["mine"] - self.start["mine"]))
        return {"other_cores": other / wall, "steal_cores": (end["steal"] - self.start["steal"]) / wall,
                "cores": len(cores), "which": cores, "wall": wall}


def load_note(load: dict | None) -> str:
    if not load:
        return "n/a"
    if load.get("which") is not None and load["cores"] == 1:
        return f"{load['other_cores']:.2f} of core {load['which'][0]}"
    return f"{load['other_cores']:.2f} of {load['cores']} cores"
