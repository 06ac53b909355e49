"""groklab measurements: pure training throughput of `train_block`, and end-to-end `train_chunk`.

Every function here runs inside a fresh process that has already called
`groklab.runtime.configure_process(core=...)` (single-threaded XLA, pinned to one core) before
importing JAX; `run.py` takes care of that.

Training throughput is what the PyTorch loop measures: optimizer steps only, no evaluation.
A chunk of E trials is initialised by the engine, then `train_block` (a jitted lax.scan of
`eval_every` steps, vmapped over a group of `lanes` trials) is called back to back; one call is made
first to compile. Trial-steps/s = E * steps / seconds.
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
    """A chunk of E trials ready to run `train_block` back to back: E / lanes groups, one
    asynchronous call each per block, as `train_chunk` dispatches them."""

    def __init__(self, width: int, chunk: int, seed: int = 0, lanes: int | None = None, config=None):
        import jax.numpy as jnp
        import numpy as np

        from groklab.engine.keys import trial_keys
        from groklab.engine.train import compiled_trial

        self.config = parity_config(width) if config is None else config  # any config: grokking_bench.py
        self.compiled = compiled_trial(self.config, lanes)
        self.lanes = self.compiled.lanes
        if chunk % self.lanes:
            raise ValueError(f"chunk size {chunk} is not a multiple of the lanes ({self.lanes})")
        self.chunk = chunk
        self.steps_per_block = self.config.train.eval_every
        self.first_step = 0
        self.groups = []
        for start in range(0, chunk, self.lanes):
            keys = trial_keys(seed, np.arange(start, start + self.lanes))
            params, opt, state = self.compiled.init_group(keys["init"], keys["task"])
            self.groups.append([params, opt, state, keys["data"], jnp.ones(self.lanes, bool)])

    def block(self):
        losses = []
        for group in self.groups:
            params, opt, state, data_keys, active = group
            group[0], group[1], loss = self.compiled.train_block(params, opt, state, data_keys,
                                                                 self.first_step, active)
            losses.append(loss)
        self.first_step += self.steps_per_block
        return losses

    @property
    def params(self):
        return [group[0] for group in self.groups]

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

    def lowered_block(self):
        """The compiled `train_block` of one call, for its HLO."""
        params, opt, state, data_keys, active = self.groups[0]
        return self.compiled.train_block.lower(params, opt, state, data_keys, self.first_step, active).compile()


def training_throughput(width: int, chunk: int, seconds: float = 3.0, min_windows: int = 3, seed: int = 0,
                        lanes: int | None = None, config=None) -> dict:
    """Trial-steps/s of `train_block` alone for one chunk size.

    After the compiling warm-up block, timed windows of whole blocks (about a quarter of `seconds`
    each, at least one block) run until `seconds` have been timed and at least `min_windows`
    windows done. Reports the best window and the median one. `config`: any other TrialConfig to
    train (default: the parity config at `width`)."""
    trainer = _Trainer(width, chunk, seed, lanes, config)
    warmup_seconds = trainer.warm_up()
    steps_per_block = chunk * trainer.steps_per_block
    one = trainer.run_blocks(1)  # calibration, and the first window
    rates, spent = [steps_per_block / one], one
    blocks = max(1, round(seconds / 4 / one))
    while spent < seconds or len(rates) < min_windows:
        elapsed = trainer.run_blocks(blocks)
        rates.append(blocks * steps_per_block / elapsed)
        spent += elapsed
    return {"width": width, "chunk": chunk, "lanes": trainer.lanes, "best": max(rates), "median": _median(rates),
            "windows": rates, "blocks_per_window": blocks, "timed_seconds": spent, "warmup_seconds": warmup_seconds}


def _median(values):
    ordered = sorted(values)
    middle = len(ordered) // 2
    return ordered[middle] if len(ordered) % 2 else (ordered[middle - 1] + ordered[middle]) / 2


def scaling_worker(width: int, chunk: int, seconds: float, barrier=None, windows: int = 4, seed: int = 0) -> dict:
    """One worker of the scaling test: warm up and calibrate, wait at `barrier` for the others (so
    all time the same stretch of wall-clock), then run `windows` windows of blocks, about `seconds`
    in all. Reports the best window, the median one and the whole stretch, in trial-steps/s."""
    trainer = _Trainer(width, chunk, seed)
    trainer.warm_up()
    one = trainer.run_blocks(1)
    blocks = max(1, round(seconds / windows / one))
    steps = chunk * blocks * trainer.steps_per_block
    if barrier is not None:
        barrier.wait()
    started_at = time.time()
    times = [trainer.run_blocks(blocks) for _ in range(windows)]
    rates = [steps / t for t in times]
    return {"best": max(rates), "median": _median(rates), "overall": steps * windows / sum(times), "windows": rates,
            "started_at": started_at, "finished_at": started_at + sum(times)}


def end_to_end(width: int = 100, trials: int = 64, seed: int = 0) -> dict:
    """`train_chunk` on (50,3) parity: training, evaluation every `eval_every` steps, convergence
    checks and compaction, as a real experiment runs it. Compiled once on a tiny run first."""
    import numpy as np

    from groklab.engine import train_chunk

    config = parity_config(width)
    started = time.perf_counter()
    # A whole run on another seed compiles every program the measured run uses (train_block, the
    # screening evaluation and the one-trial evaluation of the second part), or loads them from the cache.
    train_chunk(config, seed + 1, np.arange(trials))
    compile_seconds = time.perf_counter() - started
    result = train_chunk(config, seed, np.arange(trials))
    converged = result.status == "converged"
    return {"width": width, "trials": trials, "wall_seconds": result.wall_seconds,
            "trial_steps": result.trial_steps, "trial_steps_per_second": result.trial_steps / result.wall_seconds,
            "converged": int(converged.sum()), "max_steps": config.train.max_steps,
            "median_convergence_step": float(np.median(result.convergence_step[converged])) if converged.any()
            else None, "warmup_seconds": compile_seconds}


def _hlo_ops(hlo_text: str) -> dict[str, str]:
    """instruction name -> 'opcode type (jax op)' from compiled HLO text, to label profile events."""
    import re

    ops = {}
    pattern = re.compile(r"^\s*(?:ROOT )?%?([\w.\-]+) = ([\w\[\],{}:]+) ([\w-]+)\(")
    for line in hlo_text.splitlines():
        match = pattern.match(line)
        if not match:
            continue
        name, shape, opcode = match.groups()
        if opcode == "fusion":
            opcode = "ynn-fusion" if "__ynn_fusion" in line else "fusion"
        op_name = re.search(r'op_name="([^"]*)"', line)
        source = ""
        if op_name:
            parts = [p for p in op_name.group(1).split("/") if p not in ("while", "body", "closed_call", "vmap()")]
            source = "/".join(parts[-2:])
        ops[name] = f"{opcode} {shape.split('{')[0]} ({source})" if source else f"{opcode} {shape.split('{')[0]}"
    return ops


def op_profile(width: int, chunk: int = 16, blocks: int = 1, top: int = 10, seed: int = 0,
               lanes: int | None = None) -> dict:
    """Where `train_block`'s time goes: XLA:CPU per-op times from a `jax.profiler` trace of `blocks`
    blocks (after warm-up). Profiling adds a fixed cost per op, so the shares, not the absolute
    times, are the result; tiny ops (the PRNG's inner loops) look larger than they are."""
    import collections
    import glob
    import gzip
    import json
    import tempfile

    import jax

    trainer = _Trainer(width, chunk, seed, lanes)
    trainer.warm_up()
    unprofiled = trainer.run_blocks(blocks)
    hlo = trainer.lowered_block().as_text()
    labels = _hlo_ops(hlo)
    with tempfile.TemporaryDirectory() as log_dir:
        with jax.profiler.trace(log_dir, create_perfetto_trace=True):
            trainer.run_blocks(blocks)
        (trace_file,) = glob.glob(f"{log_dir}/**/*perfetto_trace.json.gz", recursive=True)
        with gzip.open(trace_file) as f:
            trace = json.load(f)
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    per_op: collections.Counter = collections.Counter()
    for event in events:
        # `while` events contain their body's ops (the PRNG's round loops), so they are skipped.
        if event.get("ph") == "X" and event.get("name") in labels and not labels[event["name"]].startswith("while"):
            per_op[event["name"]] += event.get("dur", 0.0)
    total = sum(per_op.values())
    trial_steps = chunk * blocks * trainer.steps_per_block
    rows = [{"op": name, "what": labels[name], "share": us / total, "us_per_trial_step": us / trial_steps}
            for name, us in per_op.most_common(top)]
    return {"width": width, "chunk": chunk, "lanes": trainer.lanes, "rows": rows, "profiled_us_per_trial_step": total / trial_steps,
            "unprofiled_us_per_trial_step": unprofiled * 1e6 / trial_steps}
