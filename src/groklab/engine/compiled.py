"""The compiled pieces of the engine, written for one trial and vmapped over a group of lanes.

`train_block` runs K optimizer steps in one `lax.scan` with data drawn on the device inside the
scan; `evaluate` measures held-out and training metrics. Neither syncs with the host.

Precision. A float64 trial is traced under `jax.enable_x64` (its caller holds `precision_scope`
for every call and every host-side array it builds); x64 is never switched on process-wide, because
that would change the default dtypes (and so the random draws) of float32 trials in the same process.
Its init and data split are the float32 trial's, drawn with x64 off and then upcast, so the two
precisions start from identical weights; parameters, optimizer state, data and loss are then float64.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import jax
import jax.numpy as jnp
import optax

from groklab.losses import accuracy


def precision_scope(precision: str):
    """The context a trial of this precision runs in: x64 on for float64, nothing for float32."""
    return jax.enable_x64(True) if precision == "float64" else contextlib.nullcontext()


def upcast(tree):
    """float32 leaves as float64 (call under x64); integer, key and float64 leaves unchanged."""
    return jax.tree.map(lambda x: x.astype(jnp.float64) if x.dtype == jnp.float32 else x, tree)


@dataclass(frozen=True, eq=False)
class CompiledTrial:
    task: Any
    model: Any
    loss: Any  # (outputs, labels) -> mean loss
    optimizer: optax.GradientTransformation
    batch_size: int | None
    steps_per_block: int
    lanes: int  # trials computed side by side in one vmapped group (the only compiled batch size)
    probes: tuple = ()  # functions (model, task, params, init_params, task_state) -> dict of scalars
    precision: str = "float32"  # TrainSpec.precision; float64 is traced under x64 (module docstring)
    _eval_fns: dict = field(default_factory=dict, repr=False)

    def init(self, init_key, task_key):
        init_key, task_key = jax.random.wrap_key_data(init_key), jax.random.wrap_key_data(task_key)
        params = self.model.init(init_key)
        return params, self.optimizer.init(params), self.task.init_state(task_key)

    def _one_trial_block(self, params, opt_state, task_state, data_key, first_step, active):
        data_key = jax.random.wrap_key_data(data_key)
        def step(carry, t):
            params, opt_state, loss_sum = carry
            x, y = self._as_precision(self.task.train_batch(task_state, jax.random.fold_in(data_key, t), self.batch_size))
            loss, grads = jax.value_and_grad(lambda p: self.loss(self.model.apply(p, x), y))(params)
            updates, opt_state = self.optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state, loss_sum + loss), None

        steps = first_step + jnp.arange(self.steps_per_block, dtype=jnp.uint32)
        zero = jnp.zeros((), jnp.float64 if self.precision == "float64" else jnp.float32)
        (new_params, new_opt_state, loss_sum), _ = jax.lax.scan(step, (params, opt_state, zero), steps)
        # Finished trials waiting to be compacted away keep their final parameters.
        keep = lambda new, old: jnp.where(active, new, old)  # noqa: E731
        return (jax.tree.map(keep, new_params, params), jax.tree.map(keep, new_opt_state, opt_state),
                loss_sum / self.steps_per_block)

    def _one_trial_eval(self, params, init_params, task_state, eval_key, step, part):
        """Sums over part `part` of the held-out batch (so parts combine exactly), plus, on part 0,
        a finiteness flag and metrics on the whole training set for finite tasks."""
        eval_key = jax.random.fold_in(jax.random.wrap_key_data(eval_key), step)
        x, y = self._as_precision(self.task.eval_batch(task_state, eval_key, part))
        out = self.model.apply(params, x)
        count = y.shape[0]
        # Real-valued targets (task.regression) have no accuracy: NaN is recorded and never converges,
        # so such trials run their whole budget and are read through val_loss (the test MSE).
        correct = jnp.nan if self.task.regression else accuracy(out, y) * count
        metrics = {"val_correct": correct, "val_loss_sum": self.loss(out, y) * count}
        if part == 0:
            leaves = jax.tree.leaves(params)
            metrics["finite"] = jnp.all(jnp.stack([jnp.all(jnp.isfinite(leaf)) for leaf in leaves]))
            for probe in self.probes:
                metrics.update(probe(self.model, self.task, params, init_params, task_state))
            train = self.task.train_set(task_state)
            if train is not None:
                train = self._as_precision(train)
                out_train = self.model.apply(params, train[0])
                metrics["train_accuracy"] = (jnp.nan if self.task.regression
                                             else accuracy(out_train, train[1]))
                metrics["train_set_loss"] = self.loss(out_train, train[1])
        return metrics

    def _as_precision(self, tree):
        """Data (inputs, real-valued targets) in the trial's precision."""
        return upcast(tree) if self.precision == "float64" else tree

    # Each compiled function takes exactly one group of `lanes` trials. XLA's arithmetic for a
    # vmapped trial can depend on the vmapped size (kernel choice, reduction order), so a fixed
    # group size makes a trial's result bit-identical whatever its chunk, and compiles each
    # function once per config instead of once per chunk size.
    @cached_property
    def init_group(self):
        draw = jax.jit(jax.vmap(self.init))
        if self.precision == "float32":
            return draw
        start = jax.jit(lambda params: jax.vmap(self.optimizer.init)(params))

        def init_float64(init_key, task_key):
            with jax.enable_x64(False):  # the float32 trial's init and data split, bit for bit
                params, _, task_state = draw(init_key, task_key)
            with jax.enable_x64(True):
                params = upcast(params)
                return params, start(params), upcast(task_state)

        return init_float64

    @cached_property
    def train_block(self):
        return jax.jit(jax.vmap(self._one_trial_block, in_axes=(0, 0, 0, 0, None, 0)), donate_argnums=(0, 1))

    def evaluate(self, part: int):
        if part not in self._eval_fns:
            one = lambda p, p0, s, k, step: self._one_trial_eval(p, p0, s, k, step, part)  # noqa: E731
            self._eval_fns[part] = jax.jit(jax.vmap(one, in_axes=(0, 0, 0, 0, None)))
        return self._eval_fns[part]
