"""Probes measured by the engine at every evaluation."""
from __future__ import annotations

import numpy as np
import pytest

from groklab import GroklabInputError, make_config
from groklab.engine import train_chunk


def test_hidden_progress_grows_and_relevant_weights_overtake_irrelevant_ones():
    config = make_config({"name": "parity", "n": 20, "k": 3}, {"name": "mlp", "width": 100},
                         probes=["hidden-progress"])
    result = train_chunk(config, 0, range(8))
    curves = result.curves
    for trial in range(8):
        rows = curves["trial_index"] == trial
        rho = curves["hidden_progress"][rows]
        relevant, irrelevant = curves["relevant_movement_min"][rows], curves["irrelevant_movement_max"][rows]
        assert rho[0] == 0.0 and np.all(np.diff(rho) > -0.05)  # starts at W_0, grows (up to SGD noise)
        assert 0.5 <= rho[-1] <= 2.0  # [cal] rho(t_c) ~ 0.85-1.2 for a ReLU MLP on (20,3)
        assert relevant[-1] > irrelevant[-1]  # at convergence the support coordinates moved most
        assert np.all(rho >= relevant) and np.all(rho >= irrelevant)  # rho is the max over all of W


def test_probes_leave_training_and_the_config_hash_alone():
    plain = make_config({"name": "parity", "n": 20, "k": 3}, {"name": "mlp", "width": 100})
    probed = make_config({"name": "parity", "n": 20, "k": 3}, {"name": "mlp", "width": 100},
                         probes=["hidden-progress"])
    assert "probes" not in plain.as_dict() and plain.config_hash() != probed.config_hash()
    a, b = train_chunk(plain, 3, range(4)), train_chunk(probed, 3, range(4))
    assert np.array_equal(a.convergence_step, b.convergence_step)
    assert np.array_equal(a.final_metrics["val_loss"], b.final_metrics["val_loss"])


def test_unknown_probe_is_an_input_error():
    with pytest.raises(GroklabInputError, match="probes.names"):
        make_config({"name": "parity"}, {"name": "mlp"}, probes=["no-such-probe"])
