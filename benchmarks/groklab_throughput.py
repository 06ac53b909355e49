"""groklab measurements: pure training throughput of `train_block`, and end-to-end `train_chunk`.

Every function here runs inside a fresh process that has already called
`groklab.runtime.configure_process(core=...)` (single-threaded XLA, pinned to one core) before
importing JAX; `run.py` takes care of that.

Training throughput is what the PyTorch loop measures: optimizer steps only, no evaluation.
A chunk of E trials is initialised with `init_chunk`, then `train_block` (a jitted lax.scan of
`eval_every` steps, vmapped over lanes of trials) is called back to back; one call is made first
to compile. Trial-steps/s = E * steps / seconds.
"""
from __future__ import annotations

import time


def parity_config(width: int, n: int = 50, k: int = 3, batch: int = 32, lr: float = 0.1, max_steps: int = 20000,
                  eval_every: int = 100):
    from groklab import make_config

    return make_config({"name": "parity", "n": n, "k": k}, {"name": "mlp", "width": width},
                       optimizer={"name": "sgd", "lr": lr}, loss={"name": "hinge"},
                       train={"batch_size": batch, "max_steps": max_steps, "eval_every": eval_every})


class _Trainer:
    """A chunk of E trials ready to run `train_block` back to back."""

    def __init__(self, width: int, chunk: int, seed: int = 0):
        import jax.numpy as jnp
        import numpy as np

        from groklab.engine.keys import trial_keys
        from groklab.engine.train import compiled_trial

        self.config = parity_config(width)
        self.compiled = compiled_trial(self.config)
        if chunk % self.compiled.lanes:
            raise ValueError(f"chunk size {chunk} is not a multiple of the lanes ({self.compiled.lanes})")
        self.chunk = chunk
        self.steps_per_block = self.config.train.eval_every
        keys = trial_keys(seed, np.arange(chunk))
        self.params, self.opt, self.state = self.compiled.init_chunk(keys["init"], keys["task"])
        self.data_keys = keys["data"]
        self.active = jnp.ones(chunk, bool)
        self.first_step = 0

    def block(self):
        self.params, self.opt, loss = self.compiled.train_block(
            self.params, self.opt, self.state, self.data_keys, self.active, self.first_step)
        self.first_step += self.steps_per_block
        return loss

    def run_blocks(self, blocks: int) -> float:
        """Run `blocks` blocks and wait for them; return the seconds taken."""
        import jax

        started = time.perf_counter()
        loss = None
        for _ in range(blocks):
            loss = self.block()
        jax.block_until_ready((self.params, loss))
        return time.perf_counter() - started

    def warm_up(self) -> float:
        """Compile (or load from the compile cache) and run one block; return the seconds taken."""
        return self.run_blocks(1)

    def blocks_for(self, seconds: float) -> int:
        """How many blocks take about `seconds` (measured on one block after warm-up)."""
        one = self.run_blocks(1)
        return max(1, round(seconds / max(one, 1e-6)))


def training_throughput(width: int, chunk: int, seconds: float = 2.0, repeats: int = 3, seed: int = 0) -> dict:
    """Trial-steps/s of `train_block` alone for one chunk size: the median of `repeats` windows."""
    trainer = _Trainer(width, chunk, seed)
    compile_seconds = trainer.warm_up()
    blocks = trainer.blocks_for(seconds / repeats)
    rates = []
    for _ in range(repeats):
        elapsed = trainer.run_blocks(blocks)
        rates.append(chunk * blocks * trainer.steps_per_block / elapsed)
    rates.sort()
    return {"width": width, "chunk": chunk, "trial_steps_per_second": rates[len(rates) // 2], "all": rates,
            "blocks_per_window": blocks, "warmup_seconds": compile_seconds}


def scaling_worker(width: int, chunk: int, seconds: float, barrier, seed: int = 0) -> dict:
    """One of the simultaneous workers of the scaling test: warm up, wait for the others, then run
    blocks for about `seconds` and report this worker's trial-steps/s."""
    trainer = _Trainer(width, chunk, seed)
    trainer.warm_up()
    blocks = trainer.blocks_for(seconds / 4)  # calibrate on a short window
    blocks = max(1, blocks * 4)
    if barrier is not None:
        barrier.wait()
    started_at = time.time()
    elapsed = trainer.run_blocks(blocks)
    return {"trial_steps_per_second": chunk * blocks * trainer.steps_per_block / elapsed, "seconds": elapsed,
            "started_at": started_at, "finished_at": started_at + elapsed}


def end_to_end(width: int = 100, trials: int = 64, seed: int = 0) -> dict:
    """`train_chunk` on (50,3) parity: training, evaluation every `eval_every` steps, convergence
    checks and compaction, as a real experiment runs it. Compiled once on a tiny run first."""
    import numpy as np

    from groklab.engine import train_chunk

    config = parity_config(width)
    warm = parity_config(width, max_steps=config.train.eval_every)
    started = time.perf_counter()
    train_chunk(warm, seed + 1, np.arange(trials))  # compiles train_block and both evaluation parts
    compile_seconds = time.perf_counter() - started
    result = train_chunk(config, seed, np.arange(trials))
    converged = result.status == "converged"
    return {"width": width, "trials": trials, "wall_seconds": result.wall_seconds,
            "trial_steps": result.trial_steps, "trial_steps_per_second": result.trial_steps / result.wall_seconds,
            "converged": int(converged.sum()), "max_steps": config.train.max_steps,
            "median_convergence_step": float(np.median(result.convergence_step[converged])) if converged.any()
            else None, "warmup_seconds": compile_seconds}
