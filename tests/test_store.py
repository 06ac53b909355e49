"""The results store's guarantees on real small runs: one writer at a time, reads that count each
trial once, resuming keyed on the run key, read-only confined queries, `store verify`, and one
consistent status per trial."""
from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest

from groklab import GroklabInputError, registry
from groklab.config import make_config
from groklab.plan import Plan
from groklab.runner import execute_plan
from groklab.store import Store
from groklab.store.verify import verify_store

TRIALS = 8
SWEEP = f"""name = "tiny"
version = "3"
trials = {TRIALS}
[task]
name = "parity"
n = 10
k = 2
[model]
name = "mlp"
width = 16
[train]
max_steps = 300
eval_every = 50
"""
WAITING = "is in use by pid"
# one curves row per evaluation of each current trial: steps 0, 50, ..., steps_run
EVALUATIONS_MATCH = "SELECT (SELECT count(*) FROM curves) = (SELECT sum(steps_run // 50 + 1) FROM trials) AS ok"


def tiny_config(**train):
    return make_config({"name": "parity", "n": 10, "k": 2}, {"name": "mlp", "width": 16},
                       train={"max_steps": 300, "eval_every": 50, **train})


def snapshot(*roots: Path) -> dict[str, tuple[int, int]]:
    return {str(p): (p.stat().st_size, p.stat().st_mtime_ns) for root in roots for p in root.rglob("*")}


def key_counts(store: Path) -> dict[tuple, int]:
    counts: dict[tuple, int] = {}
    for path in Store(store).trial_files():
        table = pq.read_table(path, columns=["config_hash", "seed", "trial_index"])
        for key in zip(*(table.column(c).to_pylist() for c in table.column_names)):
            counts[key] = counts.get(key, 0) + 1
    return counts


@pytest.fixture(scope="module")
def raced_store(tmp_path_factory) -> tuple[Path, list[tuple[int, str, str]]]:
    """A store written by two `groklab sweep` processes started together on the same sweep file."""
    root = tmp_path_factory.mktemp("raced")
    sweep = root / "tiny.toml"
    sweep.write_text(SWEEP)
    command = [sys.executable, "-m", "groklab.cli", "sweep", str(sweep), "--store", str(root / "store"),
               "--workers", "0"]
    procs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(2)]
    outputs = [(p.wait(timeout=300), p.stdout.read(), p.stderr.read()) for p in procs]
    for p in procs:
        p.stdout.close()
        p.stderr.close()
    return root / "store", outputs


def test_two_sweeps_started_together_commit_every_trial_once(raced_store, cli):
    store, outputs = raced_store
    assert [code for code, _, _ in outputs] == [0, 0], outputs
    assert sorted(key_counts(store).values()) == [1] * TRIALS
    # One ran everything; the other waited (saying for whom, once) and then found it all done.
    runs = sorted(out for _, out, _ in outputs)
    assert f"ran 0, already done {TRIALS}" in runs[0] and f"ran {TRIALS}, already done 0" in runs[1], runs
    waited = [err for _, out, err in outputs if "ran 0" in out][0]
    assert waited.count(WAITING) <= 1 and (waited.count(WAITING) == 0 or "waiting for it to finish" in waited)
    code, out, _ = cli(["store", "verify", str(store)])
    assert code == 0 and out.strip().endswith("no problems") and len(out.strip().splitlines()) == 1
    rows = Store(store).connect().sql("SELECT DISTINCT experiment, experiment_version, probe_versions FROM trials")
    assert rows.fetchall() == [("tiny", "3", "{}")]


def test_a_second_writer_waits_for_the_lock_and_says_whose_it_is(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", "import sys, time; from groklab.store.lock import writer_lock; "
                               "from pathlib import Path\nwith writer_lock(Path(sys.argv[1])):\n"
                               "    print('locked', flush=True); time.sleep(1.0)", str(tmp_path)],
                              stdout=subprocess.PIPE, text=True)
    assert holder.stdout.readline().strip() == "locked"
    from groklab.store.lock import writer_lock

    assert f"being written by pid {holder.pid}" in verify_store(tmp_path).problems[0]  # not checked mid-run

    said = []
    started = time.perf_counter()
    with writer_lock(tmp_path, announce=said.append):
        assert time.perf_counter() - started > 0.5  # we got the lock only once the holder let go
    holder.wait()
    holder.stdout.close()
    assert len(said) == 1 and f"in use by pid {holder.pid} on host " in said[0] and said[0].endswith("to finish")


def test_queries_are_read_only_and_confined_to_the_store(raced_store, cli, tmp_path, monkeypatch):
    store, _ = raced_store
    monkeypatch.chdir(tmp_path)
    chunk = Store(store).trial_files()[0]
    outside = tmp_path / "outside.csv"
    outside.write_text("a\n1\n")
    before = snapshot(store, tmp_path)
    for sql in ["COPY (SELECT 1) TO 'x.csv'", f"COPY (SELECT 1) TO '{store}/chunks/evil.parquet'",
                f"COPY (SELECT 1 AS x) TO '{chunk}' (FORMAT parquet, USE_TMP_FILE false)",
                f"SELECT * FROM read_csv('{outside}')", "SELECT * FROM read_csv('/etc/passwd')",
                f"SELECT * FROM read_parquet('{chunk}')", "ATTACH 'other.db'", "INSTALL httpfs", "LOAD httpfs",
                "SET threads = 1", "CREATE TABLE t AS SELECT 1", "SELECT 1; COPY (SELECT 1) TO 'y.csv'"]:
        code, out, err = cli(["query", "--store", str(store), sql])
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, (sql, err)
        assert err.startswith("error: sql: "), err
    # The settings alone stop writes too, for a caller skipping the statement check.
    con = Store(store).connect()
    for sql in [f"COPY (SELECT 1 AS x) TO '{chunk}' (FORMAT parquet, USE_TMP_FILE false)",
                f"COPY (SELECT 1) TO '{store}/evil.csv'", "COPY (SELECT 1) TO 'x.csv'"]:
        with pytest.raises(duckdb.Error, match="disabled by configuration"):
            con.sql(sql)
    assert snapshot(store, tmp_path) == before
    code, out, _ = cli(["query", "--store", str(store), "--format", "json", EVALUATIONS_MATCH])
    assert code == 0 and out.strip() == '[{"ok": true}]'


def _copy_store(store: Path, tmp_path: Path) -> tuple[Path, Path]:
    copy = tmp_path / "store"
    shutil.copytree(store, copy)
    return copy, Store(copy).trial_files()[0]


def test_verify_finds_a_duplicated_chunk_and_reads_count_each_trial_once(raced_store, tmp_path, cli):
    store, trials = _copy_store(raced_store[0], tmp_path)
    copy_id = trials.name.replace(".trials.parquet", "") + "-copy"
    shutil.copy(trials.with_name(trials.name.replace(".trials.", ".curves.")), trials.with_name(f"{copy_id}.curves.parquet"))
    shutil.copy(trials, trials.with_name(f"{copy_id}.trials.parquet"))
    code, out, _ = cli(["store", "verify", str(store)])
    assert code == 1
    assert "committed 2 times" in out and "copied or renamed" in out
    con = Store(store).connect()
    assert con.sql("SELECT count(*), count(DISTINCT trial_index) FROM trials").fetchall() == [(TRIALS, TRIALS)]
    assert con.sql("SELECT count(*) FROM all_trials").fetchall() == [(2 * TRIALS,)]
    assert con.sql("SELECT count(*) = count(DISTINCT (trial_index, step)) FROM curves").fetchall() == [(True,)]
    assert con.sql(EVALUATIONS_MATCH).fetchall() == [(True,)]


def test_verify_finds_truncated_curves_and_orphans(raced_store, tmp_path, cli):
    store, trials = _copy_store(raced_store[0], tmp_path / "a")
    curves = trials.with_name(trials.name.replace(".trials.", ".curves."))
    table = pq.read_table(curves)
    pq.write_table(table.slice(0, table.num_rows - 3), curves)  # the last evaluations lost
    code, out, _ = cli(["store", "verify", str(store)])
    assert code == 1 and re.search(r"trial \d+: \d+ curve rows for \d+ evaluations", out), out

    store, trials = _copy_store(raced_store[0], tmp_path / "b")
    shutil.copy(trials.with_name(trials.name.replace(".trials.", ".curves.")), trials.with_name("lost.curves.parquet"))
    (trials.parent / ".x.trials.parquet.0123.tmp").write_bytes(b"half")
    code, out, _ = cli(["store", "verify", str(store)])
    assert code == 1 and len(out.strip().splitlines()) == 2
    assert "lost.curves.parquet: orphan curves file" in out and "temporary file" in out
    assert Store(store).recover() == 2 and verify_store(store).ok


def test_changed_lanes_or_component_version_train_again_and_report_their_own_trials(tmp_path, monkeypatch):
    import groklab.engine.train as engine

    store = Store(tmp_path)
    plan = Plan("lanes", (tiny_config(),), seed=0, trials=4)
    assert execute_plan(plan, store, workers=0, quiet=True)["trials_run"] == 4
    assert execute_plan(plan, store, workers=0, quiet=True)["trials_run"] == 0  # same run key: no work
    assert set(store.trials_for(plan.configs[0].config_hash(), 0, range(4))["lanes"]) == {16}

    monkeypatch.setattr(engine, "CPU_MAX_LANES", 8)  # as a backend with another default group size
    again = Store(tmp_path)
    assert execute_plan(plan, again, workers=0, quiet=True)["trials_run"] == 4
    config_hash = plan.configs[0].config_hash()
    assert list(again.trials_for(config_hash, 0, range(4))["lanes"]) == [8] * 4
    con = again.connect()
    assert con.sql("SELECT count(*), min(lanes), max(lanes) FROM trials").fetchall() == [(4, 8, 8)]
    assert con.sql("SELECT count(*) FROM all_trials").fetchall() == [(8,)]
    assert Store(tmp_path).done_trials(config_hash, 0, plan.run_keys()[config_hash]) == set(range(4))

    explicit = Plan("lanes", (tiny_config(lanes=4),), seed=0, trials=4)  # train.lanes = 4
    assert execute_plan(explicit, again, workers=0, quiet=True)["trials_run"] == 4
    assert set(again.trials_for(explicit.configs[0].config_hash(), 0, range(4))["lanes"]) == {4}

    entry = registry.tasks.get("parity")
    monkeypatch.setitem(registry.tasks._entries, "parity", dataclasses.replace(entry, version=entry.version + "-next"))
    assert execute_plan(plan, again, workers=0, quiet=True)["trials_run"] == 4
    rows = again.trials_for(config_hash, 0, range(4))
    assert set(rows["task_version"]) == {entry.version + "-next"} and set(rows["lanes"]) == {8}
    assert verify_store(tmp_path).ok


def test_a_trial_that_converged_then_diverged_has_one_status(tmp_path, monkeypatch):
    """Square loss at SGD lr 0.6, training on past convergence: trials blow up, one after having
    converged; some with finite parameters but an infinite held-out loss (found by the loss)."""
    import groklab.engine.train as engine

    seen = []  # (step, trial, parameters finite, val_loss) as the engine's evaluation returns them
    evaluate = engine._evaluate

    def spy(compiled, groups, step, target):
        results = evaluate(compiled, groups, step, target)
        seen.extend((step, int(g.trial[s]), bool(m["finite"][s]), float(m["val_loss"][s]))
                    for g, m in zip(groups, results) for s in np.flatnonzero(g.active))
        return results

    monkeypatch.setattr(engine, "_evaluate", spy)
    config = make_config({"name": "parity", "n": 10, "k": 2}, {"name": "mlp", "width": 16}, loss={"name": "square"},
                         optimizer={"name": "sgd", "lr": 0.6},
                         train={"max_steps": 300, "eval_every": 10, "stop_on_convergence": False})
    store = Store(tmp_path)
    execute_plan(Plan("edge", (config,), seed=0, trials=16), store, workers=0, quiet=True)
    rows = store.connect().sql("SELECT trial_index, status, converged, convergence_step, divergence_step, steps_run "
                               "FROM trials ORDER BY trial_index").fetchall()
    assert {r[1] for r in rows} == {"converged", "diverged", "budget"}
    for index, status, converged, convergence_step, divergence_step, steps_run in rows:
        assert converged == (status == "converged") and (convergence_step is not None) == converged
        assert (divergence_step is not None) == (status == "diverged")
        if status == "diverged":
            assert divergence_step == steps_run
    curves = store.connect().sql("SELECT trial_index, max(val_accuracy) FROM curves GROUP BY 1").fetchall()
    solved_once = {i for i, best in curves if best == 1.0}
    relapsed = [r for r in rows if r[1] == "diverged" and r[0] in solved_once]
    assert relapsed and all(r[3] is None for r in relapsed)  # converged earlier, reported diverged only
    # Found by the loss: parameters still finite, held-out loss not; diverged at that very evaluation.
    by_loss = {(step, trial) for step, trial, finite, loss in seen if finite and not np.isfinite(loss)}
    assert by_loss and by_loss <= {(r[4], r[0]) for r in rows if r[1] == "diverged"}


def test_old_rows_without_a_run_key_are_not_done_and_bad_sweep_versions_fail(tmp_path):
    config = tiny_config()
    store = Store(tmp_path)
    execute_plan(Plan("old", (config,), seed=0, trials=2), store, workers=0, quiet=True)
    path = store.trial_files()[0]
    pq.write_table(pq.read_table(path).drop_columns(["run_key"]), path)  # as an older groklab wrote it
    assert store.done_trials(config.config_hash(), 0, Plan("old", (config,), 0, 2).run_keys()[config.config_hash()]) == set()
    sweep = tmp_path / "bad.toml"
    sweep.write_text('version = true\n[task]\nname = "parity"\n[model]\nname = "mlp"\n')
    from groklab.plan import load_sweep

    with pytest.raises(GroklabInputError, match="version"):
        load_sweep(sweep)


def test_measurement_tables_carry_the_experiment_version(tmp_path):
    store = Store(tmp_path)
    store.write_table("gradient-check", [{"p": 7, "variance": 0.5}])
    row = store.connect().sql("SELECT * FROM gradient_check").fetchall()
    names = [d[0] for d in store.connect().sql("SELECT * FROM gradient_check").description]
    values = dict(zip(names, row[0]))
    assert values["experiment"] == "gradient-check" and values["experiment_version"] == "1"
    assert values["probe_versions"] == "{}" and values["groklab_version"] and values["p"] == 7
    assert not (tmp_path / ".lock").read_text()  # released: nothing names a holder
