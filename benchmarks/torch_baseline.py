"""The PyTorch peer-code baseline: one trial of online (n, k) sparse parity, trained the usual way.

This is the loop a typical research script runs for one network: an `nn.Sequential`
Linear-ReLU-Linear MLP (with biases), `torch.optim.SGD`, the hinge loss max(0, 1 - y f) averaged
over the batch, and a fresh batch of +-1 inputs drawn with `torch.randint` every step. One thread
(`torch.set_num_threads(1)`), like every measurement in this suite. Nothing is slowed down on
purpose: it uses `zero_grad(set_to_none=True)` (the default), no evaluation, no host syncs
inside the timed loop except one `.item()` at the end.
"""
from __future__ import annotations

import time


def torch_steps_per_second(n: int, k: int, width: int, batch: int, lr: float, steps: int, seed: int) -> float:
    """Optimizer steps per second of one trial: the best of 3 timed runs of `steps` steps (the same
    statistic the groklab measurements report)."""
    return torch_benchmark(n, k, width, batch, lr, steps, seed)["best"]


def torch_benchmark(n: int, k: int, width: int, batch: int, lr: float, steps: int, seed: int,
                    warmup: int = 200, repeats: int = 3) -> dict:
    """`repeats` timed runs of `steps` steps after `warmup` untimed ones: best, median, all rates."""
    import torch
    from torch import nn

    torch.set_num_threads(1)
    torch.manual_seed(seed)
    support = torch.randperm(n)[:k]
    model = nn.Sequential(nn.Linear(n, width), nn.ReLU(), nn.Linear(width, 1))
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)

    def train(num_steps: int) -> float:
        loss = torch.zeros(())
        for _ in range(num_steps):
            x = torch.randint(0, 2, (batch, n)).float() * 2 - 1  # fresh +-1 batch every step
            y = x[:, support].prod(dim=1)
            out = model(x).squeeze(-1)
            loss = torch.clamp(1 - y * out, min=0).mean()  # hinge loss
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
        return loss.item()

    train(warmup)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        train(steps)
        times.append(time.perf_counter() - started)
    rates = sorted(steps / t for t in times)
    return {"best": rates[-1], "median": rates[len(rates) // 2], "windows": [steps / t for t in times],
            "steps": steps, "torch_version": torch.__version__, "threads": torch.get_num_threads()}


if __name__ == "__main__":
    import os

    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    for r in (100, 1000):
        print(r, torch_benchmark(50, 3, r, 32, 0.1, 2000, 0))
