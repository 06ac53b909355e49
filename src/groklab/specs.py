"""Frozen, validated specs: hyper-parameters only, never learned state. Plain data at the bottom of
the import graph: this module imports no component (assembly is `groklab.config.make_config`).

A `TrialConfig` is everything that defines a trial except its seed and trial index. Its hash keys
results in the store; two configs with equal hashes train identically.
"""
from __future__ import annotations

import hashlib
import json
import types
import typing
from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from groklab import defaults
from groklab.errors import GroklabInputError

MAX_STEPS = 2**31 - 1  # the engine counts steps in 32-bit integers
MAX_SIZE = 2**31 - 1  # sizes, counts and random indices are int32 in JAX
MAX_LANES = 2**16  # trials per compiled group: a GPU's default is 512; far more only exhausts memory
MAX_DEGREE = 64  # polynomial degrees: z^64 overflows float32 for every |z| > 4
FLOAT32_MAX = 3.4028234663852886e38  # the largest finite float32 (numpy.finfo(numpy.float32).max)
MAX_SEED = 2**32 - 2  # seeds are folded into PRNG keys as uint32 (data_seed + 1 included)


# What a field of each plain type takes as it is; anything else pydantic's lax mode would convert
# (True to 1, 1 to True, "3" to 3), which a spec refuses.
_TAKES = {bool: (bool,), str: (str,), int: (int, float), float: (float, int)}


def _admits(annotation: Any, value: Any) -> bool:
    """Whether a field typed `annotation` takes the plain `value` as it is, not by coercion."""
    if annotation is Any or type(value) not in _TAKES:
        return True
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return any(type(option) is type(value) for option in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return any(_admits(arm, value) for arm in typing.get_args(annotation))
    if annotation is type(None):
        return False
    if origin is not None or not isinstance(annotation, type):
        return True  # containers: pydantic checks their shape, reject_coercion their items
    return annotation in _TAKES[type(value)] or annotation not in _TAKES


def reject_coercion(annotation: Any, value: Any) -> None:
    """Refuse what pydantic's lax mode would silently convert: True as the integer 1, 1 as True,
    "3" as 3, also inside tuple-valued fields. Raises ValueError (a one-line field error)."""
    if not _admits(annotation, value):
        raise ValueError(f"expected {_describe(annotation)}, not {type(value).__name__}")
    if isinstance(value, (tuple, list)) and typing.get_origin(annotation) is tuple:
        args = typing.get_args(annotation)
        for item in value:
            reject_coercion(args[0] if len(args) == 2 and args[1] is Ellipsis else Any, item)


def _describe(annotation: Any) -> str:
    origin = typing.get_origin(annotation)
    if origin is Literal:
        return "one of " + ", ".join(repr(option) for option in typing.get_args(annotation))
    if origin in (typing.Union, types.UnionType):
        return " or ".join(_describe(arm) for arm in typing.get_args(annotation) if arm is not type(None))
    return annotation.__name__ if isinstance(annotation, type) else str(annotation)


class StrictModel(BaseModel):
    """Frozen, unknown fields rejected, no NaN or infinity, and no silent coercion of booleans or
    strings into numbers: a sweep file's `n = true` or `lr = "0.1"` is an error naming the field."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    @field_validator("*", mode="before")
    @classmethod
    def _no_coercion(cls, value: Any, info: ValidationInfo) -> Any:
        reject_coercion(cls.model_fields[info.field_name].annotation, value)
        return value

    @field_validator("*", mode="after")
    @classmethod
    def _float32_range(cls, value: Any) -> Any:
        # Components compute in float32: 1e300 is finite here but infinite there.
        for item in value if isinstance(value, tuple) else (value,):
            if isinstance(item, float) and abs(item) > FLOAT32_MAX:
                raise ValueError(f"must lie within float32's range, |x| <= {FLOAT32_MAX:.4g}")
        return value


class Spec(StrictModel):
    """Base for all component specs: frozen, unknown fields rejected."""

    name: str


class LossSpec(Spec):
    name: Literal["hinge", "square", "logistic", "correlation", "cross-entropy"] = defaults.LOSS
    # Cross-entropy only: divide the gradient by its largest per-example residual, a positive scalar.
    # Normalized GD is blind to it, and it keeps the gradient from underflowing to 0 once every
    # margin exceeds ~87 (float32); any other optimizer would see its step size change (refused).
    rescale_gradient: bool = False
    # Cross-entropy only. 'log-domain': the exact gradient from log-probabilities (see losses.py).
    # 'naive': softmax(z) - e_y as written (what PyTorch and optax compute), which rounds to 0 once the
    # softmax saturates: it freezes normalized GD (docs/why-grok.md section 3); under AdamW it stops
    # pushing fitted examples, which the transformer recipe keeps to match [cal2] (section 9).
    gradient: Literal["log-domain", "naive"] = "log-domain"


class OptimizerSpec(Spec):
    name: Literal["sgd", "adam", "adamw", "normalized-gd"] = defaults.OPTIMIZER
    lr: float = Field(defaults.LEARNING_RATE, gt=0, description="learning rate eta")
    weight_decay: float = Field(0.0, ge=0, description="lambda; see weight_decay_mode")
    # 'decoupled': theta <- (1 - lambda) theta - eta grad   (Barak et al. eq. 1; AdamW's convention)
    # 'l2':        theta <- theta - eta (grad + lambda theta) (PyTorch SGD weight_decay)
    weight_decay_mode: Literal["decoupled", "l2"] = "decoupled"
    momentum: float = Field(0.0, ge=0, lt=1)
    b1: float = Field(0.9, ge=0, lt=1)
    b2: float = Field(0.999, ge=0, lt=1)
    eps: float = Field(1e-8, gt=0)
    # lambda of the penalty lambda ||theta||_inf (Mohamadi et al. eq. 2.2), a subgradient step; sgd and
    # normalized-gd only. Placement for normalized-gd: inside = theta - eta (g + lambda s)/||g + lambda s||
    # (the paper's eq. A.1 normalizes the regularized loss's gradient), outside = theta - eta g/||g||
    # - eta lambda s. What each does: groklab/optimizers.py.
    linf_penalty: float = Field(0.0, ge=0, description="lambda of lambda ||theta||_inf (sgd, normalized-gd)")
    penalty_inside_normalization: bool = True


class TrainSpec(StrictModel):
    batch_size: int | None = Field(defaults.BATCH_SIZE, gt=0, le=MAX_SIZE,
                                   description="None = full batch (finite tasks only)")
    max_steps: int = Field(defaults.MAX_STEPS, gt=0, le=MAX_STEPS, description="step budget per trial")
    eval_every: int = Field(defaults.EVAL_EVERY, gt=0, le=MAX_STEPS,
                            description="steps between evaluations (the t_c resolution)")
    target_accuracy: float = Field(1.0, gt=0, le=1, description="converged at the first eval with val accuracy >= this")
    stop_on_convergence: bool = True
    lanes: int | None = Field(None, ge=1, le=MAX_LANES, description="trials per compiled group; None = the backend's default "
                              "(up to 16 on CPU, 512 on a GPU). Few-seed configs on CPU run faster with fewer lanes; "
                              "results are bit-identical for a given lanes, whatever the chunking")
    data_seed: int | None = Field(None, ge=0, le=MAX_SEED, description="re-draw only the SGD data stream (batches, sample "
                                  "order): trial i keeps its init and support S but sees batches from "
                                  "(data_seed, i); None = the trial's own stream (Barak et al. Fig 2 center)")
    # float64: parameters, optimizer state, data and loss in float64 for the whole run (the engine
    # traces it under jax.enable_x64; float32 runs in the same process are unaffected). The init is
    # the float32 run's, upcast, so the two precisions start from identical weights.
    precision: Literal["float32", "float64"] = "float32"

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
    # Probes measured at every evaluation: a registered name, or the probe's spec when it has
    # fields set (e.g. the eNTK probe's probe-set size). `probe_name` reads either.
    probes: tuple[Any, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        # A probe with no fields stays a plain name, so configs written before probe specs keep their hash.
        entries = [entry if isinstance(entry, str) else entry.model_dump() for entry in self.probes]
        extra = {"probes": {"names": entries}} if self.probes else {}
        # Optional fields added after results were stored are left out at their default, so
        # configs that do not use them keep their hash (and their stored results).
        unset = {name for name, value in (("data_seed", self.train.data_seed), ("lanes", self.train.lanes))
                 if value is None}
        train = self.train.model_dump(exclude=unset | _at_default(self.train, "precision"))
        loss = self.loss.model_dump(exclude=_at_default(self.loss, "rescale_gradient", "gradient"))
        # The penalty placement is also left out wherever there is no penalty to place.
        penalty = ("linf_penalty", "penalty_inside_normalization")
        optimizer = self.optimizer.model_dump(exclude=set(penalty) if not self.optimizer.linf_penalty
                                              else _at_default(self.optimizer, *penalty))
        return {
            "task": self.task.model_dump(),
            "model": self.model.model_dump(),
            "loss": loss,
            "optimizer": optimizer,
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
        if "probes_names" in out:  # one string per probe (a list column): a probe spec as its JSON
            out["probes_names"] = [e if isinstance(e, str) else json.dumps(e, sort_keys=True)
                                   for e in out["probes_names"]]
        return out


def _at_default(spec: BaseModel, *names: str) -> set[str]:
    """Those of `names` (fields added after results were stored) whose value in `spec` is the
    field's declared default: left out of the hash there, so older configs keep their hash."""
    return {name for name in names if getattr(spec, name) == type(spec).model_fields[name].default}


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


def probe_name(entry: Any) -> str:
    """The registered name of a `TrialConfig.probes` entry (a name or a probe spec)."""
    return entry if isinstance(entry, str) else entry.name


def probe_spec(entry: Any) -> Any:
    """The spec a probe is built from: None (its defaults) for a plain name."""
    return None if isinstance(entry, str) else entry


def build_spec(section: str, spec_class: type, values: dict[str, Any]):
    """Validate `values` into `spec_class`, turning pydantic errors into one line naming the field."""
    try:
        return spec_class(**values)
    except ValidationError as err:
        raise GroklabInputError(_first_error_line(err, section, spec_class)) from None
