"""Typed registries: name -> (spec class, builder, version).

Every result row records the version of each component it used, so a change to a component's
behaviour must bump its version string (lm-evaluation-harness convention).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Generic, Iterator, TypeVar

from groklab.errors import GroklabInputError

T = TypeVar("T")


@dataclass(frozen=True)
class Entry(Generic[T]):
    name: str
    version: str
    spec_class: type
    build: Callable[..., T]
    description: str


class Registry(Generic[T]):
    def __init__(self, kind: str):
        self.kind = kind
        self._entries: dict[str, Entry[T]] = {}

    def register(self, name: str, *, version: str, spec_class: type, description: str):
        """Decorator registering `build(spec) -> component` under `name`."""

        def decorate(build: Callable[..., T]) -> Callable[..., T]:
            if name in self._entries:
                raise ValueError(f"{self.kind} {name!r} registered twice")
            self._entries[name] = Entry(name, version, spec_class, build, description)
            return build

        return decorate

    def get(self, name: str) -> Entry[T]:
        try:
            return self._entries[name]
        except KeyError:
            known = ", ".join(sorted(self._entries))
            raise GroklabInputError(f"{self.kind}.name: unknown {self.kind} {name!r} (known: {known})") from None

    def names(self) -> list[str]:
        return sorted(self._entries)

    def __iter__(self) -> Iterator[Entry[T]]:
        return iter(self._entries[n] for n in self.names())

    def __contains__(self, name: str) -> bool:
        return name in self._entries


tasks: Registry[Any] = Registry("task")
models: Registry[Any] = Registry("model")
losses: Registry[Any] = Registry("loss")
optimizers: Registry[Any] = Registry("optimizer")
probes: Registry[Any] = Registry("probe")
experiments: Registry[Any] = Registry("experiment")

ALL = {"task": tasks, "model": models, "loss": losses, "optimizer": optimizers, "probe": probes,
       "experiment": experiments}
