"""Many-seed grokking throughput (issue 9, deliverable 8a): groklab trial-steps/s per core on the
grokking recipe's setting at p = 47 against two one-model PyTorch loops (`torch_grokking.py`).

Setting: (a + b) mod 47, the quadratic net f = V (W [e_a; e_b])^2 with h = 4p = 188 and He-normal
init, full batch on n = round(2 p^(5/3)) = 1224 training pairs, normalized GD (lr 10), cross-entropy
(groklab: log-domain gradient, rescaled; `recipes/grokking.py` `grokking_config`). groklab trains a
chunk of E trials with `train_block` (100 steps in one `lax.scan`, vmapped over a group of lanes
trials) back to back, no evaluation, exactly as `groklab_throughput.training_throughput` times the
parity setting; PyTorch trains one model. Both are pinned to one core, single-threaded.
"""
from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import torch_grokking  # noqa: E402  (imports no torch at module level)
from harness import MAX_BACKGROUND_CORES, background_load, load_log, load_note, run_one  # noqa: E402

P = 47
# Chunk sizes (trials per measurement). One group of the default 16 lanes: a larger chunk only adds
# groups of the same program, and each 100-step block of 1224-pair steps already takes a second or more.
CHUNKS = (16,)
# Trials per compiled group tried at chunk LANES_CHUNK besides the engine's default (16 here): a
# full-batch trial's step is already a (1224 x 188) x (188 x 47) product, so fewer lanes may do better.
LANES = (1, 4)
LANES_CHUNK = 16
STEPS_PER_BLOCK = 100  # steps per `train_block` call (the config's eval_every; nothing is evaluated here)
TARGET_ONEHOT = 4.0  # groklab trial-steps/s over the one-hot nn.Linear loop's steps/s (issue 9)
TARGET_EMBEDDING = 1.5  # over the nn.Embedding loop's


def grokking_config(p: int = P):
    """The grokking recipe's config at p, with blocks of STEPS_PER_BLOCK steps."""
    from groklab.papers.why_grok.recipes.grokking import GrokkingOptions, grokking_config

    return grokking_config(p, GrokkingOptions(p=(p,), eval_every=STEPS_PER_BLOCK))


def groklab_grokking(p: int, chunk: int, seconds: float, lanes: int | None = None) -> dict:
    """Trial-steps/s of `train_block` for a chunk of `chunk` trials (runs in a pinned JAX process)."""
    import groklab_throughput

    config = grokking_config(p)
    return groklab_throughput.training_throughput(4 * p, chunk, seconds=seconds, lanes=lanes, config=config)


def matmul_flops(n: int, p: int, h: int, one_hot: bool) -> float:
    """FLOPs of one full-batch step in the matrix products: (n x h)(h x p) forward, its weight and
    input gradients (6 n h p); the one-hot first layer adds (n x 2p)(2p x h) and its weight gradient."""
    return 6.0 * n * h * p + (8.0 * n * p * h if one_hot else 0.0)


def measure(quick: bool, log=print) -> dict:
    seconds = 1.5 if quick else 3.0
    steps, repeats = (100, 3) if quick else (300, 5)
    entry: dict = {"p": P, "h": 4 * P, "n": torch_grokking.train_pairs(P), "parameters": 3 * P * 4 * P,
                   "torch": {}, "groklab": {}}
    for variant in ("onehot", "embedding"):
        log(f"grokking p = {P}: PyTorch one-model loop, {variant} first layer ...")
        measured = run_one(torch_grokking.torch_grokking_benchmark, variant, P, steps, repeats=repeats, use_jax=False)
        entry["torch"][variant] = measured
        check = measured["check"]
        log(f"  {measured['best']:.0f} steps/s (median {measured['median']:.0f}); trains at p = {check['p']}: loss "
            f"{check['loss_start']:.2f} -> {check['loss_end']:.2g}, train accuracy {check['acc_start']:.2f} -> "
            f"{check['acc_end']:.2f} in {check['steps']} steps{load_log(measured)}")
    for chunk in CHUNKS:
        log(f"grokking p = {P}: groklab train_block, chunk {chunk} ...")
        entry["groklab"][chunk] = run_one(groklab_grokking, P, chunk, seconds)
        _log_groklab(log, entry["groklab"][chunk])
    entry["default_lanes"] = entry["groklab"][CHUNKS[0]]["lanes"]
    entry["lanes"] = {}
    for lanes in [lanes for lanes in (LANES[:1] if quick else LANES) if lanes != entry["default_lanes"]]:
        log(f"grokking p = {P}: groklab train_block, chunk {LANES_CHUNK}, lanes {lanes} ...")
        entry["lanes"][lanes] = run_one(groklab_grokking, P, LANES_CHUNK, seconds, lanes=lanes)
        _log_groklab(log, entry["lanes"][lanes])
    entry["best_chunk"] = max(entry["groklab"], key=lambda c: entry["groklab"][c]["best"])
    best = entry["groklab"][entry["best_chunk"]]["best"]
    entry["ratio"] = {variant: best / t["best"] for variant, t in entry["torch"].items()}
    by_lanes = {entry["default_lanes"]: entry["groklab"][entry["best_chunk"]], **entry["lanes"]}
    entry["best_lanes"] = max(by_lanes, key=lambda lanes: by_lanes[lanes]["best"])
    entry["best_lanes_rate"] = by_lanes[entry["best_lanes"]]["best"]
    return entry


def _log_groklab(log, measured: dict) -> None:
    log(f"  {measured['best']:.0f} trial-steps/s (median {measured['median']:.0f}, lanes {measured['lanes']}, "
        f"warm-up {measured['warmup_seconds']:.1f} s){load_log(measured)}")


def _disturbed(*measurements) -> str:
    worst = max(background_load(m.get("load")) for m in measurements)
    return f"; disturbed: {worst:.2f} cores of background load" if worst > MAX_BACKGROUND_CORES else ""


def targets(entry: dict) -> list[dict]:
    best = entry["groklab"][entry["best_chunk"]]
    rows = []
    for variant, target, label in (("onehot", TARGET_ONEHOT, "one-hot `nn.Linear`"),
                                   ("embedding", TARGET_EMBEDDING, "`nn.Embedding`")):
        ratio = entry["ratio"][variant]
        ratio_lanes = entry["best_lanes_rate"] / entry["torch"][variant]["best"]
        rows.append({"target": f"grokking p = {entry['p']}: groklab / PyTorch {label} loop >= {target:g}x per core",
                     "measured": f"{ratio:.1f}x{_disturbed(best, entry['torch'][variant])}", "pass": ratio >= target,
                     "lanes": f"{ratio_lanes:.1f}x (lanes {entry['best_lanes']})", "lanes_pass": ratio_lanes >= target})
    return rows


def _n(x: float) -> str:
    return f"{x:,.0f}"


def report_lines(entry: dict) -> list[str]:
    lines = ["### Many-seed grokking: (a + b) mod 47, quadratic net, full-batch normalized GD", ""]
    add = lines.append
    add(f"p = {entry['p']}, h = 4p = {entry['h']}, {entry['parameters']:,} parameters, He-normal init, full batch "
        f"of n = round(2 p^(5/3)) = {entry['n']} pairs, normalized GD lr 10, cross-entropy, float32: the setting of "
        "`groklab run grokking` (`recipes/grokking.py`). groklab: trial-steps/s of `train_block` for a chunk of E "
        f"trials ({STEPS_PER_BLOCK} steps per call, no evaluation); PyTorch: steps/s of one model per process. "
        "Best window (median window) [background load].")
    add("")
    add("| | steps/s (PyTorch, one model) or trial-steps/s (groklab) | groklab / this | matmul GFLOP/s |")
    add("|---|---:|---:|---:|")
    best = entry["groklab"][entry["best_chunk"]]["best"]
    n, p, h = entry["n"], entry["p"], entry["h"]
    for variant, label in (("onehot", "PyTorch, `nn.Linear(2p, h)` on one-hot inputs"),
                           ("embedding", "PyTorch, `nn.Embedding` lookup W[a] + W[p + b]")):
        t = entry["torch"][variant]
        gflops = t["best"] * matmul_flops(n, p, h, variant == "onehot") / 1e9
        add(f"| {label} | {_n(t['best'])} ({_n(t['median'])}) [{load_note(t.get('load'))}] "
            f"| {best / t['best']:.1f}x | {gflops:.0f} |")
    for g in (*entry["groklab"].values(), *entry["lanes"].values()):
        default = " (default)" if g["lanes"] == entry["default_lanes"] else ""
        add(f"| groklab, E = {g['chunk']}, lanes {g['lanes']}{default} | {_n(g['best'])} ({_n(g['median'])}) "
            f"[{load_note(g.get('load'))}] | | {g['best'] * matmul_flops(n, p, h, False) / 1e9:.0f} |")
    add("")
    add(f"Matmul GFLOP/s counts only the matrix products ({matmul_flops(n, p, h, False) / 1e6:.0f} MFLOP per step "
        f"with the lookup, {matmul_flops(n, p, h, True) / 1e6:.0f} MFLOP with the one-hot `nn.Linear`), so it is "
        "a conservative rate; compare it with the single-core roofline above when the parity part ran.")
    add("")
    checks = "; ".join(f"{variant}: loss {c['loss_start']:.2f} -> {c['loss_end']:.2g}, train accuracy "
                       f"{c['acc_start']:.2f} -> {c['acc_end']:.2f}"
                       for variant, c in ((v, t["check"]) for v, t in entry["torch"].items()))
    check = entry["torch"]["onehot"]["check"]
    add(f"Both PyTorch loops are checked to train before they are timed (p = {check['p']}, {check['steps']} "
        f"full-batch steps from init; the run stops if the loss does not halve or the train accuracy does not rise "
        f"by 0.3): {checks}.")
    add("")
    return lines


def method_lines() -> list[str]:
    return [
        "- **Grokking, PyTorch** (`benchmarks/torch_grokking.py`): one model per process, as grokking repos "
        "train: the full batch as a dense one-hot (n, 2p) matrix through `nn.Linear(2p, h, bias=False)` (or "
        "`nn.Embedding(2p, h)` summing rows a and p + b), square, `nn.Linear(h, p, bias=False)`, "
        "`F.cross_entropy`, `loss.backward()`, then theta -= lr g / ||g|| (global norm) by hand under "
        "`torch.no_grad()`. Two concessions to the baseline: a zero gradient (the float32 softmax saturates "
        "after the fit) takes no step instead of 0 / 0 = NaN, as groklab's `normalized_step` does, and "
        "denormals are flushed to zero (`torch.set_flush_denormal(True)`), as XLA:CPU computes. 20 warm-up "
        "steps, then timed windows of a few hundred steps, continuing one training run.",
        "- **Grokking, groklab** (`benchmarks/grokking_bench.py`): the recipe's config, trained by the "
        "engine's `train_block` as in the parity measurement above (a chunk of E trials, groups of `lanes` "
        "vmapped trials, 100 steps per call, one compiling call first); the full training set is encoded "
        "inside the scan at every step and the gradient is the log-domain, rescaled one.",
    ]
