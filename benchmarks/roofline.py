"""The single-core float32 matmul roofline, and the FLOP count of one groklab trial-step.

Roofline: the best float32 GFLOP/s one core reaches on a large square matmul, taken as the max
over XLA:CPU (a jitted `jnp.dot`, single-threaded by `configure_process`) and numpy/OpenBLAS
(one thread) for sizes 512, 1024 and 2048. Taking the highest number is the honest choice: it is
the hardest bar to compare groklab's achieved GFLOP/s against.

FLOPs per trial-step (one optimizer step of one trial, 2-layer MLP n -> r -> 1, batch B), counting
a multiply-add as 2 FLOPs and only the matmul-like work:

    forward, first layer   x @ W1          (B,n)x(n,r)  2*B*n*r
    weight gradient        x^T @ dH        (n,B)x(B,r)  2*B*n*r
    second layer fwd + bwd h @ w2, dh = dout w2^T, dw2 = h^T dout     6*B*r
    total                  flops_per_trial_step = 4*B*n*r + 6*B*r

No input gradient is needed (x is data), so there is no third B*n*r matmul. Elementwise work
(biases, ReLU and its mask, hinge, the SGD update of n*r + 2r + 1 parameters, data sampling) is not
counted: it is real time but not matmul FLOPs, so the achieved GFLOP/s is a conservative figure.
"""
from __future__ import annotations

import os
import time

SIZES = (512, 1024, 2048)


def flops_per_trial_step(n: int, width: int, batch: int) -> int:
    return 4 * batch * n * width + 6 * batch * width


def _best_seconds(fn, min_seconds: float, min_reps: int = 3) -> float:
    fn()  # warm-up (compile for JAX, page in for numpy)
    best = float("inf")
    spent, reps = 0.0, 0
    while spent < min_seconds or reps < min_reps:
        started = time.perf_counter()
        fn()
        elapsed = time.perf_counter() - started
        best = min(best, elapsed)
        spent += elapsed
        reps += 1
    return best


def matmul_gflops(sizes=SIZES, min_seconds: float = 1.0) -> dict:
    """GFLOP/s of float32 square matmuls on this (single, pinned) core, per backend and size."""
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    import jax
    import jax.numpy as jnp
    import numpy as np

    results: dict[str, dict[int, float]] = {"jax": {}, "numpy": {}}
    rng = np.random.default_rng(0)
    dot = jax.jit(jnp.dot)
    for size in sizes:
        a = rng.standard_normal((size, size), dtype=np.float32)
        b = rng.standard_normal((size, size), dtype=np.float32)
        flops = 2.0 * size**3
        out = np.empty((size, size), np.float32)
        results["numpy"][size] = flops / _best_seconds(lambda: np.matmul(a, b, out=out), min_seconds) / 1e9
        ja, jb = jnp.asarray(a), jnp.asarray(b)
        results["jax"][size] = flops / _best_seconds(lambda: dot(ja, jb).block_until_ready(), min_seconds) / 1e9
    best_backend, best_size = max(((k, s) for k in results for s in results[k]), key=lambda ks: results[ks[0]][ks[1]])
    return {"gflops": results[best_backend][best_size], "backend": best_backend, "size": best_size,
            "all": {k: {str(s): v for s, v in d.items()} for k, d in results.items()}}


if __name__ == "__main__":
    from groklab.runtime import configure_process

    configure_process(core=0)
    print(matmul_gflops())
