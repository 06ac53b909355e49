"""Host side of the engine: train one chunk of trials of one config, evaluating between blocks.

A chunk is held as groups of exactly `lanes` trials (the one batch size that is compiled). Between
compiled blocks the host reads the evaluation metrics, marks trials converged (first eval with
validation accuracy >= target), diverged (non-finite parameters, validation loss or block training
loss) or out of budget, and repacks the
live trials into fewer groups as others finish, so solved trials stop costing compute. Every trial
runs the same per-trial computation wherever it sits, so its result does not depend on its
chunk-mates, the chunk size or the worker.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from typing import Any, Callable

import jax
import jax.numpy as jnp
import numpy as np

from groklab import registry
from groklab.config import build_components
from groklab.engine.compiled import CompiledTrial, precision_scope
from groklab.engine.keys import trial_keys
from groklab.losses import loss_fn
from groklab.optimizers import build_optimizer
from groklab.specs import TrialConfig, probe_name, probe_spec

CONVERGED, DIVERGED, BUDGET = "converged", "diverged", "budget"

# Called after every block with (trials finished in this block, trial-steps run in this block).
BlockCallback = Callable[[int, int], None]

_compiled_cache: dict[str, CompiledTrial] = {}


CPU_MAX_LANES = 16
CPU_GROUP_PARAMETERS = 512 * 1024  # float32 parameters per group (2 MB); measured best, BENCHMARKS.md
ACCELERATOR_LANES = 512
# 512 MB of float32 parameters per group on an accelerator: 512 lanes up to ~260k parameters per
# trial; the paper-size parity Transformer (~4M) gets 32, so its Adam state fits in memory.
ACCELERATOR_GROUP_PARAMETERS = 2**27
# Full batch: the working set per trial counts 4x the training set's inputs and outputs (measured:
# grokking at p = 47, 1,224 pairs: 1 lane 4.4x the PyTorch loop, 2 lanes 3.0x, 16 lanes 2.0x; BENCHMARKS.md).
FULL_BATCH_ACTIVATIONS = 4


def default_lanes(parameters_per_trial: int) -> int:
    """Trials per vmapped group, a function of the config and backend only (so results stay
    reproducible): on CPU the largest power of two <= 16 whose group holds at most ~2 MB of
    parameters (measured: 16 lanes best at width 100, 8 at width 1000; BENCHMARKS.md); on an
    accelerator the largest power of two <= 512 whose group holds at most 512 MB."""
    on_cpu = jax.default_backend() == "cpu"
    lanes, budget = (CPU_MAX_LANES, CPU_GROUP_PARAMETERS) if on_cpu else (ACCELERATOR_LANES, ACCELERATOR_GROUP_PARAMETERS)
    while lanes > 1 and lanes * parameters_per_trial > budget:
        lanes //= 2
    return lanes


def resolve_lanes(config: TrialConfig, lanes: int | None = None) -> int:
    """The group size a config trains with here: `lanes`, else `train.lanes`, else the backend's
    default for the model's parameter count plus, full batch, the training set's inputs and outputs
    (a shape-only evaluation: no arithmetic)."""
    lanes = lanes or config.train.lanes
    if lanes is not None:
        return lanes
    task, model = build_components(config)
    shapes = jax.eval_shape(model.init, jax.random.key(0))
    working_set = sum(int(np.prod(leaf.shape)) for leaf in jax.tree.leaves(shapes))
    if config.train.batch_size is None:
        # A full-batch step reads every training input and writes its outputs, per trial, and its
        # activations and their gradients are a few times that: they, not the parameters, fill the
        # cache. Counted as FULL_BATCH_ACTIVATIONS x (inputs + outputs).
        working_set += FULL_BATCH_ACTIVATIONS * task.train_size * (task.input_dim + model.output_dim)
    return default_lanes(working_set)


# What the compiled functions depend on. The budget, the convergence rule and the data seed are not
# among them (they are read on the host or enter as keys), so configs differing only in those
# share one compiled program instead of tracing and compiling it again.
HOST_ONLY_TRAIN_FIELDS = ("max_steps", "target_accuracy", "stop_on_convergence", "data_seed", "lanes")


def program_key(config: TrialConfig, lanes: int) -> str:
    spec = config.as_dict()
    spec["train"] = {key: value for key, value in spec["train"].items() if key not in HOST_ONLY_TRAIN_FIELDS}
    blob = json.dumps(spec, sort_keys=True, separators=(",", ":"))
    return f"{hashlib.sha256(blob.encode()).hexdigest()[:16]}/{lanes}"


def compiled_trial(config: TrialConfig, lanes: int | None = None) -> CompiledTrial:
    """One CompiledTrial per compiled program and process, so later chunks (and configs that differ
    only in host-side settings) reuse compiled code."""
    lanes = resolve_lanes(config, lanes)
    key = program_key(config, lanes)
    if key not in _compiled_cache:
        task, model = build_components(config)
        _compiled_cache[key] = CompiledTrial(
            task=task, model=model, loss=loss_fn(config.loss.name, config.loss.rescale_gradient, config.loss.gradient),
            optimizer=build_optimizer(config.optimizer),
            batch_size=config.train.batch_size, steps_per_block=config.train.eval_every, lanes=lanes,
            probes=tuple(registry.probes.get(probe_name(e)).build(probe_spec(e)) for e in config.probes),
            precision=config.train.precision)
    return _compiled_cache[key]


@dataclass
class ChunkResult:
    config: TrialConfig
    seed: int
    trial_indices: np.ndarray
    status: np.ndarray  # CONVERGED | DIVERGED | BUDGET per trial
    convergence_step: np.ndarray  # -1 where not converged (also for a trial that converged, then diverged)
    divergence_step: np.ndarray  # the evaluation step that found the trial diverged; -1 where not diverged
    steps_run: np.ndarray
    final_metrics: dict[str, np.ndarray]  # at each trial's last evaluation
    curves: dict[str, np.ndarray]  # long format: trial_index, step, one column per metric
    wall_seconds: float
    lanes: int  # trials per compiled group (results are bit-identical for a given lanes and backend)
    device: str = field(default_factory=lambda: jax.devices()[0].device_kind)

    @property
    def trial_steps(self) -> int:
        return int(self.steps_run.sum())


@dataclass
class Group:
    """`lanes` trial slots computed together. Slots whose trial has finished (or padding) are
    inactive: their parameters stay frozen and nothing about them is recorded."""

    state: dict[str, Any]  # params, init_params, opt_state, task_state, data/eval keys: leading axis = lanes
    trial: np.ndarray  # which trial of the chunk (0..n-1) each slot holds
    active: np.ndarray  # bool per slot


def _regroup(groups: list[Group], slots: list[tuple[int, int]], active: np.ndarray, lanes: int) -> list[Group]:
    """New groups holding the given (group, slot) pairs in order, padded to whole lanes by
    repeating the last one (inactive). Gathers on the host: no compiled gather per shape."""
    pad = (-len(slots)) % lanes
    slots = slots + [slots[-1]] * pad
    active = np.concatenate([active, np.zeros(pad, dtype=bool)])
    host = [jax.tree.map(np.asarray, g.state) for g in groups]
    out = []
    for start in range(0, len(slots), lanes):
        chosen = slots[start:start + lanes]
        state = jax.tree.map(lambda *leaves: jnp.asarray(np.stack([leaves[g][s] for g, s in chosen])), *host)
        trial = np.array([groups[g].trial[s] for g, s in chosen])
        out.append(Group(state, trial, active[start:start + lanes].copy()))
    return out


def _evaluate(compiled: CompiledTrial, groups: list[Group], step: int, target_accuracy: float) -> list[dict]:
    """Held-out metrics per group and slot. With a two-part held-out batch, part 1 is scored only for
    slots that can still reach the target accuracy given their errors on part 0 (for a target of 1:
    the slots perfect on part 0)."""
    parts = compiled.task.eval_parts
    results = []
    for g in groups:
        s = g.state
        metrics = jax.tree.map(np.array, compiled.evaluate(0)(s["params"], s["init_params"], s["task_state"],
                                                              s["eval_keys"], step))
        metrics["val_correct"] = metrics["val_correct"].astype(np.float64)
        metrics["val_loss_sum"] = metrics["val_loss_sum"].astype(np.float64)
        metrics["val_samples"] = np.full(compiled.lanes, parts[0], dtype=np.int64)
        results.append(metrics)
    if len(parts) == 2:
        # A slot with more errors on part 0 than the target allows on the whole batch cannot reach
        # the target, whatever part 1 holds: only the others are scored on part 1 (exact for t_c).
        allowed_errors = (1.0 - target_accuracy) * sum(parts) + 1e-6
        chosen = [(gi, si) for gi, (g, m) in enumerate(zip(groups, results)) for si in range(compiled.lanes)
                  if g.active[si] and m["finite"][si] and parts[0] - np.rint(m["val_correct"][si]) <= allowed_errors]
        # Each chosen slot is scored alone (a one-lane program, the same for every chunking): a padded
        # group of `lanes` would score lanes - 1 idle copies of the big part (measured at (50,3):
        # 41 ms per group against 1.4 ms for part 0, most of the evaluation time of a chunk).
        for gi, si in chosen:
            s = jax.tree.map(lambda leaf: leaf[si:si + 1], groups[gi].state)  # noqa: B023 - used at once
            rest = jax.tree.map(np.asarray, compiled.evaluate(1)(s["params"], s["init_params"], s["task_state"],
                                                                 s["eval_keys"], step))
            results[gi]["val_correct"][si] += rest["val_correct"][0]
            results[gi]["val_loss_sum"][si] += rest["val_loss_sum"][0]
            results[gi]["val_samples"][si] += parts[1]
    for m in results:
        m["val_accuracy"] = np.rint(m.pop("val_correct")) / m["val_samples"]
        m["val_loss"] = m.pop("val_loss_sum") / m["val_samples"]
    return results


def train_chunk(config: TrialConfig, seed: int, trial_indices, on_block: BlockCallback | None = None,
                lanes: int | None = None) -> ChunkResult:
    """Train the trials `trial_indices` of `config` under `seed`; see the module docstring. A float64
    config runs entirely under x64, host-side arrays included (engine/compiled.py)."""
    with precision_scope(config.train.precision):
        return _train_chunk(config, seed, trial_indices, on_block, lanes)


def _train_chunk(config: TrialConfig, seed: int, trial_indices, on_block: BlockCallback | None,
                 lanes: int | None) -> ChunkResult:
    started = time.perf_counter()
    compiled = compiled_trial(config, lanes)
    lanes, train = compiled.lanes, config.train
    indices = np.asarray(list(trial_indices), dtype=np.int64)
    n_trials = len(indices)
    if n_trials == 0 or len(np.unique(indices)) != n_trials or indices.min() < 0:
        raise ValueError("trial_indices must be distinct non-negative integers, at least one")

    groups = []
    for start in range(0, n_trials, lanes):
        trial = np.resize(np.arange(start, min(start + lanes, n_trials)), lanes)  # pad by repeating
        keys = trial_keys(seed, indices[trial], config.train.data_seed)
        params, opt_state, task_state = compiled.init_group(keys["init"], keys["task"])
        init_params = jax.tree.map(jnp.copy, params)  # train_block donates (overwrites) params
        state = {"params": params, "init_params": init_params, "opt_state": opt_state, "task_state": task_state,
                 "data_keys": keys["data"], "eval_keys": keys["eval"]}
        groups.append(Group(state, trial, np.arange(lanes) < min(lanes, n_trials - start)))

    status = np.full(n_trials, BUDGET, dtype=object)
    convergence_step = np.full(n_trials, -1, dtype=np.int64)
    divergence_step = np.full(n_trials, -1, dtype=np.int64)
    steps_run = np.zeros(n_trials, dtype=np.int64)
    final: dict[str, np.ndarray] = {}
    curve_rows: list[dict[str, np.ndarray]] = []

    def record(step: int, group: Group, metrics: dict, train_loss: np.ndarray) -> int:
        """Store one evaluation for the group's active slots; return how many trials finished."""
        slots = np.flatnonzero(group.active)
        trials = group.trial[slots]
        row = {"trial_index": indices[trials], "step": np.full(len(slots), step, dtype=np.int64),
               "train_loss": train_loss[slots]}
        row.update({name: value[slots] for name, value in metrics.items() if name != "finite"})
        curve_rows.append(row)
        steps_run[trials] = step
        for name, value in row.items():
            if name not in ("trial_index", "step"):
                final.setdefault(name, np.full(n_trials, np.nan))[trials] = value
        # Diverged: non-finite parameters, held-out loss, or mean training loss over the block (at
        # step 0 the NaN training loss means "no loss yet"). A trial that converged earlier and kept
        # training (stop_on_convergence = False) has one status: diverged, not converged.
        diverged = ~metrics["finite"] | ~np.isfinite(metrics["val_loss"])
        if step > 0:
            diverged |= ~np.isfinite(train_loss)
        finished = 0
        for slot, trial in zip(slots, trials):
            if diverged[slot]:
                status[trial] = DIVERGED
                divergence_step[trial] = step
                convergence_step[trial] = -1
            elif convergence_step[trial] < 0 and metrics["val_accuracy"][slot] >= train.target_accuracy:
                convergence_step[trial] = step
                status[trial] = CONVERGED
            else:
                continue
            if status[trial] == DIVERGED or train.stop_on_convergence:
                group.active[slot] = False
                finished += 1
        return finished

    no_loss = np.full(lanes, np.nan, np.float32)
    for group, metrics in zip(groups, _evaluate(compiled, groups, 0, train.target_accuracy)):
        record(0, group, metrics, no_loss)
    for block in range(train.max_steps // train.eval_every):
        groups = [g for g in groups if g.active.any()]
        if not groups:
            break
        first_step = block * train.eval_every
        active_before = sum(int(g.active.sum()) for g in groups)
        losses = []
        for g in groups:  # dispatched asynchronously; the device works through them in order
            s = g.state
            s["params"], s["opt_state"], loss = compiled.train_block(
                s["params"], s["opt_state"], s["task_state"], s["data_keys"], first_step, jnp.asarray(g.active))
            losses.append(loss)
        step = first_step + train.eval_every
        finished = sum(record(step, g, m, np.asarray(loss)) for g, m, loss in
                       zip(groups, _evaluate(compiled, groups, step, train.target_accuracy), losses))
        if on_block is not None:
            on_block(finished, active_before * train.eval_every)
        live = [(gi, si) for gi, g in enumerate(groups) for si in np.flatnonzero(g.active)]
        if live and -(-len(live) // lanes) < len(groups):  # the live trials fit in fewer groups
            groups = _regroup(groups, live, np.ones(len(live), bool), lanes)

    curves = {name: np.concatenate([row[name] for row in curve_rows]) for name in curve_rows[0]}
    return ChunkResult(config=config, seed=seed, trial_indices=indices, status=status.astype(str),
                       convergence_step=convergence_step, divergence_step=divergence_step, steps_run=steps_run,
                       final_metrics=final, curves=curves, wall_seconds=time.perf_counter() - started, lanes=lanes)
