"""The task protocol the engine relies on. Task code is written for ONE trial; the engine vmaps it."""
from __future__ import annotations

from typing import Any, Protocol

import jax

Batch = tuple[jax.Array, jax.Array]  # (inputs, labels): labels are +-1 floats, or int classes


class Task(Protocol):
    spec: Any
    input_dim: int
    num_classes: int  # 1: a single real output scored against +-1 labels; p > 1: p-way classification
    train_size: int | None  # None: online (a fresh batch every step); m: a fixed training set of m points

    def init_state(self, key: jax.Array) -> Any:
        """Per-trial fixed randomness (the hidden support, the training sample), as a pytree."""

    def train_batch(self, state: Any, key: jax.Array, batch_size: int | None) -> Batch:
        """A training batch; batch_size None means the whole (finite) training set."""

    eval_parts: tuple[int, ...]  # sizes of the held-out batch's parts (see eval_batch)

    def eval_batch(self, state: Any, key: jax.Array, part: int = 0) -> Batch:
        """Part `part` of the held-out data (noiseless labels); validation accuracy and t_c are
        measured on all parts together. With two parts the engine scores part 1 only for trials
        that are perfect on part 0, which is exact for a target accuracy of 1."""

    def train_set(self, state: Any) -> Batch | None:
        """The full training set for finite tasks (train accuracy is measured on it), else None."""
