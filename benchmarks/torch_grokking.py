"""PyTorch baselines for the Why-Do-You-Grok benchmarks (issue 9), written the way grokking repos
write them, one model per process and one thread (`torch.set_num_threads(1)`):

- `torch_grokking_benchmark`: full-batch normalized GD on (a + b) mod p with the quadratic net
  f = V (W [e_a; e_b])^2, h = 4p, He-normal init, no biases. `variant="onehot"`: `nn.Linear(2p, h,
  bias=False)` on dense one-hot inputs, the usual way; `variant="embedding"`: `nn.Embedding(2p, h)`
  with W[a] + W[p + b]. Then square, `nn.Linear(h, p, bias=False)`, `F.cross_entropy`,
  `loss.backward()` and the update theta <- theta - lr g / ||g|| (global norm over all parameters)
  by hand under `torch.no_grad()`. Before timing at p, the same loop is trained at p = 23 for a few
  hundred steps and must show a falling loss and a rising train accuracy (a faithful baseline).
- `torch_entk`: the eNTK Gram of the first logit by the PyTorch NTK tutorial's method
  (`vmap(jacrev(fnet_single))` over the probe set, then an einsum of the two Jacobians), on the
  one-hot `nn.Linear` network, with its time and peak resident memory.
"""
from __future__ import annotations

import time

CHECK_P, CHECK_STEPS = 23, 300  # the "does the baseline train" check
LR = 10.0


def train_pairs(p: int) -> int:
    return round(2 * p ** (5 / 3))  # the paper's n = 2 p^(5/3) (recipes/grokking.py)


def he_normal_weights(p: int, h: int, seed: int):
    """W (2p, h) ~ N(0, 2/2p) and V (h, p) ~ N(0, 2/h) as float32 numpy arrays: the same draw for
    torch and groklab in the eNTK comparison (groklab stores W as (2p, h), V as (h, C))."""
    import numpy as np

    rng = np.random.default_rng(seed)
    w = rng.standard_normal((2 * p, h)) * (2.0 / (2 * p)) ** 0.5
    v = rng.standard_normal((h, p)) * (2.0 / h) ** 0.5
    return w.astype(np.float32), v.astype(np.float32)


def train_set(p: int, seed: int):
    """The n = round(2 p^(5/3)) training pairs (a, b) and labels (a + b) mod p as numpy int64
    arrays, a seeded draw without replacement shared by the torch and groklab eNTK measurements."""
    import numpy as np

    pairs = np.random.default_rng(seed).permutation(p * p)[:train_pairs(p)]
    a, b = pairs // p, pairs % p
    return a, b, (a + b) % p


def _data(p: int, seed: int):
    import torch

    return tuple(torch.from_numpy(z) for z in train_set(p, seed))


class OneHotNet:
    """`nn.Linear` on dense one-hot inputs [e_a; e_b], as most grokking code feeds them."""

    def __init__(self, p: int, h: int):
        from torch import nn

        self.first = nn.Linear(2 * p, h, bias=False)
        self.second = nn.Linear(h, p, bias=False)
        nn.init.kaiming_normal_(self.first.weight, nonlinearity="relu")  # N(0, 2 / fan_in): He-normal
        nn.init.kaiming_normal_(self.second.weight, nonlinearity="relu")
        self.module = nn.Sequential(self.first, self.second)

    def inputs(self, p, a, b):
        import torch
        import torch.nn.functional as F

        return torch.cat([F.one_hot(a, p), F.one_hot(b, p)], dim=1).float()

    def __call__(self, x):
        return self.second(self.first(x) ** 2)


class EmbeddingNet:
    """The same network with the first layer as an `nn.Embedding` lookup W[a] + W[p + b]."""

    def __init__(self, p: int, h: int):
        from torch import nn

        self.first = nn.Embedding(2 * p, h)
        self.second = nn.Linear(h, p, bias=False)
        nn.init.normal_(self.first.weight, std=(2.0 / (2 * p)) ** 0.5)  # He-normal, fan-in 2p
        nn.init.kaiming_normal_(self.second.weight, nonlinearity="relu")
        self.module = nn.Sequential(self.first, self.second)

    def inputs(self, p, a, b):
        import torch

        return torch.stack([a, b + p], dim=1)

    def __call__(self, x):
        return self.second(self.first(x).sum(dim=1) ** 2)


NETS = {"onehot": OneHotNet, "embedding": EmbeddingNet}


def _setup(variant: str, p: int, seed: int):
    import torch

    torch.manual_seed(seed)
    net = NETS[variant](p, 4 * p)
    a, b, y = _data(p, seed)
    return net, net.inputs(p, a, b), y


def _train(net, x, y, steps: int, lr: float = LR):
    """`steps` full-batch normalized-GD steps; the last loss (one `.item()` at the end)."""
    import torch
    import torch.nn.functional as F

    params = list(net.module.parameters())
    loss = torch.zeros(())
    for _ in range(steps):
        loss = F.cross_entropy(net(x), y)
        for q in params:
            q.grad = None
        loss.backward()
        with torch.no_grad():
            norm = torch.sqrt(sum((q.grad ** 2).sum() for q in params))
            # Once the softmax saturates the float32 gradient underflows to exactly 0 and g / ||g||
            # is 0 / 0 = NaN; like groklab's normalized_step, a zero gradient takes no step.
            scale = torch.where(norm > 0, lr / norm, torch.zeros(()))
            for q in params:
                q.sub_(q.grad * scale)
    return loss.item()


def training_check(variant: str, p: int = CHECK_P, steps: int = CHECK_STEPS, seed: int = 0) -> dict:
    """Loss and train accuracy before and after `steps` steps; raises if the loop does not train."""
    import torch
    import torch.nn.functional as F

    net, x, y = _setup(variant, p, seed)

    def state():
        with torch.no_grad():
            out = net(x)
            return F.cross_entropy(out, y).item(), (out.argmax(1) == y).float().mean().item()

    loss0, acc0 = state()
    _train(net, x, y, steps)
    loss1, acc1 = state()
    out = {"p": p, "steps": steps, "loss_start": loss0, "loss_end": loss1, "acc_start": acc0, "acc_end": acc1}
    if not (loss1 < 0.5 * loss0 and acc1 >= acc0 + 0.3):
        raise RuntimeError(f"the PyTorch {variant} loop does not train: {out}")
    return out


def torch_grokking_benchmark(variant: str, p: int, steps: int, repeats: int = 5, warmup: int = 20,
                             seed: int = 0) -> dict:
    """Steps/s of one model: `repeats` timed windows of `steps` steps after `warmup` untimed ones,
    best and median (the statistic every measurement in this suite reports)."""
    import torch

    torch.set_num_threads(1)
    # After the fit the float32 gradients shrink into denormals, which x86 computes slowly; flushed
    # to zero (as XLA:CPU computes) they cannot slow the baseline down.
    torch.set_flush_denormal(True)
    check = training_check(variant, seed=seed)
    net, x, y = _setup(variant, p, seed)
    _train(net, x, y, warmup)
    rates = []
    for _ in range(repeats):
        started = time.perf_counter()
        _train(net, x, y, steps)
        rates.append(steps / (time.perf_counter() - started))
    ordered = sorted(rates)
    return {"variant": variant, "p": p, "n": x.shape[0], "best": ordered[-1], "median": ordered[len(ordered) // 2],
            "windows": rates, "steps": steps, "check": check, "threads": torch.get_num_threads()}


# ----------------------------------------------------------------------------------------------
# eNTK by torch.func (https://pytorch.org/tutorials/intermediate/neural_tangent_kernels.html)


def memory_now() -> dict:
    """Resident and peak resident memory of this process (bytes), from /proc/self/status."""
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmRSS:", "VmHWM:")):
                out[line.split(":")[0]] = int(line.split()[1]) * 1024
    return out


def reset_peak() -> int:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS; return that baseline in bytes."""
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")
    return memory_now()["VmRSS"]


def empirical_ntk_jacobian_contraction(fnet_single, params, x1, x2):
    """The tutorial's function, verbatim: both Jacobians, then one einsum per parameter tensor."""
    import torch
    from torch.func import jacrev, vmap

    jac1 = vmap(jacrev(fnet_single), (None, 0))(params, x1)
    jac1 = jac1.values()
    jac1 = [j.flatten(2) for j in jac1]
    jac2 = vmap(jacrev(fnet_single), (None, 0))(params, x2)
    jac2 = jac2.values()
    jac2 = [j.flatten(2) for j in jac2]
    result = torch.stack([torch.einsum("Naf,Mbf->NMab", j1, j2) for j1, j2 in zip(jac1, jac2)])
    return result.sum(0)


def torch_entk(p: int, n: int, repeats: int = 3, seed: int = 0, once: bool = False, warmup_points: int = 8) -> dict:
    """Gram of the first logit on the first n training pairs: after a warm-up Gram on
    `warmup_points` points, peak memory of the first full-size call over the resident set just
    before it, then the best of `repeats` timed calls. `once`: compute the
    Jacobian once and contract it with itself (J J^T), a lighter variant than the tutorial's."""
    import torch
    from torch.func import functional_call, jacrev, vmap

    torch.set_num_threads(1)
    w, v = he_normal_weights(p, 4 * p, seed)
    net = OneHotNet(p, 4 * p)
    a, b, _ = _data(p, seed)
    x = net.inputs(p, a, b)[:n]
    params = {"0.weight": torch.from_numpy(w.T.copy()), "1.weight": torch.from_numpy(v.T.copy())}
    model = net.module

    class Quadratic(torch.nn.Module):  # the forward of OneHotNet as one module, for functional_call
        def __init__(self):
            super().__init__()
            self.layers = model

        def forward(self, xs):
            return self.layers[1](self.layers[0](xs) ** 2)

    quadratic = Quadratic()
    params = {f"layers.{k}": t for k, t in params.items()}

    def fnet_single(params, x):
        return functional_call(quadratic, params, (x.unsqueeze(0),)).squeeze(0)[:1]  # the first logit, shape (1,)

    def gram(x):
        if not once:
            return empirical_ntk_jacobian_contraction(fnet_single, params, x, x)[:, :, 0, 0]
        jac = vmap(jacrev(fnet_single), (None, 0))(params, x)
        flat = torch.cat([j.flatten(2)[:, 0] for j in jac.values()], dim=1)
        return flat @ flat.T

    gram(x[:warmup_points])  # library start-up (torch.func's first call) is not the Gram's memory
    baseline = reset_peak()
    started = time.perf_counter()
    k = gram(x)
    first = time.perf_counter() - started
    peak = memory_now()["VmHWM"] - baseline
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        gram(x)
        times.append(time.perf_counter() - started)
    return {"method": "torch.func J J^T" if once else "torch.func tutorial", "p": p, "n": n, "first_seconds": first,
            "best_seconds": min(times), "median_seconds": sorted(times)[len(times) // 2], "peak_bytes": peak,
            "parameters": int(w.size + v.size), "gram": k.numpy()}
