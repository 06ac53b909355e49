"""The compiled pieces of the engine, written for one trial and vmapped over a group of lanes.

`train_block` runs K optimizer steps in one `lax.scan` with data drawn on the device inside the
scan; `evaluate` measures held-out and training metrics. Neither syncs with the host.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import jax
import jax.numpy as jnp
import optax

from groklab.losses import accuracy


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
    _eval_fns: dict = field(default_factory=dict, repr=False)

    def init(self, init_key, task_key):
        init_key, task_key = jax.random.wrap_key_data(init_key), jax.random.wrap_key_data(task_key)
        params = self.model.init(init_key)
        return params, self.optimizer.init(params), self.task.init_state(task_key)

    def _one_trial_block(self, params, opt_state, task_state, data_key, first_step, active):
        data_key = jax.random.wrap_key_data(data_key)
        def step(carry, t):
            params, opt_state, loss_sum = carry
            x, y = self.task.train_batch(task_state, jax.random.fold_in(data_key, t), self.batch_size)
            loss, grads = jax.value_and_grad(lambda p: self.loss(self.model.apply(p, x), y))(params)
            updates, opt_state = self.optimizer.update(grads, opt_state, params)
            return (optax.apply_updates(params, updates), opt_state, loss_sum + loss), None

        steps = first_step + jnp.arange(self.steps_per_block, dtype=jnp.uint32)
        (new_params, new_opt_state, loss_sum), _ = jax.lax.scan(step, (params, opt_state, jnp.float32(0)), steps)
        # Finished trials waiting to be compacted away keep their final parameters.
        keep = lambda new, old: jnp.where(active, new, old)  # noqa: E731
        return (jax.tree.map(keep, new_params, params), jax.tree.map(keep, new_opt_state, opt_state),
                loss_sum / self.steps_per_block)

    def _one_trial_eval(self, params, init_params, task_state, eval_key, step, part):
        """Sums over part `part` of the held-out batch (so parts combine exactly), plus, on part 0,
        a finiteness flag and metrics on the whole training set for finite tasks."""
        eval_key = jax.random.fold_in(jax.random.wrap_key_data(eval_key), step)
        x, y = self.task.eval_batch(task_state, eval_key, part)
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
                out_train = self.model.apply(params, train[0])
                metrics["train_accuracy"] = (jnp.nan if self.task.regression
                                             else accuracy(out_train, train[1]))
                metrics["train_set_loss"] = self.loss(out_train, train[1])
        return metrics

    # Each compiled function takes exactly one group of `lanes` trials. XLA's arithmetic for a
    # vmapped trial can depend on the vmapped size (kernel choice, reduction order), so a fixed
    # group size makes a trial's result bit-identical whatever its chunk, and compiles each
    # function once per config instead of once per chunk size.
    @cached_property
    def init_group(self):
        return jax.jit(jax.vmap(self.init))

    @cached_property
    def train_block(self):
        return jax.jit(jax.vmap(self._one_trial_block, in_axes=(0, 0, 0, 0, None, 0)), donate_argnums=(0, 1))

    def evaluate(self, part: int):
        if part not in self._eval_fns:
            one = lambda p, p0, s, k, step: self._one_trial_eval(p, p0, s, k, step, part)  # noqa: E731
            self._eval_fns[part] = jax.jit(jax.vmap(one, in_axes=(0, 0, 0, 0, None)))
        return self._eval_fns[part]
