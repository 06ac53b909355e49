"""Per-trial PRNG keys. A trial's keys depend only on (seed, trial index), never on its chunk."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

# Fixed stream labels: each stream of a trial is fold_in(trial_key, label).
INIT, TASK, DATA, EVAL = 0, 1, 2, 3


def trial_keys(seed: int, trial_indices: np.ndarray) -> dict[str, jax.Array]:
    base = jax.random.key(seed)
    trial = jax.vmap(lambda i: jax.random.fold_in(base, i))(jnp.asarray(trial_indices, dtype=jnp.uint32))
    fold = jax.vmap(jax.random.fold_in, in_axes=(0, None))
    streams = {"init": INIT, "task": TASK, "data": DATA, "eval": EVAL}
    # Raw uint32 key data (not typed keys), so the host can index and gather them like any array.
    return {name: jax.random.key_data(fold(trial, label)) for name, label in streams.items()}
