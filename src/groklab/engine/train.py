"""Host side of the engine: train one chunk of trials of one config, evaluating between blocks.

Between compiled blocks the host reads the evaluation metrics, marks trials converged (first eval
with val accuracy >= target), diverged (non-finite parameters) or out of budget, and compacts the
arrays when at least half the slots are finished, so solved trials stop costing compute. Every
trial runs the same per-trial computation wherever it sits, so its result does not depend on its
chunk-mates.
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

import jax
import jax.numpy as jnp
import numpy as np

from groklab import registry
from groklab.components import ensure_registered
from groklab.engine.compiled import CompiledTrial
from groklab.engine.keys import trial_keys
from groklab.losses import loss_fn
from groklab.optimizers import build_optimizer
from groklab.specs import TrialConfig

CONVERGED, DIVERGED, BUDGET = "converged", "diverged", "budget"

# Called after every block with (trials finished in this block, trial-steps run in this block).
BlockCallback = Callable[[int, int], None]

_compiled_cache: dict[str, CompiledTrial] = {}


def default_lanes() -> int:
    """Trials per vmapped group: small on CPU (cache-friendly), large on accelerators."""
    return 16 if jax.default_backend() == "cpu" else 512


def compiled_trial(config: TrialConfig, lanes: int | None = None) -> CompiledTrial:
    """One CompiledTrial per (config, lanes) and process, so later chunks reuse compiled code."""
    lanes = lanes or default_lanes()
    key = f"{config.config_hash()}/{lanes}"
    if key not in _compiled_cache:
        ensure_registered()
        task = registry.tasks.get(config.task.name).build(config.task)
        model = registry.models.get(config.model.name).build(config.model, task.input_dim, task.num_classes)
        _compiled_cache[key] = CompiledTrial(
            task=task, model=model, loss=loss_fn(config.loss.name), optimizer=build_optimizer(config.optimizer),
            batch_size=config.train.batch_size, steps_per_block=config.train.eval_every, lanes=lanes)
    return _compiled_cache[key]


@dataclass
class ChunkResult:
    config: TrialConfig
    seed: int
    trial_indices: np.ndarray
    status: np.ndarray  # CONVERGED | DIVERGED | BUDGET per trial
    convergence_step: np.ndarray  # -1 where not converged
    steps_run: np.ndarray
    final_metrics: dict[str, np.ndarray]  # at each trial's last evaluation
    curves: dict[str, np.ndarray]  # long format: trial_index, step, one column per metric
    wall_seconds: float
    device: str = field(default_factory=lambda: jax.devices()[0].device_kind)

    @property
    def trial_steps(self) -> int:
        return int(self.steps_run.sum())


def _bucket(n: int, lanes: int) -> int:
    """Smallest lanes * 4^j >= n: array sizes are kept to these few so few shapes are compiled."""
    size = lanes
    while size < n:
        size *= 4
    return size


def _take(tree, index: np.ndarray):
    """Gather rows of every leaf on the host (no compiled gather per shape; cheap on CPU, rare on GPU)."""
    return jax.tree.map(lambda a: jnp.asarray(np.asarray(a)[index]), tree)


def _evaluate(compiled: CompiledTrial, params, task_state, eval_keys, step: int, slot_active: np.ndarray,
              target_accuracy: float) -> dict[str, np.ndarray]:
    """Held-out metrics per slot. With a two-part held-out batch and a target of 1, part 1 is scored
    only for slots perfect on part 0: a slot with any error there cannot reach 100%."""
    parts = compiled.task.eval_parts
    metrics = jax.tree.map(np.array, compiled.evaluate(0)(params, task_state, eval_keys, step))  # writable copies
    correct = metrics.pop("val_correct").astype(np.float64)
    loss_sum = metrics.pop("val_loss_sum").astype(np.float64)
    samples = np.full(len(correct), parts[0], dtype=np.int64)
    if len(parts) == 2:
        if target_accuracy >= 1.0:
            chosen = np.flatnonzero(slot_active & (np.rint(correct) == parts[0]) & metrics["finite"])
        else:
            chosen = np.arange(len(correct))
        if len(chosen):
            padded = np.resize(chosen, _bucket(len(chosen), compiled.lanes))
            rest = jax.tree.map(np.asarray, compiled.evaluate(1)(_take(params, padded), _take(task_state, padded),
                                                                  _take(eval_keys, padded), step))
            correct[chosen] += rest["val_correct"][: len(chosen)]
            loss_sum[chosen] += rest["val_loss_sum"][: len(chosen)]
            samples[chosen] += parts[1]
    metrics["val_accuracy"] = np.rint(correct) / samples
    metrics["val_loss"] = loss_sum / samples
    metrics["val_samples"] = samples
    return metrics


def train_chunk(config: TrialConfig, seed: int, trial_indices, on_block: BlockCallback | None = None,
                lanes: int | None = None) -> ChunkResult:
    """Train the trials `trial_indices` of `config` under `seed`; see the module docstring."""
    started = time.perf_counter()
    compiled = compiled_trial(config, lanes)
    train = config.train
    indices = np.asarray(trial_indices, dtype=np.int64)
    n_trials = len(indices)
    if n_trials == 0 or len(np.unique(indices)) != n_trials or indices.min() < 0:
        raise ValueError("trial_indices must be distinct non-negative integers, at least one")
    # Pad to whole lanes with copies of the first trials; padding slots start inactive and are
    # never recorded.
    n_slots = -(-n_trials // compiled.lanes) * compiled.lanes
    slot_trial = np.resize(np.arange(n_trials), n_slots)  # which trial (0..n_trials-1) each slot holds
    slot_active = np.arange(n_slots) < n_trials
    keys = trial_keys(seed, indices[slot_trial])
    params, opt_state, task_state = compiled.init_chunk(keys["init"], keys["task"])
    data_keys, eval_keys = keys["data"], keys["eval"]

    status = np.full(n_trials, BUDGET, dtype=object)
    convergence_step = np.full(n_trials, -1, dtype=np.int64)
    steps_run = np.zeros(n_trials, dtype=np.int64)
    final: dict[str, np.ndarray] = {}
    curve_rows: list[dict[str, np.ndarray]] = []

    def record(step: int, metrics: dict, train_loss: np.ndarray) -> int:
        """Store one evaluation for the active slots; return how many trials finished."""
        slots = np.flatnonzero(slot_active)
        trials = slot_trial[slots]
        row = {"trial_index": indices[trials], "step": np.full(len(slots), step, dtype=np.int64),
               "train_loss": train_loss[slots]}
        row.update({name: value[slots] for name, value in metrics.items() if name != "finite"})
        curve_rows.append(row)
        steps_run[trials] = step
        for name, value in row.items():
            if name not in ("trial_index", "step"):
                final.setdefault(name, np.full(n_trials, np.nan))[trials] = value
        finished = 0
        for slot, trial in zip(slots, trials):
            if not metrics["finite"][slot]:
                status[trial] = DIVERGED
            elif convergence_step[trial] < 0 and metrics["val_accuracy"][slot] >= train.target_accuracy:
                convergence_step[trial] = step
                status[trial] = CONVERGED
            else:
                continue
            if status[trial] == DIVERGED or train.stop_on_convergence:
                slot_active[slot] = False
                finished += 1
        return finished

    def evaluate(step: int) -> dict[str, np.ndarray]:
        return _evaluate(compiled, params, task_state, eval_keys, step, slot_active, train.target_accuracy)

    record(0, evaluate(0), np.full(n_slots, np.nan, np.float32))
    for block in range(train.max_steps // train.eval_every):
        if not slot_active.any():
            break
        first_step = block * train.eval_every
        active_before = int(slot_active.sum())
        params, opt_state, train_loss = compiled.train_block(
            params, opt_state, task_state, data_keys, jnp.asarray(slot_active), first_step)
        step = first_step + train.eval_every
        finished = record(step, evaluate(step), np.asarray(train_loss))
        if on_block is not None:
            on_block(finished, active_before * train.eval_every)
        live = np.flatnonzero(slot_active)
        size = _bucket(len(live), compiled.lanes) if len(live) else 0
        if 0 < size < len(slot_active):
            # Keep the live slots, padded with finished (frozen) slots to a bucket size.
            keep = np.concatenate([live, np.flatnonzero(~slot_active)[: size - len(live)]])
            params, opt_state, task_state = _take(params, keep), _take(opt_state, keep), _take(task_state, keep)
            data_keys, eval_keys = _take(data_keys, keep), _take(eval_keys, keep)
            slot_trial, slot_active = slot_trial[keep], slot_active[keep]

    curves = {name: np.concatenate([row[name] for row in curve_rows]) for name in curve_rows[0]}
    return ChunkResult(config=config, seed=seed, trial_indices=indices, status=status.astype(str),
                       convergence_step=convergence_step, steps_run=steps_run, final_metrics=final,
                       curves=curves, wall_seconds=time.perf_counter() - started)
