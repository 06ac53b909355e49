"""The markdown report (BENCHMARKS.md) from the raw measurements."""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import entk_bench  # noqa: E402
import grokking_bench  # noqa: E402
from harness import MAX_BACKGROUND_CORES, RETRY_BUDGET_S, load_note  # noqa: E402
from measurements import LANES_CHUNK  # noqa: E402

# ----------------------------------------------------------------------------------------------
# Report


def _n(x: float) -> str:
    return f"{x:,.0f}"


def report(results: dict) -> str:
    """The whole report; the parts not measured in this run (`run.py --part`) are left out."""
    parity = "widths" in results
    lines = _header(results)
    if parity:
        lines += _parity_results(results)
    lines += _targets(results)
    if parity:
        lines += _parity_details(results)
    if "grokking" in results:
        lines += grokking_bench.report_lines(results["grokking"])
    if "entk" in results:
        lines += entk_bench.report_lines(results["entk"])
    lines += _method(results)
    return "\n".join(lines)


def _header(results: dict) -> list[str]:
    machine, v = results["machine"], results["versions"]
    lines = []
    add = lines.append
    add("# Benchmarks")
    add("")
    add("groklab (many trials at once: JAX, `vmap` over trials, `lax.scan` over steps) against faithful "
        "one-model PyTorch loops and the machine's single-core float32 matmul roofline, measured side by "
        "side in one run of `benchmarks/run.py`" + (" (`--quick`)" if results["quick"] else "")
        + ("" if "widths" in results else " (`--part why-grok`)") + ".")
    add("")
    add(f"- Run: {results['started']}, {results['seconds'] / 60:.1f} minutes.")
    add(f"- Machine: {machine['cpu']}, {machine['cores']} cores ({machine['caches']}); every measurement "
        "in its own spawned process pinned to one core, single-threaded.")
    add(f"- Versions: groklab {v['groklab']}, jax {v['jax']} (jaxlib {v['jaxlib']}), torch {v['torch']}, "
        f"numpy {v['numpy']}, Python {v['python']}.")
    load = results.get("load")
    if load:
        start_la, end_la = machine.get("load_average_at_start"), machine.get("load_average_at_end")
        la = f" Load average {start_la[0]:.2f} at the start, {end_la[0]:.2f} at the end." if start_la and end_la else ""
        add(f"- Background load: other programs used on average {load['other_cores']:.2f} of "
            f"{load['cores']} cores during the run (steal {load['steal_cores']:.2f}).{la} Each timed number is "
            "the best of several windows, the best guard against that noise; medians are in the detail tables.")
    if "widths" in results:
        add("- Setting: (n, k) = (50, 3) online sparse parity, batch B = 32, SGD lr 0.1, hinge loss, "
            "2-layer ReLU MLP n -> r -> 1 with biases.")
    if "grokking" in results:
        add("- Why Do You Grok (issue 9): many-seed grokking of (a + b) mod 47 (quadratic net, h = 188, full-batch "
            "normalized GD) against one-model PyTorch loops, and the eNTK Gram against `torch.func`.")
    add("")
    add("## Results")
    add("")
    return lines


def _parity_results(results: dict) -> list[str]:
    roof = results["roofline"]
    lines = []
    add = lines.append
    add("| width r | PyTorch steps/s (1 trial) | groklab trial-steps/s (best chunk) | groklab / PyTorch "
        "| FLOP / trial-step | achieved GFLOP/s | roofline GFLOP/s | % of roofline |")
    add("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for width, e in results["widths"].items():
        add(f"| {width} | {_n(e['torch']['best'])} | {_n(e['groklab'][e['best_chunk']]['best'])} (E={e['best_chunk']}) "
            f"| {e['ratio']:.1f}x | {e['flops_per_trial_step'] / 1e6:.2f} M | {e['gflops']:.1f} "
            f"| {roof['gflops']:.1f} | {e['roofline_fraction']:.0%} |")
    add("")
    return lines


def _targets(results: dict) -> list[str]:
    lines = []
    add = lines.append
    add("### Targets")
    add("")
    defaults = [f"{e['default_lanes']} at width {w}" for w, e in results.get("widths", {}).items()]
    if "grokking" in results:
        defaults.append(f"{results['grokking']['default_lanes']} for grokking")
    add(f"Verdicts use groklab's default settings (the engine's default lanes: {', '.join(defaults)}) at the best chunk "
        "size; the last two columns repeat them with the best `lanes` tried (see below), an argument of "
        "`compiled_trial` and `train_chunk`. A verdict marked *disturbed* was measured while other programs kept more than "
        f"{MAX_BACKGROUND_CORES} of a core busy (after a retry): load slows whichever measurement it hits, so such a verdict is less reliable.")
    add("")
    add("| target | measured (default lanes) | result | measured (best lanes) | result |")
    add("|---|---|---|---|---|")
    verdict = lambda ok: "" if ok is None else ("PASS" if ok else "FAIL")  # noqa: E731
    for row in results["targets"]:
        add(f"| {row['target']} | {row['measured']} | {verdict(row['pass'])} | {row['lanes'] or '-'} "
            f"| {verdict(row['lanes_pass']) or '-'} |")
    add("")
    return lines


def _parity_details(results: dict) -> list[str]:
    roof = results["roofline"]
    lines = []
    add = lines.append
    add("### groklab training throughput by chunk size")
    add("")
    add("Trial-steps/s of `train_block` alone (optimizer steps, no evaluation, like the PyTorch loop): best "
        "window (median window); the background load other processes put on the machine during each "
        "measurement is in brackets.")
    add("")
    chunks = sorted({c for e in results["widths"].values() for c in e["groklab"]})
    add("| width r | PyTorch steps/s | " + " | ".join(f"E = {c}" for c in chunks) + " |")
    add("|---:|---:|" + "---:|" * len(chunks))
    for width, e in results["widths"].items():
        cells = []
        for c in chunks:
            g = e["groklab"].get(c)
            cells.append(f"{_n(g['best'])} ({_n(g['median'])}) [{load_note(g.get('load'))}]" if g else "-")
        t = e["torch"]
        add(f"| {width} | {_n(t['best'])} ({_n(t['median'])}) [{load_note(t.get('load'))}] | " + " | ".join(cells) + " |")
    add("")
    add("### Lanes (trials per compiled group)")
    add("")
    add(f"`train_block` is compiled for one group of `lanes` trials (the engine's default depends on the "
        f"config); a chunk is run as chunk / lanes groups. Trial-steps/s at chunk {LANES_CHUNK}, best window "
        "(median window):")
    add("")
    all_lanes = sorted({lanes for e in results["widths"].values() for lanes in [e["default_lanes"], *e["lanes"]]})
    add("| width r | " + " | ".join(f"lanes = {lanes}" for lanes in all_lanes) + " |")
    add("|---:|" + "---:|" * len(all_lanes))
    for width, e in results["widths"].items():
        cells = []
        for lanes in all_lanes:
            g = e["lanes"].get(lanes) or (e["groklab"].get(LANES_CHUNK) if lanes == e["default_lanes"] else None)
            mark = " (default)" if lanes == e["default_lanes"] else ""
            cells.append(f"{_n(g['best'])} ({_n(g['median'])}){mark}" if g else "-")
        add(f"| {width} | " + " | ".join(cells) + " |")
    add("")
    add("### Roofline")
    add("")
    add("Single-core float32 square matmul, GFLOP/s (2 N^3 FLOPs, best of repeated calls); the roofline is "
        f"the highest: **{roof['gflops']:.1f} GFLOP/s** ({roof['backend']}, N = {roof['size']}).")
    add("")
    sizes = list(next(iter(roof["all"].values())))
    add("| backend | " + " | ".join(f"N = {s}" for s in sizes) + " |")
    add("|---|" + "---:|" * len(sizes))
    for backend, by_size in roof["all"].items():
        label = {"jax": "JAX `jit(jnp.dot)`, XLA:CPU 1 thread", "numpy": "numpy (OpenBLAS, 1 thread)"}.get(backend, backend)
        add(f"| {label} | " + " | ".join(f"{by_size[s]:.1f}" for s in sizes) + " |")
    add("")
    add("### Worker scaling")
    add("")
    s = results["scaling"]
    add(f"Width {s['width']}, chunk {s['chunk']}: one worker pinned to core {s['single_core']} alone (the idler "
        "core at the time), then two workers at once "
        f"(cores 0 and 1, spawned processes, timed over the same {s['overlap_seconds']:.1f} s after a barrier).")
    add("")
    add("Per worker: best of its windows (and over the whole stretch); the ratio uses the best windows, "
        "like every other number here, with the whole-stretch ratio beside it.")
    add("")
    add("| workers | trial-steps/s per worker, best window (whole stretch) | total trial-steps/s | vs 1 worker "
        "| background load |")
    add("|---:|---|---:|---:|---|")
    add(f"| 1 | {_n(s['one']['best'])} ({_n(s['one']['overall'])}) | {_n(s['one']['best'])} | 1.00x "
        f"| {load_note(s['load_one'])} |")
    per_worker = ", ".join(f"{_n(w['best'])} ({_n(w['overall'])})" for w in s["two"])
    add(f"| 2 | {per_worker} | {_n(s['total_two_best'])} | {s['ratio_best']:.2f}x (whole stretch "
        f"{s['ratio_overall']:.2f}x) | {load_note(s['load_two'])} |")
    add("")
    add("### End to end: `train_chunk`")
    add("")
    e = results["end_to_end"]
    median = e["median_convergence_step"]
    add(f"`train_chunk` on (50,3) parity, width {e['width']}, a chunk of {e['trials']} trials, max_steps "
        f"{e['max_steps']}, evaluation every 100 steps (1,024-sample screen, 8,192 samples for trials that "
        f"pass it), stop on convergence, compaction of finished trials: **{e['wall_seconds']:.1f} s** for "
        f"{_n(e['trial_steps'])} trial-steps = **{_n(e['trial_steps_per_second'])} trial-steps/s** end to end; "
        f"{e['converged']}/{e['trials']} converged" + (f", median t_c = {median:.0f} steps" if median else "")
        + f". (Compiled beforehand by the same run on another seed: {e['warmup_seconds']:.1f} s; background load "
        f"{load_note(e.get('load'))}.) Lower than the pure training throughput because of the evaluations "
        "and because the chunk shrinks as trials finish. The target row above compares it with `train_block` on "
        "the same chunk.")
    add("")
    profile = results.get("profile", {})
    if profile.get("rows"):
        add("### Where the time goes (width 1000)")
        add("")
        add(f"XLA:CPU per-op times of `train_block` (chunk {profile['chunk']}, lanes {profile.get('lanes')}, one "
            "block of 100 steps) from a "
            f"`jax.profiler` trace; {profile['unprofiled_us_per_trial_step']:.0f} us per trial-step unprofiled. "
            "Profiling adds a cost per op, so read the shares.")
        add("")
        add("| op | HLO (jax source) | share | us / trial-step |")
        add("|---|---|---:|---:|")
        for row in profile["rows"]:
            add(f"| `{row['op']}` | `{row['what']}` | {row['share']:.0%} | {row['us_per_trial_step']:.1f} |")
        add("")
    return lines


def _method(results: dict) -> list[str]:
    lines = ["## Method", ""]
    add = lines.append
    if "widths" in results:
        lines += _parity_method(results)
    if "grokking" in results:
        lines += grokking_bench.method_lines()
    if "entk" in results:
        lines += entk_bench.method_lines()
    add("- Each number is the best timed window of its measurement (the roofline likewise takes the best "
        "call). Background load = CPU time `/proc/stat` counts as busy minus the CPU time of this run's "
        "processes, counted on the core(s) the measurement was pinned to. A measurement during which it "
        f"exceeded {MAX_BACKGROUND_CORES} of a core is run once more (the scaling pair up to twice more; "
        f"at most {RETRY_BUDGET_S:.0f} s of repeats per run) and the attempt with the lower background load "
        "is kept (chosen by load, not by result); single-core measurements go to the core that was idler "
        "just before.")
    add("")
    add("## How to reproduce")
    add("")
    add("```")
    add("make bench")
    add("```")
    add("")
    add("installs the optional `torch` extra (the CPU wheel `torch==2.13.0`, exact pin) into `.venv` and runs "
        "`benchmarks/run.py --output BENCHMARKS.md`, which rewrites this file and prints the same report. "
        "`python benchmarks/run.py --quick` is a shorter smoke run; `--part parity` or `--part why-grok` "
        "measures one part only; `--json PATH` also saves the raw numbers. Numbers depend on the machine and "
        "on what else runs on it.")
    add("")
    return lines


def _parity_method(results: dict) -> list[str]:
    torch = results["widths"][100]["torch"]
    return [
        "- **PyTorch** (`benchmarks/torch_baseline.py`): the usual one-network loop, `nn.Sequential(Linear, "
        "ReLU, Linear)`, `torch.optim.SGD`, hinge loss `clamp(1 - y f, min=0).mean()`, a fresh +-1 batch from "
        "`torch.randint` each step, `torch.set_num_threads(1)`; 200 warm-up steps, then "
        f"{len(torch['windows'])} timed runs of {torch['steps']} steps.",
        "- **groklab** (`benchmarks/groklab_throughput.py`): a chunk of E trials initialised by the engine, then "
        "`train_block` (100 steps in a `lax.scan`, data drawn inside, vmapped over a group of `lanes` trials; "
        "one call per group, dispatched asynchronously as `train_chunk` does) back to back after one compiling "
        "call; timed windows of whole blocks, `block_until_ready` at the end of each, for about "
        f"{'1.5' if results['quick'] else '3'} s per measurement. Trial-steps/s = E x steps / seconds. The best "
        "chunk size is reported; all are listed.",
        "- **FLOPs per trial-step** = 2 B n r (first layer forward, x W1) + 2 B n r (weight gradient x^T dH) "
        "+ 6 B r (second layer forward and its two gradients) = 4 B n r + 6 B r; no input gradient is needed. "
        "Elementwise work (biases, ReLU, hinge, SGD update, data sampling) is not counted, so achieved GFLOP/s "
        "is conservative. Achieved GFLOP/s = groklab trial-steps/s x FLOPs per trial-step.",
        "- **Roofline** (`benchmarks/roofline.py`): the best single-core float32 GFLOP/s of `jit(jnp.dot)` and "
        "numpy/OpenBLAS on square matmuls of 512, 1024 and 2048.",
    ]
