"""Recipe experiments (`groklab run NAME`) on small real runs, and the CLI built from their options."""
from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from groklab import GroklabInputError
from groklab.catalog import recipe_experiments, run_experiment
from groklab.config import make_config
from groklab.engine import train_chunk


def test_tc_distribution_is_far_from_the_geometric_law(tmp_path):
    s = run_experiment("tc-distribution", tmp_path, workers=0, n=12, k=3, trials=48, eval_every=25)
    assert s["solved"] == 48
    assert s["verdict"] == "PASS"
    assert s["min"] >= 0.2 * s["median"]
    # A geometric law with the same mean would put a sizeable mass below 0.2 x median; SGD puts none.
    assert s["geometric"]["matched_fraction_below_early"] > 0.1
    assert s["geometric"]["observed_fraction_below_early"] == 0
    assert Path(s["figures"][0]).stat().st_size > 10_000


def test_data_seed_redraws_batches_but_keeps_the_init_and_support():
    base = dict(task={"name": "parity", "n": 12, "k": 3}, model={"name": "mlp", "width": 16},
                train={"max_steps": 200, "eval_every": 100, "stop_on_convergence": False})
    own = make_config(**base)
    replayed = make_config(**{**base, "train": {**base["train"], "data_seed": 0}})
    assert "data_seed" not in own.as_dict()["train"]  # configs without it keep their stored hash
    assert own.config_hash() != replayed.config_hash()
    a, b = train_chunk(own, 0, range(4)), train_chunk(replayed, 0, range(4))
    at = lambda r, step, col: r.curves[col][r.curves["step"] == step]  # noqa: E731
    np.testing.assert_array_equal(at(a, 0, "val_accuracy"), at(b, 0, "val_accuracy"))  # same init and S
    assert not np.array_equal(at(a, 200, "train_loss"), at(b, 200, "train_loss"))  # other batches
    again = train_chunk(replayed, 0, [2, 3])
    np.testing.assert_array_equal(at(again, 200, "train_loss"), at(b, 200, "train_loss")[2:])


def test_init_sensitivity_measures_within_and_between_init_spread(tmp_path):
    s = run_experiment("init-sensitivity", tmp_path, workers=0, n=12, k=3, width=32, batch=32, lr=0.1,
                       inits=4, data_seeds=2, max_steps=5000)
    assert s["solved"] == 8
    assert np.array(s["convergence_steps"]).shape == (4, 2)
    assert 0 <= s["within_init_std"] and s["between_init_std"] > 0
    assert s["within_to_between_ratio"] == pytest.approx(s["within_init_std"] / s["between_init_std"])


def test_width_and_polynet_and_elbow_recipes_report_numbers(tmp_path):
    w = run_experiment("width-sweep", tmp_path, workers=0, n=12, widths=(8, 64), trials=4, max_steps=5000)
    assert set(w["per_width"]) == {"8", "64"}
    assert all(r["solved"] == 4 for r in w["per_width"].values())
    p = run_experiment("polynet-grid", tmp_path, workers=0, n=12, batches=(16,), lrs=(0.1,), trials=2,
                       max_steps=5000, disjoint_n=12)
    assert p["verdict"] == "PASS" and len(p["runs"]) == 2
    e = run_experiment("exponent-elbow", tmp_path, workers=0, small_ns=(8, 10), large_ns=(12, 14), trials=2,
                       width=32, max_steps=5000)
    assert e["small_n"]["exponent"] > 0 and e["large_n"]["exponent"] > 0
    assert e["verdict"] == ("PASS" if e["large_n"]["exponent"] > e["small_n"]["exponent"] else "FAIL")


def test_hidden_progress_recipe_separates_task_from_random_labels(tmp_path):
    """Width-100 ReLU MLP (ii) at B = 32 on (14,3): rho on the task beats the random-label control of
    the same init at each trial's t_c / 2, on average."""
    s = run_experiment("hidden-progress", tmp_path, workers=0, n=14, k=3, trials=4, architectures=("ii",),
                       batch_sizes=(32,), max_steps=5000)
    (setting,) = s["settings"]
    assert setting["converged"] == 4 and setting["solves"]
    true, control = np.array(setting["rho_true_at_half"]), np.array(setting["rho_random_at_half"])
    assert true.mean() > control.mean() > 0
    assert len(setting["overtake_before_accuracy"]) == 4 and s["verdict"] in ("PASS", "FAIL")
    with pytest.raises(GroklabInputError, match="first-layer"):
        run_experiment("hidden-progress", tmp_path, architectures=("xv",))


def test_every_recipe_has_a_cli_command_and_bad_options_fail_in_one_line(tmp_path, cli):
    names = {entry.name for entry in recipe_experiments()}
    assert {"tc-distribution", "init-sensitivity", "width-sweep", "polynet-grid", "exponent-elbow",
            "hidden-progress"} <= names
    code, out, _ = cli(["run", "width-sweep", "--help"])
    assert code == 0 and "--widths" in out and "--trials" in out
    store = tmp_path / "untouched"
    for args, field in [(["--trials", "0"], "trials"), (["--widths", "10,x"], "widths")]:
        code, _, err = cli(["run", "width-sweep", *args, "--store", str(store)])
        assert code == 2, err
        assert err.strip().count("\n") == 0 and field in err, err
    code, _, err = cli(["run", "polynet-grid", "--batches", "1,2", "--lrs", "0.1", "--store", str(store)])
    assert code == 2 and "lrs" in err
    assert not store.exists()
    with pytest.raises(GroklabInputError, match="experiment"):
        run_experiment("no-such-recipe", tmp_path)


def test_recipe_cli_runs_and_prints_json(tmp_path, cli):
    code, out, _ = cli(["run", "tc-distribution", "--n", "10", "--k", "2", "--trials", "16", "--workers", "0",
                            "--store", str(tmp_path), "--json"])
    assert code == 0
    summary = json.loads(out)
    assert summary["trials"] == 16 and summary["verdict"] in ("PASS", "FAIL")
    assert summary["options"]["n"] == 10


def test_scaling_over_n_and_k_fits_each_k(tmp_path):
    s = run_experiment("scaling-nk", tmp_path, workers=0, ns=(8, 12), ks=(2, 3), trials=4, width=32,
                       max_steps=5000)
    assert set(s["fits"]) == {"2", "3"}
    assert set(s["medians"]) == {"8,2", "12,2", "8,3", "12,3"}
    assert s["medians"]["12,3"] >= s["medians"]["12,2"]  # higher degree, slower
    assert s["verdict"] in ("PASS", "FAIL")


def test_config_lanes_set_the_group_size_and_results_do_not_depend_on_chunking():
    base = dict(task={"name": "parity", "n": 10, "k": 2}, model={"name": "mlp", "width": 16},
                train={"max_steps": 600, "lanes": 4})
    config = make_config(**base)
    assert config.as_dict()["train"]["lanes"] == 4
    assert "lanes" not in make_config(base["task"], base["model"]).as_dict()["train"]
    whole = train_chunk(config, 0, range(6))
    assert whole.lanes == 4
    parts = [train_chunk(config, 0, [i]) for i in (5, 0)]
    np.testing.assert_array_equal([p.convergence_step[0] for p in parts], whole.convergence_step[[5, 0]])
