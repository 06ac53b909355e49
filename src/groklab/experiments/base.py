"""What a recipe is made of: an options class and a `run(options, store, workers, quiet) -> summary`.

A recipe is registered with `@experiment(name, OptionsClass, description)`. Its options are a
frozen pydantic model whose defaults are the quick CPU recipe (paper scale through larger values);
the CLI builds one command per recipe from those fields (`groklab.catalog`), so a new recipe needs
no CLI code. The returned summary is JSON-serializable and holds at least:

- "claim": what the experiment tests (spec claim numbers),
- "verdict": "PASS", "FAIL" or "INFO" (INFO: numbers reported without a threshold),
- "figures": the paths of the figures it wrote,

plus its measured numbers.

The baseline's options (width, batch, learning rate, budget, evaluation cadence) are declared once
here, as small mixins whose defaults come from `groklab.defaults`; a recipe inherits the ones it
uses and overrides a default only with a comment naming its source.
"""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from pydantic import Field

from groklab import defaults, registry
from groklab.specs import MAX_SEED, MAX_STEPS, StrictModel
from groklab.store import Store

ExperimentFn = Callable[..., dict]


class ExperimentOptions(StrictModel):
    """Base of every experiment's options: frozen, unknown fields, NaN and coercions rejected."""

    seed: int = Field(defaults.SEED, ge=0, le=MAX_SEED,
                      description="base seed; trial i of a config uses keys from (seed, i)")


class ParityOptions(ExperimentOptions):
    n: int = Field(defaults.PARITY_N, gt=0, description="input dimension n")
    k: int = Field(defaults.PARITY_K, gt=0, description="parity degree k = |S|")


class WidthOption(ExperimentOptions):
    width: int = Field(defaults.WIDTH, gt=0, description="hidden units r of the ReLU MLP")


class SGDOptions(ExperimentOptions):
    batch: int = Field(defaults.BATCH_SIZE, gt=0, description="batch size B")
    lr: float = Field(defaults.LEARNING_RATE, gt=0, description="SGD learning rate eta (constant)")


class BudgetOptions(ExperimentOptions):
    max_steps: int = Field(defaults.MAX_STEPS, gt=0, le=MAX_STEPS, description="step budget per trial")
    eval_every: int = Field(defaults.EVAL_EVERY, gt=0, le=MAX_STEPS,
                            description="steps between evaluations (the t_c resolution)")


class BaselineOptions(ParityOptions, WidthOption, SGDOptions, BudgetOptions):
    """Every option of the baseline: (n,k)-parity, ReLU MLP, online SGD, budget and cadence."""


def baseline_train(options: BudgetOptions, **overrides) -> dict:
    """The [train] section of a config from a recipe's budget options (plus any overrides)."""
    values = {"max_steps": options.max_steps, "eval_every": options.eval_every}
    if isinstance(options, SGDOptions):
        values["batch_size"] = options.batch
    return {**values, **overrides}


def experiment(name: str, options: type[ExperimentOptions], description: str, version: str = "1"):
    """Register `run(options, store, workers, quiet) -> summary` as experiment `name`."""

    def decorate(run: ExperimentFn) -> ExperimentFn:
        return registry.experiments.register(name, version=version, spec_class=options,
                                             description=description)(run)

    return decorate


def figure_dir(store: Store) -> Path:
    path = store.root / "figures"
    path.mkdir(parents=True, exist_ok=True)
    return path
