"""The CLI, sweep files and the results store, through real (small) runs."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from groklab import GroklabInputError
from groklab.plan import expand_grid, load_sweep
from groklab.store import Store

SMALL_PARITY = ["run", "parity", "--n", "12", "--k", "2", "--trials", "5", "--max-steps", "3000"]


def snapshot(root: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime_ns for p in root.rglob("*")} if root.exists() else {}


@pytest.fixture(scope="module")
def small_store(tmp_path_factory) -> Path:
    store = tmp_path_factory.mktemp("store")
    code = subprocess.run([sys.executable, "-m", "groklab.cli", *SMALL_PARITY, "--workers", "0",
                           "--store", str(store), "--json"], capture_output=True, text=True).returncode
    assert code == 0
    return store


@pytest.mark.parametrize("args, field", [
    (["run", "parity", "--n", "5", "--k", "6"], "task"),
    (["run", "parity", "--k", "0"], "parity.k"),
    (["run", "parity", "--width", "-3"], "parity.width"),
    (["run", "parity", "--lr", "0"], "parity.lr"),
    (["run", "parity", "--lr", "-0.1"], "parity.lr"),
    (["run", "parity", "--loss", "nonsense"], "parity.loss"),
    (["run", "parity", "--optimizer", "sgdd"], "parity.optimizer"),
    (["run", "parity", "--init", "zeros"], "parity.init"),
    (["run", "parity", "--max-steps", "250"], "train"),
    (["run", "parity", "--trials", "0"], "trials"),
    (["run", "parity-scaling", "--ns", "20,x"], "ns"),
    (["run", "modular-addition", "--p", "21"], "task.p"),
])
def test_bad_input_is_one_line_naming_the_field_and_leaves_the_store_untouched(args, field, small_store, cli):
    before = snapshot(small_store)
    code, out, err = cli([*args, "--store", str(small_store)])
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("error: ") and field in lines[0]
    assert "Traceback" not in err
    assert snapshot(small_store) == before


def test_bad_input_does_not_create_a_missing_store(tmp_path, cli):
    code, _, _ = cli(["run", "parity", "--k", "0", "--store", str(tmp_path / "new")])
    assert code == 2 and not (tmp_path / "new").exists()


@pytest.mark.parametrize("text, field", [
    ("[task\nname='parity'", "not valid TOML"),
    ("trials = 2\n[task]\nname='parity'\n[model]\nname='mlp'\nwidth=-1", "model.width"),
    ("[task]\nname='parity'\nn=[]\n[model]\nname='mlp'", "task.n"),
    ("bogus = 1\n[task]\nname='parity'\n[model]\nname='mlp'", "bogus"),
    ("[task]\nname='parity'\n[model]\nname='mlp'\n[optimizer]\nname='sgd'\nlr=[0.1, -1.0]", "optimizer.lr"),
    ("[task]\nname='no-such-task'\n[model]\nname='mlp'", "task.name"),
    ("[model]\nname='mlp'", "[task]"),
])
def test_malformed_sweep_file(text, field, tmp_path, cli):
    sweep = tmp_path / "bad.toml"
    sweep.write_text(text)
    code, _, err = cli(["sweep", str(sweep), "--store", str(tmp_path / "s")])
    assert code == 2 and len(err.strip().splitlines()) == 1 and field in err, err
    assert not (tmp_path / "s").exists()


def test_grid_expansion_is_the_cartesian_product(tmp_path):
    grid = expand_grid({"task": {"name": "parity", "n": [10, 20, 30], "k": 2}, "optimizer": {"lr": [0.1, 0.01]}})
    assert len(grid) == 6
    assert {(g["task"]["n"], g["optimizer"]["lr"]) for g in grid} == {(n, lr) for n in (10, 20, 30) for lr in (0.1, 0.01)}
    plan, chunk = load_sweep(Path(__file__).parents[1] / "examples" / "parity-lr.toml")
    assert len(plan.configs) == 4 and plan.trials == 16 and chunk is None
    assert len({c.config_hash() for c in plan.configs}) == 4


def test_run_json_query_and_plot(small_store, tmp_path, cli):
    code, out, _ = cli([*SMALL_PARITY, "--workers", "0", "--store", str(small_store), "--json"])
    assert code == 0
    summary = json.loads(out)
    for key in ("trials", "solved", "median_convergence_step", "convergence_steps", "trial_steps_per_second"):
        assert key in summary
    assert summary["trials"] == 5 and summary["trials_run_now"] == 0  # already in the store: no work
    assert summary["solved"] == sum(s is not None for s in summary["convergence_steps"]) >= 4
    plateau = [a for a in summary["plateau_accuracy_per_trial"] if a is not None]  # claim 1: each converged seed
    plateau_ok = bool(plateau) and max(plateau) <= 0.55
    assert summary["verdict"] == ("PASS" if summary["solved"] >= 4 and plateau_ok else "FAIL")
    code, out, _ = cli(["query", "--store", str(small_store), "--format", "json",
                            "SELECT count(*) AS n, count(DISTINCT trial_index) AS distinct_trials, "
                            "min(jax_version) AS jax, min(task_version) AS tv FROM trials"])
    row = json.loads(out)[0]
    assert row["n"] == row["distinct_trials"] == 5 and row["jax"] and row["tv"] == "1"
    code, out, _ = cli(["query", "--store", str(small_store), "--format", "csv",
                            "SELECT trial_index, max(step) AS last FROM curves GROUP BY 1 ORDER BY 1"])
    assert out.splitlines()[0].replace('"', "") == "trial_index,last" and len(out.splitlines()) == 6
    code, _, err = cli(["query", "--store", str(small_store), "SELECT nope FROM trials"])
    assert code == 2 and err.startswith("error: sql:")
    for kind in ("curves", "histogram"):
        png = tmp_path / f"{kind}.png"
        code, _, _ = cli(["plot", kind, "--store", str(small_store), "--out", str(png)])
        assert code == 0 and png.stat().st_size > 5000


@pytest.mark.slow  # the default suite covers it: workers 1 vs 0 (killed sweep), 2 Ray workers vs 0 (test_executors)
def test_one_and_two_workers_give_identical_trials(tmp_path):
    steps = {}
    for workers in (1, 2):
        out = subprocess.run([sys.executable, "-m", "groklab.cli", "run", "parity", "--n", "20", "--k", "3",
                              "--trials", "40", "--chunk-size", "16", "--workers", str(workers),
                              "--store", str(tmp_path / f"w{workers}"), "--json"],
                             capture_output=True, text=True, check=True).stdout
        steps[workers] = json.loads(out)["convergence_steps"]
    assert steps[1] == steps[2]
    assert sum(s is not None for s in steps[1]) >= 36


def _trial_rows(store: Path) -> list[tuple]:
    rows = []
    for path in Store(store).trial_files():
        table = pq.read_table(path, columns=["config_hash", "seed", "trial_index", "convergence_step"])
        rows += list(zip(*(table.column(c).to_pylist() for c in table.column_names)))
    return rows


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
        return True
    except ProcessLookupError:
        return False


def test_killed_sweep_resumes_without_recomputing_or_losing_trials(tmp_path):
    sweep = tmp_path / "sweep.toml"
    # 4 chunks of a few tenths of a second each: the poll below kills within a few ms of the second
    sweep.write_text("trials = 32\nchunk_size = 16\n[task]\nname = 'parity'\nn = [20, 24]\nk = 3\n"
                     "[model]\nname = 'mlp'\n[train]\nmax_steps = 20000\n")
    store = tmp_path / "store"
    command = [sys.executable, "-m", "groklab.cli", "sweep", str(sweep), "--store", str(store), "--workers", "1"]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 240
    while time.time() < deadline and len(Store(store).trial_files()) < 2:
        time.sleep(0.005)
    # Kill the parent alone (it holds the store's lock): its workers must die with it rather than
    # keep committing chunks that nobody holds the lock for.
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    time.sleep(0.5)
    committed = {p: p.stat().st_mtime_ns for p in Store(store).trial_files()}
    time.sleep(1.5)  # several chunk times: a surviving worker would have committed again
    assert {p: p.stat().st_mtime_ns for p in Store(store).trial_files()} == committed, "a worker outlived its parent"
    os.killpg(proc.pid, signal.SIGKILL) if _group_alive(proc.pid) else None
    assert 2 <= len(committed) < 4, "the kill should land mid-sweep"
    subprocess.run(command, check=True, capture_output=True)
    for path, mtime in committed.items():
        assert path.stat().st_mtime_ns == mtime  # finished chunks were not recomputed
    rows = _trial_rows(store)
    keys = [(h, s, i) for h, s, i, _ in rows]
    assert len(keys) == len(set(keys)) == 2 * 32  # every trial exactly once
    # ... and the same outcome as an uninterrupted run
    fresh = tmp_path / "fresh"  # in this process: the programs are in the persistent compile cache by now
    from groklab.runner import execute_plan

    execute_plan(load_sweep(sweep)[0], Store(fresh), workers=0, chunk_size=16, quiet=True)
    assert sorted(rows) == sorted(_trial_rows(fresh))
    curves = Store(store).connect().sql("SELECT count(*) FROM (SELECT DISTINCT config_hash, trial_index, step "
                                        "FROM curves)").fetchall()[0][0]
    total = Store(store).connect().sql("SELECT count(*) FROM curves").fetchall()[0][0]
    assert curves == total  # no duplicated curve rows from the killed chunk


def test_store_rejects_a_file_path(tmp_path):
    path = tmp_path / "file"
    path.write_text("x")
    with pytest.raises(GroklabInputError, match="store"):
        Store(path).check_writable()
