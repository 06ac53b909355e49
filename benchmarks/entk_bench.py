"""The eNTK probe (issue 9, deliverable 8b): time and peak memory of groklab's eNTK Gram
(`groklab.probes.entk_gram.entk_gram`, jitted) against `torch.func` (the PyTorch NTK tutorial's
`vmap(jacrev)` Jacobian contraction, `torch_grokking.torch_entk`) on the same network and probe set.

Network: the quadratic net at p = 47, h = 188 (26,508 parameters), both frameworks loaded with the
same He-normal draw; g = the first logit; probe set = the first n of the training pairs (n = 256,
the probe's default, and n = 1224, the whole training set). Each (method, n) runs in its own
process pinned to one core. Peak memory: after a warm-up Gram on 8 points (library start-up; for
groklab the full-size program is compiled ahead of time too), the kernel's peak-RSS mark is reset
(`/proc/self/clear_refs`) and the first full-size call's VmHWM minus the RSS just before it is
its peak memory. Time: the best of the calls after it.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import torch_grokking  # noqa: E402  (imports no torch at module level)
from harness import MAX_BACKGROUND_CORES, background_load, load_log, load_note, run_one  # noqa: E402

P = 47
WARMUP_POINTS = 8
# "probe": what the `entk` probe computes for this model (method auto: the quadratic network's closed
# form, HasExactNtk); the others are the generic `entk_gram` methods any model gets.
GROKLAB_METHODS = ("probe", "auto", "jacobian", "ntvp")
# The tutorial's two-Jacobian function, and one Jacobian contracted with itself (lighter): name -> once
TORCH_METHODS = {"torch.func tutorial": False, "torch.func J J^T": True}
TIMING_REPEATS = {"ntvp": 1}  # NTK-vector products take seconds at n = 1224: one timed call after the first


def groklab_entk(p: int, n: int, method: str, repeats: int = 3, seed: int = 0) -> dict:
    """groklab's Gram of the first logit on the first n training pairs (runs in a pinned JAX process)."""
    import jax
    import jax.numpy as jnp
    import numpy as np

    from groklab import defaults, registry
    from groklab.components import ensure_registered
    from groklab.probes.entk import gram as probe_gram
    from groklab.probes.entk_gram import choose_method, entk_gram

    ensure_registered()
    entry = registry.models.get("wg-quadratic")
    model = entry.build(entry.spec_class(), 2 * p, p)
    w, v = torch_grokking.he_normal_weights(p, model.width, seed)
    params = {"w": jnp.asarray(w), "v": jnp.asarray(v)}
    a, b, _ = torch_grokking.train_set(p, seed)
    x = jnp.concatenate([jax.nn.one_hot(a[:n], p), jax.nn.one_hot(b[:n], p)], axis=1)
    fn = lambda params, x: model.apply(params, x)[:, 0]  # noqa: E731  (g = f_1, the probe's classification output)
    if method == "probe":
        gram = jax.jit(lambda params, x: probe_gram(model, "first-logit", params, x, "auto",
                                                    defaults.ENTK_MEMORY_BYTES))
    else:
        gram = jax.jit(lambda params, x: entk_gram(fn, params, x, method, defaults.ENTK_MEMORY_BYTES))
    gram(params, x[:WARMUP_POINTS]).block_until_ready()
    started = time.perf_counter()
    compiled = gram.lower(params, x).compile()
    compile_seconds = time.perf_counter() - started
    baseline = torch_grokking.reset_peak()
    started = time.perf_counter()
    k = compiled(params, x).block_until_ready()
    first = time.perf_counter() - started
    peak = torch_grokking.memory_now()["VmHWM"] - baseline
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        compiled(params, x).block_until_ready()
        times.append(time.perf_counter() - started)
    chosen = {"auto": lambda: choose_method(fn, params, x), "probe": lambda: "exact closed form"}.get(method)
    return {"method": method, "chosen": chosen() if chosen else method, "p": p, "n": n,
            "first_seconds": first, "best_seconds": min(times), "median_seconds": sorted(times)[len(times) // 2],
            "compile_seconds": compile_seconds, "peak_bytes": peak, "memory_budget": defaults.ENTK_MEMORY_BYTES,
            "parameters": int(w.size + v.size), "gram": np.asarray(k)}


def measure(quick: bool, log=print) -> dict:
    sizes = (256,) if quick else (256, 1224)
    repeats = 2 if quick else 3
    out: dict = {"p": P, "h": 4 * P, "sizes": {}}
    for n in sizes:
        runs: dict = {}
        for name, once in list(TORCH_METHODS.items())[:1 if quick else None]:
            log(f"eNTK p = {P}, n = {n}: {name} ...")
            runs[name] = run_one(torch_grokking.torch_entk, P, n, repeats=repeats, once=once, use_jax=False)
            _log_run(log, runs[name])
        for method in GROKLAB_METHODS:
            log(f"eNTK p = {P}, n = {n}: groklab entk_gram, method {method} ...")
            runs[f"groklab {method}"] = run_one(groklab_entk, P, n, method, repeats=TIMING_REPEATS.get(method, repeats))
            _log_run(log, runs[f"groklab {method}"])
        reference = runs["torch.func tutorial"]["gram"]
        for run in runs.values():
            gram = run.pop("gram")
            run["relative_difference"] = float(abs(gram - reference).max() / abs(reference).max())
        out["sizes"][n] = summarize(runs, n)
    return out


def _log_run(log, run: dict) -> None:
    log(f"  {run['best_seconds']:.3f} s (median {run['median_seconds']:.3f}, first {run['first_seconds']:.3f}), "
        f"peak {run['peak_bytes'] / 2**20:.0f} MiB{load_log(run)}")


def summarize(runs: dict, n: int) -> dict:
    some = next(iter(runs.values()))
    parameters = some["parameters"]
    budget = runs["groklab auto"]["memory_budget"]
    torch_best = min((r for k, r in runs.items() if k.startswith("torch")), key=lambda r: r["best_seconds"])
    return {"n": n, "parameters": parameters, "jacobian_bytes": n * parameters * 4, "gram_bytes": n * n * 4,
            "budget": budget, "bound": budget + n * n * 4, "runs": runs, "torch_best": torch_best}


def _disturbed(*measurements) -> str:
    worst = max(background_load(m.get("load")) for m in measurements)
    return f"; disturbed: {worst:.2f} cores of background load" if worst > MAX_BACKGROUND_CORES else ""


def targets(entk: dict) -> list[dict]:
    rows = []
    for n, s in entk["sizes"].items():
        torch_best = s["torch_best"]
        for name, label in (("groklab probe", "the entk probe (closed form)"), ("groklab auto", "generic entk_gram (auto)")):
            run = s["runs"][name]
            ratio = torch_best["best_seconds"] / run["best_seconds"]
            rows.append({"target": f"eNTK Gram, n = {n}: {label} no slower than torch.func",
                         "measured": f"{run['best_seconds']:.3f} s vs {torch_best['best_seconds']:.3f} s "
                                     f"({torch_best['method']}): {ratio:.2f}x{_disturbed(run, torch_best)}",
                         "pass": ratio >= 1.0, "lanes": "", "lanes_pass": None})
            rows.append({"target": f"eNTK Gram, n = {n}: {label} peak memory within its bound (budget "
                                   f"{s['budget'] / 2**20:.0f} MiB + the n x n Gram = {s['bound'] / 2**20:.0f} MiB)",
                         "measured": f"{run['peak_bytes'] / 2**20:.0f} MiB (torch.func "
                                     f"{torch_best['peak_bytes'] / 2**20:.0f} MiB; full Jacobian "
                                     f"{s['jacobian_bytes'] / 2**20:.0f} MiB)",
                         "pass": run["peak_bytes"] <= s["bound"], "lanes": "", "lanes_pass": None})
    return rows


def report_lines(entk: dict) -> list[str]:
    lines = ["### The eNTK probe: groklab `entk_gram` vs `torch.func`", ""]
    add = lines.append
    add(f"The eNTK Gram K = J J^T of the first logit of the quadratic net (p = {entk['p']}, h = {entk['h']}), "
        "both frameworks on the same He-normal weights and the first n training pairs; one process per row, "
        "pinned to one core, single-threaded. Time: best call (median call; the first full-size call, whose "
        "memory is measured) [background load]. Peak memory: the peak resident set during the first full-size "
        "call over the resident set just before it (`/proc/self/status` VmHWM after `clear_refs`), after a "
        f"warm-up Gram on {WARMUP_POINTS} points. Bound: groklab's `memory_bytes` budget for Jacobian or "
        "product rows held at once plus the n x n Gram it returns. Difference: max |K - K_tutorial| / max "
        "|K_tutorial|.")
    add("")
    add("| n | method | seconds | peak memory | within bound | difference |")
    add("|---:|---|---:|---:|---|---:|")
    for n, s in entk["sizes"].items():
        for name, run in s["runs"].items():
            label = f"{name} ({run['chosen']})" if name in ("groklab auto", "groklab probe") else name
            within = ("yes" if run["peak_bytes"] <= s["bound"] else "no") if name.startswith("groklab") else "-"
            add(f"| {n} | {label} | {run['best_seconds']:.3f} ({run['median_seconds']:.3f}; first "
                f"{run['first_seconds']:.3f}) [{load_note(run.get('load'))}] | {run['peak_bytes'] / 2**20:.0f} MiB "
                f"| {within} | {run['relative_difference']:.1e} |")
    add("")
    sizes = ", ".join(f"n = {n}: J is {s['jacobian_bytes'] / 2**20:.0f} MiB, bound {s['bound'] / 2**20:.0f} MiB"
                      for n, s in entk["sizes"].items())
    add(f"{next(iter(entk['sizes'].values()))['parameters']:,} parameters; {sizes}. torch.func materializes the "
        "full (n, P) Jacobian (the tutorial's function twice, for x1 and x2); groklab's Jacobian contraction "
        "holds it whole only when it fits the budget and otherwise assembles the Gram from row blocks with "
        "`lax.map`; NTK-vector products hold a block of columns.")
    add("")
    return lines


def method_lines() -> list[str]:
    return [
        "- **eNTK** (`benchmarks/entk_bench.py`, `benchmarks/torch_grokking.py`): groklab "
        "`jax.jit(lambda params, x: entk_gram(f_1, params, x, method, memory_bytes))`, compiled ahead of "
        "time; torch.func: the tutorial's `empirical_ntk_jacobian_contraction` (`vmap(jacrev(fnet_single), "
        "(None, 0))` on x1 and on x2, `einsum('Naf,Mbf->NMab')` per parameter tensor, summed), and a lighter "
        "variant that computes the Jacobian once and returns J J^T; the faster torch.func variant is the "
        "target's reference.",
    ]
