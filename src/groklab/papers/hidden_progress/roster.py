"""The architecture roster of Barak et al. 2022, section 3.1 (spec section 1.2): (i)-(xv), (*i)-(*iii).

Each entry names a model dict for `make_config` as a function of (n, k), plus the optimizer the
paper trains it with. The paper's own definitions are partly UNRECOVERED; the presets assume:

- (i)-(iii): 2-layer ReLU MLP with biases, r = 10 / 100 / 1000.
- (iv)-(vi): the same with sigma(z) = z^k (degree k), r = 10 / 100 / 1000.
- (*i) / (*ii): ReLU / z^k MLP of width r = k, the minimum that represents a k-parity.
- (vii)-(x): one neuron u * sigma(w.x + b) with a trainable output weight u and a bias:
  k-zigzag, degree-k oscillating polynomial, inf-zigzag, sinusoidal (the four activations and
  their knots are reconstructions, see models/single_neuron.py).
- (xi)-(xiv): the same four neurons with u fixed at 1, in that order (an assumption consistent
  with Fig 10, where (xiv) is "single sinusoidal neuron, no second layer").
- (xv): PolyNet prod_{i<=k} w_i.x without biases (whether the paper's has biases is UNRECOVERED).
- (*iii): the parity Transformer (models/transformer.py: d_emb 1024, 128 heads of width 8; the
  tokenization, pooling and readout are UNRECOVERED), trained with Adam; everything else with SGD.

Biases are on wherever the model has them (needed for odd k, HPv3 C.2); their init is PyTorch's
U(+-1/sqrt(fan_in)) (the paper's D.1.2 scheme is UNRECOVERED). Weight init defaults to each
model's "uniform" (Xavier) and can be swapped for "gaussian" or "bernoulli" (`roster_config`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Literal

from groklab.errors import GroklabInputError

OptimizerName = Literal["sgd", "adam"]


@dataclass(frozen=True)
class RosterEntry:
    name: str  # the paper's label without parentheses, e.g. "iv" or "*ii"
    description: str
    model: Callable[[int, int], dict]  # (n, k) -> model dict for make_config
    optimizer: OptimizerName  # what the paper trains this architecture with


def _mlp(width: int | Callable[[int], int], activation: str) -> Callable[[int, int], dict]:
    def model(n: int, k: int) -> dict:
        r = width(k) if callable(width) else width
        spec = {"name": "mlp", "width": r, "activation": activation}
        if activation == "power":
            spec["degree"] = k
        return spec

    return model


def _neuron(activation: str, trainable_output: bool) -> Callable[[int, int], dict]:
    return lambda n, k: {"name": "single-neuron", "activation": activation, "degree": k,
                         "trainable_output": trainable_output}


def _entries() -> dict[str, RosterEntry]:
    entries = [
        RosterEntry("i", "ReLU MLP, r = 10", _mlp(10, "relu"), "sgd"),
        RosterEntry("ii", "ReLU MLP, r = 100", _mlp(100, "relu"), "sgd"),
        RosterEntry("iii", "ReLU MLP, r = 1000", _mlp(1000, "relu"), "sgd"),
        RosterEntry("iv", "z^k MLP, r = 10", _mlp(10, "power"), "sgd"),
        RosterEntry("v", "z^k MLP, r = 100", _mlp(100, "power"), "sgd"),
        RosterEntry("vi", "z^k MLP, r = 1000", _mlp(1000, "power"), "sgd"),
    ]
    activations = [("zigzag", "k-zigzag"), ("polynomial", "degree-k polynomial"), ("inf-zigzag", "inf-zigzag"),
                   ("sinusoidal", "sinusoidal")]
    for label, (activation, words) in zip(("vii", "viii", "ix", "x"), activations):
        entries.append(RosterEntry(label, f"single {words} neuron, trainable u", _neuron(activation, True), "sgd"))
    for label, (activation, words) in zip(("xi", "xii", "xiii", "xiv"), activations):
        entries.append(RosterEntry(label, f"single {words} neuron, u = 1", _neuron(activation, False), "sgd"))
    entries += [
        RosterEntry("xv", "PolyNet, degree k, no biases", lambda n, k: {"name": "polynet", "degree": k}, "sgd"),
        RosterEntry("*i", "ReLU MLP, r = k", _mlp(lambda k: k, "relu"), "sgd"),
        RosterEntry("*ii", "z^k MLP, r = k", _mlp(lambda k: k, "power"), "sgd"),
        RosterEntry("*iii", "parity Transformer, d_emb 1024, 128 heads x d_attn 8",
                    lambda n, k: {"name": "parity-transformer", "d_emb": 1024, "heads": 128, "d_attn": 8}, "adam"),
    ]
    return {e.name: e for e in entries}


ENTRIES: dict[str, RosterEntry] = _entries()
ROSTER: tuple[str, ...] = tuple(ENTRIES)  # paper order: i..xv, *i, *ii, *iii
ROBUST: tuple[str, ...] = ROSTER[:15]  # (i)-(xv): the architectures of Empirical Finding 1 (claim 3)
LESS_ROBUST: tuple[str, ...] = ("*i", "*ii", "*iii")  # need B >= 16 (claim 4)


def _normalize(name: str) -> str:
    """'(iv)', 'IV' and 'iv' all name (iv); '(*iii)' and '*III' name (*iii)."""
    return str(name).strip().strip("()").strip().lower()


def roster_entry(name: str) -> RosterEntry:
    key = _normalize(name)
    if key not in ENTRIES:
        raise GroklabInputError(f"architecture: unknown roster name {name!r} (known: {', '.join(ROSTER)})")
    return ENTRIES[key]


def parse_roster_names(text: str) -> tuple[str, ...]:
    """'all' (= (i)-(xv)), 'less-robust' (= (*i)-(*iii)) or comma-separated roster names."""
    text = text.strip()
    if text == "all":
        return ROBUST
    if text == "less-robust":
        return LESS_ROBUST
    names = tuple(roster_entry(part).name for part in text.split(",") if part.strip())
    if not names:
        raise GroklabInputError("architecture: no roster names given")
    return names


def roster_model(name: str, n: int, k: int) -> dict:
    """The model dict of roster architecture `name` for the (n, k)-parity."""
    entry = roster_entry(name)
    if not (isinstance(k, int) and isinstance(n, int) and 1 <= k <= n):
        raise GroklabInputError(f"task.k: roster models need integers 1 <= k <= n (got n={n!r}, k={k!r})")
    return entry.model(n, k)


def default_optimizer(name: str) -> OptimizerName:
    """'adam' for the Transformer (*iii), 'sgd' for every other roster architecture."""
    return roster_entry(name).optimizer


def roster_config(name: str, n: int, k: int, *, lr: float, batch_size: int, max_steps: int, eval_every: int = 100,
                  loss: str = "hinge", init: str | None = None, model_overrides: dict | None = None,
                  task_overrides: dict | None = None, probes: tuple[str, ...] = (), lanes: int | None = None):
    """A TrialConfig training roster architecture `name` on online (n, k)-parity with its default optimizer.

    `init` replaces the weight-init scheme (uniform/gaussian/bernoulli); `model_overrides` change
    other model fields (e.g. a smaller d_emb for (*iii) on a CPU).
    """
    from groklab.config import make_config

    model = roster_model(name, n, k)
    if init is not None:
        model["init"] = init
    model.update(model_overrides or {})
    task = {"name": "parity", "n": n, "k": k, **(task_overrides or {})}
    return make_config(task, model, loss={"name": loss}, optimizer={"name": default_optimizer(name), "lr": lr},
                       train={"batch_size": batch_size, "max_steps": max_steps, "eval_every": eval_every,
                              "lanes": lanes}, probes=list(probes))
