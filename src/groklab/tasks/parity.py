"""(n, k) sparse parity (Barak et al. 2022, section 2): y = prod_{i in S} x_i, x ~ Unif{+-1}^n.

Variants: online (fresh batch per step) or a finite sample of m points (many passes), label noise
q (train labels flipped with probability q; accuracy always measured on noiseless labels), and the
disjoint variant where S has exactly one coordinate in each of k equal blocks of n/k coordinates.
"""
from __future__ import annotations

import math
from typing import ClassVar, Literal

import jax
import jax.numpy as jnp
from pydantic import Field, model_validator

from groklab import registry
from groklab.errors import GroklabInputError
from groklab.specs import MAX_SIZE, Spec
from groklab.tasks.bits import all_sign_vectors, random_signs


class ParitySpec(Spec):
    name: Literal["parity"] = "parity"
    n: int = Field(50, gt=0, le=MAX_SIZE, description="input dimension")
    k: int = Field(3, gt=0, description="size of the hidden support S")
    samples: int | None = Field(None, gt=0, le=MAX_SIZE, description="finite training set size m; None = online")
    label_noise: float = Field(0.0, ge=0, lt=0.5, description="q: probability a training label is flipped")
    disjoint: bool = Field(False, description="S has one coordinate in each of k blocks of n/k")
    random_labels: bool = Field(False, description="control: training labels are fair coins independent of x "
                                "(validation labels stay chi_S), as in Barak et al.'s hidden-progress control")
    eval_samples: int = Field(8192, gt=0, le=MAX_SIZE, description="fresh validation samples per evaluation (2^13 in the paper)")
    eval_screen_samples: int = Field(1024, gt=0, description="screen: only trials perfect on these many of the "
                                     "validation samples are scored on the rest (exact for t_c, ~8x cheaper)")
    exact_eval_max_n: int = Field(13, ge=0, description="evaluate exactly over all 2^n inputs when n <= this")
    default_loss: ClassVar[str] = "hinge"

    @model_validator(mode="after")
    def _check(self) -> "ParitySpec":
        if self.k > self.n:
            raise ValueError(f"k ({self.k}) must be at most n ({self.n})")
        if self.disjoint and self.n % self.k:
            raise ValueError(f"disjoint parity needs k ({self.k}) to divide n ({self.n})")
        if self.eval_screen_samples > self.eval_samples:
            raise ValueError(f"eval_screen_samples ({self.eval_screen_samples}) must be at most eval_samples "
                             f"({self.eval_samples})")
        if self.exact_eval_max_n > 20:
            raise ValueError("exact_eval_max_n above 20 would enumerate more than 2^20 inputs per evaluation")
        return self


class SparseParity:
    def __init__(self, spec: ParitySpec):
        self.spec = spec
        self.input_dim = spec.n
        self.num_classes = 1
        self.regression = False  # +-1 labels, scored by accuracy
        self.train_size = spec.samples
        self.exact_eval = spec.n <= spec.exact_eval_max_n

    def _support(self, key: jax.Array) -> jax.Array:
        n, k = self.spec.n, self.spec.k
        if self.spec.disjoint:
            block = n // k
            return jnp.arange(k) * block + jax.random.randint(key, (k,), 0, block)
        return jnp.sort(jax.random.choice(key, n, (k,), replace=False))

    def labels(self, support: jax.Array, x: jax.Array) -> jax.Array:
        return jnp.prod(x[..., support], axis=-1)

    def _noisy(self, key: jax.Array, y: jax.Array) -> jax.Array:
        if self.spec.label_noise == 0:
            return y
        flip = jax.random.bernoulli(key, self.spec.label_noise, y.shape)
        return jnp.where(flip, -y, y)

    def init_state(self, key: jax.Array) -> dict:
        support_key, sample_key, noise_key = jax.random.split(key, 3)
        state = {"support": self._support(support_key)}
        if self.spec.samples is not None:
            x = random_signs(sample_key, (self.spec.samples,), self.spec.n)
            state["x_train"] = x.astype(jnp.int8)  # +-1 fits in a byte; 4x less memory per trial
            y = random_signs(noise_key, (), self.spec.samples) if self.spec.random_labels else \
                self._noisy(noise_key, self.labels(state["support"], x))
            state["y_train"] = y
        return state

    def train_batch(self, state: dict, key: jax.Array, batch_size: int | None):
        if self.spec.samples is None:
            x_key, noise_key = jax.random.split(key)
            x = random_signs(x_key, (batch_size,), self.spec.n)
            if self.spec.random_labels:
                return x, random_signs(noise_key, (), batch_size)
            return x, self._noisy(noise_key, self.labels(state["support"], x))
        if batch_size is None:
            return state["x_train"].astype(jnp.float32), state["y_train"]
        # Minibatches drawn uniformly with replacement from the fixed sample (many passes over it).
        idx = jax.random.randint(key, (batch_size,), 0, self.spec.samples)
        return state["x_train"][idx].astype(jnp.float32), state["y_train"][idx]

    @property
    def eval_parts(self) -> tuple[int, ...]:
        """Sizes of the validation batch's parts: (screen, rest) when screening, else (all,)."""
        if self.exact_eval:
            return (2**self.spec.n,)
        screen = self.spec.eval_screen_samples
        return (screen, self.spec.eval_samples - screen) if screen < self.spec.eval_samples else (screen,)

    def eval_batch(self, state: dict, key: jax.Array, part: int = 0):
        if self.exact_eval:
            x = all_sign_vectors(self.spec.n)
        else:  # each part has its own key, so the parts together are one fresh i.i.d. batch
            x = random_signs(jax.random.fold_in(key, part), (self.eval_parts[part],), self.spec.n)
        return x, self.labels(state["support"], x)

    def train_set(self, state: dict):
        if self.spec.samples is None:
            return None
        return state["x_train"].astype(jnp.float32), state["y_train"]

    def target_family_shape(self) -> tuple[int, int, int]:
        _check_family_size(self.spec.n)
        return math.comb(self.spec.n, self.spec.k), 2**self.spec.n, 1

    def target_family(self, max_hypotheses: int | None = None, seed: int = 0):
        """Every (n,k)-parity chi_S on all 2^n inputs (n <= 16), or `max_hypotheses` supports drawn
        uniformly without replacement (every k-subset equally likely). The parities are pairwise
        orthonormal."""
        import itertools

        import numpy as np

        from groklab.tasks.family import TargetFamily

        n, k = self.spec.n, self.spec.k
        _check_family_size(n)
        count = math.comb(n, k)  # at most C(16, 8) = 12870: every support fits in memory
        supports = np.array(list(itertools.combinations(range(n), k)), dtype=np.int64)
        if max_hypotheses is not None and max_hypotheses < count:
            rng = np.random.default_rng(seed)
            supports = supports[np.sort(rng.choice(count, size=max_hypotheses, replace=False))]
        bits = (np.arange(2**n, dtype=np.uint32)[:, None] >> np.arange(n, dtype=np.uint32)) & 1
        x = (1.0 - 2.0 * bits).astype(np.float32)  # numpy twin of all_sign_vectors: usable while tracing
        targets = np.prod(x[:, supports], axis=2).T  # (H, 2^n)
        return TargetFamily(f"parity(n={n},k={k})", x, np.full(2**n, 2.0**-n), targets.astype(np.float32),
                            supports, exhaustive=len(supports) == count,
                            note="" if len(supports) == count else f"{len(supports)} of {count} supports, uniform")


def _check_family_size(n: int) -> None:
    if n > 16:
        raise GroklabInputError(f"task.n: the parity family enumerates all 2^n inputs; n <= 16 (got {n})")


@registry.tasks.register("parity", version="1", spec_class=ParitySpec,
                         description="(n,k) sparse parity: online, finite-sample, noisy, disjoint")
def build_parity(spec: ParitySpec) -> SparseParity:
    return SparseParity(spec)
