"""Executors: Ray (a local cluster started here) and SLURM (submitit's local executor, the same
job-array code path) give exactly the local executor's trials, survive a killed worker, resume, and
reject bad options in one line."""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from groklab import GroklabInputError
from groklab.plan import ChunkJob, load_sweep
from groklab.store import Store
from groklab.store.verify import verify_store

# 2 configs x 16 trials in chunks of 8: one config's trials stop at convergence (~100 steps), the
# other's train all 6,000 steps (most of a second per chunk), so chunks finish at different times.
TRIALS = 2 * 16
SWEEP = ("trials = 16\nchunk_size = 8\n[task]\nname = 'parity'\nn = 12\nk = 2\n[model]\nname = 'mlp'\n"
         "[train]\nmax_steps = 6000\nstop_on_convergence = [true, false]\n")
# Columns that say when and where a chunk ran, not what its trials computed.
RUN_COLUMNS = {"chunk_id", "chunk_trials", "chunk_wall_seconds", "created_at"}


# The test cluster runs without Ray's token authentication (a cluster of this test's processes only).
RAY_ENV = {"RAY_AUTH_MODE": "disabled", "RAY_USAGE_STATS_ENABLED": "0"}


def groklab(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "groklab.cli", *args], capture_output=True, text=True, check=check,
                          env={**os.environ, **RAY_ENV})


def trial_rows(store: Path) -> list[tuple]:
    """Every committed trial row, without the run-specific columns, sorted."""
    rows = []
    for path in Store(store).trial_files():
        table = pq.read_table(path)
        table = table.select([c for c in table.column_names if c not in RUN_COLUMNS])
        rows += [tuple(sorted((k, json.dumps(v, sort_keys=True, default=str)) for k, v in row.items()))
                 for row in table.to_pylist()]
    return sorted(rows)


def curve_rows(store: Path) -> list[tuple]:
    sql = "SELECT * EXCLUDE (chunk_id, chunk_file) FROM curves ORDER BY config_hash, trial_index, step"
    return [tuple(map(str, row)) for row in Store(store).connect().sql(sql).fetchall()]


def trial_keys(store: Path) -> list[tuple]:
    keys = []
    for path in Store(store).trial_files():
        table = pq.read_table(path, columns=["config_hash", "seed", "trial_index"])
        keys += list(zip(*(table.column(c).to_pylist() for c in table.column_names)))
    return keys


@pytest.fixture(scope="module")
def sweep_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sweep") / "sweep.toml"
    path.write_text(SWEEP)
    return path


@pytest.fixture(scope="module")
def local_store(sweep_file) -> Path:
    from groklab.runner import execute_plan

    store = sweep_file.parent / "local"
    plan, chunk_size = load_sweep(sweep_file)
    execute_plan(plan, Store(store), workers=0, chunk_size=chunk_size, quiet=True)  # in this process
    return store


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_cluster():
    """A local Ray cluster of two worker CPUs, as `ray start` makes one; yields its address. Its
    processes share one session, which the teardown kills at once."""
    pytest.importorskip("ray")
    port = _free_port()
    head = subprocess.Popen([str(Path(sys.executable).with_name("ray")), "start", "--head", "--block", f"--port={port}",
                             "--num-cpus=2", "--include-dashboard=false", "--disable-usage-stats"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
                            env={**os.environ, **RAY_ENV})
    try:
        yield f"127.0.0.1:{port}"
    finally:
        os.killpg(head.pid, signal.SIGKILL)
        head.wait()


def _processes_titled(prefix: str) -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "cmdline").read_bytes().startswith(prefix.encode()):
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def test_ray_with_a_killed_worker_gives_the_local_executors_trials_once(ray_cluster, sweep_file, local_store,
                                                                       tmp_path):
    """On a two-CPU Ray cluster, one worker process is killed while it trains a chunk: Ray re-runs
    the task and the sweep still ends with every trial exactly once, bit-identical to local."""
    store = tmp_path / "ray-killed"
    command = [sys.executable, "-m", "groklab.cli", "sweep", str(sweep_file), "--store", str(store),
               "--executor", "ray", "--ray-address", ray_cluster]
    sweep = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                             env={**os.environ, **RAY_ENV})
    killed = None
    deadline = time.time() + 120
    while killed is None and time.time() < deadline and sweep.poll() is None:
        busy = _processes_titled("ray::run_chunk_job")  # a Ray worker while it trains a chunk
        if busy:
            os.kill(busy[0], signal.SIGKILL)
            killed = busy[0]
        time.sleep(0.005)
    out, err = sweep.communicate(timeout=240)
    assert killed is not None, "no Ray worker was caught training"
    assert sweep.returncode == 0, err
    keys = trial_keys(store)
    assert len(keys) == len(set(keys)) == TRIALS  # every trial exactly once, after Ray re-ran the lost task
    assert verify_store(store).ok
    assert trial_rows(store) == trial_rows(local_store)
    assert curve_rows(store) == curve_rows(local_store)
    assert f"ran {TRIALS}" in " ".join(out.split()) and "executor ray" in " ".join(out.split())


def test_slurm_array_through_submitit_matches_local_and_resumes(sweep_file, local_store, tmp_path):
    pytest.importorskip("submitit")
    store = tmp_path / "slurm"
    # Output to a file, not a pipe: submitit's local tasks inherit it and would hold a pipe open.
    with open(tmp_path / "submit.log", "w+") as log:
        subprocess.run([sys.executable, "-m", "groklab.cli", "sweep", str(sweep_file), "--store", str(store),
                        "--executor", "slurm", "--slurm-cluster", "local", "--no-wait", "--chunk-size", "16"],
                       stdout=log, stderr=subprocess.STDOUT, check=True)
        log.seek(0)
        assert f"submitted {TRIALS}" in " ".join(log.read().split())
    # The submitting command has exited; the array's tasks commit on their own. Kill every task
    # once the first chunk is in, as a cluster might (pre-emption, a dead node).
    deadline = time.time() + 120
    while time.time() < deadline and not Store(store).trial_files():
        time.sleep(0.01)
    for pid in _processes_titled(sys.executable):
        if str(store) in Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace"):
            os.kill(pid, signal.SIGKILL)
    time.sleep(0.5)
    status = json.loads(groklab("status", "--store", str(store), "--json").stdout)
    # two array tasks: one chunk whose trials stop early, and one that trains 6,000 steps
    assert status["slurm_arrays"][0]["chunks"] == 2 and status["slurm_arrays"][0]["cluster"] == "local"
    done = status["plans"][0]["done"]
    assert 8 <= done < TRIALS and status["plans"][0]["expected"] == TRIALS
    from groklab.report import build_report

    page = build_report(store).read_text()  # the report names the array the missing trials were submitted in
    assert f"{TRIALS - done} of {TRIALS} planned trials missing" in page
    assert f"SLURM job array {status['slurm_arrays'][0]['array']} was submitted" in page
    committed = {p: p.stat().st_mtime_ns for p in Store(store).trial_files()}
    resumed = tmp_path / "from-file" / sweep_file.name  # same experiment name; executor from its [executor] table
    resumed.parent.mkdir()
    resumed.write_text(sweep_file.read_text() + "[executor]\nexecutor = 'slurm'\nslurm_cluster = 'local'\n")
    again = groklab("sweep", str(resumed), "--store", str(store), "--chunk-size", "16")
    assert f"ran {TRIALS - done}, already done {done}" in " ".join(again.stdout.split())
    assert all(p.stat().st_mtime_ns == m for p, m in committed.items())  # finished chunks untouched
    keys = trial_keys(store)
    assert len(keys) == len(set(keys)) == TRIALS
    assert verify_store(store).ok
    assert trial_rows(store) == trial_rows(local_store)


def test_an_array_task_drops_trials_another_writer_committed(sweep_file, tmp_path):
    """SLURM tasks lock each commit: a retried or overlapping chunk adds only trials not yet in."""
    from groklab.executors.chunk_task import run_chunk_job

    plan, _ = load_sweep(sweep_file)
    config = plan.configs[0]
    store = tmp_path / "overlap"
    assert run_chunk_job(str(store), ChunkJob("overlap", config, 0, tuple(range(0, 8))), own_lock=True)[0] == 8
    assert run_chunk_job(str(store), ChunkJob("overlap", config, 0, tuple(range(4, 12))), own_lock=True)[0] == 8
    assert run_chunk_job(str(store), ChunkJob("overlap", config, 0, tuple(range(0, 8))), own_lock=True) == (8, 0)
    keys = trial_keys(store)
    assert sorted(i for _, _, i in keys) == list(range(12))  # 4..7 once, not twice
    assert len(Store(store).trial_files()) == 2  # the repeat trained nothing and wrote nothing
    assert verify_store(store).ok


@pytest.mark.parametrize("fields, field", [
    ({"executor": "dask"}, "executor"),
    ({"ray_address": "127.0.0.1:1"}, "ray_address"),
    ({"slurm_partition": "gpu"}, "slurm_partition"),
    ({"executor": "slurm", "workers": 2}, "workers"),
    ({"executor": "slurm", "slurm_time_min": 0}, "slurm_time_min"),
    ({"wait": False}, "wait"),
    ({"workers": -1}, "workers"),
    ({"executor": "ray", "ray_address": "auto", "workers": 2}, "workers"),
])
def test_bad_executor_options_fail_in_one_line(fields, field):
    from groklab.executors import executor_options

    with pytest.raises(GroklabInputError, match=f"^{field}: ") as err:
        executor_options(**fields)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("flags, table, message", [
    (["--slurm-partition", "gpu"], "", "error: slurm_partition: only with executor 'slurm'"),
    (["--no-wait"], "", "error: wait: only with executor 'slurm'"),
    ([], "[executor]\nexecutor = 'dask'\n", "error: executor.executor: Input should be 'local', 'ray' or 'slurm'"),
    ([], "[executor]\nexecutor = 'slurm'\nslurm_mem_gb = -1\n", "error: executor.slurm_mem_gb: "),
    # a flag overrides the file: --executor local wins over the table's slurm, so its partition is refused
    (["--executor", "local"], "[executor]\nexecutor = 'slurm'\nslurm_partition = 'cpu'\n",
     "error: executor.slurm_partition: only with executor 'slurm' (executor is 'local')"),
])
def test_a_bad_executor_option_stops_the_cli_before_any_work(flags, table, message, sweep_file, tmp_path, cli):
    sweep = tmp_path / "sweep.toml"
    sweep.write_text(sweep_file.read_text() + table)
    store = tmp_path / "untouched"
    code, _, err = cli(["sweep", str(sweep), "--store", str(store), *flags])
    assert code == 2 and err.startswith(message), err
    assert len(err.strip().splitlines()) == 1 and not store.exists()


def test_slurm_without_sbatch_says_so_before_any_work():
    from groklab.executors import executor_options, make_executor

    if shutil.which("sbatch"):
        pytest.skip("this machine has SLURM")
    with pytest.raises(GroklabInputError, match=r"^executor: 'slurm' needs SLURM's sbatch"):
        make_executor(executor_options(executor="slurm"))


def test_a_missing_extra_names_what_to_install():
    from groklab.executors import require_extra

    with pytest.raises(GroklabInputError, match=r"pip install 'groklab\[ray\]'"):
        require_extra("groklab_no_such_module", "ray")


def test_every_run_command_takes_the_executor_options():
    import typer.main

    from groklab.cli import checks, data  # noqa: F401  (register their commands)
    from groklab.cli.app import app
    from groklab.cli.recipes import add_recipe_commands

    add_recipe_commands()
    group = typer.main.get_group(app)
    commands = [group.commands["sweep"], group.commands["check"], *group.commands["run"].commands.values()]
    assert len(commands) > 10
    for command in commands:
        flags = {flag for param in command.params for flag in param.opts}
        assert {"--executor", "--ray-address", "--slurm-partition", "--slurm-time"} <= flags, command.name
    assert "--no-wait" in {flag for param in group.commands["sweep"].params for flag in param.opts}
