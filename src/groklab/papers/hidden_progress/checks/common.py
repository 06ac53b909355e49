"""Text shared by the Hidden Progress checks: settings are always built from the config or options
that actually ran, never copied from the spec."""
from __future__ import annotations

from groklab.checks.base import plural
from groklab.specs import TrialConfig

SUITE = "hidden-progress"


def per_seed(values, fmt: str = "g", missing: str = "never") -> str:
    """One entry per seed, joined by '/'; None (not reached within budget, or undefined) prints as
    `missing`. No square brackets: the CLI's table would read '[never]' as a style tag."""
    return "/".join(missing if v is None else format(v, fmt) for v in values)


def number(value, fmt: str = ".3f", missing: str = "n/a") -> str:
    return missing if value is None else format(value, fmt)


def training_text(config: TrialConfig) -> str:
    """'B=32 SGD lr 0.1 hinge, budget 20000 steps, eval every 100' for any config."""
    train, optimizer = config.train, config.optimizer
    return (f"B={train.batch_size} {optimizer.name.upper() if optimizer.name == 'sgd' else optimizer.name} "
            f"lr {optimizer.lr:g} {config.loss.name}, budget {train.max_steps} steps, eval every {train.eval_every}")


def mlp_text(config: TrialConfig) -> str:
    model = config.model
    activation = "ReLU" if model.activation == "relu" else f"z^{model.degree}"
    return f"{activation} MLP r={model.width}"


def parity_run_text(config: TrialConfig, seeds: int) -> str:
    """'(50,3) ReLU MLP r=100, B=32 SGD lr 0.1 hinge, budget 20000 steps, eval every 100, 5 seeds'."""
    task = config.task
    return f"({task.n},{task.k}) {mlp_text(config)}, {training_text(config)}, {plural(seeds, 'seed')}"
