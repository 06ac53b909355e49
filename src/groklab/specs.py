"""Frozen, validated specs: hyper-parameters only, never learned state. Plain data at the bottom of
the import graph: this module imports no component (assembly is `groklab.config.make_config`).

A `TrialConfig` is everything that defines a trial except its seed and trial index. Its hash keys
results in the store; two configs with equal hashes train identically.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from groklab import defaults
from groklab.errors import GroklabInputError


class Spec(BaseModel):
    """Base for all component specs: frozen, unknown fields rejected."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str


class LossSpec(Spec):
    name: Literal["hinge", "square", "logistic", "correlation", "cross-entropy"] = defaults.LOSS


class OptimizerSpec(Spec):
    name: Literal["sgd", "adam", "adamw"] = defaults.OPTIMIZER
    lr: float = Field(defaults.LEARNING_RATE, gt=0, description="learning rate eta")
    weight_decay: float = Field(0.0, ge=0, description="lambda; see weight_decay_mode")
    # 'decoupled': theta <- (1 - lambda) theta - eta grad   (Barak et al. eq. 1; AdamW's convention)
    # 'l2':        theta <- theta - eta (grad + lambda theta) (PyTorch SGD weight_decay)
    weight_decay_mode: Literal["decoupled", "l2"] = "decoupled"
    momentum: float = Field(0.0, ge=0, lt=1)
    b1: float = Field(0.9, ge=0, lt=1)
    b2: float = Field(0.999, ge=0, lt=1)
    eps: float = Field(1e-8, gt=0)


class TrainSpec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    batch_size: int | None = Field(defaults.BATCH_SIZE, gt=0, description="None = full batch (finite tasks only)")
    max_steps: int = Field(defaults.MAX_STEPS, gt=0, description="step budget per trial")
    eval_every: int = Field(defaults.EVAL_EVERY, gt=0, description="steps between evaluations (the t_c resolution)")
    target_accuracy: float = Field(1.0, gt=0, le=1, description="converged at the first eval with val accuracy >= this")
    stop_on_convergence: bool = True
    lanes: int | None = Field(None, ge=1, description="trials per compiled group; None = the backend's default "
                              "(up to 16 on CPU, 512 on a GPU). Few-seed configs on CPU run faster with fewer lanes; "
                              "results are bit-identical for a given lanes, whatever the chunking")
    data_seed: int | None = Field(None, ge=0, description="re-draw only the SGD data stream (batches, sample "
                                  "order): trial i keeps its init and support S but sees batches from "
                                  "(data_seed, i); None = the trial's own stream (Barak et al. Fig 2 center)")

    @model_validator(mode="after")
    def _budget_multiple_of_eval(self) -> "TrainSpec":
        if self.max_steps % self.eval_every:
            raise ValueError(f"max_steps ({self.max_steps}) must be a multiple of eval_every ({self.eval_every})")
        return self


class TrialConfig(BaseModel):
    """One point of a sweep grid. Task and model specs are the registered classes' instances."""

    model_config = ConfigDict(frozen=True, extra="forbid", arbitrary_types_allowed=True)
    task: Any
    model: Any
    loss: LossSpec = LossSpec()
    optimizer: OptimizerSpec = OptimizerSpec()
    train: TrainSpec = TrainSpec()
    probes: tuple[str, ...] = ()  # registered probe names, measured at every evaluation

    def as_dict(self) -> dict[str, Any]:
        extra = {"probes": {"names": list(self.probes)}} if self.probes else {}
        # Optional fields added after results were stored are left out at their default, so
        # configs that do not use them keep their hash (and their stored results).
        unset = {name for name, value in (("data_seed", self.train.data_seed), ("lanes", self.train.lanes))
                 if value is None}
        train = self.train.model_dump(exclude=unset)
        return {
            "task": self.task.model_dump(),
            "model": self.model.model_dump(),
            "loss": self.loss.model_dump(),
            "optimizer": self.optimizer.model_dump(),
            "train": train,
            **extra,  # absent when empty, so configs without probes keep their hash
        }

    def config_hash(self) -> str:
        blob = json.dumps(self.as_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode()).hexdigest()[:16]

    def flat(self) -> dict[str, Any]:
        """Columns for the trials table: task_n, model_width, optimizer_lr, ..."""
        out: dict[str, Any] = {}
        for section, values in self.as_dict().items():
            for key, value in values.items():
                out[f"{section}_{key}"] = value
        return out


def _first_error_line(err: ValidationError, section: str, spec_class: type) -> str:
    first = err.errors()[0]
    msg = first["msg"]
    if msg.startswith("Value error, "):
        msg = msg[len("Value error, "):]
    loc = first["loc"]
    if not loc and msg.split(" ")[0] in spec_class.model_fields:
        # Cross-field checks (model validators) start their message with the field they blame.
        loc = (msg.split(" ")[0],)
    field = ".".join(str(p) for p in (section, *loc))
    extra = f" (got {first['input']!r})" if first["type"] not in ("missing",) and not isinstance(first.get("input"), dict) else ""
    return f"{field}: {msg}{extra}"


def build_spec(section: str, spec_class: type, values: dict[str, Any]):
    """Validate `values` into `spec_class`, turning pydantic errors into one line naming the field."""
    try:
        return spec_class(**values)
    except ValidationError as err:
        raise GroklabInputError(_first_error_line(err, section, spec_class)) from None
