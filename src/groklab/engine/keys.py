"""Per-trial PRNG keys. A trial's keys depend only on (seed, trial index), never on its chunk."""
from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np

# Fixed stream labels: each stream of a trial is fold_in(trial_key, label).
INIT, TASK, DATA, EVAL = 0, 1, 2, 3


def trial_keys(seed: int, trial_indices: np.ndarray, data_seed: int | None = None) -> dict[str, jax.Array]:
    """Raw keys of each stream of each trial. `data_seed` re-draws the data stream alone: the
    trial keeps its init, task state (support, sample) and validation data."""
    base = jax.random.key(seed)
    trial = jax.vmap(lambda i: jax.random.fold_in(base, i))(jnp.asarray(trial_indices, dtype=jnp.uint32))
    fold = jax.vmap(jax.random.fold_in, in_axes=(0, None))
    streams = {"init": INIT, "task": TASK, "data": DATA, "eval": EVAL}
    keys = {name: fold(trial, label) for name, label in streams.items()}
    if data_seed is not None:
        keys["data"] = fold(keys["data"], data_seed + 1)  # + 1: never the same as the default stream
    # Raw uint32 key data (not typed keys), so the host can index and gather them like any array.
    return {name: jax.random.key_data(key) for name, key in keys.items()}
