"""A fixed random split of an enumerated input set (the p^2 pairs, the p^3 triples): each trial
permutes the indices with its task key, trains on the first `train_size` and tests on the rest.
Tasks mix this in and provide `_encode(indices) -> (x, y)` and the sizes."""
from __future__ import annotations

import jax


class EnumeratedSplit:
    universe: int  # how many inputs are enumerated (indices 0..universe-1)
    train_size: int
    test_size: int

    def init_state(self, key: jax.Array) -> dict:
        order = jax.random.permutation(key, self.universe)
        return {"train": order[: self.train_size], "test": order[self.train_size:]}

    def train_batch(self, state: dict, key: jax.Array, batch_size: int | None):
        if batch_size is None:
            return self._encode(state["train"])
        idx = jax.random.randint(key, (batch_size,), 0, self.train_size)
        return self._encode(state["train"][idx])

    @property
    def eval_parts(self) -> tuple[int, ...]:
        return (self.test_size,)

    def eval_batch(self, state: dict, key: jax.Array, part: int = 0):
        return self._encode(state["test"])

    def train_set(self, state: dict):
        return self._encode(state["train"])
