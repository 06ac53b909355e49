"""Modular addition as p-way classification (Mohamadi et al. 2024, section 2).

Input (e_a, e_b) in R^{2p}, label (a + b) mod p. Each trial draws its own random train/test split
of the p^2 pairs; the training set is used full-batch or in minibatches.
"""
from __future__ import annotations

from typing import ClassVar, Literal

import jax
import jax.numpy as jnp
from pydantic import Field, model_validator

from groklab import registry
from groklab.specs import Spec


def is_prime(p: int) -> bool:
    return p >= 2 and all(p % d for d in range(2, int(p**0.5) + 1))


class ModularAdditionSpec(Spec):
    name: Literal["modular-addition"] = "modular-addition"
    p: int = Field(23, gt=1, description="modulus (prime)")
    train_fraction: float = Field(0.5, gt=0, lt=1, description="fraction of the p^2 pairs used for training")
    default_loss: ClassVar[str] = "cross-entropy"

    @model_validator(mode="after")
    def _check(self) -> "ModularAdditionSpec":
        if not is_prime(self.p):
            raise ValueError(f"p ({self.p}) must be prime")
        return self


class ModularAddition:
    def __init__(self, spec: ModularAdditionSpec):
        self.spec = spec
        p = spec.p
        self.input_dim = 2 * p
        self.num_classes = p
        self.train_size = max(1, round(spec.train_fraction * p * p))
        self.test_size = p * p - self.train_size

    def _encode(self, pair_index: jax.Array):
        p = self.spec.p
        a, b = pair_index // p, pair_index % p
        x = jnp.concatenate([jax.nn.one_hot(a, p), jax.nn.one_hot(b, p)], axis=-1)
        return x, (a + b) % p

    def init_state(self, key: jax.Array) -> dict:
        order = jax.random.permutation(key, self.spec.p**2)
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


@registry.tasks.register("modular-addition", version="1", spec_class=ModularAdditionSpec,
                         description="(a + b) mod p as p-way classification on one-hot pairs")
def build_modular_addition(spec: ModularAdditionSpec) -> ModularAddition:
    return ModularAddition(spec)
